"""``KartraClient``'s HTTP wiring, with aioresponses (the shim lives in ``tests/conftest.py``).

Kartra has one URL, so replies are routed by the request body with ``callback=``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from kartra_async import (
    AccountCall,
    KartraClient,
    LeadRequest,
    NoPacer,
    RateLimited,
    RetryPolicy,
    ServerError,
    TagError,
    UsageError,
)
from kartra_async._form import parse_query

from .conftest import CANARY_APP_ID, CANARY_KEY, CANARY_PASSWORD

URL = "https://app.kartra.com/api"


def client(**kwargs: Any) -> KartraClient:
    """A client on the canary credentials that never waits for a pacer."""
    kwargs.setdefault("pacer", NoPacer())
    kwargs.setdefault("retry", RetryPolicy.none())
    return KartraClient(
        app_id=CANARY_APP_ID, api_key=CANARY_KEY, api_password=CANARY_PASSWORD, **kwargs
    )


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


class FakeKartra:
    """Answers by the commands in the request body, and keeps every parsed body."""

    def __init__(self) -> None:
        self.bodies: list[dict[Any, Any]] = []

    def __call__(self, url: Any, **kwargs: Any) -> CallbackResult:
        form = parse_query(kwargs["data"])
        self.bodies.append(form)
        if "get_lead" in form:
            return CallbackResult(
                body=json.dumps(
                    {"status": "Success", "lead_details": {"id": "7", "email": "ann@example.com"}}
                ),
                content_type="text/html",
            )
        actions = form["actions"]
        assert isinstance(actions, dict)
        results: list[dict[str, Any]] = []
        for action in actions.values():
            assert isinstance(action, dict)
            cmd = str(action["cmd"])
            if cmd == "create_lead":
                results.append({cmd: {"status": "Success", "lead_details": {"id": "1234"}}})
            elif cmd == "assign_tag" and action["tag_name"] == "Missing":
                results.append(
                    {cmd: {"status": "Error", "message": "Tag does not exist", "type": "212"}}
                )
            else:
                results.append({cmd: {"status": "Success", "message": "ok", "type": "103"}})
        payload: dict[str, Any] = {"status": "Success", "actions": results}
        if any("retrieve_account_tags" in r for r in results):
            payload["account_tags"] = ["VIP", "News"]
        return CallbackResult(body=json.dumps(payload), content_type="text/html")


async def test_body_routing_by_cmd(mocked: aioresponses) -> None:
    fake = FakeKartra()
    mocked.post(URL, callback=fake, repeat=True)
    async with client() as kartra:
        created = await kartra.send(LeadRequest(email="ann@example.com").create().assign_tag("VIP"))
        tags = await kartra.retrieve_account_tags()
        with pytest.raises(TagError) as info:
            await kartra.send(LeadRequest(email="bob@example.com").create().assign_tag("Missing"))
    assert created.lead_id == 1234
    assert tags == ("VIP", "News")
    assert info.value.reply is not None
    assert info.value.reply.lead_id == 1234
    first = fake.bodies[0]
    assert (first["app_id"], first["api_key"], first["api_password"]) == (
        CANARY_APP_ID,
        CANARY_KEY,
        CANARY_PASSWORD,
    )
    assert first["lead"] == {"email": "ann@example.com"}
    assert first["actions"] == {
        0: {"cmd": "create_lead"},
        1: {"cmd": "assign_tag", "tag_name": "VIP"},
    }


async def test_request_is_a_form_post_to_the_single_endpoint(mocked: aioresponses) -> None:
    mocked.post(URL, payload={"status": "Success", "account_tags": []})
    async with client() as kartra:
        await kartra.retrieve_account_tags()
    ((method, url), calls) = next(iter(mocked.requests.items()))
    assert method == "POST"
    assert str(url) == URL
    sent = calls[0].kwargs
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent["allow_redirects"] is False
    assert isinstance(sent["data"], bytes)


async def test_shortcuts(mocked: aioresponses) -> None:
    fake = FakeKartra()
    mocked.post(URL, callback=fake, repeat=True)
    async with client() as kartra:
        lead = await kartra.get_lead(email="ann@example.com")
        by_id = await kartra.get_lead(id=7)
    assert lead.id == 7
    assert by_id.email == "ann@example.com"
    assert fake.bodies[0]["get_lead"] == {"email": "ann@example.com"}
    assert fake.bodies[1]["get_lead"] == {"id": "7"}


@pytest.mark.parametrize(
    ("method", "key", "values"),
    [
        ("retrieve_account_lists", "account_lists", ["News"]),
        ("retrieve_account_sequences", "account_sequences", ["Welcome"]),
        ("retrieve_account_pages", "account_pages", ["Home"]),
    ],
)
async def test_inventory_shortcuts(
    mocked: aioresponses, method: str, key: str, values: list[str]
) -> None:
    seen: list[dict[Any, Any]] = []

    def reply(url: Any, **kwargs: Any) -> CallbackResult:
        seen.append(parse_query(kwargs["data"]))
        return CallbackResult(payload={"status": "Success", key: values})

    mocked.post(URL, callback=reply)
    async with client() as kartra:
        assert await getattr(kartra, method)() == tuple(values)
    assert seen[0]["actions"] == {0: {"cmd": method}}


async def test_retrieve_custom_fields_shortcut(mocked: aioresponses) -> None:
    mocked.post(
        URL,
        payload={
            "status": "Success",
            "custom_fields": [
                {"field_id": "3", "field_identifier": "field_3", "field_type": "input_field"}
            ],
        },
    )
    async with client() as kartra:
        fields = await kartra.retrieve_custom_fields()
    assert [f.identifier for f in fields] == ["field_3"]


async def test_send_once_sends_once_send_retries_a_read(mocked: aioresponses) -> None:
    mocked.post(URL, status=500, body="boom")
    mocked.post(URL, status=500, body="boom")
    mocked.post(URL, payload={"status": "Success", "account_tags": ["VIP"]})
    call = AccountCall().retrieve_account_tags()
    async with client(retry=RetryPolicy(base_delay=0.0)) as kartra:
        with pytest.raises(ServerError):
            await kartra.send_once(call)
        reply = await kartra.send(call)
    assert reply.account_tags == ("VIP",)
    assert sum(len(calls) for calls in mocked.requests.values()) == 3


async def test_429_raises_rate_limited_without_retries(mocked: aioresponses) -> None:
    mocked.post(URL, status=429, body="Too many requests", content_type="text/plain")
    pacer = NoPacer()
    async with client(pacer=pacer) as kartra:
        with pytest.raises(RateLimited):
            await kartra.send(AccountCall().retrieve_account_tags())
    assert pacer.snapshot().rate_limited == 1


async def test_borrowed_session_is_not_closed(mocked: aioresponses) -> None:
    mocked.post(URL, payload={"status": "Success", "account_tags": []})
    async with aiohttp.ClientSession() as session:
        async with client(session=session) as kartra:
            assert await kartra.retrieve_account_tags() == ()
        assert kartra.closed
        assert not session.closed


async def test_use_after_close_is_a_usage_error(mocked: aioresponses) -> None:
    kartra = client()
    async with kartra:
        pass
    await kartra.aclose()  # idempotent
    with pytest.raises(UsageError, match="closed"):
        await kartra.send(AccountCall().retrieve_account_tags())
    with pytest.raises(UsageError, match="closed"):
        await kartra.send_once(AccountCall().retrieve_account_tags())
    with pytest.raises(UsageError, match="closed"):
        await kartra.retrieve_account_tags()
    with pytest.raises(UsageError, match="closed"):
        async with kartra:
            pass
    assert not mocked.requests


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARTRA_APP_ID", CANARY_APP_ID)
    monkeypatch.setenv("KARTRA_API_KEY", CANARY_KEY)
    monkeypatch.setenv("KARTRA_API_PASSWORD", CANARY_PASSWORD)
    monkeypatch.setenv("KARTRA_BASE_URL", "http://127.0.0.1:9/api")
    kartra = KartraClient.from_env(pacer=NoPacer())
    assert "127.0.0.1:9" in repr(kartra)
    monkeypatch.delenv("KARTRA_BASE_URL")
    assert "app.kartra.com" in repr(KartraClient.from_env())


async def test_from_env_sends_the_environment_credentials(
    monkeypatch: pytest.MonkeyPatch, mocked: aioresponses
) -> None:
    fake = FakeKartra()
    mocked.post(URL, callback=fake)
    monkeypatch.setenv("KARTRA_APP_ID", "env-app")
    monkeypatch.setenv("KARTRA_API_KEY", "env-key")
    monkeypatch.setenv("KARTRA_API_PASSWORD", "env-pass")
    monkeypatch.delenv("KARTRA_BASE_URL", raising=False)
    async with KartraClient.from_env(pacer=NoPacer()) as kartra:
        await kartra.retrieve_account_tags()
    assert (
        fake.bodies[0]["app_id"],
        fake.bodies[0]["api_key"],
        fake.bodies[0]["api_password"],
    ) == (
        "env-app",
        "env-key",
        "env-pass",
    )


@pytest.mark.parametrize("missing", ["KARTRA_APP_ID", "KARTRA_API_KEY", "KARTRA_API_PASSWORD"])
def test_from_env_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    for name in ("KARTRA_APP_ID", "KARTRA_API_KEY", "KARTRA_API_PASSWORD"):
        monkeypatch.setenv(name, "value")
    monkeypatch.delenv(missing)
    with pytest.raises(UsageError, match=missing):
        KartraClient.from_env()


@pytest.mark.parametrize("timeout", [0, -1, True, "5"])
def test_bad_timeouts_are_refused(timeout: Any) -> None:
    with pytest.raises(UsageError):
        client(timeout=timeout)
