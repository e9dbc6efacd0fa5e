"""Test Mode end to end in process: a Test Mode sandbox stores leads under @kartra.com, and a
Test Mode client finds them by the address it was given (gets, upserts, reconciliations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kartra_async import (
    GetLead,
    KartraClient,
    LeadAlreadyExists,
    LeadNotFound,
    LeadRequest,
    OutcomeUnknown,
    RetryPolicy,
)
from kartra_async.sandbox import FaultKind, Sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(rate_limit=None, test_mode=True) as sandbox:
        yield sandbox


def client_for(sandbox: Sandbox, **options: object) -> KartraClient:
    return KartraClient(
        **sandbox.credentials.as_dict(),
        base_url=sandbox.url,
        retry=RetryPolicy(base_delay=0.001, max_delay=0.002),
        **options,  # type: ignore[arg-type]
    )


async def test_create_get_upsert_with_the_original_address(sandbox: Sandbox) -> None:
    before = sandbox.account.lead_count()
    async with client_for(sandbox, test_mode=True) as client:
        created = await client.send(LeadRequest(email="jo@gmail.com").create().assign_tag("VIP"))
        profile = await client.get_lead(email="jo@gmail.com")
        assert profile.id == created.lead_id
        assert profile.email == "jo@kartra.com"
        # A next run upserts the same row: found under the stored address, updated in place.
        again = await client.send(LeadRequest(email="jo@gmail.com", first_name="Jo").upsert())
        assert again.lead_id == created.lead_id
        edited = await client.send(
            LeadRequest(email="jo@gmail.com").search().subscribe("Newsletter")
        )
        assert edited.lead_id == created.lead_id
    lead = sandbox.account.lead_by_email("jo@kartra.com")
    assert lead is not None
    assert lead.field("first_name") == "Jo"
    assert sandbox.account.lead_count() == before + 1
    # A live-mode client misses the same lead: the reason Test Mode exists on the client.
    async with client_for(sandbox, test_mode=False) as live:
        with pytest.raises(LeadNotFound):
            await live.get_lead(email="jo@gmail.com")


async def test_edit_first_upsert_and_a_collision(sandbox: Sandbox) -> None:
    async with client_for(sandbox, test_mode=True) as client:
        first = await client.send(
            LeadRequest(email="sam@gmail.com").upsert(strategy="edit-first").assign_tag("VIP")
        )
        second = await client.send(
            LeadRequest(email="sam@gmail.com", last_name="S").upsert(strategy="edit-first")
        )
        assert first.lead_id == second.lead_id
        # Two addresses with one local part are one lead in Test Mode, as on Kartra.
        with pytest.raises(LeadAlreadyExists):
            await client.send(LeadRequest(email="sam@yahoo.com").create())


@pytest.mark.parametrize("kind", [FaultKind.RESET_AFTER, FaultKind.TRUNCATED_JSON])
async def test_reconciliation_looks_up_the_stored_address(sandbox: Sandbox, kind: FaultKind) -> None:
    sandbox.faults.force(kind, cmds="create_lead")
    before = sandbox.account.lead_count()
    async with client_for(sandbox, test_mode=True) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.send(
                LeadRequest(email="lost@gmail.com").create().assign_tag("VIP").give_points(3)
            )
    lead = sandbox.account.lead_by_email("lost@kartra.com")
    assert lead is not None
    # The points are never resent; the lead's id is known from the reconciliation.
    assert info.value.cmds == ("give_points_to_lead",)
    assert info.value.reply is not None
    assert info.value.reply.lead_id == lead.id
    assert lead.score == 3
    assert sandbox.account.lead_count() == before + 1
    sent = [record.cmds for record in sandbox.log]
    # Found by the lookup, so never created twice; only the safe tag was re-applied.
    assert sent.count(("create_lead", "assign_tag", "give_points_to_lead")) == 1
    assert ("search_lead", "assign_tag") in sent


async def test_recover_after_an_interrupted_run(sandbox: Sandbox) -> None:
    async with client_for(sandbox, test_mode=True) as client:
        first_sent = datetime.now(UTC)  # as the import journal records it
        await client.send(LeadRequest(email="rec@gmail.com").create())
        reply = await client.recover(
            LeadRequest(email="rec@gmail.com").create().assign_tag("VIP"), first_sent=first_sent
        )
    lead = sandbox.account.lead_by_email("rec@kartra.com")
    assert lead is not None
    assert reply.lead_id == lead.id
    assert lead.tags == [sandbox.account.tags["VIP"]]


async def test_the_call_as_sent_and_as_given(sandbox: Sandbox) -> None:
    async with client_for(sandbox, test_mode=True) as client:
        await client.send(LeadRequest(email="keep@gmail.com").create())
        with pytest.raises(LeadNotFound) as info:
            await client.send(GetLead(email="other@gmail.com"))
    # Errors name the address the caller gave; the wire carried the stored one.
    assert info.value.email == "other@gmail.com"
    assert [record.email for record in sandbox.log] == ["keep@gmail.com", "other@kartra.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), (" True ", True), ("yes", True), ("on", True), ("0", False), ("", False)],
)
def test_env_and_argument(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    credentials = {"app_id": "a", "api_key": "b", "api_password": "c"}
    monkeypatch.setenv("KARTRA_TEST_MODE", value)
    assert KartraClient(**credentials).test_mode is expected
    # An explicit argument wins over the environment.
    assert KartraClient(**credentials, test_mode=not expected).test_mode is not expected
    monkeypatch.delenv("KARTRA_TEST_MODE")
    assert KartraClient(**credentials).test_mode is False


@pytest.mark.parametrize("lose_reply", [False, True])
async def test_a_rename_is_found_under_its_new_address(sandbox: Sandbox, lose_reply: bool) -> None:
    async with client_for(sandbox, test_mode=True) as client:
        created = await client.send(LeadRequest(email="old@gmail.com").create())
        lead = LeadRequest(email="old@gmail.com")
        if lose_reply:
            # The rename lands, its reply is lost: reconciliation reads the lead back by its id
            # and compares its address with the stored form of the new one.
            sandbox.faults.force(FaultKind.RESET_AFTER, cmds="edit_lead")
            lead = LeadRequest(email="old@gmail.com", id=created.lead_id)
        renamed = await client.send(lead.edit(new_email="new@gmail.com").assign_tag("VIP"))
        profile = await client.get_lead(email="new@gmail.com")
    assert renamed.lead_id == created.lead_id == profile.id
    assert profile.email == "new@kartra.com"
    assert sandbox.account.lead_by_email("old@kartra.com") is None
