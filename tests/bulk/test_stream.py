"""``stream``/``send_many`` lifecycle: early exit, failures, cancellation, ordering (issue 4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from kartra_async import (
    KartraClient,
    LeadCall,
    LeadNotFound,
    LeadRequest,
    Outcome,
    UsageError,
)
from kartra_async.sandbox import FaultKind, FaultRule, Sandbox

from .support import client_for, email, other_tasks, settle_loop, signup, signups


class InputBroke(Exception):
    """Raised by a test's input iterable."""


async def assert_clean(sandbox: Sandbox) -> None:
    """After the stream block: closing everything leaves no task behind (warnings are errors)."""
    await sandbox.close()
    await settle_loop()
    assert other_tasks() == set()


async def async_signups(count: int, fail_at: int | None = None) -> AsyncIterator[LeadCall]:
    """An async input, optionally failing after ``fail_at`` items."""
    for number in range(count):
        if number == fail_at:
            raise InputBroke(f"row {number} is unreadable")
        await asyncio.sleep(0)
        yield signup(number)


def sync_signups(count: int, fail_at: int) -> Iterator[LeadCall]:
    """A sync input failing after ``fail_at`` items."""
    for number in range(count):
        if number == fail_at:
            raise InputBroke(f"row {number} is unreadable")
        yield signup(number)


