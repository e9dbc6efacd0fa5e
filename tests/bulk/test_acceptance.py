"""Acceptance: Kartra's strict 20 calls/s with default pacing, and a burst of forced 429s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kartra_async import KartraClient, LocalPacer
from kartra_async.sandbox import FaultKind, Sandbox

from .support import email, signups


def default_client(sandbox: Sandbox) -> KartraClient:
    """A client with the library's defaults: default pacer, retry policy and concurrency."""
    credentials = sandbox.credentials
    return KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        base_url=sandbox.url,
    )


@pytest.fixture
async def strict_sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox enforcing Kartra's 20 calls per sliding second."""
    async with Sandbox(rate_limit=20, seed=11) as sb:
        yield sb


async def run(sandbox: Sandbox, count: int) -> tuple[int, KartraClient]:
    """Stream ``count`` signups with default settings; return how many succeeded."""
    async with default_client(sandbox) as client, client.stream(signups(count)) as outcomes:
        ok = 0
        async for outcome in outcomes:
            assert outcome.ok, outcome.error
            ok += 1
    return ok, client


def assert_created_once(sandbox: Sandbox, count: int) -> None:
    """Each lead exists, and exactly ``count`` creates ran (none refused as a duplicate)."""
    assert sandbox.stats.replies == {"Success": count}
    for number in range(count):
        assert sandbox.account.lead_by_email(email(number)) is not None


@pytest.mark.slow
async def test_two_thousand_leads_at_twenty_per_second_without_a_429(
    strict_sandbox: Sandbox,
) -> None:
    # About 100 s by design: 2,000 calls at 19.6 calls/s.
    ok, client = await run(strict_sandbox, 2000)
    assert ok == 2000
    assert strict_sandbox.stats.rate_limited == 0
    assert client.pacer.snapshot().rate_limited == 0
    assert strict_sandbox.stats.calls == 2000
    assert_created_once(strict_sandbox, 2000)


async def test_a_burst_of_429s_pauses_the_pacer_and_every_lead_completes(
    strict_sandbox: Sandbox,
) -> None:
    strict_sandbox.faults.force(FaultKind.RATE_LIMITED, count=3)
    ok, client = await run(strict_sandbox, 30)
    assert ok == 30
    stats = client.pacer.snapshot()
    assert isinstance(client.pacer, LocalPacer)
    assert stats.rate_limited == 3
    assert stats.pauses >= 1
    assert stats.rate < stats.ceiling
    # The forced 429s were the only ones: the pacer kept under the real limit throughout.
    assert strict_sandbox.stats.faults["rate_limited"] == 3
    assert strict_sandbox.stats.rate_limited == 0
    assert strict_sandbox.stats.calls == 30 + 3
    assert_created_once(strict_sandbox, 30)
