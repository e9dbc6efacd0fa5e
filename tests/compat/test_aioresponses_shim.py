"""Does aioresponses need the shim in ``tests/conftest.py``, and does mocking work through it?"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from aioresponses.core import RequestMatch
from yarl import URL

from kartra_async._form import build_query, parse_query

KARTRA = "https://app.kartra.com/api"


def test_shim_is_installed_exactly_when_upstream_is_broken() -> None:
    patched = hasattr(RequestMatch._build_response, "__wrapped__")
    upstream = getattr(RequestMatch._build_response, "__wrapped__", RequestMatch._build_response)
    url = URL("http://127.0.0.1/probe")
    failure = ""
    try:
        upstream(RequestMatch(url), url).close()
    except TypeError as error:
        failure = str(error)
    if failure:
        # aiohttp >= 3.14 with aioresponses <= 0.7.9 (issue #289): the shim must be on.
        assert "stream_writer" in failure
        assert patched, "aioresponses is broken on this aiohttp but the shim is off"
    else:
        # Upstream fixed (or an older aiohttp): the shim switched itself off.
        assert not patched, "aioresponses works by itself; the shim should have stayed off"


def _route_by_body(url: URL, **kwargs: Any) -> CallbackResult:
    # Kartra has one URL for every command: the body says what was asked.
    form = parse_query(kwargs["data"])
    actions = form.get("actions")
    first = actions.get(0) if isinstance(actions, dict) else None
    command = first.get("cmd") if isinstance(first, dict) else None
    if command == "assign_tag":
        lead = form["lead"]
        assert isinstance(lead, dict)
        return CallbackResult(
            status=200,
            payload={"status": "Success", "actions": [{"assign_tag": {"status": "Success"}}]},
            headers={"X-Lead": str(lead["email"])},
        )
    return CallbackResult(
        status=200,
        body='{"status": "Error", "message": "Lead not found", "type": "243"}',
        content_type="text/html",
    )


async def test_mocked_post_routes_by_body_through_the_shim() -> None:
    tag_call = build_query(
        {"lead": {"email": "a@b.co"}, "actions": [{"cmd": "assign_tag", "tag_name": "VIP"}]}
    ).encode()
    lookup = build_query({"get_lead": {"email": "nobody@b.co"}}).encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    with aioresponses() as mocked:
        mocked.post(KARTRA, callback=_route_by_body, repeat=True)
        async with aiohttp.ClientSession() as session:
            async with session.post(KARTRA, data=tag_call, headers=form_type) as response:
                tagged = await response.json()
                assert response.status == 200
                assert response.headers["X-Lead"] == "a@b.co"
            async with session.post(KARTRA, data=lookup, headers=form_type) as response:
                # Kartra may label JSON as text/html: read it regardless of Content-Type.
                missing = await response.json(content_type=None)
    assert tagged["actions"][0]["assign_tag"]["status"] == "Success"
    assert missing["type"] == "243"
    sent = [call.kwargs["data"] for call in mocked.requests[("POST", URL(KARTRA))]]
    assert sent == [tag_call, lookup]


async def test_unregistered_request_is_refused_not_sent() -> None:
    with aioresponses() as mocked:
        mocked.post(KARTRA, payload={"status": "Success"})
        async with aiohttp.ClientSession() as session:
            async with session.post(KARTRA, data=b"x=1") as response:
                assert (await response.json())["status"] == "Success"
            # Consumed once: a second call is not matched and never reaches the network.
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.post(KARTRA, data=b"x=1")
