"""Typed records read from Kartra's JSON, with every documented value quirk."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartra_async.records import (
    CustomFieldOption,
    CustomFieldType,
    GdprStatus,
    RecordFormatError,
    RecurringPeriod,
    SubscriptionStatus,
    TransactionType,
    parse_custom_field_definitions,
    parse_lead_profile,
    parse_subscription_details,
    parse_subscription_summaries,
    parse_transaction_details,
    parse_transaction_summaries,
)

NEW_YORK = ZoneInfo("America/New_York")

# get_lead's lead_details as 3P code observes it: every value a string, N/A and blanks included.
LEAD_DETAILS: dict[str, Any] = {
    "id": "39260",
    "first_name": "Joe",
    "middle_name": "",
    "last_name": "Smith",
    "email": "joe@example.com",
    "date_joined": "2024-07-04 09:30:00",
    "phone_country_code": "+1",
    "phone": "5551234",
    "ip": "203.0.113.9",
    "address": "N/A",
    "zip": 10001,
    "city": "New York",
    "state": "NY",
    "country": "US",
    "lead_picture": "https://example.com/joe.png",
    "score": "42",
    "source": "api",
    "source_id": "0",
    "ip_country": "United States",
    "website": "",
    "facebook": "",
    "twitter": "",
    "linkedin": "",
    "lead_preferred_time_zone": "America/New_York",
    "notes": "VIP",
    "blacklisted": 0,
    "gdpr_lead_status": "2",
    "gdpr_lead_status_date": "16 Jan 2019 10:30",
    "gdpr_lead_status_ip": "203.0.113.9",
    "gdpr_lead_communications": "0",
    "custom_fields": [
        {"field_id": 1, "field_identifier": "gender", "field_type": "radio_button",
         "field_value": [{"option_id": "1", "option_value": "male"}]},
        {"field_id": "3", "field_identifier": "nickname", "field_type": "input_field",
         "field_value": "Joey"},
        {"field_id": "4", "field_identifier": "colours", "field_type": "checkbox",
         "field_value": []},
        {"field_id": "5", "field_identifier": "mood", "field_type": "slider",
         "field_value": "7"},
    ],
    "tags": [{"tag_name": "VIP"}, {"tag_name": "Buyer", "tag_id": "77"}],
    "lists": [{"list_name": "Newsletter", "active": "1"}, {"list_name": "Old", "active": "0"}],
    "sequences": [{"sequence_name": "Onboarding", "step": "3", "status": "active"}],
    "memberships": [
        {"membership_id": "9", "membership_name": "Academy", "level_id": "2",
         "level_name": "Gold", "active": "1", "granted_at": "2024-07-05 00:00:00"},
        {"name": "Club", "level_name": "Basic", "active": "0"},
    ],
    "shoe_size": "44",
}


def test_get_lead_profile_reads_every_documented_field() -> None:
    lead = parse_lead_profile(LEAD_DETAILS)
    assert lead.id == 39260
    assert lead.email == "joe@example.com"
    assert lead.middle_name is None
    assert lead.address is None
    assert lead.zip == "10001"
    assert lead.score == 42
    assert lead.blacklisted is False
    assert lead.gdpr_lead_status is GdprStatus.ACCEPTED
    assert lead.gdpr_lead_communications == 0
    assert lead.gdpr_lead_status_date == datetime(2019, 1, 16, 10, 30, tzinfo=NEW_YORK)
    assert lead.date_joined is not None
    # 09:30 on 4 July in New York is daylight time: 13:30 UTC.
    assert lead.date_joined.utcoffset() == timedelta(hours=-4)
    assert [t.name for t in lead.tags] == ["VIP", "Buyer"]
    assert lead.tags[1].tag_id == 77
    assert [(x.name, x.active) for x in lead.lists] == [("Newsletter", True), ("Old", False)]
    assert lead.sequences[0].step == "3"
    assert lead.sequences[0].status == "active"
    assert lead.memberships[0].name == "Academy"
    assert lead.memberships[0].membership_id == 9
    assert lead.memberships[0].granted_at == datetime(2024, 7, 5, tzinfo=NEW_YORK)
    assert lead.memberships[1].name == "Club"
    assert lead.memberships[1].active is False
    assert lead.extra == {"shoe_size": "44"}


def test_custom_fields_keep_their_kind_and_value_shape() -> None:
    lead = parse_lead_profile(LEAD_DETAILS)
    gender = lead.custom_field("gender")
    assert gender is not None
    assert gender.type is CustomFieldType.RADIO_BUTTON
    assert gender.field_id == 1
    assert gender.value == (CustomFieldOption(1, "male"),)
    nickname = lead.custom_field("nickname")
    assert nickname is not None
    assert nickname.value == "Joey"
    colours = lead.custom_field("colours")
    assert colours is not None
    assert colours.value == ()
    mood = lead.custom_field("mood")
    assert mood is not None
    assert mood.type == "slider"
    assert lead.custom_field("absent") is None


def test_winter_dates_are_eastern_standard_time() -> None:
    lead = parse_lead_profile({"id": 1, "date_joined": "2024-01-15 08:00:00"})
    assert lead.date_joined is not None
    assert lead.date_joined.utcoffset() == timedelta(hours=-5)


def test_unreadable_gdpr_date_is_kept_raw() -> None:
    lead = parse_lead_profile({"id": 1, "gdpr_lead_status_date": "sometime in Jan"})
    assert lead.gdpr_lead_status_date is None
    assert lead.extra["gdpr_lead_status_date"] == "sometime in Jan"


def test_unknown_gdpr_status_is_kept_as_int() -> None:
    assert parse_lead_profile({"id": 1, "gdpr_lead_status": 9}).gdpr_lead_status == 9


def test_relations_as_bare_names_and_php_objects() -> None:
    lead = parse_lead_profile({
        "id": "5",
        "tags": ["VIP"],
        "lists": {"0": {"list_name": "A", "active": 1}},
        "sequences": ["Welcome"],
    })
    assert lead.tags[0].name == "VIP"
    assert lead.lists[0].active is True
    assert lead.sequences[0].name == "Welcome"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"id": "abc"}, "lead.id"),
        ({}, "lead.id"),
        ({"id": 1, "score": "lots"}, "lead.score"),
        ({"id": 1, "date_joined": "yesterday"}, "lead.date_joined"),
        ({"id": 1, "blacklisted": "maybe"}, "lead.blacklisted"),
        ({"id": 1, "first_name": ["x"]}, "lead.first_name"),
        ({"id": 1, "custom_fields": [{"field_id": 1}]}, "lead.custom_fields[0].field_identifier"),
        ({"id": 1, "custom_fields": "x"}, "lead.custom_fields"),
        ({"id": 1, "tags": [{"tag_id": 3}]}, "lead.tags[0].tag_name"),
        ({"id": True}, "lead.id"),
    ],
)
def test_uninterpretable_values_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordFormatError) as caught:
        parse_lead_profile(payload)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_zero_date_and_na_read_as_none() -> None:
    lead = parse_lead_profile({"id": 1, "date_joined": "0000-00-00 00:00:00",
                               "lead_deleted": "0", "lead_deleted_date": "N/A"})
    assert lead.date_joined is None
    assert lead.lead_deleted is False
    assert lead.lead_deleted_date is None


def test_custom_field_definitions_from_the_fact_sheet_example() -> None:
    fields = parse_custom_field_definitions([
        {"field_id": "1", "field_identifier": "gender", "field_type": "radio_button",
         "field_value": [{"option_id": "1", "option_value": "male"},
                         {"option_id": "2", "option_value": "female"}]},
        {"field_id": "3", "field_identifier": "field_3", "field_type": "input_field"},
    ])
    assert [f.identifier for f in fields] == ["gender", "field_3"]
    assert fields[0].type is CustomFieldType.RADIO_BUTTON
    assert [o.value for o in fields[0].options] == ["male", "female"]
    assert fields[1].options == ()
    assert fields[1].field_id == 3
    assert parse_custom_field_definitions(None) == ()
    assert parse_custom_field_definitions([]) == ()


def test_transaction_summaries_tolerate_unknown_types() -> None:
    rows = parse_transaction_summaries([
        {"transaction_id": "48110", "lead_id": "4174086", "lead_email": "example@email.com",
         "transaction_type": "sale"},
        {"transaction_id": 48111, "lead_id": 4174086, "transaction_type": "Partial_Refund"},
        {"transaction_id": "48112", "transaction_type": "dispute_won", "currency": "USD"},
    ])
    assert rows[0].transaction_id == 48110
    assert rows[0].transaction_type is TransactionType.SALE
    assert rows[1].transaction_type is TransactionType.PARTIAL_REFUND
    assert rows[2].transaction_type == "dispute_won"
    assert rows[2].extra == {"currency": "USD"}


def test_subscription_summaries_accept_current_and_legacy_names() -> None:
    rows = parse_subscription_summaries({"0": {
        "subscription_id": "14833", "lead_id": "1", "lead_email": "a@b.c",
        "subscription_status": "cancelled"},
        "1": {"transaction_internal_subscription_id": "14834",
              "transaction_subscription_status": "Active", "buyer_email": "x@y.z"}})
    assert rows[0].status is SubscriptionStatus.CANCELLED
    assert rows[1].subscription_id == 14834
    assert rows[1].status is SubscriptionStatus.ACTIVE
    assert rows[1].lead_email == "x@y.z"


def test_subscription_details_until_cancelled() -> None:
    details = parse_subscription_details({
        "subscription_id": "32451",
        "subscription_product_id": "12",
        "subscription_price_point": "1",
        "subscription_lead_id": "4174086",
        "subscription_start_date": "2020-12-18 05:46:00",
        "subscription_end_date": "0000-00-00 00:00:00",
        "subscription_current_installment": "2",
        "subscription_installments_left": "Until cancelled",
        "subscription_recurring_period": "every 2 months",
        "subscription_status": "Active",
        "subscription_next_payment_date": "2021-01-18 05:46:00",
        "subscription_next_scheduled_payment_amount": "N/A",
        "subscription_affiliate": "N/A",
        "subscription_jv": "partner1",
    })
    assert details.subscription_id == 32451
    assert details.installments_left is None
    assert details.until_cancelled is True
    assert details.end_date is None
    assert details.start_date == datetime(2020, 12, 18, 5, 46, tzinfo=NEW_YORK)
    assert details.recurring_period is RecurringPeriod.EVERY_2_MONTHS
    assert details.status is SubscriptionStatus.ACTIVE
    assert details.next_scheduled_payment_amount is None
    assert details.affiliate is None
    assert details.jv == "partner1"


def test_subscription_details_counted_installments_and_amount() -> None:
    details = parse_subscription_details({
        "subscription_id": 7, "subscription_installments_left": "3",
        "subscription_next_scheduled_payment_amount": 19.99,
        "subscription_recurring_period": "fortnightly"})
    assert details.installments_left == 3
    assert details.until_cancelled is False
    assert details.next_scheduled_payment_amount == Decimal("19.99")
    assert details.recurring_period == "fortnightly"
    with pytest.raises(RecordFormatError, match="subscription_installments_left"):
        parse_subscription_details({"subscription_id": 7,
                                    "subscription_installments_left": "-2"})


def test_transaction_details_amounts_are_exact_decimals() -> None:
    details = parse_transaction_details({
        "transaction_id": 792354, "lead_id": "4174086", "lead_first_name": "Joe",
        "lead_email": "joe@example.com", "product_name": "Course", "product_id": "12",
        "product_price_point": "2", "transaction_full_amount": "1,234.50",
        "transaction_base_amount": 1200, "transaction_tax": 34.5, "transaction_quantity": "1",
        "transaction_type": "sale", "transaction_parent_id": "0",
        "transaction_date": "2024-03-01 12:00:00", "transaction_affiliate": "N/A",
    })
    assert details.full_amount == Decimal("1234.50")
    assert details.base_amount == Decimal(1200)
    assert details.tax == Decimal("34.5")
    assert details.parent_transaction_id is None
    assert details.affiliate is None
    assert details.transaction_type is TransactionType.SALE
    with pytest.raises(RecordFormatError, match="transaction_full_amount"):
        parse_transaction_details({"transaction_id": 1, "transaction_full_amount": "NaN"})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["N/A", "0000-00-00 00:00:00", "2024-01-01 00:00:00", "1", "abc"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from([
    "id", "score", "date_joined", "custom_fields", "tags", "lists", "memberships", "sequences",
    "blacklisted", "gdpr_lead_status", "gdpr_lead_status_date", "transaction_id",
    "subscription_id", "subscription_installments_left", "transaction_full_amount",
    "field_identifier", "field_value", "transaction_type", "subscription_status",
]) | st.text(max_size=6)


def _outcome(parse: Callable[[Any], object], value: Any) -> object:
    """The parse result, or the RecordFormatError it raised (anything else propagates)."""
    try:
        return parse(value)
    except RecordFormatError as error:
        return error


def _is_record_or_error(outcome: object) -> bool:
    if isinstance(outcome, RecordFormatError):
        return bool(outcome.field)
    return attrs.has(type(outcome)) or isinstance(outcome, tuple)


@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_random_json_only_ever_raises_record_format_error(data: dict[str, Any]) -> None:
    parsers: tuple[Callable[[Any], object], ...] = (
        parse_lead_profile, parse_transaction_details, parse_subscription_details,
    )
    for parse in parsers:
        assert _is_record_or_error(_outcome(parse, data))
    for parse_list in (parse_custom_field_definitions, parse_transaction_summaries,
                       parse_subscription_summaries):
        outcome = _outcome(parse_list, [data])
        assert isinstance(outcome, RecordFormatError) or len(outcome) == 1  # type: ignore[arg-type]


@given(JSON)
def test_random_top_level_values_only_raise_record_format_error(value: Any) -> None:
    assert _is_record_or_error(_outcome(parse_custom_field_definitions, value))
    assert _is_record_or_error(_outcome(parse_lead_profile, value))


def test_error_messages_do_not_echo_values() -> None:
    secret = "s3cr3t-personal-value"
    with pytest.raises(RecordFormatError) as caught:
        parse_lead_profile({"id": secret})
    assert secret not in str(caught.value)
    assert json.dumps(caught.value.field) == '"lead.id"'
