"""Upsert: calls per lead for each strategy at 0 %, 50 % and 95 % pre-existing leads (issue 4)."""

from __future__ import annotations

import random

import pytest

from kartra_async import KartraClient, LeadRequest, Progress
from kartra_async.sandbox import FaultKind, Sandbox

from .support import client_for, email

LEADS = 200
STRATEGIES = ("create-first", "edit-first", "adaptive")


async def run_upserts(
    sandbox: Sandbox, existing_share: float, strategy: str
) -> tuple[Progress, set[int]]:
    """Upsert LEADS leads of which ``existing_share`` already exist; the progress and the
    indexes of the pre-existing ones."""
    chooser = random.Random(f"{existing_share}")
    existing = set(chooser.sample(range(LEADS), round(LEADS * existing_share)))
    for number in existing:
        sandbox.account.add_lead(email(number), first_name="Old")
    calls = (
        LeadRequest(email=email(number), first_name="New").upsert(strategy).assign_tag("VIP")
        for number in range(LEADS)
    )
    async with client_for(sandbox) as client, client.stream(calls, concurrency=4) as outcomes:
        async for outcome in outcomes:
            assert outcome.ok, outcome.error
            number = outcome.index
            assert outcome.upsert == ("updated" if number in existing else "created")
    return outcomes.progress, existing


def check_final_state(sandbox: Sandbox) -> None:
    """Every lead exists once, with the new fields and the tag."""
    tag = sandbox.account.tags["VIP"]
    for number in range(LEADS):
        lead = sandbox.account.lead_by_email(email(number))
        assert lead is not None
        assert lead.field("first_name") == "New"
        assert lead.tags == [tag]
    ours = [lead for lead in sandbox.account.leads.values() if lead.email.endswith("bulk.example")]
    assert len(ours) == LEADS


#: Calls each fixed strategy needs per lead: the first try, plus the fallback on a miss.
def expected_calls(strategy: str, existing: int) -> int:
    """What a strategy implies: create-first pays twice per existing lead, edit-first twice
    per new one."""
    new = LEADS - existing
    return LEADS + (existing if strategy == "create-first" else new)


@pytest.mark.parametrize("share", [0.0, 0.5, 0.95])
@pytest.mark.parametrize("strategy", ["create-first", "edit-first"])
async def test_fixed_strategies_make_the_calls_they_imply(
    sandbox: Sandbox, share: float, strategy: str
) -> None:
    progress, existing = await run_upserts(sandbox, share, strategy)
    assert progress.calls == expected_calls(strategy, len(existing))
    assert sandbox.stats.calls == progress.calls
    assert (progress.created, progress.updated) == (LEADS - len(existing), len(existing))
    check_final_state(sandbox)


@pytest.mark.parametrize("share", [0.0, 0.5, 0.95])
async def test_adaptive_is_close_to_the_best_strategy(sandbox: Sandbox, share: float) -> None:
    progress, existing = await run_upserts(sandbox, share, "adaptive")
    best = min(expected_calls(strategy, len(existing)) for strategy in STRATEGIES[:2])
    # It learns the hit rate from what it sees: a few wrong guesses while it warms up.
    assert best <= progress.calls <= best + LEADS * 0.04
    assert sandbox.stats.calls == progress.calls
    check_final_state(sandbox)


async def test_adaptive_switches_back_when_the_hit_rate_drops(sandbox: Sandbox) -> None:
    for number in range(100):
        sandbox.account.add_lead(email(number))
    calls = [
        LeadRequest(email=email(number), first_name="New").upsert().assign_tag("VIP")
        for number in range(200)
    ]
    async with client_for(sandbox) as client:
        outcomes = await client.send_many(calls, concurrency=1)
        strategy_at_end = client._settler.choose_strategy("adaptive")
    # 100 hits then 100 misses: edit-first, then create-first again, a few misses each way.
    assert sum(outcome.attempts for outcome in outcomes) <= 200 + 2 * 10
    assert strategy_at_end == "create-first"
    check_final_state(sandbox)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_upsert_create_with_lost_reply_sets_fields_once(
    sandbox: Sandbox, client: KartraClient, strategy: str
) -> None:
    address = "up@example.com"
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")
    reply = await client.send(
        LeadRequest(email=address, first_name="Uma").upsert(strategy).assign_tag("VIP")
    )
    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert reply.lead_id == lead.id
    assert lead.field("first_name") == "Uma"
    assert lead.tags == [sandbox.account.tags["VIP"]]
    assert sandbox.stats.cmds["create_lead"] == 1


async def test_upsert_on_existing_lead_updates_it(sandbox: Sandbox, client: KartraClient) -> None:
    reply = await client.send(
        LeadRequest(email="buyer@example.com", city="Oslo").upsert("create-first")
    )
    lead = sandbox.account.lead_by_email("buyer@example.com")
    assert lead is not None
    assert reply.lead_id == lead.id
    assert lead.field("city") == "Oslo"
    assert sandbox.stats.replies["Error"] == 1  # the 244 that sent it to edit
