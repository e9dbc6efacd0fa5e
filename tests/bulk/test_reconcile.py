"""Reconciliation of lost replies, one targeted sandbox fault at a time (issue 4, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kartra_async import (
    AccountCall,
    KartraClient,
    LeadAlreadyExists,
    LeadRequest,
    NetworkError,
    OutcomeUnknown,
    Recover,
)
from kartra_async.sandbox import FaultKind, Sandbox

from .support import records_for

# Faults that leave the command committed but the reply lost or unreadable.
AFTER_COMMIT = [
    pytest.param(FaultKind.RESET_AFTER, {}, id="reset-after"),
    pytest.param(FaultKind.MALFORMED_JSON, {}, id="malformed-json"),
    pytest.param(FaultKind.TRUNCATED_JSON, {}, id="truncated-json"),
    pytest.param(FaultKind.HTTP_503, {"after_commit": True}, id="503-after-commit"),
]
# Faults that stop the call before the command ran.
BEFORE_COMMIT = [
    pytest.param(FaultKind.RESET_BEFORE, {}, id="reset-before"),
    pytest.param(FaultKind.HTTP_500, {}, id="500"),
    pytest.param(FaultKind.HTTP_502, {}, id="502"),
]


def cmds_sent(sandbox: Sandbox, address: str) -> list[tuple[str, ...]]:
    """The cmds of every call the sandbox saw about ``address``, in order."""
    return [record.cmds for record in records_for(sandbox, address)]


@pytest.mark.parametrize(("kind", "options"), AFTER_COMMIT)
async def test_lost_reply_after_create_commit_reapplies_safe_actions_on_search_chain(
    sandbox: Sandbox, client: KartraClient, kind: FaultKind, options: dict[str, bool]
) -> None:
    address = "ann@example.com"
    sandbox.faults.force(kind, cmds="create_lead", **options)
    before = sandbox.account.lead_count()

    reply = await client.send(
        LeadRequest(email=address).create().assign_tag("VIP").subscribe("Newsletter")
    )

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert sandbox.account.lead_count() == before + 1
    assert reply.lead_id == lead.id
    sent = cmds_sent(sandbox, address)
    assert sent.count(("create_lead", "assign_tag", "subscribe_lead_to_list")) == 1
    # Read back (the lead joined after the first attempt: ours), then the safe actions again.
    assert sent[-2:] == [("get_lead",), ("search_lead", "assign_tag", "subscribe_lead_to_list")]
    assert lead.tags == [sandbox.account.tags["VIP"]]
    assert list(lead.lists or {}) == [sandbox.account.lists["Newsletter"]]


@pytest.mark.parametrize(("kind", "options"), BEFORE_COMMIT)
async def test_lost_reply_before_commit_resends_the_safe_part_and_never_the_points(
    sandbox: Sandbox, client: KartraClient, kind: FaultKind, options: dict[str, bool]
) -> None:
    address = "bob@example.com"
    sandbox.faults.force(kind, cmds="create_lead", **options)
    chain = ("create_lead", "assign_tag", "give_points_to_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email=address).create().assign_tag("VIP").give_points(7))

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert caught.value.reply is not None
    assert caught.value.reply.lead_id == lead.id
    # A lookup that finds nothing proves nothing about a late commit, so the points were
    # spent with the first attempt: the resend carries only the create and the tag.
    assert cmds_sent(sandbox, address) == [chain, ("get_lead",), ("create_lead", "assign_tag")]
    assert caught.value.cmds == ("give_points_to_lead",)
    assert caught.value.failure == "unknown"
    assert lead.score == 0
    assert lead.tags == [sandbox.account.tags["VIP"]]


async def test_create_with_points_and_lost_reply_is_outcome_unknown_with_lead_id(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "cat@example.com"
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email=address).create().give_points(5).assign_tag("VIP"))

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    error = caught.value
    assert error.cmds == ("give_points_to_lead",)
    assert error.email == address
    assert isinstance(error.cause, NetworkError)
    assert error.reply is not None
    assert error.reply.lead_id == lead.id
    # The points went in once, with the lost call, and were never replayed.
    assert lead.score == 5
    assert all("give_points_to_lead" not in cmds for cmds in cmds_sent(sandbox, address)[1:])
    assert lead.tags == [sandbox.account.tags["VIP"]]


async def test_create_with_only_points_and_lost_reply_needs_no_extra_call(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "dan@example.com"
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email=address).create().give_points(5))

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert caught.value.reply is not None
    assert caught.value.reply.lead_id == lead.id
    # The lookup already proved the create: nothing is left to re-apply.
    assert cmds_sent(sandbox, address) == [
        ("create_lead", "give_points_to_lead"),
        ("get_lead",),
    ]


async def test_points_on_existing_lead_with_lost_reply_is_never_resent(
    sandbox: Sandbox, client: KartraClient
) -> None:
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="give_points_to_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email="buyer@example.com").search().give_points(3))

    assert caught.value.cmds == ("give_points_to_lead",)
    assert cmds_sent(sandbox, "buyer@example.com") == [("search_lead", "give_points_to_lead")]


async def test_lost_reply_to_create_custom_field_is_reconciled(
    sandbox: Sandbox, client: KartraClient
) -> None:
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_custom_field")

    reply = await client.send(AccountCall().create_custom_field("shoe_size", "input_field"))

    assert "shoe_size" in sandbox.account.custom_fields
    assert "shoe_size" in {field.identifier for field in reply.custom_fields}
    assert sandbox.stats.cmds["create_custom_field"] == 1
    assert sandbox.stats.cmds["retrieve_custom_fields"] == 1


async def test_create_custom_field_lost_before_commit_is_resent(
    sandbox: Sandbox, client: KartraClient
) -> None:
    sandbox.faults.force(FaultKind.RESET_BEFORE, cmds="create_custom_field")

    await client.send(AccountCall().create_custom_field("shoe_size", "input_field"))

    assert "shoe_size" in sandbox.account.custom_fields
    assert sandbox.stats.cmds["create_custom_field"] == 2
    assert sandbox.stats.faults["reset_before"] == 1


@pytest.mark.parametrize(("kind", "options"), AFTER_COMMIT[:1] + BEFORE_COMMIT[:1])
async def test_rename_by_id_with_lost_reply_is_checked_by_reading_the_lead_back(
    sandbox: Sandbox, client: KartraClient, kind: FaultKind, options: dict[str, bool]
) -> None:
    old, new = "buyer@example.com", "bea.new@example.com"
    lead_id = sandbox.account.leads_by_email[old]
    sandbox.faults.force(kind, cmds="edit_lead", **options)

    reply = await client.send(
        LeadRequest(id=lead_id, email=old).edit(new_email=new).assign_tag("VIP")
    )

    lead = sandbox.account.lead_by_id(lead_id)
    assert lead is not None
    assert lead.email == new
    assert sandbox.account.lead_by_email(old) is None
    assert reply.lead_id == lead_id
    assert sandbox.account.tags["VIP"] in (lead.tags or [])
    # Resending the rename blindly would have failed with "lead not found" under the old email.
    assert sandbox.stats.replies["Error"] == 0


async def test_rename_by_email_that_landed_is_reported_unknown_never_applied_to_a_guess(
    sandbox: Sandbox, client: KartraClient
) -> None:
    old, new = "buyer@example.com", "bea.new@example.com"
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="edit_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email=old).edit(new_email=new).assign_tag("VIP"))

    # The old address is gone and the new one names a lead, but without the lead's id the
    # client cannot tell it is the lead it renamed: it writes nothing more and says so.
    assert caught.value.cmds == ("edit_lead", "assign_tag")
    assert caught.value.reply is not None
    assert caught.value.reply.lead_id == sandbox.account.leads_by_email[new]
    assert sandbox.stats.cmds["edit_lead"] == 1
    assert sandbox.stats.cmds["search_lead"] == 0


async def test_rename_to_an_email_of_another_lead_never_touches_that_lead(
    sandbox: Sandbox, client: KartraClient
) -> None:
    old = "buyer@example.com"
    other = sandbox.account.lead_by_id(sandbox.account.leads_by_email[old])
    assert other is not None
    taken = "taken@example.com"
    await client.send(LeadRequest(email=taken).create())
    sandbox.faults.force(FaultKind.RESET_BEFORE, cmds="edit_lead")

    with pytest.raises(LeadAlreadyExists):
        await client.send(LeadRequest(email=old).edit(new_email=taken).assign_tag("VIP"))

    # Kartra's own 244 on the resend: the other lead never got the tag.
    owner = sandbox.account.lead_by_email(taken)
    assert owner is not None
    assert sandbox.account.tags["VIP"] not in (owner.tags or [])


async def test_recover_create_that_ran_reapplies_only_safe_actions(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "eve@example.com"
    call = LeadRequest(email=address).create().assign_tag("VIP").give_points(4)
    first_sent = datetime.now(UTC)
    await client.send(call)  # the earlier run's call, which landed; its reply was never read

    with pytest.raises(OutcomeUnknown) as caught:
        await client.recover(call, first_sent=first_sent)

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert lead.score == 4
    assert caught.value.cmds == ("give_points_to_lead",)
    assert caught.value.reply is not None
    assert caught.value.reply.lead_id == lead.id
    assert cmds_sent(sandbox, address)[1:] == [("get_lead",), ("search_lead", "assign_tag")]


async def test_recover_create_without_a_send_time_cannot_tell_and_writes_nothing(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "eve@example.com"
    call = LeadRequest(email=address).create().assign_tag("VIP").give_points(4)
    await client.send(LeadRequest(email=address).create())  # someone else's lead, or ours?

    with pytest.raises(OutcomeUnknown) as caught:
        await client.recover(call)

    assert caught.value.cmds == ("create_lead", "assign_tag", "give_points_to_lead")
    assert cmds_sent(sandbox, address)[1:] == [("get_lead",)]


async def test_recover_create_of_a_lead_older_than_the_dead_run_ends_as_kartras_244(
    sandbox: Sandbox, client: KartraClient
) -> None:
    call = LeadRequest(email="buyer@example.com").create().assign_tag("VIP").give_points(4)
    lead = sandbox.account.lead_by_email("buyer@example.com")
    assert lead is not None
    lead.joined -= 3600  # joined an hour before the dead run sent its create
    score = lead.score

    with pytest.raises(LeadAlreadyExists) as caught:
        await client.recover(call, first_sent=datetime.now(UTC))

    # The lead existed before the dead run's create, which Kartra refused: nothing changed.
    assert caught.value.failure == "rejected"
    assert lead.score == score
    assert sandbox.account.tags["VIP"] not in (lead.tags or [])


async def test_recover_create_that_never_ran_sends_it_whole(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "fay@example.com"
    call = LeadRequest(email=address).create().assign_tag("VIP").give_points(4)

    reply = await client.recover(call)

    lead = sandbox.account.lead_by_email(address)
    assert lead is not None
    assert reply.lead_id == lead.id
    assert lead.score == 4


async def test_recover_set_state_chain_is_simply_sent(
    sandbox: Sandbox, client: KartraClient
) -> None:
    reply = await client.recover(LeadRequest(email="buyer@example.com").search().assign_tag("VIP"))

    assert reply.result("assign_tag") is not None
    assert sandbox.stats.calls == 1


async def test_recover_never_replay_only_call_sends_nothing(
    sandbox: Sandbox, client: KartraClient
) -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        await client.recover(AccountCall().refund_transaction(1))

    assert caught.value.cmds == ("refund_transaction",)
    assert sandbox.stats.calls == 0


async def test_recover_wrapper_in_a_stream(sandbox: Sandbox, client: KartraClient) -> None:
    landed = LeadRequest(email="gil@example.com").create().assign_tag("VIP")
    first_sent = datetime.now(UTC)
    await client.send(landed)
    fresh = LeadRequest(email="hal@example.com").create().assign_tag("VIP")
    lead_count = sandbox.account.lead_count()

    outcomes = await client.send_many(
        [
            Recover(landed, first_sent),
            Recover(fresh, first_sent),
            LeadRequest(email="buyer@example.com").search(),
        ]
    )

    assert [outcome.index for outcome in outcomes] == [0, 1, 2]
    assert all(outcome.ok for outcome in outcomes)
    assert outcomes[0].call == landed
    assert outcomes[0].reconciled
    assert outcomes[1].reconciled
    assert not outcomes[2].reconciled
    assert sandbox.account.lead_count() == lead_count + 1
    assert sandbox.stats.cmds["create_lead"] == 2  # landed's first run, fresh once


async def test_failed_read_back_reports_outcome_unknown_not_a_plain_failure(
    sandbox: Sandbox, client: KartraClient
) -> None:
    address = "ivy@example.com"
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")
    attempts = client.retry_policy.max_attempts
    sandbox.faults.force(FaultKind.RESET_BEFORE, count=attempts, cmds="get_lead")

    with pytest.raises(OutcomeUnknown) as caught:
        await client.send(LeadRequest(email=address).create().assign_tag("VIP"))

    # The create landed; the caller must not be told it simply failed.
    assert sandbox.account.lead_by_email(address) is not None
    assert "create_lead" in caught.value.cmds
    assert isinstance(caught.value.cause, NetworkError)
    assert sandbox.stats.cmds["get_lead"] == attempts
