"""Kartra's IPN (Instant Payment Notification): a flat form post about one transaction.

Kartra documents six notification kinds (one-time sale; one-time refund or chargeback; sale of a
subscription or trial; rebill; refund, failed rebill or chargeback of a subscription;
cancellation). They share one set of variables, so they share one record, :class:`IpnNotification`,
whose :attr:`~IpnNotification.kind` says which of the six it is. Empty values arrive as ``N/A``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from ..records import GdprStatus, TransactionType
from ..records._billing import parse_installments_left
from ..records._lead import read_gdpr_status
from ..records._values import EMPTY_EXTRA, FieldReader, to_loose_datetime

#: The form variable carrying the shared secret set up with the notification.
SECRET_FIELD = "secret_key"


class IpnKind(StrEnum):
    """Which of Kartra's six IPN notifications a post is."""

    ONE_TIME_SALE = "one_time_sale"
    ONE_TIME_REVERSAL = "one_time_reversal"
    SUBSCRIPTION_SALE = "subscription_sale"
    REBILL = "rebill"
    SUBSCRIPTION_REVERSAL = "subscription_reversal"
    CANCELLATION = "cancellation"


@attrs.frozen
class IpnBuyer:
    """The buyer as the IPN describes them (values at the time of the transaction)."""

    lead_id: int | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    phone_country_code: str | None = None
    phone_number: str | None = None
    address: str | None = None
    city: str | None = None
    zip: str | None = None
    state: str | None = None
    country: str | None = None
    country_code_2: str | None = None
    country_code_3: str | None = None
    ip: str | None = None


@attrs.frozen
class IpnProduct:
    """The product and price point; ``payments_left`` is None with ``until_cancelled`` True
    for open-ended subscriptions."""

    product_id: int | None = None
    name: str | None = None
    price_point: int | None = None
    trial: bool | None = None
    trial_amount: Decimal | None = None
    trial_period_days: int | None = None
    payments_left: int | None = None
    until_cancelled: bool = False


@attrs.frozen
class IpnNotification:
    """One IPN post. The ``secret_key`` is checked, never stored.

    ``subscription_id`` is Kartra's numeric subscription id (the IPN's
    ``transaction_internal_subscription_id``, the one inbound commands take);
    ``gateway_subscription_id`` is the payment gateway's (e.g. PayPal ``I-…``).
    ``parent_transaction_id`` is the original sale of a refund or
    chargeback (Kartra's 0 for "none" reads as None).
    """

    transaction_id: int
    transaction_type: TransactionType | str | None
    kind: IpnKind | None
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
    subscription_id: int | None = None
    gateway_subscription_id: str | None = None
    subscription_pay_number: int | None = None
    last_4_card_digits: str | None = None
    product: IpnProduct = IpnProduct()
    buyer: IpnBuyer = IpnBuyer()
    vendor_tracking_id_1: str | None = None
    vendor_tracking_id_2: str | None = None
    vendor_tracking_link: str | None = None
    gdpr_lead_status: GdprStatus | int | None = None
    gdpr_lead_status_date: datetime | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA

    @property
    def recurring(self) -> bool:
        """True when the transaction belongs to a subscription or a trial."""
        return bool(self.subscription_id or self.gateway_subscription_id or self.product.trial)


_REVERSALS = frozenset(
    {
        TransactionType.REFUND,
        TransactionType.PARTIAL_REFUND,
        TransactionType.CHARGEBACK,
        TransactionType.FAILED,
    }
)


def classify(transaction_type: TransactionType | str | None, recurring: bool) -> IpnKind | None:
    """Map a transaction type (and whether it is recurring) to one of the six IPN kinds."""
    if transaction_type is TransactionType.CANCELLATION:
        return IpnKind.CANCELLATION
    if transaction_type is TransactionType.REBILL:
        return IpnKind.REBILL
    if transaction_type is TransactionType.SALE:
        return IpnKind.SUBSCRIPTION_SALE if recurring else IpnKind.ONE_TIME_SALE
    if transaction_type in _REVERSALS:
        return IpnKind.SUBSCRIPTION_REVERSAL if recurring else IpnKind.ONE_TIME_REVERSAL
    return None


