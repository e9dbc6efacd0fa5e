"""Transactions and subscriptions: list rows and full details."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from ._enums import RecurringPeriod, SubscriptionStatus, TransactionType
from ._values import EMPTY_EXTRA, FieldReader, RecordFormatError, is_absent, items_of, to_int

_UNTIL_CANCELLED = "until cancelled"


@attrs.frozen
class TransactionSummary:
    """A row of ``retrieve_transactions_from_lead``'s ``transaction_list``."""

    transaction_id: int
    transaction_type: TransactionType | str | None
    lead_id: int | None = None
    lead_email: str | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class SubscriptionSummary:
    """A row of ``retrieve_subscriptions_from_lead``'s ``subscriptions_list``."""

    subscription_id: int
    status: SubscriptionStatus | str | None
    lead_id: int | None = None
    lead_email: str | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class TransactionDetails:
    """``get_transaction_details``' ``transaction_details``: the sale and the buyer at that time.

    Amounts are Decimals in the transaction's currency; ``parent_transaction_id`` names the
    original sale of a refund or chargeback (Kartra's 0 for "none" reads as None).
    """

    transaction_id: int
    transaction_type: TransactionType | str | None = None
    transaction_date: datetime | None = None
    full_amount: Decimal | None = None
    base_amount: Decimal | None = None
    discount: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    quantity: int | None = None
    parent_transaction_id: int | None = None
    original_id: int | None = None
    affiliate: str | None = None
    jv: str | None = None
    last_4_card_digits: str | None = None
    product_id: int | None = None
    product_name: str | None = None
    product_price_point: int | None = None
    lead_id: int | None = None
    lead_email: str | None = None
    lead_first_name: str | None = None
    lead_last_name: str | None = None
    lead_username: str | None = None
    lead_phone_country_code: str | None = None
    lead_phone_number: str | None = None
    lead_address: str | None = None
    lead_city: str | None = None
    lead_zip: str | None = None
    lead_state: str | None = None
    lead_country: str | None = None
    lead_country_code_2: str | None = None
    lead_country_code_3: str | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class SubscriptionDetails:
    """``get_subscription_details``' ``subscription_details``.

    ``installments_left`` is None with ``until_cancelled`` True for open-ended subscriptions;
    ``end_date`` is None while the subscription has not ended (Kartra's zero date).
    """

    subscription_id: int
    status: SubscriptionStatus | str | None = None
    product_id: int | None = None
    price_point: int | None = None
    lead_id: int | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    current_installment: int | None = None
    installments_left: int | None = None
    until_cancelled: bool = False
    recurring_period: RecurringPeriod | str | None = None
    next_payment_date: datetime | None = None
    next_scheduled_payment_amount: Decimal | None = None
    affiliate: str | None = None
    jv: str | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


def _positive_or_none(value: int | None) -> int | None:
    return value if value else None


def parse_transaction_summary(data: object, path: str = "transaction") -> TransactionSummary:
    """Read one ``transaction_list`` row."""
    reader = FieldReader(data, path)
    return TransactionSummary(
        transaction_id=reader.required_integer("transaction_id"),
        transaction_type=reader.enum(TransactionType, "transaction_type"),
        lead_id=reader.integer("lead_id", "buyer_id"),
        lead_email=reader.text("lead_email", "buyer_email"),
        extra=reader.extra(),
    )


def parse_transaction_summaries(items: Any) -> tuple[TransactionSummary, ...]:
    """Read ``transaction_list`` (absent or empty → ``()``)."""
    return tuple(
        parse_transaction_summary(item, path) for path, item in items_of(items, "transaction_list")
    )


def parse_subscription_summary(data: object, path: str = "subscription") -> SubscriptionSummary:
    """Read one ``subscriptions_list`` row (also the legacy ``transaction_*`` names)."""
    reader = FieldReader(data, path)
    return SubscriptionSummary(
        subscription_id=reader.required_integer(
            "subscription_id", "transaction_internal_subscription_id"
        ),
        status=reader.enum(
            SubscriptionStatus, "subscription_status", "transaction_subscription_status"
        ),
        lead_id=reader.integer("lead_id", "buyer_id"),
        lead_email=reader.text("lead_email", "buyer_email"),
        extra=reader.extra(),
    )


