"""Transactions and subscriptions: search, details, refunds, cancellation, status and edits.

Money never moves in the sandbox, but the rules Kartra documents are enforced: the refund
period, refundable types, partial refunds up to the paid amount, PayPal subscriptions that can
only be cancelled, cancelled/terminated subscriptions that cannot change
(docs/kartra-api.md#billing).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .._actions import RECURRING_PERIODS, SECOND_RECURRING_PERIODS
from .._form import PhpArray
from ._base import Command, Context, Data, Fail, decimal_text, integer, text
from ._state import EASTERN, Lead, Subscription, Transaction, eastern

_PERIODS = RECURRING_PERIODS
_INSTALLMENT_PERIODS = ("monthly", "every 2 months", "weekly", "every 2 weeks")
_SECOND_PERIODS = SECOND_RECURRING_PERIODS
_EDITABLE = (
    "subscription_product_id",
    "subscription_price_point",
    "subscription_next_payment_date",
    "subscription_amount",
    "subscription_recurrence",
    "subscription_product_quantity",
    "subscription_installments_left",
    "subscription_tax_percent",
)


def _transaction(ctx: Context, params: PhpArray) -> Transaction:
    number = integer(text(params, "transaction_id"))
    found = ctx.account.transactions.get(number) if number is not None else None
    if found is None:
        raise Fail(247)
    return found


def _subscription(ctx: Context, params: PhpArray, key: str = "subscription_id") -> Subscription:
    number = integer(text(params, key))
    found = ctx.account.subscriptions.get(number) if number is not None else None
    if found is None:
        raise Fail(248)
    return found


def _lead_of(ctx: Context, lead_id: int) -> Lead | None:
    return ctx.account.lead_by_id(lead_id)


def search_transaction(ctx: Context, params: PhpArray) -> Data:
    """247 unless the transaction exists."""
    _transaction(ctx, params)
    return {}


def transaction_details(ctx: Context, row: Transaction) -> dict[str, str]:
    """A transaction as ``get_transaction_details`` renders it (values as strings)."""
    lead = _lead_of(ctx, row.lead_id)
    product = ctx.account.products.get(row.product_id)

    def field(name: str) -> str:
        return lead.field(name) if lead is not None else ""

    return {
        "transaction_id": str(row.id),
        "transaction_type": row.type,
        "transaction_date": eastern(row.date),
        "transaction_parent_id": str(row.parent_id),
        "transaction_full_amount": row.amount,
        "transaction_quantity": str(row.quantity),
        "transaction_affiliate": row.affiliate,
        "lead_id": str(row.lead_id),
        "lead_first_name": field("first_name"),
        "lead_last_name": field("last_name"),
        "lead_email": lead.email if lead is not None else "",
        "lead_username": lead.email if lead is not None else "",
        "lead_country": field("country"),
        "lead_state": field("state"),
        "lead_city": field("city"),
        "lead_zip": field("zip"),
        "lead_address": field("address"),
        "lead_phone_country_code": field("phone_country_code"),
        "lead_phone_number": field("phone"),
        "product_id": str(row.product_id),
        "product_name": product.name if product is not None else "",
        "product_price_point": str(row.price_point),
    }


def get_transaction_details(ctx: Context, params: PhpArray) -> Data:
    """247 or the transaction's details."""
    return {"transaction_details": transaction_details(ctx, _transaction(ctx, params))}


def refund_transaction(ctx: Context, params: PhpArray) -> Data:
    """247, 253 not refundable, 251 fully refunded, 250 outside period, 268 bad amount, 266.

    ``transaction_refunded`` is the original transaction's id (the refund row gets a new id).
    """
    row = _transaction(ctx, params)
    if row.type not in ("sale", "rebill") or row.test:
        raise Fail(253)
    remaining = Decimal(row.amount) - Decimal(row.refunded)
    if remaining <= 0:
        raise Fail(251)
    if ctx.now - row.date > ctx.account.settings.refund_period_days * 86400:
        raise Fail(250)
    raw_amount = text(params, "refund_amount")
    amount = remaining
    if raw_amount:
        parsed = decimal_text(raw_amount)
        if parsed is None or not Decimal(0) < Decimal(parsed) <= remaining:
            raise Fail(268)
        amount = Decimal(parsed)
    if row.gateway_fails:
        raise Fail(266)
    row.refunded = f"{Decimal(row.refunded) + amount:.2f}"
    refund = Transaction(
        id=ctx.account.new_id("transaction"),
        lead_id=row.lead_id,
        type="refund" if amount == Decimal(row.amount) else "partial_refund",
        product_id=row.product_id,
        price_point=row.price_point,
        amount=f"{amount:.2f}",
        date=ctx.now,
        quantity=row.quantity,
        subscription_id=row.subscription_id,
        parent_id=row.id,
    )
    ctx.account.transactions[refund.id] = refund
    return {"transaction_refunded": str(row.id)}


