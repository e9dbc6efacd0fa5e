"""An unpoisonable dedupe (issue 17 §6).

Reproduction of the attack: an unsigned ``buy_product`` event posted first with the next
transaction id made the genuine, secret-checked IPN answer ``200 duplicate``: the real payment
was never delivered. Here the forged event goes first, on a real loopback server, and the
genuine IPN must still reach the callback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kartra_async._form import parse_query
from kartra_async.events import (
    IpnNotification,
    KartraEvent,
    PurchaseDeduplicator,
    PurchaseEvent,
    parse_ipn,
    parse_outbound_event,
    webhook_handler,
)

from .payloads import ipn_body, outbound

SECRET = "s3cret"  # the secret ipn_body signs with


@pytest.fixture
async def receiver() -> AsyncIterator[
    tuple[TestClient[web.Request, web.Application], list[KartraEvent]]
]:
    received: list[KartraEvent] = []
    app = web.Application()
    handler = webhook_handler(
        received.append, ipn_secret=SECRET, deduplicator=PurchaseDeduplicator()
    )
    app.router.add_post("/kartra", handler)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client, received
    await client.close()


async def test_a_forged_event_first_does_not_hide_the_genuine_ipn(
    receiver: tuple[TestClient[web.Request, web.Application], list[KartraEvent]],
) -> None:
    client, received = receiver
    forged = await client.post("/kartra", json=outbound("buy_product"))
    assert forged.status == 200
    genuine = await client.post("/kartra", data=ipn_body("one_time_sale"))
    assert genuine.status == 200
    assert await genuine.text() == "ok"  # not "duplicate"
    assert [type(event) for event in received] == [PurchaseEvent, IpnNotification]
    # A second copy of the genuine IPN (Kartra retries) is the duplicate.
    again = await client.post("/kartra", data=ipn_body("one_time_sale"))
    assert await again.text() == "duplicate"
    assert len(received) == 2


async def test_a_forged_ipn_with_a_wrong_secret_marks_nothing(
    receiver: tuple[TestClient[web.Request, web.Application], list[KartraEvent]],
) -> None:
    client, received = receiver
    forged = await client.post("/kartra", data=ipn_body("one_time_sale", secret_key="guess"))
    assert forged.status == 403
    genuine = await client.post("/kartra", data=ipn_body("one_time_sale"))
    assert await genuine.text() == "ok"
    assert len(received) == 1


async def test_the_event_after_its_genuine_ipn_is_still_a_duplicate(
    receiver: tuple[TestClient[web.Request, web.Application], list[KartraEvent]],
) -> None:
    client, received = receiver
    assert await (await client.post("/kartra", data=ipn_body("one_time_sale"))).text() == "ok"
    event = await client.post("/kartra", json=outbound("buy_product"))
    assert await event.text() == "duplicate"
    assert [type(event) for event in received] == [IpnNotification]


def test_sources_are_kept_apart_in_the_deduplicator() -> None:
    dedupe = PurchaseDeduplicator()
    event = parse_outbound_event(outbound("buy_product"))
    ipn = parse_ipn(parse_query(ipn_body("one_time_sale")))
    # Unauthenticated events suppress each other...
    assert dedupe.is_duplicate(event) is False
    assert dedupe.is_duplicate(event) is True
    # ...but never an authenticated IPN, which then suppresses everything after it.
    assert dedupe.is_duplicate(ipn, authenticated=True) is False
    assert dedupe.is_duplicate(ipn, authenticated=True) is True
    assert dedupe.is_duplicate(event) is True
    assert dedupe.is_duplicate(ipn) is True


def test_each_source_stays_bounded() -> None:
    dedupe = PurchaseDeduplicator(max_entries=2)
    ipns = [parse_ipn({"transaction_id": str(n), "transaction_type": "sale"}) for n in range(4)]
    for ipn in ipns:
        assert dedupe.is_duplicate(ipn) is False
        assert dedupe.is_duplicate(ipn, authenticated=True) is False
    assert len(dedupe) == 4
