"""The sandbox reads urlencoded, multipart and JSON bodies alike, credentials in the body or the
query string ($_REQUEST, POST over GET), and labels its replies as Kartra does."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kartra_async import KartraClient, LeadRequest
from kartra_async._form import build_query, flatten
from kartra_async.sandbox import JSON_CONTENT_TYPE, KARTRA_CONTENT_TYPE, Sandbox, default_account
from kartra_async.sandbox._request_body import json_form, merge_request

from .support import CREDENTIALS, fixed_clock

CREATE: dict[str, Any] = {
    "lead": {"email": "body@example.com", "first_name": "Bo"},
    "actions": [{"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": "VIP"}],
}
ENCODINGS = ("urlencoded", "multipart", "json")


async def send(
    http: aiohttp.ClientSession,
    url: str,
    encoding: str,
    body: dict[str, Any],
    query: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], str]:
    """POST ``body`` in ``encoding`` (``query`` in the URL); status, decoded JSON, content type."""
    kwargs: dict[str, Any]
    if encoding == "urlencoded":
        kwargs = {
            "data": build_query(body),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
    elif encoding == "multipart":
        form = aiohttp.FormData(default_to_multipart=True)
        for key, value in flatten(body):
            form.add_field(key, value)
        kwargs = {"data": form}
    else:
        kwargs = {"json": body}
    async with http.post(url, params=query or {}, **kwargs) as response:
        raw = await response.read()
        return response.status, json.loads(raw), response.headers["Content-Type"]


@pytest.fixture
async def plain() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        default_account(now=fixed_clock), credentials=CREDENTIALS, rate_limit=None
    ) as sandbox:
        yield sandbox


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_every_encoding_runs_the_same_chain(
    plain: Sandbox, http: aiohttp.ClientSession, encoding: str
) -> None:
    status, reply, content_type = await send(
        http, plain.url, encoding, {**CREDENTIALS.as_dict(), **CREATE}
    )
    assert (status, reply["status"], content_type) == (200, "Success", KARTRA_CONTENT_TYPE)
    lead = plain.account.lead_by_email("body@example.com")
    assert lead is not None
    assert lead.field("first_name") == "Bo"
    assert [plain.account.tag_name(tag) for tag in lead.tags or ()] == ["VIP"]


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_credentials_in_the_query_string(
    plain: Sandbox, http: aiohttp.ClientSession, encoding: str
) -> None:
    status, reply, _ = await send(http, plain.url, encoding, CREATE, CREDENTIALS.as_dict())
    assert (status, reply["status"]) == (200, "Success")
    assert plain.account.lead_by_email("body@example.com") is not None


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_the_body_wins_over_the_query_string(
    plain: Sandbox, http: aiohttp.ClientSession, encoding: str
) -> None:
    # $_REQUEST with request_order "GP": a wrong password in the body beats the right one in
    # the query string, and the right one in the body beats a wrong one in the query string.
    wrong = {**CREDENTIALS.as_dict(), "api_password": "wrong"}
    _, reply, _ = await send(
        http, plain.url, encoding, {**wrong, **CREATE}, CREDENTIALS.as_dict()
    )
    assert (reply["status"], reply["type"]) == ("Error", "233")
    _, reply, _ = await send(http, plain.url, encoding, {**CREDENTIALS.as_dict(), **CREATE}, wrong)
    assert reply["status"] == "Success"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"api_key": CREDENTIALS.api_key}, "238"),
        ({**CREDENTIALS.as_dict(), "lead": {"email": "x@example.com"}}, "254"),
        ({**CREDENTIALS.as_dict(), "lead": "flat", "actions": [{"cmd": "create_lead"}]}, "223"),
        ({**CREDENTIALS.as_dict(), "actions": [{"cmd": "no_such_cmd"}]}, "262"),
        (
            {
                **CREDENTIALS.as_dict(),
                "lead": {"email": "none@example.com"},
                "actions": [{"cmd": "assign_tag", "tag_name": "VIP"}],
            },
            "243",
        ),
    ],
)
async def test_same_checks_and_codes_whatever_the_encoding(
    plain: Sandbox, http: aiohttp.ClientSession, encoding: str, body: dict[str, Any], expected: str
) -> None:
    status, reply, _ = await send(http, plain.url, encoding, body)
    assert (status, reply["status"], reply["type"]) == (200, "Error", expected)


async def test_unreadable_bodies_count_as_empty(
    plain: Sandbox, http: aiohttp.ClientSession
) -> None:
    for data, content_type in (
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"--nope\r\nbroken", "multipart/form-data; boundary=zzz"),
    ):
        async with http.post(
            plain.url, data=data, params=CREDENTIALS.as_dict(), headers={"Content-Type": content_type}
        ) as response:
            reply = json.loads(await response.read())
        assert (response.status, reply["type"]) == (200, "254"), content_type


async def test_multipart_file_parts_are_not_form_fields(
    plain: Sandbox, http: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    for key, value in flatten({**CREDENTIALS.as_dict(), "actions": [{"cmd": "create_lead"}]}):
        form.add_field(key, value)
    form.add_field("lead[email]", b"file@example.com", filename="email.txt")
    async with http.post(plain.url, data=form) as response:
        reply = json.loads(await response.read())
    # PHP puts uploads in $_FILES, so there is no lead[email] in $_POST.
    assert reply["actions"][0]["create_lead"]["type"] == "206"


def test_json_values_read_as_php_would() -> None:
    form = json_form(
        json.dumps(
            {
                "lead": {"email": "a@b.co", "score": 3, "vip": True, "gone": False, "none": None},
                "actions": [{"cmd": "give_points_to_lead", "points": 2.5}],
                "we[ird]": "x",
            }
        ).encode()
    )
    assert form == {
        "lead": {"email": "a@b.co", "score": "3", "vip": "1", "gone": "", "none": ""},
        "actions": {0: {"cmd": "give_points_to_lead", "points": "2.5"}},
        "we_ird_": "x",
    }


def test_hostile_json_is_bounded() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    assert json_form(json.dumps({"deep": deep, "ok": "1"}).encode()) == {"ok": "1"}
    flood = json_form(json.dumps({f"k{i}": "v" for i in range(5000)}).encode())
    assert len(flood) == 1000
    assert json_form(b"[" * 100_000) == {}


def test_merge_is_top_level_like_array_merge() -> None:
    merged = merge_request({"lead": {"email": "q@x.co", "first_name": "Q"}, "app_id": "q"}, {"lead": {"email": "b@x.co"}})
    assert merged == {"lead": {"email": "b@x.co"}, "app_id": "q"}


@pytest.mark.parametrize("content_type", [KARTRA_CONTENT_TYPE, JSON_CONTENT_TYPE])
async def test_the_client_reads_either_content_type(content_type: str) -> None:
    async with Sandbox(credentials=CREDENTIALS, rate_limit=None, content_type=content_type) as sb:
        async with KartraClient(**CREDENTIALS.as_dict(), base_url=sb.url) as client:
            reply = await client.send(LeadRequest(email="ct@example.com").create())
            profile = await client.get_lead(email="ct@example.com")
        async with aiohttp.ClientSession() as http, http.post(
            sb.url, data=build_query(CREDENTIALS.as_dict())
        ) as response:
            assert response.headers["Content-Type"] == content_type
    assert reply.ok
    assert profile.email == "ct@example.com"


async def test_rate_limited_replies_carry_the_same_label(http: aiohttp.ClientSession) -> None:
    async with Sandbox(credentials=CREDENTIALS, rate_limit=1) as sb:
        statuses = []
        for _ in range(2):
            async with http.post(sb.url, data=build_query(CREDENTIALS.as_dict())) as response:
                statuses.append((response.status, response.headers["Content-Type"]))
    assert statuses[-1] == (429, KARTRA_CONTENT_TYPE)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "json"])
async def test_an_oversized_body_is_refused_whatever_the_encoding(
    plain: Sandbox, http: aiohttp.ClientSession, encoding: str
) -> None:
    huge = {**CREDENTIALS.as_dict(), "lead": {"email": "big@example.com", "notes": "x" * 5_000_000}}
    kwargs: dict[str, Any]
    if encoding == "urlencoded":
        kwargs = {"data": io.BytesIO(build_query(huge).encode())}
    elif encoding == "multipart":
        # Fifty fields of 100 kB: each small, together over the 4 MB bound.
        form = aiohttp.FormData(default_to_multipart=True)
        for key, value in flatten({**CREDENTIALS.as_dict(), "lead": {"email": "big@example.com"}}):
            form.add_field(key, value)
        for index in range(50):
            form.add_field(f"lead[note{index}]", "x" * 100_000)
        kwargs = {"data": form}
    else:
        kwargs = {
            "data": io.BytesIO(json.dumps(huge).encode()),
            "headers": {"Content-Type": "application/json"},
        }
    async with http.post(plain.url, **kwargs) as response:
        assert response.status == 413
    assert plain.account.lead_by_email("big@example.com") is None


async def test_a_multipart_flood_counts_the_first_thousand_fields(
    plain: Sandbox, http: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    for key, value in flatten({**CREDENTIALS.as_dict(), "actions": [{"cmd": "create_lead"}]}):
        form.add_field(key, value)
    for index in range(3000):
        form.add_field(f"junk{index}", "x")
    form.add_field("lead[email]", "late@example.com")
    async with http.post(plain.url, data=form) as response:
        reply = json.loads(await response.read())
    # As PHP's max_input_vars: the field after the first 1,000 never arrives.
    assert reply["actions"][0]["create_lead"]["type"] == "206"
