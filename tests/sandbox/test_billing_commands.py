"""Transactions and subscriptions: details, refunds, cancellation, status changes and edits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kartra_async._form import FormValue
from kartra_async.sandbox import SandboxAccount, export_account
from kartra_async.sandbox._state import Subscription, Transaction

from .conftest import Runner
from .support import NOW, chain, code


def _sale(account: SandboxAccount, **match: object) -> Transaction:
    return next(
        row
        for row in account.transactions.values()
        if row.type == "sale" and all(getattr(row, key) == value for key, value in match.items())
    )


def _card(account: SandboxAccount) -> Subscription:
    return next(sub for sub in account.subscriptions.values() if sub.gateway == "card")


def _paypal(account: SandboxAccount) -> Subscription:
    return next(sub for sub in account.subscriptions.values() if sub.gateway == "paypal")


def _one(run: Runner, action: dict[str, FormValue]) -> dict[str, object]:
    reply = run(chain(None, action))
    cmd = str(action["cmd"])
    assert reply["status"] == "Success", reply
    entry = reply["actions"][0][cmd]
    assert isinstance(entry, dict)
    return entry


def test_search_and_details(run: Runner, account: SandboxAccount) -> None:
    row = _sale(account, amount="99.00")
    found = _one(run, {"cmd": "search_transaction", "transaction_id": row.id})
    assert found == {"status": "Success", "message": "Transaction exists"}
    details = _one(run, {"cmd": "get_transaction_details", "transaction_id": row.id})[
        "transaction_details"
    ]
    assert isinstance(details, dict)
    assert details["transaction_id"] == str(row.id)
    assert details["lead_email"] == "buyer@example.com"
    assert details["product_name"] == "Course"
    assert details["transaction_full_amount"] == "99.00"
    sub = _card(account)
    assert (
        _one(run, {"cmd": "search_subscription", "subscription_id": sub.id})["message"]
        == "Subscription exists"
    )
    sub_details = _one(run, {"cmd": "get_subscription_details", "subscription_id": sub.id})[
        "subscription_details"
    ]
    assert isinstance(sub_details, dict)
    assert sub_details["subscription_status"] == "Active"
    assert sub_details["subscription_installments_left"] == "Until cancelled"
    assert sub_details["subscription_end_date"] == "0000-00-00 00:00:00"
    assert sub_details["subscription_jv"] == "N/A"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"cmd": "search_transaction", "transaction_id": "99999"}, 247),
        ({"cmd": "search_transaction"}, 247),
        ({"cmd": "get_transaction_details", "transaction_id": "x"}, 247),
        ({"cmd": "refund_transaction", "transaction_id": "99999"}, 247),
        ({"cmd": "search_subscription", "subscription_id": "99999"}, 248),
        ({"cmd": "get_subscription_details", "subscription_id": "99999"}, 248),
        ({"cmd": "cancel_transaction", "transaction_internal_subscription_id": "99999"}, 248),
        ({"cmd": "cancel_transaction"}, 248),
        (
            {
                "cmd": "modify_subscription_status",
                "subscription_id": "99999",
                "subscription_status_modification": "pause",
            },
            248,
        ),
        ({"cmd": "edit_subscription", "subscription_id": "99999", "subscription_amount": "5"}, 248),
    ],
)
def test_unknown_ids(run: Runner, action: dict[str, FormValue], expected: int) -> None:
    assert code(run(chain(None, action))) == expected


def test_full_then_repeated_refund(run: Runner, account: SandboxAccount) -> None:
    row = _sale(account, amount="99.00")
    entry = _one(run, {"cmd": "refund_transaction", "transaction_id": row.id})
    assert entry == {"status": "Success", "transaction_refunded": str(row.id)}
    refunds = [t for t in account.transactions.values() if t.parent_id == row.id]
    assert [(t.type, t.amount) for t in refunds] == [("refund", "99.00")]
    assert code(run(chain(None, {"cmd": "refund_transaction", "transaction_id": row.id}))) == 251


def test_partial_refunds_up_to_the_amount(run: Runner, account: SandboxAccount) -> None:
    row = _sale(account, amount="99.00")
    _one(run, {"cmd": "refund_transaction", "transaction_id": row.id, "refund_amount": "40.5"})
    assert (
        code(
            run(
                chain(
                    None,
                    {"cmd": "refund_transaction", "transaction_id": row.id, "refund_amount": "60"},
                )
            )
        )
        == 268
    )
    _one(run, {"cmd": "refund_transaction", "transaction_id": row.id, "refund_amount": "58.50"})
    assert Decimal(row.refunded) == Decimal(row.amount)
    types = [t.type for t in account.transactions.values() if t.parent_id == row.id]
    assert types == ["partial_refund", "partial_refund"]
    assert code(run(chain(None, {"cmd": "refund_transaction", "transaction_id": row.id}))) == 251


def test_refund_errors(run: Runner, account: SandboxAccount) -> None:
    def refund(row: Transaction, **extra: FormValue) -> int:
        return code(
            run(chain(None, {"cmd": "refund_transaction", "transaction_id": row.id, **extra}))
        )

    assert refund(_sale(account, amount="49.00")) == 250
    assert refund(_sale(account, test=True)) == 253
    assert refund(_sale(account, gateway_fails=True)) == 266
    assert refund(_sale(account, amount="99.00"), refund_amount="lots") == 268
    assert refund(_sale(account, amount="99.00"), refund_amount="0") == 268
    _one(
        run,
        {
            "cmd": "refund_transaction",
            "transaction_id": _sale(account, amount="99.00").id,
            "refund_amount": "1",
        },
    )
    partial = next(t for t in account.transactions.values() if t.type == "partial_refund")
    assert refund(partial) == 253
    assert _sale(account, gateway_fails=True).refunded == "0"


def test_cancel_by_transaction_then_again(run: Runner, account: SandboxAccount) -> None:
    sub = _card(account)
    row = _sale(account, subscription_id=sub.id)
    entry = _one(run, {"cmd": "cancel_transaction", "transaction_id": row.id})
    assert entry == {
        "status": "Success",
        "transaction_subscription_id": "",
        "transaction_internal_subscription_id": str(sub.id),
    }
    assert (sub.status, sub.end) == ("Cancelled", NOW)
    again: dict[str, FormValue] = {
        "cmd": "cancel_transaction",
        "transaction_internal_subscription_id": sub.id,
    }
    assert code(run(chain(None, again))) == 252


def test_cancel_paypal_echoes_gateway_id(run: Runner, account: SandboxAccount) -> None:
    sub = _paypal(account)
    entry = _one(run, {"cmd": "cancel_transaction", "transaction_internal_subscription_id": sub.id})
    assert entry["transaction_subscription_id"] == "I-EV375R0H61SM"


def test_cancel_errors(run: Runner, account: SandboxAccount) -> None:
    def cancel(**params: FormValue) -> int:
        return code(run(chain(None, {"cmd": "cancel_transaction", **params})))

    assert cancel(transaction_id=_sale(account, amount="99.00").id) == 249
    assert cancel(transaction_id=_sale(account, test=True).id) == 253
    assert cancel(transaction_id="99999") == 247
    sub = _card(account)
    sub.status = "Terminated"
    assert cancel(transaction_internal_subscription_id=sub.id) == 253
    sub.status, sub.gateway_fails = "Active", True
    assert cancel(transaction_internal_subscription_id=sub.id) == 267
    assert sub.status == "Active"


def test_pause_unpause_cancel(run: Runner, account: SandboxAccount) -> None:
    sub = _card(account)

    def modify(change: str) -> dict[str, object]:
        return _one(
            run,
            {
                "cmd": "modify_subscription_status",
                "subscription_id": sub.id,
                "subscription_status_modification": change,
            },
        )

    assert modify("pause") == {
        "status": "Success",
        "message": "Subscription modified",
        "type": "115",
    }
    assert sub.status == "Paused"
    modify("unpause")
    assert sub.status == "Active"
    modify("cancel")
    assert sub.status == "Cancelled"


@pytest.mark.parametrize(
    ("setup", "change", "expected"),
    [
        ("card", "stop", 274),
        ("card", "", 274),
        ("paypal", "pause", 284),
        ("cancelled", "cancel", 252),
        ("cancelled", "pause", 275),
        ("terminated", "unpause", 275),
        ("failing", "cancel", 267),
    ],
)
def test_modify_errors(
    run: Runner, account: SandboxAccount, setup: str, change: str, expected: int
) -> None:
    sub = _paypal(account) if setup == "paypal" else _card(account)
    if setup == "cancelled":
        sub.status = "Cancelled"
    elif setup == "terminated":
        sub.status = "Terminated"
    elif setup == "failing":
        sub.gateway_fails = True
    action: dict[str, FormValue] = {
        "cmd": "modify_subscription_status",
        "subscription_id": sub.id,
        "subscription_status_modification": change,
    }
    assert code(run(chain(None, action))) == expected


def test_paypal_can_be_cancelled_through_modify(run: Runner, account: SandboxAccount) -> None:
    sub = _paypal(account)
    _one(
        run,
        {
            "cmd": "modify_subscription_status",
            "subscription_id": sub.id,
            "subscription_status_modification": "cancel",
        },
    )
    assert sub.status == "Cancelled"


def test_edit_subscription_applies_every_parameter(run: Runner, account: SandboxAccount) -> None:
    sub = _card(account)
    entry = _one(
        run,
        {
            "cmd": "edit_subscription",
            "subscription_id": sub.id,
            "subscription_product_id": 1,
            "subscription_price_point": 2,
            "subscription_next_payment_date": "2026-07-01 09:00",
            "subscription_amount": "19.5",
            "subscription_recurrence": {"recurring_period_1": "yearly"},
            "subscription_product_quantity": 3,
            "subscription_installments_left": 6,
            "subscription_tax_percent": "20",
        },
    )
    assert entry == {"status": "Success", "message": "Subscription modified", "type": "115"}
    assert (sub.product_id, sub.price_point, sub.amount, sub.quantity) == (1, 2, "19.50", 3)
    assert (sub.recurring_period, sub.installments_left, sub.tax_percent) == ("yearly", 6, "20.00")
    details = _one(run, {"cmd": "get_subscription_details", "subscription_id": sub.id})[
        "subscription_details"
    ]
    assert isinstance(details, dict)
    assert details["subscription_next_payment_date"] == "2026-07-01 09:00:00"


EDIT_CASES: list[tuple[dict[str, FormValue], int]] = [
    ({}, 285),
    ({"subscription_amount": "abc"}, 268),
    ({"subscription_amount": "0.50"}, 277),
    ({"subscription_amount": "10000"}, 277),
    ({"subscription_next_payment_date": "01/07/2026"}, 260),
    ({"subscription_next_payment_date": "2026-05-01 10:00"}, 261),
    ({"subscription_product_quantity": "many"}, 278),
    ({"subscription_product_quantity": "0"}, 276),
    ({"subscription_product_quantity": "10000"}, 276),
    ({"subscription_tax_percent": "x"}, 278),
    ({"subscription_tax_percent": "101"}, 290),
    ({"subscription_installments_left": "0"}, 282),
    ({"subscription_installments_left": "forever"}, 282),
    ({"subscription_product_id": "1"}, 283),
    ({"subscription_product_id": "7", "subscription_price_point": "1"}, 283),
    ({"subscription_product_id": "1", "subscription_price_point": "9"}, 283),
    ({"subscription_product_id": "one", "subscription_price_point": "1"}, 278),
    ({"subscription_recurrence": "monthly"}, 280),
    ({"subscription_recurrence": {"recurring_period_1": "daily"}}, 280),
    (
        {
            "subscription_recurrence": {
                "recurring_period_1": "monthly",
                "recurring_period_2": "yearly",
            }
        },
        280,
    ),
    # All parameters are checked before any applies: good amount + bad quantity change nothing.
    ({"subscription_amount": "50", "subscription_product_quantity": "0"}, 276),
]


@pytest.mark.parametrize(("params", "expected"), EDIT_CASES)
def test_edit_subscription_errors(
    run: Runner, account: SandboxAccount, params: dict[str, FormValue], expected: int
) -> None:
    sub = _card(account)
    before = export_account(account)
    assert (
        code(run(chain(None, {"cmd": "edit_subscription", "subscription_id": sub.id, **params})))
        == expected
    )
    assert export_account(account) == before


def test_edit_subscription_state_errors(run: Runner, account: SandboxAccount) -> None:
    def edit(sub: Subscription, **params: FormValue) -> int:
        return code(
            run(chain(None, {"cmd": "edit_subscription", "subscription_id": sub.id, **params}))
        )

    assert edit(_paypal(account), subscription_amount="5") == 284
    card = _card(account)
    card.recurrence_locked = True
    assert edit(card, subscription_recurrence={"recurring_period_1": "weekly"}) == 281
    card.status = "Cancelled"
    assert edit(card, subscription_amount="5") == 275


def test_recurring_installments_take_two_periods(run: Runner, account: SandboxAccount) -> None:
    sub = _card(account)
    sub.plan_type = "recurring_installments"
    recurrence = {"recurring_period_1": "every 2 weeks", "recurring_period_2": "every 2 years"}
    _one(
        run,
        {
            "cmd": "edit_subscription",
            "subscription_id": sub.id,
            "subscription_recurrence": recurrence,
        },
    )
    assert (sub.recurring_period, sub.recurring_period_2) == ("every 2 weeks", "every 2 years")
    bad = {"recurring_period_1": "quarterly"}
    assert (
        code(
            run(
                chain(
                    None,
                    {
                        "cmd": "edit_subscription",
                        "subscription_id": sub.id,
                        "subscription_recurrence": bad,
                    },
                )
            )
        )
        == 280
    )


def test_lead_transaction_and_subscription_lists(run: Runner, account: SandboxAccount) -> None:
    reply = run(
        chain(
            "buyer@example.com",
            {"cmd": "retrieve_transactions_from_lead"},
            {"cmd": "retrieve_subscriptions_from_lead"},
        )
    )
    lead = account.lead_by_email("buyer@example.com")
    assert lead is not None
    rows = reply["actions"][0]["retrieve_transactions_from_lead"]["transaction_list"]
    assert {row["transaction_id"] for row in rows} == {
        str(t.id) for t in account.transactions.values() if t.lead_id == lead.id
    }
    assert all(row["lead_email"] == "buyer@example.com" for row in rows)
    subs = reply["actions"][1]["retrieve_subscriptions_from_lead"]["subscriptions_list"]
    assert subs == [
        {
            "subscription_id": str(_card(account).id),
            "lead_id": str(lead.id),
            "lead_email": "buyer@example.com",
            "subscription_status": "Active",
        }
    ]
    assert code(run(chain("nobody@example.com", {"cmd": "retrieve_transactions_from_lead"}))) == 243
