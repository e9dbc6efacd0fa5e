"""``encode``: the request body, byte for byte what PHP's ``http_build_query`` sends.

The expected bytes come from PHP itself (golden files under ``golden/``, regenerated live when
``php`` is installed) and a hypothesis round trip through ``parse_query`` (PHP's ``parse_str``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartra_async import (
    TIME_ZONES,
    AccountCall,
    Call,
    Credentials,
    CustomField,
    GetLead,
    LeadCall,
    LeadRequest,
    UsageError,
    encode,
)
from kartra_async._form import parse_query

GOLDEN = Path(__file__).parent / "golden" / "build"
PHP_SCRIPT = Path(__file__).parents[1] / "golden" / "php_form.php"
PHP = shutil.which("php")
SAMPLE_CREDENTIALS = Credentials("AAAA", "BBBB", "CCCC")

needs_php = pytest.mark.skipif(
    PHP is None and not os.environ.get("CI"),
    reason="php (php-cli) is not installed; CI installs it, so there this test runs",
)

#: Golden name -> the same request built with the library.
CALLS: dict[str, Callable[[], Call]] = {
    "create_lead_kartra_sample": lambda: (
        LeadRequest(
            email="testkartra@gmail.com",
            first_name="Test",
            last_name="Kartra",
            custom_fields=[
                CustomField("text1", "text message"),
                CustomField("dropdown1", 612),
                CustomField("checkbox1", [620, 621]),
            ],
        )
        .create()
        .assign_tag("Membership2024 - GBP 30 Trial")
    ),
    "create_lead_every_field": lambda: LeadRequest(
        email="zoë+vip@example.com",
        phone="555 0100",
        phone_country_code="+1",
        first_name="Zoë",
        middle_name="Ann",
        last_name="O'Brien & Sons",
        last_name2="Núñez",
        ip="203.0.113.9",
        address="1 Main St\nApt #2",
        zip="10001",
        city="New York",
        state="NY",
        country="US",
        company="ACME [EU] 50%",
        lead_picture="https://example.com/p.png?s=1&t=2",
        website="https://example.com/~zoe",
        facebook="https://facebook.com/zoe",
        twitter="@zoe",
        linkedin="https://linkedin.com/in/zoe",
        lead_preferred_time_zone="America/Argentina/Buenos_Aires",
        sales_tax_id="EU123",
        business_type=2,
        custom_fields=[CustomField("notes-1", "日本語 text"), CustomField("cleared_field", "")],
    ).create(),
    "search_lead_every_action": lambda: (
        LeadRequest(id=42)
        .search()
        .assign_tag("VIP")
        .unassign_tag("Old tag")
        .subscribe("News")
        .unsubscribe("Old list")
        .give_points(10, expiration=30)
        .remove_points(3)
        .subscribe_to_sequence("Welcome", 2)
        .unsubscribe_from_sequence("Welcome")
        .calendar_subscribe("Coaching", "Intro call", date(2030, 1, 16), time(9, 30))
        .calendar_cancel("Coaching", "Intro call")
        .retrieve_transactions()
        .retrieve_subscriptions()
    ),
    "edit_lead_new_email": lambda: (
        LeadRequest(
            email="old@example.com",
            first_name="Ann",
            custom_fields=[CustomField("checkbox1", [620])],
        )
        .edit(new_email="new@example.com")
        .subscribe("Customers")
    ),
    "get_lead_email": lambda: GetLead(email="joe@example.com"),
    "get_lead_id": lambda: GetLead(id=123),
    "account_inventories_and_custom_field": lambda: (
        AccountCall()
        .create_custom_field("colour", "drop_down", ["blue", "brown"])
        .create_custom_field("nickname", "input_field")
        .retrieve_custom_fields()
        .retrieve_account_lists()
        .retrieve_account_tags()
        .retrieve_account_sequences()
        .retrieve_account_pages()
    ),
    "transactions": lambda: (
        AccountCall()
        .search_transaction(48110)
        .get_transaction_details(48110)
        .refund_transaction(48110)
        .refund_transaction(48111, "12.50")
        .cancel_transaction(48112)
        .cancel_transaction(internal_subscription_id=14833)
    ),
    "subscriptions": lambda: (
        AccountCall()
        .search_subscription(32451)
        .get_subscription_details(32451)
        .modify_subscription_status(32451, "pause")
        .edit_subscription(
            32451,
            product_id=5,
            price_point=2,
            next_payment_date="2031-01-18 05:46",
            amount=Decimal("19.99"),
            recurring_period_1="every 2 weeks",
            recurring_period_2="every 2 years",
            quantity=3,
            installments_left="until cancelled",
            tax_percent=Decimal("7.5"),
        )
        # An exponent form must still be sent as a plain amount.
        .edit_subscription(32452, amount=Decimal("1E+2"), installments_left=6)
    ),
    "custom_command": lambda: (
        LeadRequest(email="ann@example.com")
        .search()
        .then(
            "grant_badge",
            badge_name="Gold star",
            level=3,
            tags=["a b", "c"],
            meta={"source": "api"},
        )
    ),
}


def golden_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".json") for p in GOLDEN.glob("*.json") if ".parsed" not in p.name
    )


def test_every_golden_has_a_call_and_back() -> None:
    assert golden_names() == sorted(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_encode_equals_php_http_build_query(name: str) -> None:
    expected = (GOLDEN / f"{name}.query").read_bytes()
    assert encode(CALLS[name](), SAMPLE_CREDENTIALS) == expected


def typed(value: Any) -> Any:
    """A parse result in the oracle's shape: arrays as [key, value] pairs, in order."""
    if isinstance(value, dict):
        return [[key, typed(item)] for key, item in value.items()]
    return value


