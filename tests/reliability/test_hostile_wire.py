"""Hostile bytes on the wire (issue 8 §3): replies the client cannot trust, requests the sandbox
cannot trust.

* ``decode`` of random JSON, truncated, huge or wrongly typed replies raises only ``KartraError``
  subclasses, and so does every typed view of a reply it accepted;
* random or hostile request bodies posted raw never crash the sandbox (no 500), keep its export
  loadable, and leave it unchanged when the request was refused as a whole.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kartra_async import AccountCall, Call, GetLead, KartraError, LeadRequest, Reply, decode
from kartra_async._form import build_query
from kartra_async.sandbox import Sandbox, load_account

CALLS: list[Call] = [
    GetLead(email="ann@example.com"),
    LeadRequest(email="ann@example.com").create().assign_tag("VIP").give_points(3),
    AccountCall().retrieve_account_tags().retrieve_custom_fields(),
    LeadRequest(email="ann@example.com").search().retrieve_transactions(),
]
VIEWS = (
    "lead_id",
    "lead",
    "account_tags",
    "account_lists",
    "custom_fields",
    "transactions",
    "subscriptions",
    "transaction_details",
    "subscription_details",
    "refunded_transaction_id",
    "cancelled_subscription",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["Success", "Error", "success ", "243", "-1", "1e5", "0x10", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "status",
                    "message",
                    "type",
                    "actions",
                    "lead_details",
                    "id",
                    "account_tags",
                    "custom_fields",
                    "transaction_list",
                    "subscriptions_list",
                    "create_lead",
                    "retrieve_custom_fields",
                    "transaction_details",
                    "subscription_details",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)
reply_shaped = st.fixed_dictionaries(
    {"status": st.sampled_from(["Success", "Error", "success"])},
    optional={
        "type": scalars,
        "message": scalars,
        "actions": st.lists(
            st.dictionaries(
                st.sampled_from(["create_lead", "assign_tag"]), json_values, min_size=1, max_size=1
            ),
            max_size=3,
        )
        | json_values,
        "lead_details": json_values,
        "account_tags": json_values,
        "custom_fields": json_values,
    },
)


def assert_only_kartra_errors(status: int, body: bytes, call: Call) -> None:
    """Decode, then touch every typed view: only ``KartraError`` may escape."""
    try:
        reply = decode(status, body, call)
    except KartraError:
        return
    assert isinstance(reply, Reply)
    for view in VIEWS:
        with contextlib.suppress(KartraError):
            getattr(reply, view)


@settings(max_examples=400, deadline=None)
@given(
    payload=json_values | reply_shaped,
    call=st.sampled_from(CALLS),
    status=st.sampled_from([200, 200, 200, 201, 204, 301, 404, 429, 500, 503]),
)
def test_random_json_replies_raise_only_kartra_errors(
    payload: Any, call: Call, status: int
) -> None:
    assert_only_kartra_errors(status, json.dumps(payload).encode(), call)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300), call=st.sampled_from(CALLS))
@example(body=b"\xff\xfe{", call=CALLS[0])
@example(body=b"[" * 100_000, call=CALLS[0])
@example(body=b'{"status":"Success"' + b" " * 3_000_000, call=CALLS[1])
def test_random_bytes_raise_only_kartra_errors(body: bytes, call: Call) -> None:
    assert_only_kartra_errors(200, body, call)


@settings(max_examples=200, deadline=None)
@given(payload=reply_shaped, call=st.sampled_from(CALLS), cut=st.floats(0.0, 1.0))
def test_truncated_replies_raise_only_kartra_errors(
    payload: dict[str, Any], call: Call, cut: float
) -> None:
    body = json.dumps(payload).encode()
    assert_only_kartra_errors(200, body[: int(len(body) * cut)], call)


def test_huge_reply_is_read_without_error() -> None:
    tags = [f"tag {index} ✓" for index in range(200_000)]
    body = json.dumps({"status": "Success", "account_tags": tags}).encode()
    reply = decode(200, body, CALLS[2])
    assert reply.account_tags == tuple(tags)


@pytest.mark.parametrize("key", ["type", "lead_details"])
def test_absurdly_long_numbers_in_replies_raise_only_kartra_errors(key: str) -> None:
    digits = "9" * 5000
    payload: dict[str, Any] = {"status": "Error", "message": "x", "type": digits}
    if key == "lead_details":
        payload = {"status": "Success", "lead_details": {"id": digits}}
    assert_only_kartra_errors(200, json.dumps(payload).encode(), CALLS[1])


# --- hostile request bodies posted raw to the sandbox --------------------------------------


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(rate_limit=None) as sb:
        yield sb


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


form_keys = st.sampled_from(
    [
        "lead[email]",
        "lead",
        "lead[]",
        "lead[email][]",
        "actions",
        "actions[0][cmd]",
        "actions[0]",
        "actions[][cmd]",
        "actions[0][tag_name]",
        "actions[1][cmd]",
        "actions[0][cmd][]",
        "get_lead",
        "get_lead[email]",
        "get_lead[id]",
        "lead[custom_fields]",
        "lead[custom_fields][0][field_identifier]",
        "lead[custom_fields][0][field_value][]",
        "a]b",
        "[",
        "]",
        "%00",
        "lead[email",
        "actions[0][cmd]]",
        "lead[[email]]",
    ]
)
form_values = st.one_of(
    st.sampled_from(
        [
            "create_lead",
            "assign_tag",
            "search_lead",
            "get_lead",
            "VIP",
            "ann@example.com",
            "buyer@example.com",
            "",
            "%",
            "%zz",
            "&",
            "=",
            "\x00",
            "[]",
            "9" * 5000,
            "-1",
            "1e9",
        ]
    ),
    st.text(max_size=30),
)
hostile_forms = st.lists(st.tuples(form_keys, form_values), max_size=8)


async def post_raw(http: aiohttp.ClientSession, sandbox: Sandbox, body: bytes) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(sandbox.url, data=body, headers=headers) as response:
        return response.status, await response.read()


def credentials_prefix(sandbox: Sandbox) -> bytes:
    return (build_query(sandbox.credentials.as_dict()) + "&").encode()


async def assert_sandbox_survives(
    http: aiohttp.ClientSession, sandbox: Sandbox, body: bytes, before: str
) -> None:
    status, reply_body = await post_raw(http, sandbox, body)
    assert status == 200, reply_body[:300]
    reply = json.loads(reply_body)
    assert reply["status"] in ("Success", "Error")
    after = sandbox.export()
    load_account(after)  # the export stays valid
    if reply["status"] == "Error" and "actions" not in reply:
        # Refused as a whole: nothing may have changed.
        assert after == before


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=hostile_forms)
async def test_hostile_form_bodies_never_crash_or_corrupt_the_sandbox(
    sandbox: Sandbox, http: aiohttp.ClientSession, pairs: list[tuple[str, str]]
) -> None:
    from urllib.parse import quote

    body = (
        credentials_prefix(sandbox)
        + "&".join(f"{quote(key, safe='[]')}={quote(value)}" for key, value in pairs).encode()
    )
    await assert_sandbox_survives(http, sandbox, body, sandbox.export())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=400))
@example(raw=b"actions[0][cmd]=create_lead&lead[email]=" + b"%" * 1000)
@example(raw=b"lead[email]=a@b.co&actions[0][cmd]=create_lead&actions[0][cmd][]=x")
@example(raw=b"actions" + b"[0]" * 5000 + b"=1")
async def test_random_bytes_bodies_never_crash_or_corrupt_the_sandbox(
    sandbox: Sandbox, http: aiohttp.ClientSession, raw: bytes
) -> None:
    await assert_sandbox_survives(
        http, sandbox, credentials_prefix(sandbox) + raw, sandbox.export()
    )


async def test_sandbox_still_serves_correctly_after_hostile_bodies(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    for raw in (b"\x00" * 1000, b"lead[email]=%ff%fe&actions[0][cmd]=create_lead", b"=" * 5000):
        await assert_sandbox_survives(
            http, sandbox, credentials_prefix(sandbox) + raw, sandbox.export()
        )
    body = (
        credentials_prefix(sandbox)
        + build_query(
            {"lead": {"email": "after@example.com"}, "actions": [{"cmd": "create_lead"}]}
        ).encode()
    )
    status, reply = await post_raw(http, sandbox, body)
    assert status == 200
    assert json.loads(reply)["status"] == "Success"
    assert sandbox.account.lead_by_email("after@example.com") is not None
