"""Build-time validation: every rule names the field and the reason, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from kartra_async import (
    CUSTOM_FIELD_TYPES,
    RECURRING_PERIODS,
    TIME_ZONES,
    AccountCall,
    Credentials,
    CustomField,
    GetLead,
    LeadRequest,
    UsageError,
    ValidationError,
)

from .conftest import CANARIES

LEAD = LeadRequest(email="ann@example.com")
# Wrong kinds typed as Any, as they arrive from untyped callers (CSV rows, JSON).
UNTYPED_ID: Any = "48110"
UNTYPED_FLOAT: Any = 1.0


def assert_refused(build: Callable[[], object], field: str) -> ValidationError:
    """Assert ``build`` raises a ValidationError for ``field``; return it for more checks."""
    with pytest.raises(ValidationError) as info:
        build()
    error = info.value
    assert isinstance(error, UsageError)
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.reason
    assert str(error).startswith(f"{field}: ")
    return error


# --- email ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["ann@example.com", "a.b+tag@sub.example.co.uk", "O'Brien@example.ie", "é@exämple.de"]
)
def test_valid_emails_are_accepted(email: str) -> None:
    assert LeadRequest(email=email).email == email
    assert GetLead(email=email).email == email


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "a b@example.com",
        "a@@example.com",
        "ann@example..com",
        "ann@exa mple.com",
        "ann@example.com\n",
        "x" * 65 + "@example.com",
    ],
)
def test_invalid_emails_are_refused(email: str) -> None:
    assert_refused(lambda: LeadRequest(email=email), "email")
    assert_refused(lambda: GetLead(email=email), "email")
    assert_refused(lambda: LeadRequest(id=1).edit(new_email=email), "new_email")


def test_email_must_be_a_string() -> None:
    error = assert_refused(lambda: LeadRequest(email=42), "email")  # type: ignore[arg-type]
    assert "int" in error.reason


# --- time zones ----------------------------------------------------------------------------------


def test_there_are_76_time_zones_all_distinct() -> None:
    assert len(TIME_ZONES) == 76
    assert len(set(TIME_ZONES)) == 76


@pytest.mark.parametrize("zone", TIME_ZONES)
def test_every_documented_time_zone_is_accepted(zone: str) -> None:
    lead = LeadRequest(email="ann@example.com", lead_preferred_time_zone=zone)
    assert lead.lead_preferred_time_zone == zone


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "america/new_york", "America/New_York ", "EST", "", "GMT+2"]
)
def test_other_time_zones_are_refused(zone: str) -> None:
    assert_refused(
        lambda: LeadRequest(email="a@b.co", lead_preferred_time_zone=zone),
        "lead_preferred_time_zone",
    )


# --- lead fields ---------------------------------------------------------------------------------


def test_lead_text_fields_refuse_control_characters_and_non_strings() -> None:
    assert_refused(lambda: LeadRequest(email="a@b.co", first_name="Ann\x00"), "first_name")
    assert_refused(lambda: LeadRequest(email="a@b.co", city=3), "city")  # type: ignore[arg-type]
    assert_refused(lambda: LeadRequest(email="a@b.co", company="x" * 5000), "company")
    # Tabs and newlines are ordinary text (an address may span lines).
    assert LeadRequest(email="a@b.co", address="1 Main St\nApt 2").address == "1 Main St\nApt 2"


@pytest.mark.parametrize("bad", [0, -1, True, 1.0, "7"])
def test_lead_id_is_a_positive_integer(bad: Any) -> None:
    assert_refused(lambda: LeadRequest(id=bad), "id")
    assert_refused(lambda: GetLead(id=bad), "id")


def test_business_type_is_an_integer() -> None:
    assert_refused(lambda: LeadRequest(email="a@b.co", business_type="shop"), "business_type")  # type: ignore[arg-type]


# --- custom fields -------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["text1", "Field-2", "my_field", "A"])
def test_custom_field_identifiers_letters_digits_dash_underscore(identifier: str) -> None:
    assert CustomField(identifier, "x").identifier == identifier


@pytest.mark.parametrize(
    "identifier", ["a[b]", "a]", "[0]", "a b", "a.b", "a&b=c", "a%5Bb", "", "ü", "a\n"]
)
def test_custom_field_identifiers_that_could_inject_keys_are_refused(identifier: str) -> None:
    assert_refused(lambda: CustomField(identifier, "x"), "custom_fields.field_identifier")


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("hello", "hello"),
        ("", ""),
        (612, 612),
        (0, 0),
        ([620, 621], (620, 621)),
        ((1,), (1,)),
        ([], ()),
    ],
)
def test_custom_field_value_kinds(value: Any, stored: Any) -> None:
    assert CustomField("f", value).value == stored


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (True, "custom_fields[f].field_value"),
        (1.5, "custom_fields[f].field_value"),
        (None, "custom_fields[f].field_value"),
        ({"a": 1}, "custom_fields[f].field_value"),
        (-1, "custom_fields[f].field_value"),
        ([1, "2"], "custom_fields[f].field_value[1]"),
        ([1, True], "custom_fields[f].field_value[1]"),
        ([[1]], "custom_fields[f].field_value[0]"),
        ([1.0], "custom_fields[f].field_value[0]"),
        ("bell\x07", "custom_fields[f].field_value"),
    ],
)
def test_custom_field_value_kinds_refused(value: Any, where: str) -> None:
    assert_refused(lambda: CustomField("f", value), where)


def test_a_lead_sets_each_custom_field_once() -> None:
    fields = [CustomField("f", "a"), CustomField("f", "b")]
    error = assert_refused(
        lambda: LeadRequest(email="a@b.co", custom_fields=fields), "custom_fields[1]"
    )
    assert "'f'" in error.reason
    assert_refused(
        lambda: LeadRequest(email="a@b.co", custom_fields=[("f", "a")]),  # type: ignore[list-item]
        "custom_fields[0]",
    )


# --- points, steps -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -5, 1.5, "10", True, None])
def test_points_are_positive_integers(bad: Any) -> None:
    assert_refused(lambda: LEAD.search().give_points(bad), "points")
    assert_refused(lambda: LEAD.search().remove_points(bad), "points")


@pytest.mark.parametrize("bad", [-1, 1.5, "30", True])
def test_expiration_is_a_non_negative_integer(bad: Any) -> None:
    assert_refused(lambda: LEAD.search().give_points(5, expiration=bad), "expiration")


@pytest.mark.parametrize("bad", ["", "1 2", "1-a", "!"])
def test_sequence_step_is_alphanumeric(bad: str) -> None:
    assert_refused(lambda: LEAD.search().subscribe_to_sequence("Welcome", bad), "step")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: LEAD.search().assign_tag(""), "tag_name"),
        (lambda: LEAD.search().unassign_tag("  "), "tag_name"),
        (lambda: LEAD.search().subscribe(""), "list_name"),
        (lambda: LEAD.search().unsubscribe(""), "list_name"),
        (lambda: LEAD.search().subscribe_to_sequence("", "1"), "sequence_name"),
        (lambda: LEAD.search().unsubscribe_from_sequence(""), "sequence_name"),
        (lambda: LEAD.search().calendar_subscribe("", "Intro"), "calendar_name"),
        (lambda: LEAD.search().calendar_cancel("Coaching", ""), "class_name"),
    ],
)
def test_names_must_not_be_empty(build: Callable[[], object], field: str) -> None:
    assert_refused(build, field)


# --- calendar date and hour ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["16 Jan 2019", "29 Feb 2024", "01 Dec 2030"])
def test_calendar_dates_in_kartra_format(value: str) -> None:
    call = LEAD.search().calendar_subscribe("C", "K", starting_date=value)
    assert call.actions[1].starting_date == value  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value",
    [
        "2019-01-16",
        "16 January 2019",
        "16 jan 2019",
        "6 Jan 2019",
        "31 Feb 2019",
        "29 Feb 2023",
        "١٦ Jan 2019",
        "16 Jan 19",
        "",
    ],
)
def test_calendar_dates_in_other_formats_are_refused(value: str) -> None:
    assert_refused(
        lambda: LEAD.search().calendar_subscribe("C", "K", starting_date=value), "starting_date"
    )


def test_calendar_date_objects_are_formatted_but_datetimes_refused() -> None:
    call = LEAD.search().calendar_subscribe("C", "K", date(2030, 3, 9), time(18, 0))
    assert call.actions[1].starting_date == "09 Mar 2030"  # type: ignore[attr-defined]
    assert call.actions[1].starting_hour == "18:00"  # type: ignore[attr-defined]
    assert_refused(
        lambda: LEAD.search().calendar_subscribe("C", "K", datetime(2030, 3, 9)),
        "starting_date",
    )


@pytest.mark.parametrize("value", ["24:00", "9:30", "09:60", "0930", "09:30:00", "1٣:00", "ab:cd"])
def test_calendar_hours_in_other_formats_are_refused(value: str) -> None:
    assert_refused(
        lambda: LEAD.search().calendar_subscribe("C", "K", starting_hour=value), "starting_hour"
    )


# --- enumerations --------------------------------------------------------------------------------


@pytest.mark.parametrize("field_type", CUSTOM_FIELD_TYPES)
def test_every_custom_field_type_is_accepted(field_type: str) -> None:
    options = ["a", "b"] if field_type in ("drop_down", "radio_button", "checkbox") else []
    call = AccountCall().create_custom_field("f", field_type, options)
    assert call.actions[0].custom_field_type == field_type  # type: ignore[attr-defined]


def test_custom_field_definitions_are_checked() -> None:
    create = AccountCall().create_custom_field
    assert_refused(lambda: create("f", "dropdown"), "custom_field_type")
    assert_refused(lambda: create("f", "Input_Field"), "custom_field_type")
    assert_refused(lambda: create("bad name", "input_field"), "custom_field_identifier")
    assert_refused(lambda: create("f", "drop_down", ["only one"]), "custom_field_options")
    assert_refused(lambda: create("f", "checkbox"), "custom_field_options")
    assert_refused(lambda: create("f", "input_field", ["a", "b"]), "custom_field_options")
    assert_refused(lambda: create("f", "radio_button", ["a", ""]), "custom_field_options[1]")
    assert_refused(lambda: create("f", "radio_button", "ab"), "custom_field_options")


@pytest.mark.parametrize("modification", ["cancel", "pause", "unpause"])
def test_status_modifications(modification: str) -> None:
    call = AccountCall().modify_subscription_status(1, modification)
    assert call.actions[0].subscription_status_modification == modification  # type: ignore[attr-defined]


@pytest.mark.parametrize("modification", ["Cancel", "resume", "", "cancelled"])
def test_other_status_modifications_are_refused(modification: str) -> None:
    assert_refused(
        lambda: AccountCall().modify_subscription_status(1, modification),
        "subscription_status_modification",
    )


@pytest.mark.parametrize("period", RECURRING_PERIODS)
def test_every_recurring_period_is_accepted(period: str) -> None:
    call = AccountCall().edit_subscription(1, recurring_period_1=period)
    assert call.actions[0].subscription_recurrence.recurring_period_1 == period  # type: ignore[attr-defined]


def test_recurring_periods_are_checked() -> None:
    edit = AccountCall().edit_subscription
    assert_refused(lambda: edit(1, recurring_period_1="daily"), "recurring_period_1")
    assert_refused(
        lambda: edit(1, recurring_period_1="monthly", recurring_period_2="monthly"),
        "recurring_period_2",
    )
    assert_refused(lambda: edit(1, recurring_period_2="yearly"), "recurring_period_2")


# --- amounts and billing ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("12.50", Decimal("12.50")), (12, Decimal(12)), (Decimal("0.01"), Decimal("0.01"))],
)
def test_refund_amounts(amount: Any, stored: Decimal) -> None:
    call = AccountCall().refund_transaction(1, amount)
    assert call.actions[0].refund_amount == stored  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "amount", [12.5, True, "abc", "", "0", "-1", "1.005", Decimal("NaN"), "Infinity", [1]]
)
def test_bad_refund_amounts_are_refused(amount: Any) -> None:
    assert_refused(lambda: AccountCall().refund_transaction(1, amount), "refund_amount")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: AccountCall().search_transaction(0), "transaction_id"),
        (lambda: AccountCall().get_transaction_details(UNTYPED_ID), "transaction_id"),
        (lambda: AccountCall().refund_transaction(True), "transaction_id"),
        (lambda: AccountCall().search_subscription(-3), "subscription_id"),
        (lambda: AccountCall().get_subscription_details(UNTYPED_FLOAT), "subscription_id"),
        (lambda: AccountCall().cancel_transaction(), "transaction_id"),
        (lambda: AccountCall().cancel_transaction(1, internal_subscription_id=2), "transaction_id"),
        (
            lambda: AccountCall().cancel_transaction(internal_subscription_id=0),
            "transaction_internal_subscription_id",
        ),
    ],
)
def test_billing_ids_are_positive_integers(build: Callable[[], object], field: str) -> None:
    assert_refused(build, field)


# --- edit_subscription ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "edit_subscription"),
        ({"product_id": 5}, "subscription_product_id"),
        ({"price_point": 2}, "subscription_product_id"),
        ({"quantity": 0}, "subscription_product_quantity"),
        ({"quantity": 10000}, "subscription_product_quantity"),
        ({"amount": "0.99"}, "subscription_amount"),
        ({"amount": "10000"}, "subscription_amount"),
        ({"amount": 5.0}, "subscription_amount"),
        ({"tax_percent": 101}, "subscription_tax_percent"),
        ({"tax_percent": -1}, "subscription_tax_percent"),
        ({"tax_percent": 7.5}, "subscription_tax_percent"),
        ({"tax_percent": Decimal("NaN")}, "subscription_tax_percent"),
        ({"installments_left": "forever"}, "subscription_installments_left"),
        ({"installments_left": 0}, "subscription_installments_left"),
        ({"next_payment_date": "18/01/2031"}, "subscription_next_payment_date"),
        ({"next_payment_date": "2031-1-8 5:46"}, "subscription_next_payment_date"),
        ({"next_payment_date": "2031-02-30 05:46"}, "subscription_next_payment_date"),
    ],
)
def test_edit_subscription_rules(kwargs: dict[str, Any], field: str) -> None:
    assert_refused(lambda: AccountCall().edit_subscription(7, **kwargs), field)


def first_action(call: AccountCall) -> Any:
    """The call's first action, untyped, to read its parameters."""
    return call.actions[0]


