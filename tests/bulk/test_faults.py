"""A few hundred leads with faults on: one outcome each, nothing doubled, the expected state.

The sandbox's log tells, per lead, which calls committed and which replies were lost, so the
test can say exactly where reconciliation and "outcome unknown" must appear (issue 4).
"""

from __future__ import annotations

from collections.abc import Iterator

from kartra_async import LeadCall, LeadRequest, LocalPacer, Outcome, OutcomeUnknown
from kartra_async.sandbox import FaultKind, FaultRule, Faults, RequestRecord, Sandbox

from .support import client_for, email, records_for

LEADS = 300
#: Every POINTS_EVERY-th lead also gets points, which must never be replayed.
POINTS_EVERY = 5
POINTS = 5
RATE = 400

CREATE = "create_lead"
POINTS_CMD = "give_points_to_lead"


def faults() -> Faults:
    """About one call in six fails, in every way a reply can be lost."""
    return Faults(
        FaultRule(FaultKind.RESET_BEFORE, probability=0.03),
        FaultRule(FaultKind.RESET_AFTER, probability=0.04),
        FaultRule(FaultKind.HTTP_500, probability=0.02),
        FaultRule(FaultKind.HTTP_502, probability=0.02),
        FaultRule(FaultKind.HTTP_503, probability=0.02, after_commit=True),
        FaultRule(FaultKind.MALFORMED_JSON, probability=0.02),
        FaultRule(FaultKind.TRUNCATED_JSON, probability=0.02),
        FaultRule(FaultKind.HTML_CONTENT_TYPE, probability=0.02),
        seed=20260601,
    )


def call_for(number: int) -> LeadCall:
    """Create + tag + list, and points for every POINTS_EVERY-th lead."""
    call = LeadRequest(email=email(number), first_name=f"N{number}").create().assign_tag("VIP")
    if number % POINTS_EVERY == 0:
        call = call.give_points(POINTS)
    return call.subscribe("Newsletter")


def calls() -> Iterator[LeadCall]:
    """The run's input, generated lazily."""
    return (call_for(number) for number in range(LEADS))


def creates(records: list[RequestRecord]) -> list[RequestRecord]:
    """The lead's create calls (first attempt and any resend)."""
    return [record for record in records if record.cmds and record.cmds[0] == CREATE]


async def test_faults_on_every_input_settles_exactly_once_and_state_is_exact() -> None:
    injected = faults()
    async with Sandbox(rate_limit=RATE, faults=injected, seed=1) as sandbox:
        before = sandbox.account.lead_count()
        async with (
            client_for(sandbox, pacer=LocalPacer(rate=RATE * 0.98)) as client,
            client.stream(calls(), concurrency=8) as outcomes,
        ):
            settled: list[Outcome] = [outcome async for outcome in outcomes]
        progress = outcomes.progress

        assert sorted(outcome.index for outcome in settled) == list(range(LEADS))
        assert sum(injected.injected.values()) > LEADS // 10
        assert sandbox.stats.rate_limited == 0
        # No lead created twice: one stored lead per input, no "already exists" reply.
        assert sandbox.account.lead_count() == before + LEADS
        assert all(record.type != "244" for record in sandbox.log)
        # The only errors are lookups that found a create had never run.
        errors = [record for record in sandbox.log if record.status == "Error"]
        assert all(record.cmds == ("get_lead",) for record in errors)

        tag = sandbox.account.tags["VIP"]
        listed = sandbox.account.lists["Newsletter"]
        unknown = reconciled = 0
        for outcome in settled:
            address = email(outcome.index)
            lead = sandbox.account.lead_by_email(address)
            assert lead is not None
            assert lead.field("first_name") == f"N{outcome.index}"
            assert lead.tags == [tag]
            assert list(lead.lists or {}) == [listed]
            assert outcome.lead_id == lead.id

            own_creates = creates(records_for(sandbox, address))
            committed = [record for record in own_creates if record.status == "Success"]
            lost = [
                record
                for record in own_creates
                if record.fault and record.fault != "html_content_type"
            ]
            assert len(committed) == 1
            with_points = outcome.index % POINTS_EVERY == 0
            # Points are put on the wire at most once, and the score is what committed.
            points_sent = [record for record in own_creates if POINTS_CMD in record.cmds]
            assert len(points_sent) == (1 if with_points else 0)
            points_landed = [record for record in points_sent if record.status == "Success"]
            assert lead.score == POINTS * len(points_landed)
            # Reconciliation exactly where a create's reply was lost.
            assert outcome.reconciled == bool(lost)
            if with_points and lost:
                # The attempt carrying the points may have landed: they are spent and in doubt
                # (committed or not, the client cannot know), never replayed.
                assert isinstance(outcome.error, OutcomeUnknown)
                assert outcome.error.cmds == (POINTS_CMD,)
                assert outcome.failure == "unknown"
                unknown += 1
            else:
                assert outcome.ok, outcome.error
            reconciled += outcome.reconciled
        assert unknown > 0
        assert reconciled > unknown
        assert (progress.done, progress.unknown, progress.reconciled) == (
            LEADS,
            unknown,
            reconciled,
        )
        assert progress.ok == LEADS - unknown
        assert progress.calls == sandbox.stats.calls