def ipn_secret_matches(form: Mapping[Any, Any], secret: str) -> bool:
    """Compare the post's ``secret_key`` with ``secret`` in constant time (False if missing)."""
    provided = form.get(SECRET_FIELD)
    if not isinstance(provided, str) or not secret:
        return False
    return hmac.compare_digest(
        provided.encode("utf-8", "surrogatepass"), secret.encode("utf-8", "surrogatepass")
    )


def _positive(value: int | None) -> int | None:
    return value if value else None


def _buyer(reader: FieldReader) -> IpnBuyer:
    # The legacy IPN named the buyer fields buyer_*; they are read as fallbacks.
    return IpnBuyer(
        lead_id=reader.integer("lead_id", "buyer_id"),
        email=reader.text("lead_email", "buyer_email"),
        first_name=reader.text("lead_first_name", "buyer_first_name"),
        last_name=reader.text("lead_last_name", "buyer_last_name"),
        username=reader.text("lead_username", "buyer_username"),
        phone_country_code=reader.text("lead_phone_country_code"),
        phone_number=reader.text("lead_phone_number", "buyer_phone"),
        address=reader.text("lead_address", "buyer_address"),
        city=reader.text("lead_city", "buyer_city"),
        zip=reader.text("lead_zip", "buyer_zip"),
        state=reader.text("lead_state", "buyer_state"),
        country=reader.text("lead_country", "buyer_country"),
        country_code_2=reader.text("lead_country_code_2"),
        country_code_3=reader.text("lead_country_code_3"),
        ip=reader.text("lead_ip", "buyer_ip"),
    )


def _product(reader: FieldReader) -> IpnProduct:
    payments_left, until_cancelled = parse_installments_left(
        reader.raw("payments_left"), reader.name("payments_left")
    )
    return IpnProduct(
        product_id=reader.integer("product_id"),
        name=reader.text("product_name"),
        price_point=reader.integer("product_price_point"),
        trial=reader.flag("trial"),
        trial_amount=reader.amount("trial_amount", "trial_payment"),
        trial_period_days=reader.integer("trial_period"),
        payments_left=payments_left,
        until_cancelled=until_cancelled,
    )


def parse_ipn(form: Mapping[Any, Any]) -> IpnNotification:
    """Read an IPN from its parsed form (see :func:`kartra_async._form.parse_query`).

    Raises :class:`~kartra_async.records.RecordFormatError` naming the field when a value
    cannot be interpreted or ``transaction_id`` is missing. The secret is not checked here:
    see :func:`ipn_secret_matches`.
    """
    reader = FieldReader(form, "")
    transaction_type = reader.enum(TransactionType, "transaction_type")
    product = _product(reader)
    subscription_id = _positive(reader.integer("transaction_internal_subscription_id"))
    gateway_subscription_id = reader.text("transaction_subscription_id")
    gdpr_date = to_loose_datetime(reader.raw("gdpr_lead_status_date"))
    notification = IpnNotification(
        transaction_id=reader.required_integer("transaction_id"),
        transaction_type=transaction_type,
        kind=classify(
            transaction_type, bool(subscription_id or gateway_subscription_id or product.trial)
        ),
        transaction_date=reader.date("transaction_date"),
        full_amount=reader.amount("transaction_full_amount"),
        base_amount=reader.amount("transaction_base_amount"),
        discount=reader.amount("transaction_discount"),
        shipping=reader.amount("transaction_shipping"),
        tax=reader.amount("transaction_tax"),
        quantity=reader.integer("transaction_quantity"),
        parent_transaction_id=_positive(reader.integer("transaction_parent_id")),
        original_id=_positive(reader.integer("original_id")),
        affiliate=reader.text("transaction_affiliate"),
        jv=reader.text("transaction_jv"),
        subscription_id=subscription_id,
        gateway_subscription_id=gateway_subscription_id,
        subscription_pay_number=reader.integer("transaction_subscription_pay_number"),
        last_4_card_digits=reader.text("transaction_last_4_card_digits"),
        product=product,
        buyer=_buyer(reader),
        vendor_tracking_id_1=reader.text("vendor_tracking_id_1"),
        vendor_tracking_id_2=reader.text("vendor_tracking_id_2"),
        vendor_tracking_link=reader.text("vendor_tracking_link"),
        gdpr_lead_status=read_gdpr_status(reader),
        gdpr_lead_status_date=gdpr_date,
        extra=reader.extra(drop=frozenset({SECRET_FIELD})),
    )
    return notification
