"""Every call passes the pacer (retries and read-backs too); one log line per retry (issue 4)."""

from __future__ import annotations

import logging

import pytest

from kartra_async import LeadRequest, LocalPacer, NoPacer, OutcomeUnknown
from kartra_async.sandbox import FaultKind, FaultRule, Faults, Sandbox

from .support import client_for, signups


async def test_single_send_passes_the_pacer(sandbox: Sandbox) -> None:
    pacer = NoPacer()
    async with client_for(sandbox, pacer=pacer) as client:
        await client.send(LeadRequest(email="buyer@example.com").search())
        await client.get_lead(email="buyer@example.com")
    assert pacer.snapshot().granted == sandbox.stats.calls == 2


async def test_retries_and_reconciliation_reads_pass_the_pacer(sandbox: Sandbox) -> None:
    pacer = NoPacer()
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")
    sandbox.faults.force(FaultKind.HTTP_502, count=2, cmds="search_lead")
    sandbox.faults.force(FaultKind.RATE_LIMITED, count=1, cmds="assign_tag")
    async with client_for(sandbox, pacer=pacer) as client:
        await client.send(LeadRequest(email="pat@example.com").create().assign_tag("VIP"))
    stats = pacer.snapshot()
    # create (lost), search x3 (two 502s), search+assign_tag x2 (one 429): six calls, six grants.
    assert sandbox.stats.calls == 6
    assert stats.granted == sandbox.stats.calls
    assert stats.rate_limited == 1


async def test_bulk_run_with_faults_grants_exactly_the_calls_sent() -> None:
    faults = Faults(
        FaultRule(FaultKind.RESET_BEFORE, probability=0.05),
        FaultRule(FaultKind.RESET_AFTER, probability=0.05),
        FaultRule(FaultKind.HTTP_500, probability=0.05),
        seed=3,
    )
    pacer = LocalPacer(rate=400)
    async with Sandbox(rate_limit=None, faults=faults) as sandbox:
        async with (
            client_for(sandbox, pacer=pacer) as client,
            client.stream(signups(150), concurrency=6) as outcomes,
        ):
            settled = [outcome async for outcome in outcomes]
        assert len(settled) == 150
        assert sum(faults.injected.values()) > 0
        assert pacer.snapshot().granted == sandbox.stats.calls
        assert outcomes.progress.calls == sandbox.stats.calls


async def test_a_429_pauses_the_pacer_and_is_retried(sandbox: Sandbox) -> None:
    pacer = LocalPacer(rate=100)
    sandbox.faults.force(FaultKind.RATE_LIMITED, count=1)
    async with client_for(sandbox, pacer=pacer) as client:
        reply = await client.send(LeadRequest(email="buyer@example.com").search())
    assert reply.lead_id is not None
    stats = pacer.snapshot()
    assert (stats.rate_limited, stats.pauses) == (1, 1)
    assert stats.rate < stats.ceiling


def _kartra_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("kartra_async") and record.levelno >= logging.INFO
    ]


async def test_one_log_line_per_retry_and_reconciliation_without_secrets(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kartra_async")
    sandbox.faults.force(FaultKind.RESET_AFTER, cmds="create_lead")
    sandbox.faults.force(FaultKind.HTTP_500, count=2, cmds="search_lead")
    async with client_for(sandbox) as client:
        await client.send(
            LeadRequest(email="log@example.com", first_name="Secretive").create().assign_tag("VIP")
        )
        sandbox.faults.force(FaultKind.MALFORMED_JSON, cmds="give_points_to_lead")
        with pytest.raises(OutcomeUnknown):
            await client.send(LeadRequest(email="log@example.com").search().give_points(2))
    lines = _kartra_lines(caplog)
    messages = [record.getMessage() for record in lines]
    assert sum(message.startswith("retrying") for message in messages) == 2
    assert sum(message.startswith("reconciling") for message in messages) == 1
    # The give_points chain is reported to the caller, not logged as a retry.
    assert len(lines) == 3
    credentials = sandbox.credentials
    every = " ".join(record.getMessage() for record in caplog.records)
    for secret in (credentials.app_id, credentials.api_key, credentials.api_password):
        assert secret not in every
    for body_part in ("Secretive", "first_name", "actions[", "api_key", "%40"):
        assert body_part not in every
