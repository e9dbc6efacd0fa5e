"""The client under both chain-failure semantics of the sandbox ("stop", Kartra's documented
way, and "continue"): replies, errors, retries, reconciliation and upserts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kartra_async import (
    Failure,
    KartraClient,
    LeadRequest,
    OutcomeUnknown,
    TagError,
)
from kartra_async.sandbox import ChainFailure, FaultKind, Sandbox

from .support import client_for

SEMANTICS = ["stop", "continue"]


@pytest.fixture(params=SEMANTICS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Sandbox, KartraClient]]:
    mode: ChainFailure = request.param
    async with (
        Sandbox(rate_limit=None, seed=7, chain_failure=mode) as sandbox,
        client_for(sandbox) as client,
    ):
        yield sandbox, client


async def test_a_chain_failing_midway(pair: tuple[Sandbox, KartraClient]) -> None:
    sandbox, client = pair
    call = (
        LeadRequest(email="mid@example.com")
        .create()
        .assign_tag("VIP")
        .assign_tag("No such tag")
        .subscribe("Newsletter")
    )
    with pytest.raises(TagError) as info:
        await client.send(call)
    error = info.value
    assert (error.type, error.action_index, error.cmd) == (212, 2, "assign_tag")
    assert error.failure is Failure.REJECTED
    assert error.reply is not None
    lead = sandbox.account.lead_by_email("mid@example.com")
    assert lead is not None
    assert error.reply.lead_id == lead.id
    ran_on = [result.ok for result in error.reply.actions]
    if sandbox.chain_failure == "stop":
        assert ran_on == [True, True, False]
        assert not lead.lists
    else:
        assert ran_on == [True, True, False, True]
        assert list(lead.lists or {}) == [sandbox.account.lists["Newsletter"]]
    # An API error is an answer, not a lost reply: sent once, never retried.
    assert [record.cmds[0] for record in sandbox.log] == ["create_lead"]


async def test_upsert_never_applies_points_twice(pair: tuple[Sandbox, KartraClient]) -> None:
    sandbox, client = pair
    await client.send(LeadRequest(email="up@example.com").create())
    reply = await client.send(
        LeadRequest(email="up@example.com", first_name="Up")
        .upsert(strategy="create-first")
        .give_points(5)
        .assign_tag("VIP")
    )
    lead = sandbox.account.lead_by_email("up@example.com")
    assert lead is not None
    assert reply.lead_id == lead.id
    assert lead.score == 5
    assert lead.field("first_name") == "Up"
    assert lead.tags == [sandbox.account.tags["VIP"]]
    follow_up = sandbox.log[-1].cmds
    if sandbox.chain_failure == "stop":
        assert follow_up == ("edit_lead", "give_points_to_lead", "assign_tag")
    else:
        # The continuing chain already applied both after the 244: the points are left out
        # (the set-state tag may go again: it changes nothing).
        assert follow_up[0] == "edit_lead"
        assert "give_points_to_lead" not in follow_up


async def test_edit_first_upsert_of_a_new_lead(pair: tuple[Sandbox, KartraClient]) -> None:
    sandbox, client = pair
    await client.send(
        LeadRequest(email="new@example.com").upsert(strategy="edit-first").give_points(2)
    )
    lead = sandbox.account.lead_by_email("new@example.com")
    assert lead is not None
    assert lead.score == 2


async def test_reconciliation_of_a_lost_reply(pair: tuple[Sandbox, KartraClient]) -> None:
    sandbox, client = pair
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")
    with pytest.raises(OutcomeUnknown) as info:
        await client.send(
            LeadRequest(email="lost@example.com").create().assign_tag("VIP").give_points(4)
        )
    lead = sandbox.account.lead_by_email("lost@example.com")
    assert lead is not None
    assert info.value.cmds == ("give_points_to_lead",)
    assert info.value.reply is not None and info.value.reply.lead_id == lead.id
    assert lead.score == 4


async def test_retry_after_a_lost_reply_of_a_failing_chain(
    pair: tuple[Sandbox, KartraClient],
) -> None:
    sandbox, client = pair
    await client.send(LeadRequest(email="re@example.com").create())
    sandbox.faults.force(FaultKind.HTTP_503, cmds="search_lead")
    with pytest.raises(TagError) as info:
        await client.send(
            LeadRequest(email="re@example.com").search().assign_tag("No such tag").assign_tag("VIP")
        )
    lead = sandbox.account.lead_by_email("re@example.com")
    assert lead is not None
    assert info.value.action_index == 1
    expected = [sandbox.account.tags["VIP"]] if sandbox.chain_failure == "continue" else []
    assert (lead.tags or []) == expected
    # The set-state chain was resent after the 503 and answered the same error.
    assert [record.cmds[0] for record in list(sandbox.log)[-2:]] == ["search_lead", "search_lead"]