async def test_every_input_gets_one_outcome(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        async with client.stream(signups(50), concurrency=4) as outcomes:
            seen = [outcome async for outcome in outcomes]
        progress = outcomes.progress
    assert sorted(outcome.index for outcome in seen) == list(range(50))
    assert all(outcome.ok and outcome.attempts == 1 for outcome in seen)
    assert {outcome.lead_id for outcome in seen} == {
        lead.id for lead in sandbox.account.leads.values() if lead.email.endswith("bulk.example")
    }
    assert (progress.total, progress.done, progress.ok, progress.calls) == (50, 50, 50, 50)
    await assert_clean(sandbox)


async def test_async_input_with_api_errors_as_values(sandbox: Sandbox) -> None:
    calls: list[LeadCall] = [signup(0), LeadRequest(email="ghost@example.com").search(), signup(1)]

    async def source() -> AsyncIterator[LeadCall]:
        for call in calls:
            yield call

    async with client_for(sandbox) as client:
        outcomes = await client.send_many(source(), concurrency=2)
    assert [outcome.index for outcome in outcomes] == [0, 1, 2]
    assert [outcome.call for outcome in outcomes] == calls
    assert isinstance(outcomes[1].error, LeadNotFound)
    assert outcomes[1].reply is None
    assert outcomes[0].ok
    assert outcomes[2].ok
    await assert_clean(sandbox)


@pytest.mark.parametrize("ordered", [False, True])
async def test_break_stops_workers_and_sends_no_more(sandbox: Sandbox, ordered: bool) -> None:
    async with client_for(sandbox) as client:
        stream = client.stream(signups(10_000), concurrency=4, ordered=ordered, buffer=8)
        async with stream as outcomes:
            async for outcome in outcomes:
                if outcome.index >= 5 or ordered:
                    break
        # Calls cancelled in flight may still reach the server; after that nothing more comes.
        await asyncio.sleep(0.05)
        sent = sandbox.stats.calls
        await asyncio.sleep(0.05)
        assert sandbox.stats.calls == sent
        assert sent <= 8 + 6
    await assert_clean(sandbox)


async def consume_all(client: KartraClient, source: object, seen: list[int]) -> None:
    """Iterate a stream of ``source``, recording each outcome's index."""
    async with client.stream(source, concurrency=3) as outcomes:  # type: ignore[arg-type]
        async for outcome in outcomes:
            seen.append(outcome.index)


async def consume_and_fail(client: KartraClient) -> None:
    """A consumer whose own code raises on the first outcome."""
    async with client.stream(signups(1000), concurrency=4) as outcomes:
        async for outcome in outcomes:
            _ = outcome.index / 0


async def test_exception_in_consumer_propagates_and_cleans_up(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(ZeroDivisionError):
            await consume_and_fail(client)
    await assert_clean(sandbox)


async def test_cancelling_the_consumer_task_cleans_up(sandbox: Sandbox) -> None:
    sandbox.faults.force(FaultKind.LATENCY, count=None, delay=0.01)
    received: list[Outcome] = []
    some_received = asyncio.Event()

    async def consume(client: KartraClient) -> None:
        async with client.stream(signups(10_000), concurrency=4) as outcomes:
            async for outcome in outcomes:
                received.append(outcome)
                if len(received) == 3:
                    some_received.set()

    async with client_for(sandbox) as client:
        task = asyncio.create_task(consume(client))
        await some_received.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.05)
        sent = sandbox.stats.calls
        await asyncio.sleep(0.05)
        assert sandbox.stats.calls == sent
    await assert_clean(sandbox)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_exception_from_input_surfaces_to_the_caller(sandbox: Sandbox, kind: str) -> None:
    source = sync_signups(100, fail_at=10) if kind == "sync" else async_signups(100, fail_at=10)
    delivered: list[int] = []
    async with client_for(sandbox) as client:
        with pytest.raises(InputBroke, match="row 10"):
            await consume_all(client, source, delivered)
    # What was delivered before the failure are real outcomes of the first ten rows.
    assert set(delivered) <= set(range(10))
    await assert_clean(sandbox)


async def test_exception_from_input_surfaces_through_send_many(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(InputBroke):
            await client.send_many(async_signups(20, fail_at=0))
    await assert_clean(sandbox)


async def test_ordered_mode_yields_in_input_order_with_bounded_buffer(sandbox: Sandbox) -> None:
    # Random latencies make the workers finish out of order.

    sandbox.faults.add(FaultRule(FaultKind.LATENCY, delay=(0.0, 0.01)))
    buffer = 6
    async with client_for(sandbox) as client:
        stream = client.stream(signups(120), concurrency=3, ordered=True, buffer=buffer)
        indexes = []
        peak_pending = 0
        async with stream as outcomes:
            async for outcome in outcomes:
                indexes.append(outcome.index)
                peak_pending = max(peak_pending, len(outcomes._pool._pending))
                # Everything started but not yet yielded fits in the window.
                assert outcomes.progress.started - len(indexes) <= buffer
    assert indexes == list(range(120))
    assert peak_pending <= buffer
    await assert_clean(sandbox)


async def test_unordered_mode_keeps_at_most_buffer_in_flight(sandbox: Sandbox) -> None:
    async with (
        client_for(sandbox) as client,
        client.stream(signups(200), concurrency=4, buffer=10) as outcomes,
    ):
        async for _ in outcomes:
            # The consumer is slow: the feeder must not run ahead of the window.
            await asyncio.sleep(0)
            assert outcomes.progress.started - outcomes.progress.done <= 10
    assert outcomes.progress.done == 200
    await assert_clean(sandbox)


async def test_send_many_returns_outcomes_in_input_order(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        outcomes = await client.send_many([signup(n) for n in range(30)], concurrency=5)
    assert [outcome.index for outcome in outcomes] == list(range(30))
    assert [outcome.call.lead.email for outcome in outcomes] == [email(n) for n in range(30)]  # type: ignore[union-attr]
    await assert_clean(sandbox)


async def test_bad_arguments_are_usage_errors(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(UsageError):
            client.stream(signups(1), concurrency=0)
        with pytest.raises(UsageError):
            client.stream(signups(1), concurrency=4, buffer=2)
        with pytest.raises(UsageError):
            client.stream(42, concurrency=1)  # type: ignore[arg-type]
        stream = client.stream(signups(1))
        with pytest.raises(UsageError):
            await anext(stream)
    await assert_clean(sandbox)


async def test_an_input_that_is_not_a_call_is_a_usage_error(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(UsageError, match="input 1 is a str"):
            await client.send_many([signup(0), "lead@example.com"])  # type: ignore[list-item]
    await assert_clean(sandbox)
