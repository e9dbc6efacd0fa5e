"""Late commits through the HTTP sandbox: the write lands after the client gave up.

Judged by the account: points at most once, never on the wire again after a lost reply, and
every outcome honest, including when the input iterator raises and when the client is closed
mid-stream.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest

from kartra_async import (
    KartraClient,
    LeadCall,
    LeadRequest,
    NoPacer,
    OutcomeUnknown,
    RetryPolicy,
    Timeouts,
    UpsertCall,
)
from kartra_async.sandbox import FaultKind, FaultRule, Faults, Sandbox

POINTS = 5
READ_TIMEOUT = 0.3


def lead_call(number: int, *, upsert: bool) -> LeadCall | UpsertCall:
    lead = LeadRequest(email=f"late{number:04d}@example.com", first_name=f"L{number}")
    opened = lead.upsert() if upsert else lead.create()
    return opened.assign_tag("VIP").give_points(POINTS).subscribe("Newsletter")


def late_client(sandbox: Sandbox) -> KartraClient:
    credentials = sandbox.credentials
    return KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        base_url=sandbox.url,
        pacer=NoPacer(),
        retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
        timeout=Timeouts(connect=2.0, read=READ_TIMEOUT, total=10.0),
    )


def assert_points_honest(sandbox: Sandbox, outcomes: dict[str, object]) -> None:
    on_wire: Counter[str] = Counter()
    for record in sandbox.log:
        if "give_points_to_lead" in record.cmds and record.http_status != 429:
            on_wire[record.email] += 1
    assert max(on_wire.values(), default=0) <= 1, "points put on the wire twice"
    for address, outcome in outcomes.items():
        lead = sandbox.account.lead_by_email(address)
        score = lead.score if lead is not None else 0
        assert score in (0, POINTS)
        if getattr(outcome, "ok", False):
            assert score == POINTS, address
        elif getattr(outcome, "unknown", False):
            error = outcome.error  # type: ignore[attr-defined]
            assert isinstance(error, OutcomeUnknown)
            assert "give_points_to_lead" in error.cmds


@pytest.mark.parametrize("upsert", [False, True], ids=["create", "upsert"])
async def test_late_commits_never_double_points_and_are_reported_unknown(upsert: bool) -> None:
    faults = Faults(
        FaultRule(FaultKind.LATE_COMMIT, probability=0.15, delay=READ_TIMEOUT * 1.6),
        FaultRule(FaultKind.LATENCY, probability=0.5, delay=(0.0, 0.01)),
        seed=5,
    )
    async with Sandbox(rate_limit=None, faults=faults) as sandbox:
        async with late_client(sandbox) as client:
            calls = [lead_call(number, upsert=upsert) for number in range(80)]
            outcomes = await client.send_many(calls, concurrency=8)
        await sandbox.wait_late_commits()
        assert sandbox.stats.faults["late_commit"] > 0
        by_email = {f"late{o.index:04d}@example.com": o for o in outcomes}
        assert_points_honest(sandbox, by_email)
        # One lead per input, every safe action in place.
        for address in by_email:
            lead = sandbox.account.lead_by_email(address)
            assert lead is not None
            assert lead.tags == [sandbox.account.tags["VIP"]]
        # Every call carries points: a late commit leaves them in doubt, and says so.
        late = {r.email for r in sandbox.log if r.fault == "late_commit"}
        assert late
        assert all(by_email[address].unknown for address in late)


async def test_an_input_iterator_that_raises_still_reports_every_call_it_gave() -> None:
    faults = Faults(
        FaultRule(FaultKind.LATE_COMMIT, probability=0.2, delay=READ_TIMEOUT * 1.6), seed=9
    )

    def rows() -> Iterator[LeadCall | UpsertCall]:
        for number in range(30):
            yield lead_call(number, upsert=False)
        raise OSError("the input file went away")

    async with Sandbox(rate_limit=None, faults=faults) as sandbox:
        seen = {}

        async def consume(client: KartraClient) -> None:
            async with client.stream(rows(), concurrency=8) as outcomes:
                async for outcome in outcomes:
                    seen[f"late{outcome.index:04d}@example.com"] = outcome

        async with late_client(sandbox) as client:
            with pytest.raises(OSError, match="went away"):
                await consume(client)
        await sandbox.wait_late_commits()
        # Every call the iterator handed over got its outcome before the error was raised.
        assert len(seen) == 30
        assert_points_honest(sandbox, seen)


async def test_closing_the_client_mid_stream_reports_in_flight_writes_as_unknown() -> None:
    faults = Faults(FaultRule(FaultKind.LATENCY, delay=(0.05, 0.1)), seed=2)
    async with Sandbox(rate_limit=None, faults=faults) as sandbox:
        seen = {}
        client = late_client(sandbox)
        async with client.stream(
            (lead_call(n, upsert=False) for n in range(40)), concurrency=8
        ) as outcomes:
            closer = asyncio.get_running_loop().call_later(0.12, lambda: asyncio.ensure_future(client.aclose()))
            async for outcome in outcomes:
                seen[f"late{outcome.index:04d}@example.com"] = outcome
            closer.cancel()
        await sandbox.wait_late_commits()
        assert len(seen) == 40
        failures = Counter(str(outcome.failure) for outcome in seen.values())
        # Calls in flight at the close may have landed: never "not sent"/"closed" for those.
        for address, outcome in seen.items():
            lead = sandbox.account.lead_by_email(address)
            if lead is not None and not outcome.ok:
                assert outcome.failure == "unknown", (address, outcome.error)
            if outcome.failure == "not_sent":
                assert lead is None, address
        assert failures["not_sent"] > 0
        assert_points_honest(sandbox, seen)