@pytest.mark.parametrize("name", sorted(CALLS))
def test_kartra_reads_back_what_php_reads(name: str) -> None:
    expected = json.loads((GOLDEN / f"{name}.parsed.json").read_text())
    assert typed(parse_query(encode(CALLS[name](), SAMPLE_CREDENTIALS))) == expected


@needs_php
def test_goldens_are_still_what_php_builds() -> None:
    assert PHP is not None
    jobs = [json.loads((GOLDEN / f"{name}.json").read_text()) for name in sorted(CALLS)]
    stdin = "".join(json.dumps({"build": job}) + "\n" for job in jobs)
    done = subprocess.run(
        [PHP, str(PHP_SCRIPT), "batch"], input=stdin, capture_output=True, text=True, check=True
    )
    queries = [json.loads(line)["query"] for line in done.stdout.splitlines()]
    for name, query in zip(sorted(CALLS), queries, strict=True):
        assert (GOLDEN / f"{name}.query").read_text() == query, name
        assert encode(CALLS[name](), SAMPLE_CREDENTIALS).decode() == query, name


def test_credentials_come_first_in_documented_order() -> None:
    body = encode(GetLead(id=1), Credentials("a p", "k&=", "p[w]"))
    assert body.startswith(b"app_id=a+p&api_key=k%26%3D&api_password=p%5Bw%5D&")


def test_an_empty_account_call_cannot_be_encoded() -> None:
    with pytest.raises(UsageError):
        encode(AccountCall(), SAMPLE_CREDENTIALS)


def test_an_upsert_is_resolved_by_the_client_not_encoded() -> None:
    with pytest.raises(UsageError, match="upsert"):
        encode(LeadRequest(email="a@b.co").upsert(), SAMPLE_CREDENTIALS)


def test_only_calls_can_be_encoded() -> None:
    with pytest.raises(UsageError):
        encode(LeadRequest(email="a@b.co"), SAMPLE_CREDENTIALS)  # type: ignore[arg-type]


def test_body_is_ascii() -> None:
    body = encode(CALLS["create_lead_every_field"](), SAMPLE_CREDENTIALS)
    assert body.isascii()
    assert b"%5B" in body
    assert b"[" not in body


# --- hypothesis: parse_str of our body gives back the call ---------------------------------------

printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x00"), max_size=30
)
names = printable.filter(lambda text: text.strip() != "")
identifiers = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
custom_values = st.one_of(
    printable, st.integers(0, 10**6), st.lists(st.integers(0, 10**6), max_size=4)
)
custom_fields = st.lists(
    st.builds(CustomField, identifiers, custom_values), max_size=4, unique_by=lambda f: f.identifier
)
leads = st.builds(
    LeadRequest,
    email=st.from_regex(r"[a-z0-9+]{1,6}(\.[a-z0-9+]{1,4})?@[a-z]{1,8}\.(com|co\.uk|de)", fullmatch=True),
    first_name=st.none() | printable,
    last_name=st.none() | printable,
    city=st.none() | printable,
    lead_preferred_time_zone=st.none() | st.sampled_from(TIME_ZONES),
    custom_fields=custom_fields,
)
Step = Callable[[LeadCall], LeadCall]
steps: st.SearchStrategy[tuple[Step, dict[str, Any]]] = st.one_of(
    names.map(lambda n: (lambda c: c.assign_tag(n), {"cmd": "assign_tag", "tag_name": n})),
    names.map(
        lambda n: (lambda c: c.subscribe(n), {"cmd": "subscribe_lead_to_list", "list_name": n})
    ),
    st.integers(1, 10**6).map(
        lambda p: (lambda c: c.give_points(p), {"cmd": "give_points_to_lead", "points": str(p)})
    ),
    st.tuples(names, st.integers(1, 99)).map(
        lambda t: (
            lambda c: c.subscribe_to_sequence(t[0], t[1]),
            {
                "cmd": "subscribe_lead_to_sequence_at_step",
                "sequence_name": t[0],
                "step": str(t[1]),
            },
        )
    ),
    st.tuples(names, names).map(
        lambda t: (
            lambda c: c.calendar_cancel(t[0], t[1]),
            {"cmd": "calendar_cancel", "calendar_name": t[0], "class_name": t[1]},
        )
    ),
)


def php_value(value: Any) -> Any:
    """What parse_str gives back for a value we sent: strings, lists as int-keyed maps."""
    if isinstance(value, (list, tuple)):
        return {index: php_value(item) for index, item in enumerate(value)}
    return str(value)


@settings(max_examples=150, deadline=None)
@given(
    lead=leads,
    chain=st.lists(steps, max_size=5),
    creds=st.tuples(names, names, names),
)
def test_parse_str_gives_back_the_call(
    lead: LeadRequest, chain: list[tuple[Step, dict[str, Any]]], creds: tuple[str, str, str]
) -> None:
    call = lead.create()
    for step, _expected in chain:
        call = step(call)
    parsed = parse_query(encode(call, Credentials(*creds)))

    assert list(parsed)[:3] == ["app_id", "api_key", "api_password"]
    assert (parsed["app_id"], parsed["api_key"], parsed["api_password"]) == creds
    sent_lead = parsed["lead"]
    assert isinstance(sent_lead, dict)
    assert sent_lead["email"] == lead.email
    for name in ("first_name", "last_name", "city", "lead_preferred_time_zone"):
        value = getattr(lead, name)
        assert sent_lead.get(name) == value
    expected_fields = {
        index: {"field_identifier": field.identifier, "field_value": php_value(field.value)}
        for index, field in enumerate(lead.custom_fields)
        # PHP sends nothing for an empty array, so an empty checkbox list is not on the wire.
        if field.value != ()
    }
    sent_fields = sent_lead.get("custom_fields", {})
    assert isinstance(sent_fields, dict)
    assert {k: v for k, v in sent_fields.items() if "field_value" in v} == {
        k: v for k, v in expected_fields.items()
    }
    actions = parsed["actions"]
    assert isinstance(actions, dict)
    expected_actions = [{"cmd": "create_lead"}] + [expected for _step, expected in chain]
    assert list(actions) == list(range(len(expected_actions)))
    for index, expected in enumerate(expected_actions):
        sent = actions[index]
        assert isinstance(sent, dict)
        assert next(iter(sent)) == "cmd"
        assert sent == expected
