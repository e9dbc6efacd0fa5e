"""The ASGI webhook receiver under a real ASGI server (uvicorn) on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from events.payloads import ipn_body, outbound

from kartra_async import KartraClient, LeadRequest
from kartra_async.events import (
    IpnNotification,
    KartraEvent,
    ListEvent,
    PurchaseDeduplicator,
    TagEvent,
    asgi_app,
)
from kartra_async.sandbox import Sandbox

from .asgi_server import serving

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, url: str, data: object, content_type: str | None = None
) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    async with http.post(url, data=data, headers=headers) as response:
        return response.status, await response.text()


async def test_statuses_match_the_aiohttp_handler(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[KartraEvent] = []

    async def on_event(event: KartraEvent) -> None:
        received.append(event)

    app = asgi_app(on_event, ipn_secret="s3cret", max_body=4096)
    async with serving(app) as base:
        url = f"{base}/kartra"
        tag = json.dumps(outbound("assign_tag")).encode()
        assert await post(http, url, tag, "application/json") == (200, "ok")
        assert await post(http, url, ipn_body("one_time_sale"), FORM) == (200, "ok")
        status, text = await post(http, url, b"{not json")
        assert status == 400 and text.startswith("bad payload")
        with caplog.at_level(logging.WARNING, logger="kartra_async.events"):
            wrong = ipn_body("one_time_sale").replace(b"secret_key=s3cret", b"secret_key=nope")
            assert await post(http, url, wrong, FORM) == (403, "forbidden")
        assert await post(http, url, b"{" + b" " * 5000 + b"}") == (413, "payload too large")

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit must hold while the body streams in.
            for _ in range(5):
                yield b" " * 1000

        assert await post(http, url, chunks()) == (413, "payload too large")
        async with http.get(url) as response:
            assert response.status == 405 and response.headers["Allow"] == "POST"
    assert [type(event) for event in received] == [TagEvent, IpnNotification]
    assert "s3cret" not in caplog.text and "nope" not in caplog.text


async def test_a_failing_callback_is_500_and_duplicates_are_skipped(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[KartraEvent] = []

    def on_event(event: KartraEvent) -> None:
        calls.append(event)
        if isinstance(event, TagEvent):
            raise RuntimeError("downstream is down")

    app = asgi_app(on_event, deduplicator=PurchaseDeduplicator())
    async with serving(app) as base:
        with caplog.at_level(logging.ERROR, logger="kartra_async.events"):
            failed = await post(http, base, json.dumps(outbound("assign_tag")).encode())
        first = await post(http, base, json.dumps(outbound("buy_product")).encode())
        again = await post(http, base, ipn_body("one_time_sale"), FORM)
    assert failed == (500, "handler failed")
    assert "downstream is down" in caplog.text
    assert (first, again) == ((200, "ok"), (200, "duplicate"))
    assert len(calls) == 2


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="ipn_secret"):
        asgi_app(print, ipn_secret="")
    with pytest.raises(ValueError, match="max_body"):
        asgi_app(print, max_body=0)


async def test_the_sandbox_posts_typed_events_to_the_asgi_receiver() -> None:
    received: list[KartraEvent] = []
    async with (
        serving(asgi_app(received.append)) as base,
        Sandbox(webhook_url=f"{base}/hook") as sandbox,
    ):
        sandbox.seed(tags=["VIP"], lists=["Newsletter"])
        call = LeadRequest(email="asgi@example.com").create().assign_tag("VIP")
        async with KartraClient.for_sandbox(sandbox) as client:
            await client.send(call.subscribe("Newsletter"))
        await sandbox.wait_events()
        assert sandbox.events_sent == len(received)
    typed = [type(e) for e in received if isinstance(e, (TagEvent, ListEvent))]
    assert typed == [TagEvent, ListEvent]
