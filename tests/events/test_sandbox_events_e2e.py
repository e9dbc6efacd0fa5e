"""End to end: a client pushes a lead to the sandbox, the sandbox posts events, we receive them."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer

from kartra_async import KartraClient, LeadRequest
from kartra_async.events import KartraEvent, ListEvent, TagEvent, webhook_handler
from kartra_async.sandbox import Sandbox


async def test_pushed_lead_arrives_as_typed_events() -> None:
    received: list[KartraEvent] = []
    app = web.Application()
    app.router.add_post("/kartra", webhook_handler(received.append))
    async with (
        TestServer(app, host="127.0.0.1") as receiver,
        Sandbox(webhook_url=str(receiver.make_url("/kartra"))) as sandbox,
    ):
        sandbox.seed(tags=["VIP"], lists=["Newsletter"])
        keys = sandbox.credentials
        async with KartraClient(
            base_url=sandbox.url,
            app_id=keys.app_id,
            api_key=keys.api_key,
            api_password=keys.api_password,
        ) as client:
            call = (
                LeadRequest(email="ada@example.com", first_name="Ada")
                .create()
                .assign_tag("VIP")
                .subscribe("Newsletter")
            )
            await client.send(call)
        await sandbox.wait_events()
        assert sandbox.events_sent == len(received)
    typed = [e for e in received if isinstance(e, (TagEvent, ListEvent))]
    assert [type(e) for e in typed] == [TagEvent, ListEvent]
    tag_event, list_event = typed
    assert isinstance(tag_event, TagEvent)
    assert tag_event.tag.name == "VIP"
    assert isinstance(list_event, ListEvent)
    assert list_event.list.name == "Newsletter"
    assert tag_event.lead.first_name == "Ada"
    assert tag_event.lead.email is not None
    assert tag_event.lead.email.startswith("ada@")
    assert tag_event.lead.id == list_event.lead.id
    assert tag_event.lead.date_joined is not None
    assert tag_event.lead.date_joined.tzinfo is not None
