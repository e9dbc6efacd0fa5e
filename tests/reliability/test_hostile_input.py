"""Hostile input (issue 8 §3): bad values raise only ``ValidationError``/``UsageError`` and never
cost a call; valid but weird values reach Kartra byte for byte.

The documented rule for text (``_model.check_text``): a string of at most 4096 characters with
no control character other than tab, CR and LF, and no lone surrogate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kartra_async import (
    AccountCall,
    Call,
    Credentials,
    CustomField,
    GetLead,
    KartraClient,
    LeadRequest,
    NoPacer,
    RetryPolicy,
    UsageError,
    ValidationError,
    encode,
)
from kartra_async._builder import LEAD_TEXT_FIELDS
from kartra_async._form import parse_query
from kartra_async.sandbox import Sandbox

MAX_TEXT = 4096
MEGABYTE = "x" * 1_000_000
CREDENTIALS = Credentials("app", "key", "password")

#: Strings chosen to break form encoding, PHP's parser or naive validators.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x7f",
    "\x1b[31mred",
    "\u200b",
    "\ufeff",
    "\ud800",
    "a]b[c",
    "lead[email]=x@y.co",
    "&api_key=stolen",
    "100%",
    "%00",
    "%zz",
    "a=b&c=d",
    "+ +",
    "é" * MAX_TEXT,
    "é" * (MAX_TEXT + 1),
    "line\r\nbreak\ttab",
    "🙂‍↔️ 👩🏽‍🚀",
    "ﷺ 𒐫 ꧅",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "So", "Mn"])),
    st.text(st.sampled_from("[]&=%+#?\\\"'<>\x00\r\n\t;"), max_size=40),
)
wrong_kinds = st.sampled_from(
    [None, 0, -1, 1.5, float("nan"), True, b"bytes", ["x"], {"a": 1}, (1,), object(), {1}]
)


def text_is_valid(value: str) -> bool:
    """The documented rule, stated independently of the validator's code."""
    if len(value) > MAX_TEXT:
        return False
    return all(ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in value)


def rejected(build: Callable[[], object]) -> bool:
    """True when building raised a documented input error; any other exception fails the test."""
    try:
        build()
    except (ValidationError, UsageError):
        return True
    return False


# --- build time ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(LEAD_TEXT_FIELDS), value=hostile_text)
@example(field="first_name", value=MEGABYTE)
@example(field="company", value="a\x00b")
def test_lead_text_is_rejected_exactly_when_the_documented_rule_says(
    field: str, value: str
) -> None:
    def build() -> Call:
        return LeadRequest(email="ann@example.com", **{field: value}).create()

    assert rejected(build) is not text_is_valid(value)
    if text_is_valid(value):
        # What goes on the wire parses back (as PHP would) to exactly the value given.
        form = parse_query(encode(build(), CREDENTIALS))
        assert form["lead"][field] == value  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from([*LEAD_TEXT_FIELDS, "email", "id", "business_type"]), value=wrong_kinds
)
def test_wrong_kinds_of_lead_values_raise_validation_error(field: str, value: object) -> None:
    kwargs: dict[str, Any] = {"email": "ann@example.com", field: value}
    if field == "email":
        kwargs["id"] = 7
    minimum = {"id": 1, "business_type": 0}.get(field)
    if minimum is None:
        valid = value is None  # None means "not set"; a text field takes only a str
    else:
        valid = value is None or (type(value) is int and value >= minimum)
    assert rejected(lambda: LeadRequest(**kwargs).search()) is not valid


@settings(max_examples=300, deadline=None)
@given(identifier=st.one_of(hostile_text, wrong_kinds), value=st.one_of(hostile_text, wrong_kinds))
@example(identifier="a]b", value="x")
@example(identifier="colour", value=[1, "2"])
@example(identifier="colour", value=[True])
@example(identifier="colour", value=-1)
def test_custom_fields_of_every_wrong_kind_raise_only_documented_errors(
    identifier: object, value: object
) -> None:
    identifier_ok = (
        isinstance(identifier, str)
        and 0 < len(identifier) <= MAX_TEXT
        and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in identifier)
    )
    value_ok = (
        (isinstance(value, str) and text_is_valid(value))
        or (type(value) is int and value >= 0)
        or (
            isinstance(value, (list, tuple))
            and all(type(item) is int and item >= 0 for item in value)
        )
    )
    outcome = rejected(
        lambda: LeadRequest(
            email="a@example.com",
            custom_fields=[
                CustomField(identifier, value)  # type: ignore[arg-type]
            ],
        ).create()
    )
    assert outcome is not (identifier_ok and value_ok)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(
        [
            "assign_tag",
            "unassign_tag",
            "subscribe",
            "unsubscribe",
            "give_points",
            "remove_points",
            "unsubscribe_from_sequence",
        ]
    ),
    value=st.one_of(hostile_text, wrong_kinds),
)
def test_action_arguments_raise_only_documented_errors(method: str, value: object) -> None:
    call = LeadRequest(email="ann@example.com").search()
    is_points = method.endswith("points")
    valid = (
        (type(value) is int)
        if is_points
        else (isinstance(value, str) and value.strip() != "" and text_is_valid(value))
    )
    if not rejected(lambda: getattr(call, method)(value)):
        assert valid, f"{method}({value!r}) was accepted"


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.sampled_from(["a", "b_1", "x-y"]), wrong_kinds | hostile_text))
def test_custom_command_parameters_raise_only_documented_errors(params: dict[str, object]) -> None:
    def build() -> bytes:
        return encode(
            LeadRequest(email="ann@example.com").search().then("future_cmd", **params), CREDENTIALS
        )

    try:
        body = build()
    except (ValidationError, UsageError):
        return
    assert body.startswith(b"app_id=")


