"""Outbound events: the sandbox posts Kartra's event JSON (fact sheet §7.1) to a webhook."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kartra_async.sandbox import Sandbox

from .support import CREDENTIALS, chain, post


class Receiver:
    """A loopback web server that records every JSON body posted to it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        self.events.append(json.loads(await request.read()))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}/hook"
    yield rec
    await runner.cleanup()


async def test_events_for_a_chain(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    async with Sandbox(credentials=CREDENTIALS, webhook_url=receiver.url) as sb:
        payload = chain(
            "hook@example.com",
            {"cmd": "create_lead"},
            {"cmd": "assign_tag", "tag_name": "VIP"},
            {"cmd": "assign_tag", "tag_name": "VIP"},  # already assigned: no second event
            {"cmd": "give_points_to_lead", "points": 5},  # no event of its own
            {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
            {"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome", "step": "1"},
            {"cmd": "calendar_subscribe", "calendar_name": "Coaching", "class_name": "Intro call"},
            {"cmd": "calendar_cancel", "calendar_name": "Coaching", "class_name": "Intro call"},
            {"cmd": "unsubscribe_lead_from_sequence", "sequence_name": "Welcome"},
            {"cmd": "unsubscribe_lead_from_list", "list_name": "Newsletter"},
            {"cmd": "unassign_tag", "tag_name": "VIP"},
            first_name="Hook",
        )
        status, _, _ = await post(http, sb.url, payload)
        assert status == 200
        await sb.wait_events()
        lead = sb.account.lead_by_email("hook@example.com")
        assert lead is not None
        assert sb.events_sent == 8
    assert [event["action"] for event in receiver.events] == [
        "assign_tag",
        "list_subscription",
        "sequence_subscription",
        "calendar_subscribe",
        "calendar_cancel",
        "sequence_unsubscription",
        "list_unsubscription",
        "unassign_tag",
    ]
    assert set(receiver.content_types) == {"application/json"}
    first = receiver.events[0]
    assert set(first) == {"lead", "action", "action_details"}
    assert first["action_details"] == {
        "tag": {"tag_id": str(sb.account.tags["VIP"]), "tag_name": "VIP"}
    }
    assert first["lead"]["email"] == "hook@example.com"
    assert first["lead"]["id"] == str(lead.id)
    assert first["lead"]["first_name"] == "Hook"
    # Each event carries the lead as it was when the event happened.
    assert [event["lead"]["score"] for event in receiver.events] == ["0"] + ["5"] * 7
    assert all(
        isinstance(value, str) for key, value in first["lead"].items() if key != "custom_fields"
    )
    by_action = {event["action"]: event["action_details"] for event in receiver.events}
    assert by_action["list_subscription"] == {
        "list": {"list_id": str(sb.account.lists["Newsletter"]), "list_name": "Newsletter"}
    }
    assert by_action["sequence_subscription"]["sequence"]["sequence_name"] == "Welcome"
    calendar = by_action["calendar_subscribe"]["calendar"]
    assert (calendar["calendar_name"], calendar["class_name"]) == ("Coaching", "Intro call")
    assert calendar["hosts"][0]["host_email_address"] == "jane@example.com"


async def test_a_dead_webhook_never_breaks_the_sandbox(http: aiohttp.ClientSession) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with Sandbox(credentials=CREDENTIALS, webhook_url=f"http://127.0.0.1:{port}/gone") as sb:
        tagging = chain("buyer@example.com", {"cmd": "assign_tag", "tag_name": "VIP"})
        status, body, _ = await post(http, sb.url, tagging)
        assert status == 200
        assert json.loads(body)["status"] == "Success"
        await sb.wait_events()
    assert sb.stats.events_failed == 1
    assert sb.stats.events_sent == 0
