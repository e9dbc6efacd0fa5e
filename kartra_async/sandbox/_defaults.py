"""The account a sandbox starts with when given none: a little of everything Kartra has."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._state import Product, SandboxAccount, Subscription, Transaction

DAY = 86400.0


def default_account(*, now: Callable[[], float] = time.time) -> SandboxAccount:
    """A seeded account: tags, lists, sequences with steps, a calendar with classes, custom
    fields of every type (with options), pages, products, two leads with transactions and
    subscriptions (a card one and a PayPal one), one soft-deleted lead."""
    account = SandboxAccount(now=now)
    account.seed(
        tags=["VIP", "Customer", "Newsletter", "Webinar attendee"],
        lists=["Newsletter", "Customers", "Prospects"],
        sequences={"Welcome": ["1", "2", "3"], "Onboarding": ["1", "2"]},
        calendars={"Coaching": ["Intro call", "Deep dive"]},
        custom_fields={
            "company_size": "input_field",
            "notes_long": "text_area",
            "colour": ("drop_down", ["blue", "brown", "green"]),
            "gender": ("radio_button", ["female", "male", "other"]),
            "interests": ("checkbox", ["email", "video", "events"]),
        },
        pages=["Home", "Sales page", "Thank you"],
    )
    account.calendars["Coaching"].hosts.append(
        {
            "host_first_name": "Jane",
            "host_last_name": "Coach",
            "host_email_address": "jane@example.com",
        }
    )
    account.products[1] = Product(1, "Course", {1: "one_time", 2: "recurring"})
    account.products[2] = Product(2, "Membership", {1: "recurring", 2: "recurring_installments"})
    clock = now()
    buyer = account.add_lead("buyer@example.com", first_name="Bea", last_name="Buyer", country="US")
    buyer.memberships = [
        {
            "membership_id": "1",
            "membership_name": "Academy",
            "level_id": "1",
            "level_name": "Gold",
            "active": "1",
            "granted_at": "2026-01-05 10:00:00",
        }
    ]
    payer = account.add_lead("paypal@example.com", first_name="Pat", last_name="Payer")
    gone = account.add_lead("deleted@example.com", first_name="Del")
    account.delete_lead(gone)

    card_sub = Subscription(
        id=account.new_id("subscription"),
        lead_id=buyer.id,
        product_id=2,
        price_point=1,
        start=clock - 40 * DAY,
        amount="29.00",
        next_payment=clock + 20 * DAY,
        current_installment=2,
    )
    paypal_sub = Subscription(
        id=account.new_id("subscription"),
        lead_id=payer.id,
        product_id=2,
        price_point=1,
        start=clock - 5 * DAY,
        gateway="paypal",
        gateway_id="I-EV375R0H61SM",
        amount="29.00",
        next_payment=clock + 25 * DAY,
    )
    for sub in (card_sub, paypal_sub):
        account.subscriptions[sub.id] = sub

    def sale(
        lead_id: int,
        product: int,
        amount: str,
        age_days: float,
        *,
        subscription_id: int | None = None,
        test: bool = False,
        gateway_fails: bool = False,
    ) -> None:
        row = Transaction(
            id=account.new_id("transaction"),
            lead_id=lead_id,
            type="sale",
            product_id=product,
            price_point=1,
            amount=amount,
            date=clock - age_days * DAY,
            subscription_id=subscription_id,
            test=test,
            gateway_fails=gateway_fails,
        )
        account.transactions[row.id] = row

    sale(buyer.id, 1, "99.00", 2)  # refundable one-off sale
    sale(buyer.id, 1, "49.00", 90)  # outside the refund period
    sale(buyer.id, 2, "29.00", 10, subscription_id=card_sub.id)  # first payment of card_sub
    sale(payer.id, 2, "29.00", 5, subscription_id=paypal_sub.id)  # first payment of paypal_sub
    sale(buyer.id, 1, "10.00", 1, test=True)  # a test transaction: cannot be refunded
    sale(buyer.id, 1, "15.00", 1, gateway_fails=True)  # the gateway refuses its refund
    return account