def search_subscription(ctx: Context, params: PhpArray) -> Data:
    """248 unless the subscription exists."""
    _subscription(ctx, params)
    return {}


def subscription_details(ctx: Context, sub: Subscription) -> dict[str, str]:
    """A subscription as ``get_subscription_details`` renders it (docs/kartra-api.md#billing)."""
    open_ended = sub.installments_left is None
    return {
        "subscription_id": str(sub.id),
        "subscription_product_id": str(sub.product_id),
        "subscription_price_point": str(sub.price_point),
        "subscription_lead_id": str(sub.lead_id),
        "subscription_start_date": eastern(sub.start),
        "subscription_end_date": eastern(sub.end) if sub.end is not None else "0000-00-00 00:00:00",
        "subscription_current_installment": str(sub.current_installment),
        "subscription_installments_left": (
            "Until cancelled" if open_ended else str(sub.installments_left)
        ),
        "subscription_recurring_period": sub.recurring_period,
        "subscription_status": sub.status,
        "subscription_next_payment_date": eastern(sub.next_payment),
        "subscription_next_scheduled_payment_amount": (
            sub.amount if sub.status in ("Active", "Paused") else "N/A"
        ),
        "subscription_affiliate": sub.affiliate or "N/A",
        "subscription_jv": sub.jv or "N/A",
    }


def get_subscription_details(ctx: Context, params: PhpArray) -> Data:
    """248 or the subscription's details."""
    return {"subscription_details": subscription_details(ctx, _subscription(ctx, params))}


def _cancel(ctx: Context, sub: Subscription) -> None:
    sub.status = "Cancelled"
    sub.end = ctx.now


def cancel_transaction(ctx: Context, params: PhpArray) -> Data:
    """By ``transaction_id`` (247 unknown, 253 not a sale/rebill, 249 one-off) or by
    ``transaction_internal_subscription_id`` (248); then 252 cancelled, 253 terminated, 267."""
    if text(params, "transaction_id"):
        row = _transaction(ctx, params)
        if row.type not in ("sale", "rebill") or row.test:
            raise Fail(253)
        if row.subscription_id is None:
            raise Fail(249)
        sub = ctx.account.subscriptions.get(row.subscription_id)
        if sub is None:
            raise Fail(248)
    else:
        sub = _subscription(ctx, params, "transaction_internal_subscription_id")
    if sub.status == "Cancelled":
        raise Fail(252)
    if sub.status == "Terminated":
        raise Fail(253)
    if sub.gateway_fails:
        raise Fail(267)
    _cancel(ctx, sub)
    return {
        "transaction_subscription_id": sub.gateway_id,
        "transaction_internal_subscription_id": str(sub.id),
    }


def modify_subscription_status(ctx: Context, params: PhpArray) -> Data:
    """248, 274 bad value, 252 already cancelled, 275 cancelled/terminated, 284 PayPal, 267."""
    sub = _subscription(ctx, params)
    change = text(params, "subscription_status_modification")
    if change not in ("cancel", "pause", "unpause"):
        raise Fail(274)
    if change == "cancel" and sub.status == "Cancelled":
        raise Fail(252)
    if sub.status in ("Cancelled", "Terminated"):
        raise Fail(275)
    # PayPal subscriptions can only be cancelled (docs/kartra-api.md#billing).
    if sub.gateway == "paypal" and change != "cancel":
        raise Fail(284)
    if change == "cancel":
        if sub.gateway_fails:
            raise Fail(267)
        _cancel(ctx, sub)
    else:
        sub.status = "Paused" if change == "pause" else "Active"
    return {}


def _edit_date(ctx: Context, raw: str) -> float:
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(raw, layout).replace(tzinfo=EASTERN).timestamp()
        except ValueError:
            continue
        if moment < ctx.now:
            raise Fail(261)
        return moment
    raise Fail(260)


def _edit_recurrence(sub: Subscription, raw: object) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise Fail(280)
    first = text(raw, "recurring_period_1")
    second = text(raw, "recurring_period_2")
    if sub.recurrence_locked:
        raise Fail(281)
    if sub.plan_type == "recurring_installments":
        if first not in _INSTALLMENT_PERIODS or (second and second not in _SECOND_PERIODS):
            raise Fail(280)
    elif first not in _PERIODS or second:
        raise Fail(280)
    return first, second or sub.recurring_period_2