def test_edit_subscription_accepted_forms() -> None:
    edit = AccountCall().edit_subscription
    assert first_action(edit(7, product_id=1, price_point=2)).subscription_price_point == 2
    until = first_action(edit(7, installments_left="Until Cancelled"))
    assert until.subscription_installments_left == "until cancelled"
    assert first_action(edit(7, tax_percent=0)).subscription_tax_percent == 0
    aware = datetime(2031, 1, 18, 10, 46, tzinfo=UTC)
    # An aware datetime is converted to Kartra's US Eastern time (UTC-5 in January).
    moved = first_action(edit(7, next_payment_date=aware))
    assert moved.subscription_next_payment_date == "2031-01-18 05:46"
    seconds = first_action(edit(7, next_payment_date="2031-01-18 05:46:00"))
    assert seconds.subscription_next_payment_date == "2031-01-18 05:46:00"


# --- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["app_id", "api_key", "api_password"])
@pytest.mark.parametrize("bad", ["", "   ", None, 123])
def test_empty_or_non_string_credentials_are_refused(field: str, bad: Any) -> None:
    values = dict(zip(("app_id", "api_key", "api_password"), CANARIES, strict=True))
    values[field] = bad
    error = assert_refused(lambda: Credentials(**values), field)
    for canary in CANARIES:
        assert canary not in str(error)


def test_a_credential_with_a_control_character_is_refused_without_echo() -> None:
    secret = CANARIES[1] + "\n"
    error = assert_refused(lambda: Credentials(CANARIES[0], secret, CANARIES[2]), "api_key")
    for canary in CANARIES:
        assert canary not in str(error)
        assert canary not in repr(error)