# Bugs found by this suite (see the report): documented exceptions are not raised.


@pytest.mark.parametrize("value", [5, None, 1.5])
def test_non_iterable_custom_fields_raise_validation_error(value: object) -> None:
    assert rejected(lambda: LeadRequest(email="a@example.com", custom_fields=value))  # type: ignore[arg-type]


def test_custom_field_options_none_raises_validation_error() -> None:
    assert rejected(lambda: AccountCall().create_custom_field("size", "drop_down", None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: LeadRequest(email="a@example.com").search().give_points(10**5000),
        lambda: GetLead(id=10**5000),
    ],
)
def test_absurd_integers_raise_validation_error(build: Callable[[], Call]) -> None:
    assert rejected(lambda: encode(build(), CREDENTIALS))


def test_absurd_amount_exponents_raise_validation_error() -> None:
    # Only the validation is exercised: encoding this call would allocate a gigabyte.
    assert rejected(lambda: AccountCall().refund_transaction(1, "1e999999999"))


# --- through the client: zero calls for invalid input ----------------------------------------


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(rate_limit=None) as sb:
        yield sb


@pytest_asyncio.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[KartraClient]:
    async with KartraClient(
        **sandbox.credentials.as_dict(),
        base_url=sandbox.url,
        pacer=NoPacer(),
        retry=RetryPolicy.none(),
    ) as kartra:
        yield kartra


INVALID_SENDS: dict[str, Callable[[], object]] = {
    "nul in a name": lambda: LeadRequest(email="a@example.com", first_name="a\x00").create(),
    "1 MB company": lambda: LeadRequest(email="a@example.com", company=MEGABYTE).create(),
    "bracket identifier": lambda: LeadRequest(
        email="a@example.com", custom_fields=[CustomField("a]b", "x")]
    ).create(),
    "bad email": lambda: LeadRequest(email="a&b=c").create(),
    "empty account call": lambda: AccountCall(),
}
#: Refused by ``send_once`` (``send`` resolves an upsert; it is valid there).
SEND_ONCE_ONLY: dict[str, Callable[[], object]] = {
    "upsert": lambda: LeadRequest(email="a@example.com").upsert(),
    "not a call": lambda: {"cmd": "create_lead"},
    "a string": lambda: "create_lead",
}


@pytest.mark.parametrize("name", list(INVALID_SENDS))
async def test_invalid_input_costs_no_call(
    name: str, client: KartraClient, sandbox: Sandbox
) -> None:
    before = sandbox.export()
    with pytest.raises((ValidationError, UsageError)):
        await client.send_once(INVALID_SENDS[name]())  # type: ignore[arg-type]
    with pytest.raises((ValidationError, UsageError)):
        await client.send(INVALID_SENDS[name]())  # type: ignore[arg-type]
    assert sandbox.stats.calls == 0
    assert sandbox.export() == before


@pytest.mark.parametrize("name", list(SEND_ONCE_ONLY))
async def test_unsendable_objects_cost_no_call(
    name: str, client: KartraClient, sandbox: Sandbox
) -> None:
    with pytest.raises(UsageError):
        await client.send_once(SEND_ONCE_ONLY[name]())  # type: ignore[arg-type]
    assert sandbox.stats.calls == 0


@pytest.mark.parametrize("thing", [{"cmd": "create_lead"}, "create_lead", None])
async def test_send_of_a_non_call_raises_usage_error(
    thing: object, client: KartraClient, sandbox: Sandbox
) -> None:
    try:
        with pytest.raises(UsageError):
            await client.send(thing)  # type: ignore[arg-type]
    finally:
        assert sandbox.stats.calls == 0


async def test_invalid_input_in_a_stream_costs_no_call(
    client: KartraClient, sandbox: Sandbox
) -> None:
    def calls() -> object:
        yield LeadRequest(email="ok@example.com").create()
        yield LeadRequest(email="bad@example.com", first_name="\x00").create()

    async def drain() -> None:
        async with client.stream(calls()) as outcomes:  # type: ignore[arg-type]
            async for _ in outcomes:
                pass

    with pytest.raises(ValidationError):
        await drain()
    # The valid call before the bad one may have gone; the bad one never did.
    assert sandbox.stats.calls <= 1
    assert sandbox.account.lead_by_email("bad@example.com") is None


# --- valid weird unicode round-trips exactly ----------------------------------------------------

# The sandbox trims surrounding whitespace from profile values (as Kartra's PHP is assumed to):
# round-trips are asserted for values without it.
printable_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]) | st.sampled_from("\t\r\n"),
    min_size=1,
    max_size=60,
).filter(lambda value: value == value.strip())
_counter = iter(range(10**9))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(first=printable_text, company=printable_text, city=st.sampled_from(NASTY[9:17] + NASTY[19:]))
async def test_valid_weird_unicode_round_trips_through_the_sandbox(
    client: KartraClient, first: str, company: str, city: str
) -> None:
    email = f"fuzz-{next(_counter)}@example.com"
    await client.send(
        LeadRequest(email=email, first_name=first, company=company, city=city).create()
    )
    profile = (await client.send(GetLead(email=email))).raw["lead_details"]
    assert (profile["first_name"], profile["company"], profile["city"]) == (first, company, city)