def parse_subscription_summaries(items: Any) -> tuple[SubscriptionSummary, ...]:
    """Read ``subscriptions_list`` (absent or empty → ``()``)."""
    return tuple(
        parse_subscription_summary(item, path)
        for path, item in items_of(items, "subscriptions_list")
    )


def parse_transaction_details(
    data: object, path: str = "transaction_details"
) -> TransactionDetails:
    """Read ``transaction_details`` (of a reply or of a purchase event).

    Raises :class:`RecordFormatError` naming a bad field.
    """
    reader = FieldReader(data, path)
    return TransactionDetails(
        transaction_id=reader.required_integer("transaction_id"),
        transaction_type=reader.enum(TransactionType, "transaction_type"),
        transaction_date=reader.date("transaction_date"),
        full_amount=reader.amount("transaction_full_amount"),
        base_amount=reader.amount("transaction_base_amount"),
        discount=reader.amount("transaction_discount"),
        shipping=reader.amount("transaction_shipping"),
        tax=reader.amount("transaction_tax"),
        quantity=reader.integer("transaction_quantity"),
        parent_transaction_id=_positive_or_none(reader.integer("transaction_parent_id")),
        original_id=_positive_or_none(reader.integer("original_id")),
        affiliate=reader.text("transaction_affiliate"),
        jv=reader.text("transaction_jv"),
        last_4_card_digits=reader.text("transaction_last_4_card_digits"),
        product_id=reader.integer("product_id"),
        product_name=reader.text("product_name"),
        product_price_point=reader.integer("product_price_point"),
        lead_id=reader.integer("lead_id"),
        lead_email=reader.text("lead_email"),
        lead_first_name=reader.text("lead_first_name"),
        lead_last_name=reader.text("lead_last_name"),
        lead_username=reader.text("lead_username"),
        lead_phone_country_code=reader.text("lead_phone_country_code"),
        lead_phone_number=reader.text("lead_phone_number"),
        lead_address=reader.text("lead_address"),
        lead_city=reader.text("lead_city"),
        lead_zip=reader.text("lead_zip"),
        lead_state=reader.text("lead_state"),
        lead_country=reader.text("lead_country"),
        lead_country_code_2=reader.text("lead_country_code_2"),
        lead_country_code_3=reader.text("lead_country_code_3"),
        extra=reader.extra(),
    )


def parse_installments_left(value: object, field: str) -> tuple[int | None, bool]:
    """Read ``installments_left``: a count, or ``"Until cancelled"`` → ``(None, True)``."""
    if isinstance(value, str) and " ".join(value.split()).lower() in (
        _UNTIL_CANCELLED,
        "until canceled",
    ):
        return None, True
    if is_absent(value):
        return None, False
    count = to_int(value, field)
    if count is not None and count < 0:
        raise RecordFormatError(field, "expected a count or 'Until cancelled'")
    return count, False


def parse_subscription_details(data: Mapping[str, Any]) -> SubscriptionDetails:
    """Read ``subscription_details``; raises :class:`RecordFormatError` naming a bad field."""
    reader = FieldReader(data, "subscription_details")
    installments_left, until_cancelled = parse_installments_left(
        reader.raw("subscription_installments_left"),
        reader.name("subscription_installments_left"),
    )
    return SubscriptionDetails(
        subscription_id=reader.required_integer("subscription_id"),
        status=reader.enum(SubscriptionStatus, "subscription_status"),
        product_id=reader.integer("subscription_product_id"),
        price_point=reader.integer("subscription_price_point"),
        lead_id=reader.integer("subscription_lead_id"),
        start_date=reader.date("subscription_start_date"),
        end_date=reader.date("subscription_end_date"),
        current_installment=reader.integer("subscription_current_installment"),
        installments_left=installments_left,
        until_cancelled=until_cancelled,
        recurring_period=reader.enum(RecurringPeriod, "subscription_recurring_period"),
        next_payment_date=reader.date("subscription_next_payment_date"),
        next_scheduled_payment_amount=reader.amount("subscription_next_scheduled_payment_amount"),
        affiliate=reader.text("subscription_affiliate"),
        jv=reader.text("subscription_jv"),
        extra=reader.extra(),
    )
