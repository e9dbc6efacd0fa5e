"""Running a benchmark: stream a workload through a client for a duration or a count, while a
``Recorder`` on the transport times every HTTP call and a ``Tally`` counts the settled items.

The client is whatever the caller built (paced or not, any endpoint); the runner only needs its
transport wrapped in a ``RecordingTransport`` sharing ``recorder``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import attrs

from .._builder import Call
from .._client import KartraClient
from ._records import Recorder, RunData, Tally

#: Seconds between two calls of the live ``on_tick`` callback.
TICK: Final = 0.25


@attrs.frozen
class Tick:
    """A live snapshot for the progress line."""

    elapsed: float
    calls: int
    calls_last_second: int
    rate_limited: int
    retries: int
    ok: int
    failed: int


def bounded(
    calls: Iterable[Call], *, count: int | None, deadline: float | None, clock: Callable[[], float]
) -> Iterator[Call]:
    """``calls`` until ``count`` were taken or the clock passes ``deadline``."""
    for index, call in enumerate(calls):
        if count is not None and index >= count:
            return
        if deadline is not None and clock() >= deadline:
            return
        yield call


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size so far (None where the platform cannot say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)


async def run(
    client: KartraClient,
    calls: Iterable[Call],
    *,
    recorder: Recorder,
    duration: float | None = None,
    count: int | None = None,
    concurrency: int = 8,
    sandbox_cpu: Callable[[], float] | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunData:
    """Stream ``calls`` through ``client`` for ``duration`` seconds or ``count`` items.

    New items stop at the deadline; the ones already taken are settled, so every call the
    server saw is recorded. ``sandbox_cpu`` reads the in-process sandbox's CPU seconds, so
    that its share can be told apart from the client's.
    """
    tally = Tally()
    cpu_sandbox_before = sandbox_cpu() if sandbox_cpu is not None else None
    cpu_before = time.process_time()
    started = clock()
    deadline = started + duration if duration is not None else None
    source = bounded(calls, count=count, deadline=deadline, clock=clock)
    ticker = None
    if on_tick is not None:
        ticker = asyncio.create_task(_tick(on_tick, recorder, tally, started, clock))
    try:
        async with client.stream(source, concurrency=concurrency) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    tally.ok += 1
                else:
                    tally.failed += 1
                    tally.errors[type(outcome.error).__name__] += 1
                if outcome.retries:
                    tally.retries += outcome.retries
                    tally.retried_items += 1
                    tally.retry_marks.append((clock(), outcome.retries))
                if outcome.reconciled:
                    tally.reconciled += 1
                if outcome.upsert == "created":
                    tally.created += 1
                elif outcome.upsert == "updated":
                    tally.updated += 1
    finally:
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
    ended = clock()
    cpu_process = time.process_time() - cpu_before
    cpu_sandbox = None
    if sandbox_cpu is not None and cpu_sandbox_before is not None:
        cpu_sandbox = sandbox_cpu() - cpu_sandbox_before
    return RunData(
        recorder=recorder,
        tally=tally,
        started=started,
        ended=ended,
        cpu_process=cpu_process,
        cpu_sandbox=cpu_sandbox,
        peak_rss=peak_rss_bytes(),
    )


async def _tick(
    on_tick: Callable[[Tick], None],
    recorder: Recorder,
    tally: Tally,
    started: float,
    clock: Callable[[], float],
) -> None:
    while True:
        await asyncio.sleep(TICK)
        now = clock()
        attempts = recorder.attempts
        recent = 0
        # Newest first: stop at the first call older than a second.
        for attempt in reversed(attempts):
            if now - attempt.start > 1.0:
                break
            recent += 1
        on_tick(
            Tick(
                elapsed=now - started,
                calls=len(attempts),
                calls_last_second=recent,
                rate_limited=recorder.rate_limited,
                retries=tally.retries,
                ok=tally.ok,
                failed=tally.failed,
            )
        )
