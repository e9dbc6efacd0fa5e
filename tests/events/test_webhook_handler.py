"""The aiohttp handler's status codes, on a real loopback server."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartra_async.events import (
    IpnNotification,
    KartraEvent,
    PurchaseDeduplicator,
    TagEvent,
    webhook_handler,
)

from .payloads import ipn_body, outbound

ClientFactory = Callable[..., Any]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def make(on_event: Any, **options: Any) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        app.router.add_route("*", "/kartra", webhook_handler(on_event, **options))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_valid_event_reaches_the_callback(make_client: ClientFactory) -> None:
    received: list[KartraEvent] = []
    client = await make_client(received.append)
    response = await client.post("/kartra", json=outbound("assign_tag"))
    assert response.status == 200
    assert len(received) == 1
    assert isinstance(received[0], TagEvent)


async def test_async_callback_is_awaited(make_client: ClientFactory) -> None:
    received: list[KartraEvent] = []

    async def on_event(event: KartraEvent) -> None:
        received.append(event)

    client = await make_client(on_event, ipn_secret="s3cret")
    response = await client.post("/kartra", data=ipn_body("one_time_sale"),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 200
    assert isinstance(received[0], IpnNotification)


async def test_oversized_body_is_413(make_client: ClientFactory) -> None:
    received: list[KartraEvent] = []
    client = await make_client(received.append, max_body=1000)
    response = await client.post("/kartra", data=b"{" + b" " * 2000 + b"}")
    assert response.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the limit must hold while streaming.
        for _ in range(5):
            yield b" " * 400

    response = await client.post("/kartra", data=chunks())
    assert response.status == 413
    assert received == []


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"[1, 2]", b"\xff\xfe{", b"hello=world",
     json.dumps({"action": "assign_tag", "lead": {"id": "abc"}}).encode()],
)
async def test_unparsable_is_400(make_client: ClientFactory, body: bytes) -> None:
    received: list[KartraEvent] = []
    client = await make_client(received.append)
    response = await client.post("/kartra", data=body)
    assert response.status == 400
    assert received == []


@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_wrong_or_missing_ipn_secret_is_403(
    make_client: ClientFactory, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[KartraEvent] = []
    client = await make_client(received.append, ipn_secret="s3cret")
    body = ipn_body("one_time_sale") if secret else ipn_body("one_time_sale").replace(
        b"&secret_key=s3cret", b"")
    if secret:
        body = body.replace(b"secret_key=s3cret", b"secret_key=" + secret.encode())
    with caplog.at_level(logging.WARNING, logger="kartra_async.events"):
        response = await client.post("/kartra", data=body)
    assert response.status == 403
    assert received == []
    assert "s3cret" not in caplog.text
    assert "wrong" not in caplog.text.replace("wrong secret_key", "")


async def test_callback_exception_is_500_and_logged_without_payload(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(event: KartraEvent) -> None:
        raise RuntimeError("downstream is down")

    client = await make_client(explode, ipn_secret="s3cret")
    with caplog.at_level(logging.ERROR, logger="kartra_async.events"):
        response = await client.post("/kartra", data=ipn_body("rebill"))
    assert response.status == 500
    assert "downstream is down" in caplog.text
    assert "48140" in caplog.text
    assert "s3cret" not in caplog.text
    assert "john@example.com" not in caplog.text


async def test_duplicates_are_acknowledged_without_callback(make_client: ClientFactory) -> None:
    received: list[KartraEvent] = []
    client = await make_client(received.append, deduplicator=PurchaseDeduplicator())
    assert (await client.post("/kartra", json=outbound("buy_product"))).status == 200
    assert (await client.post("/kartra", data=ipn_body("one_time_sale"))).status == 200
    assert len(received) == 1


async def test_get_is_405(make_client: ClientFactory) -> None:
    client = await make_client(lambda event: None)
    response = await client.get("/kartra")
    assert response.status == 405


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="ipn_secret"):
        webhook_handler(lambda event: None, ipn_secret="")
    with pytest.raises(ValueError, match="max_body"):
        webhook_handler(lambda event: None, max_body=0)


HOSTILE = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10)
        | st.sampled_from(["N/A", "assign_tag", "buy_product", "0000-00-00 00:00:00"]),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(
            st.sampled_from(["lead", "action", "action_details", "id", "tag", "transaction_id",
                             "transaction_details", "points", "custom_fields", "x"]), c,
            max_size=4),
        max_leaves=15,
    ).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["transaction_id", "transaction_type", "secret_key",
                                     "trial", "a[b]", "lead[id]", "action"]),
                    st.text(max_size=8), max_size=5)
    .map(lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode()),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=HOSTILE)
async def test_hostile_bodies_only_get_documented_statuses(body: bytes) -> None:
    received: list[KartraEvent] = []
    app = web.Application()
    app.router.add_post("/", webhook_handler(received.append, ipn_secret="s3cret"))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/", data=body)
        assert response.status in {200, 400, 403}
        assert len(received) == (1 if response.status == 200 else 0)