def edit_subscription(ctx: Context, params: PhpArray) -> Data:
    """248, 285 nothing editable, 284 PayPal, 275 closed, then per-parameter checks.

    Every parameter is validated before any is applied.
    """
    sub = _subscription(ctx, params)
    if not any(key in params and params[key] != "" for key in _EDITABLE):
        raise Fail(285)
    if sub.gateway == "paypal":
        raise Fail(284)
    if sub.status in ("Cancelled", "Terminated"):
        raise Fail(275)
    changes: dict[str, object] = {}
    raw_product = text(params, "subscription_product_id")
    raw_point = text(params, "subscription_price_point")
    if raw_product or raw_point:
        product_id, point = integer(raw_product), integer(raw_point)
        if not raw_product or not raw_point:
            raise Fail(283)
        if product_id is None or point is None:
            raise Fail(278)
        product = ctx.account.products.get(product_id)
        if product is None or point not in product.price_points:
            raise Fail(283)
        changes["product_id"], changes["price_point"] = product_id, point
        changes["plan_type"] = product.price_points[point]
    raw_date = text(params, "subscription_next_payment_date")
    if raw_date:
        changes["next_payment"] = _edit_date(ctx, raw_date)
    raw_amount = text(params, "subscription_amount")
    if raw_amount:
        amount = decimal_text(raw_amount)
        if amount is None:
            raise Fail(268)
        if not Decimal("1.00") <= Decimal(amount) <= Decimal("9999.99"):
            raise Fail(277)
        changes["amount"] = amount
    if "subscription_recurrence" in params:
        first, second = _edit_recurrence(sub, params["subscription_recurrence"])
        changes["recurring_period"], changes["recurring_period_2"] = first, second
    raw_quantity = text(params, "subscription_product_quantity")
    if raw_quantity:
        quantity = integer(raw_quantity)
        if quantity is None:
            raise Fail(278)
        if not 1 <= quantity <= 9999:
            raise Fail(276)
        changes["quantity"] = quantity
    raw_left = text(params, "subscription_installments_left")
    if raw_left:
        if raw_left.lower() == "until cancelled":
            changes["installments_left"] = None
        else:
            left = integer(raw_left)
            if left is None or left < 1:
                raise Fail(282)
            changes["installments_left"] = left
    raw_tax = text(params, "subscription_tax_percent")
    if raw_tax:
        tax = decimal_text(raw_tax)
        if tax is None:
            raise Fail(278)
        if not Decimal(0) <= Decimal(tax) <= Decimal(100):
            raise Fail(290)
        changes["tax_percent"] = tax
    for name, value in changes.items():
        setattr(sub, name, value)
    return {}


def retrieve_transactions_from_lead(ctx: Context, params: PhpArray) -> Data:
    """The lead's transactions, oldest first."""
    lead = ctx.subject()
    rows = [row for row in ctx.account.transactions.values() if row.lead_id == lead.id]
    return {
        "transaction_list": [
            {
                "transaction_id": str(row.id),
                "lead_id": str(lead.id),
                "lead_email": lead.email,
                "transaction_type": row.type,
            }
            for row in rows
        ]
    }


def retrieve_subscriptions_from_lead(ctx: Context, params: PhpArray) -> Data:
    """The lead's subscriptions, oldest first."""
    lead = ctx.subject()
    subs = [sub for sub in ctx.account.subscriptions.values() if sub.lead_id == lead.id]
    return {
        "subscriptions_list": [
            {
                "subscription_id": str(sub.id),
                "lead_id": str(lead.id),
                "lead_email": lead.email,
                "subscription_status": sub.status,
            }
            for sub in subs
        ]
    }


BILLING_COMMANDS: dict[str, Command] = {
    "retrieve_transactions_from_lead": Command(retrieve_transactions_from_lead, True),
    "retrieve_subscriptions_from_lead": Command(retrieve_subscriptions_from_lead, True),
    "search_transaction": Command(search_transaction, False),
    "get_transaction_details": Command(get_transaction_details, False),
    "refund_transaction": Command(refund_transaction, False),
    "search_subscription": Command(search_subscription, False),
    "get_subscription_details": Command(get_subscription_details, False),
    "cancel_transaction": Command(cancel_transaction, False),
    "modify_subscription_status": Command(modify_subscription_status, False),
    "edit_subscription": Command(edit_subscription, False),
}
