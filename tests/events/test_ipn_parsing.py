"""The six IPN notifications, the shared secret and purchase de-duplication."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kartra_async._form import parse_query
from kartra_async.events import (
    IpnKind,
    IpnNotification,
    PurchaseDeduplicator,
    event_to_json,
    ipn_secret_matches,
    parse_ipn,
    parse_outbound_event,
    parse_webhook,
)
from kartra_async.records import RecordFormatError, TransactionType

from .payloads import IPNS, ipn_body, outbound


@pytest.mark.parametrize("kind", sorted(IPNS))
def test_each_notification_kind_is_recognised(kind: str) -> None:
    event = parse_webhook(ipn_body(kind), "application/x-www-form-urlencoded")
    assert isinstance(event, IpnNotification)
    assert event.kind is IpnKind(kind)
    assert event.transaction_id == int(IPNS[kind]["transaction_id"])
    assert event.full_amount == Decimal("97.00")
    assert event.shipping is None
    assert event.affiliate is None
    assert event.transaction_date == datetime(2024, 3, 10, 14, 5, 9,
                                              tzinfo=ZoneInfo("America/New_York"))
    assert event.buyer.email == "john@example.com"
    assert event.buyer.country_code_3 == "USA"
    # The secret is checked by the receiver, never carried along.
    assert "secret_key" not in event.extra
    assert "s3cret" not in json.dumps(event_to_json(event))
    assert "s3cret" not in repr(event)


def test_recurring_fields() -> None:
    event = parse_ipn(parse_query(ipn_body("rebill")))
    assert event.transaction_type is TransactionType.REBILL
    assert event.subscription_id == 14833
    assert event.gateway_subscription_id == "I-EV375R0H61SM"
    assert event.subscription_pay_number == 2
    assert event.product.trial is True
    assert event.product.trial_amount == Decimal("1.00")
    assert event.product.trial_period_days == 7
    assert event.product.payments_left is None
    assert event.product.until_cancelled is True
    assert event.recurring is True


def test_reversal_names_its_parent_and_sales_have_none() -> None:
    reversal = parse_ipn(parse_query(ipn_body("one_time_reversal")))
    assert reversal.parent_transaction_id == 48110
    assert reversal.transaction_type is TransactionType.CHARGEBACK
    sale = parse_ipn(parse_query(ipn_body("one_time_sale")))
    assert sale.parent_transaction_id is None
    assert sale.recurring is False
    assert sale.product.payments_left is None


def test_partial_refund_and_unknown_type() -> None:
    partial = parse_ipn(parse_query(ipn_body("one_time_sale", transaction_type="partial_refund")))
    assert partial.kind is IpnKind.ONE_TIME_REVERSAL
    odd = parse_ipn(parse_query(ipn_body("one_time_sale", transaction_type="dispute_won")))
    assert odd.kind is None
    assert odd.transaction_type == "dispute_won"


def test_legacy_buyer_names_are_read() -> None:
    event = parse_ipn({"transaction_id": "5", "transaction_type": "sale",
                       "buyer_id": "9", "buyer_email": "old@example.com"})
    assert event.buyer.lead_id == 9
    assert event.buyer.email == "old@example.com"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"transaction_id": "N/A"}, "transaction_id"),
     ({"transaction_full_amount": "ninety"}, "transaction_full_amount"),
     ({"transaction_date": "10/03/2024"}, "transaction_date"),
     ({"trial": "sometimes"}, "trial")],
)
def test_unreadable_values_name_the_field(overrides: dict[str, str], field: str) -> None:
    with pytest.raises(RecordFormatError) as caught:
        parse_ipn(parse_query(ipn_body("one_time_sale", **overrides)))
    assert caught.value.field == field


def test_secret_comparison() -> None:
    form = parse_query(ipn_body("cancellation"))
    assert ipn_secret_matches(form, "s3cret")
    assert not ipn_secret_matches(form, "s3cret!")
    assert not ipn_secret_matches(form, "")
    assert not ipn_secret_matches({"transaction_id": "1"}, "s3cret")
    assert not ipn_secret_matches({"secret_key": {"0": "s3cret"}}, "s3cret")
    assert ipn_secret_matches({"secret_key": "ключ"}, "ключ")


def test_same_purchase_as_event_and_ipn_is_a_duplicate() -> None:
    dedupe = PurchaseDeduplicator()
    event = parse_outbound_event(outbound("buy_product"))
    ipn = parse_ipn(parse_query(ipn_body("one_time_sale")))
    assert dedupe.is_duplicate(event) is False
    assert dedupe.is_duplicate(ipn) is True
    assert dedupe.is_duplicate(ipn) is True
    # A refund of the same transaction id is a different movement of money.
    refund = parse_outbound_event(outbound("refund_product"))
    assert dedupe.is_duplicate(refund) is False
    # Events about no transaction are never duplicates.
    tag = parse_outbound_event(outbound("assign_tag"))
    assert dedupe.is_duplicate(tag) is False
    assert dedupe.is_duplicate(tag) is False
    assert len(dedupe) == 2


def test_deduplicator_memory_is_bounded() -> None:
    dedupe = PurchaseDeduplicator(max_entries=3)
    ipns = [parse_ipn({"transaction_id": str(n), "transaction_type": "sale"}) for n in range(5)]
    assert [dedupe.is_duplicate(i) for i in ipns] == [False] * 5
    assert len(dedupe) == 3
    # The oldest were forgotten; the newest are remembered.
    assert dedupe.is_duplicate(ipns[4]) is True
    assert dedupe.is_duplicate(ipns[0]) is False
    with pytest.raises(ValueError, match="max_entries"):
        PurchaseDeduplicator(max_entries=0)
