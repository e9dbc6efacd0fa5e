"""``kartra_async.testing``: the scripted transport users test their own code with."""

from __future__ import annotations

import pytest

from kartra_async import (
    KartraClient,
    LeadAlreadyExists,
    LeadRequest,
    NoPacer,
    OutcomeUnknown,
    RetryPolicy,
)
from kartra_async.testing import ScriptedTransport, error_reply, success_reply


def client(transport: ScriptedTransport) -> KartraClient:
    return KartraClient(
        app_id="app-canary",
        api_key="key-canary",
        api_password="pw-canary",
        transport=transport,
        pacer=NoPacer(),
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0),
    )


async def test_the_readme_example_of_the_module_docstring() -> None:
    transport = ScriptedTransport()
    transport.reply(success_reply("create_lead", "assign_tag", lead_id=42))

    async with client(transport) as kartra:
        reply = await kartra.send(LeadRequest(email="jo@example.com").create().assign_tag("VIP"))

    assert reply.lead_id == 42
    assert transport.sent[0].cmds == ("create_lead", "assign_tag")
    assert transport.sent[0].form["lead"]["email"] == "jo@example.com"
    # The credentials are never recorded.
    assert "canary" not in repr(transport.sent)
    assert transport.pending == 0
    assert transport.closed


async def test_a_scripted_lost_reply_drives_the_client_through_reconciliation() -> None:
    transport = ScriptedTransport()
    transport.lose_reply()
    transport.reply(error_reply(234))  # get_lead: no such lead
    transport.reply(error_reply(244, cmds=("create_lead",)))  # the first attempt landed late
    transport.reply(success_reply("search_lead", "assign_tag", lead_id=7))

    async with client(transport) as kartra:
        with pytest.raises(OutcomeUnknown) as caught:
            await kartra.send(
                LeadRequest(email="jo@example.com").create().assign_tag("VIP").give_points(3)
            )

    assert [request.cmds for request in transport.sent] == [
        ("create_lead", "assign_tag", "give_points_to_lead"),
        ("get_lead",),
        ("create_lead", "assign_tag"),
        ("search_lead", "assign_tag"),
    ]
    assert caught.value.cmds == ("give_points_to_lead",)
    assert caught.value.reply is not None
    assert caught.value.reply.lead_id == 7


async def test_refusals_429s_and_dynamic_answers() -> None:
    transport = ScriptedTransport().refuse().rate_limit(1)
    transport.then(lambda request: ValueError(f"unexpected {request.cmds}"))

    async with client(transport) as kartra:
        with pytest.raises(ValueError, match="unexpected"):
            await kartra.send(LeadRequest(email="jo@example.com").create())
        assert len(transport.sent) == 3


async def test_an_unscripted_call_fails_loudly_and_errors_map_to_their_classes() -> None:
    transport = ScriptedTransport().reply(error_reply(244))

    async with client(transport) as kartra:
        with pytest.raises(LeadAlreadyExists):
            await kartra.send_once(LeadRequest(email="jo@example.com").create())
        with pytest.raises(AssertionError, match="no scripted answer left for call 2"):
            await kartra.send_once(LeadRequest(email="jo@example.com").create())
