"""Pacing: GCRA arithmetic, adaptive rate, and the in-process pacer under virtual time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartra_async._errors import UsageError
from kartra_async._pacing import (
    DEFAULT_RATE,
    KARTRA_RATE_LIMIT,
    AdaptiveRate,
    Gcra,
    LocalPacer,
    NoPacer,
    Pacer,
    PacingState,
)

T = TypeVar("T")
EPS = 1e-9


class VirtualTime:
    """A clock and a sleep that jump straight to the next timer once every task is blocked."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, delay), next(self._seq), fut))
        await fut

    async def _settle(self) -> None:
        for _ in range(30):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Let virtual time pass, firing every timer due in the meantime."""
        target = self.now + seconds
        await self._settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, fut = heapq.heappop(self._timers)
            if fut.done():
                continue
            self.now = max(self.now, when)
            fut.set_result(None)
            await self._settle()
        self.now = target

    async def run(self, aw: Awaitable[T]) -> T:
        """Drive virtual time until ``aw`` completes."""
        task = asyncio.ensure_future(aw)
        await self._settle()
        while not task.done():
            while self._timers and self._timers[0][2].done():
                heapq.heappop(self._timers)
            assert self._timers, "deadlock: nothing is sleeping and the task is not done"
            when, _, fut = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            fut.set_result(None)
            await self._settle()
        return task.result()


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


async def timed_acquire(
    pacer: Pacer, vt: VirtualTime, log: list[tuple[int, float]], i: int
) -> None:
    await pacer.acquire()
    log.append((i, vt.now))


# --- Gcra ------------------------------------------------------------------------------------


def test_gcra_spaces_calls_arriving_together_exactly() -> None:
    gcra = Gcra(rate=10.0)
    delays = []
    for _ in range(5):
        delay, gcra = gcra.reserve(100.0)
        delays.append(delay)
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_gcra_banks_no_credit_after_idle() -> None:
    _, gcra = Gcra(rate=10.0).reserve(0.0)
    first, gcra = gcra.reserve(60.0)
    second, _ = gcra.reserve(60.0)
    assert first == 0.0
    assert second == pytest.approx(0.1)


def test_gcra_tolerance_lets_a_call_go_early_by_at_most_the_tolerance() -> None:
    gcra = Gcra(rate=10.0, tolerance=0.05)
    _, gcra = gcra.reserve(0.0)
    delay, _ = gcra.reserve(0.0)
    assert delay == pytest.approx(0.05)


def test_gcra_pause_moves_next_slot_and_keeps_spacing() -> None:
    gcra = Gcra(rate=10.0).paused_until(5.0)
    first, gcra = gcra.reserve(1.0)
    second, _ = gcra.reserve(1.0)
    assert first == pytest.approx(4.0)
    assert second == pytest.approx(4.1)


@given(
    rate=st.floats(min_value=0.5, max_value=50.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=1, max_size=60),
)
def test_gcra_send_times_never_closer_than_the_interval(rate: float, gaps: list[float]) -> None:
    gcra = Gcra(rate=rate)
    now, sends = 0.0, []
    for gap in gaps:
        now += gap
        delay, gcra = gcra.reserve(now)
        assert delay >= 0.0
        sends.append(now + delay)
    for earlier, later in itertools.pairwise(sends):
        assert later - earlier >= 1.0 / rate - EPS
    # No slot is wasted: a call never waits when the previous slot is already past.
    assert sends[0] == pytest.approx(gaps[0])


# --- AdaptiveRate ----------------------------------------------------------------------------


def test_rate_cut_once_per_burst_of_429s() -> None:
    adaptive = AdaptiveRate(ceiling=20.0, decrease=0.8, cooldown=1.0)
    once = adaptive.on_rate_limited(10.0)
    again = once.on_rate_limited(10.5)
    later = again.on_rate_limited(11.0)
    assert once.rate == pytest.approx(16.0)
    assert again.rate == once.rate
    assert later.rate == pytest.approx(12.8)


def test_rate_never_cut_below_the_floor() -> None:
    adaptive = AdaptiveRate(ceiling=20.0, floor=5.0, cooldown=0.0)
    for t in range(50):
        adaptive = adaptive.on_rate_limited(float(t))
    assert adaptive.rate == 5.0


def test_rate_recovers_slowly_and_only_after_quiet_periods() -> None:
    adaptive = AdaptiveRate(ceiling=20.0, step=0.05, quiet=5.0).on_rate_limited(0.0)
    cut = adaptive.rate
    assert adaptive.recovered(4.9).rate == cut
    seen = [adaptive.recovered(float(t)).rate for t in range(0, 200)]
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert max(seen) == 20.0
    # One quiet period adds one step, never more.
    assert adaptive.recovered(5.0).rate == pytest.approx(cut + 1.0)
    # Recovery is incremental: stepping in small increments lands where one big step does.
    stepwise = adaptive
    for t in range(1, 40):
        stepwise = stepwise.recovered(t * 0.7)
    assert stepwise.rate == pytest.approx(adaptive.recovered(39 * 0.7).rate)


def test_adaptive_rate_rejects_nonsense() -> None:
    with pytest.raises(UsageError):
        AdaptiveRate(ceiling=0.0)
    with pytest.raises(UsageError):
        AdaptiveRate(ceiling=10.0, floor=11.0)
    with pytest.raises(UsageError):
        AdaptiveRate(ceiling=10.0, decrease=1.5)


def test_pacing_state_429_blocks_everyone_for_the_pause() -> None:
    state = PacingState.start(10.0)
    for _ in range(3):
        _, state = state.reserve(0.0)
    state = state.rate_limited(0.15)
    delay, state = state.reserve(0.2)
    assert 0.2 + delay >= 0.15 + 1.0
    assert state.rate < 10.0


def test_default_rate_is_a_little_under_kartras_limit() -> None:
    assert 0.95 * KARTRA_RATE_LIMIT <= DEFAULT_RATE < KARTRA_RATE_LIMIT
    # 20 consecutive slots must span more than Kartra's one-second window.
    assert 20 / DEFAULT_RATE > 1.0


def test_pause_shorter_than_a_second_is_refused() -> None:
    with pytest.raises(UsageError):
        LocalPacer(pause=0.5)
    with pytest.raises(UsageError):
        LocalPacer(rate=-1)


# --- LocalPacer ------------------------------------------------------------------------------


async def test_concurrent_acquirers_are_evenly_spaced_fifo(vt: VirtualTime) -> None:
    rate, n = 10.0, 40
    pacer = LocalPacer(rate, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[int, float]] = []
    tasks = [asyncio.create_task(timed_acquire(pacer, vt, log, i)) for i in range(n)]
    await vt.run(asyncio.gather(*tasks))
    order = [i for i, _ in log]
    times = [t for _, t in log]
    assert order == list(range(n))
    assert all(b - a >= 1 / rate - EPS for a, b in itertools.pairwise(times))
    assert times[-1] == pytest.approx((n - 1) / rate)
    assert pacer.snapshot().granted == n


async def test_a_429_pauses_every_waiter_and_lowers_the_rate(vt: VirtualTime) -> None:
    rate, n = 10.0, 20
    pacer = LocalPacer(rate, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[int, float]] = []
    tasks = [asyncio.create_task(timed_acquire(pacer, vt, log, i)) for i in range(n)]
    await vt.advance(0.45)
    granted_before = len(log)
    seen_at = vt.now
    await pacer.on_rate_limited()
    await vt.run(asyncio.gather(*tasks))
    after = [t for _, t in log[granted_before:]]
    assert 0 < granted_before < n
    assert min(after) >= seen_at + 1.0 - EPS
    assert all(b - a >= 1 / (0.8 * rate) - EPS for a, b in itertools.pairwise(after))
    stats = pacer.snapshot()
    assert stats.rate == pytest.approx(0.8 * rate)
    assert (stats.rate_limited, stats.pauses, stats.granted) == (1, 1, n)


async def test_429s_during_a_pause_count_but_start_no_new_pause(
    vt: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = LocalPacer(10.0, clock=vt.clock, sleep=vt.sleep)
    caplog.set_level(logging.INFO, logger="kartra_async")
    await pacer.on_rate_limited()
    await vt.advance(0.3)
    await pacer.on_rate_limited()
    stats = pacer.snapshot()
    assert (stats.rate_limited, stats.pauses) == (2, 1)
    assert stats.rate == pytest.approx(8.0)
    assert len([r for r in caplog.records if "429" in r.getMessage()]) == 1


async def test_rate_climbs_back_to_the_ceiling_once_429s_stop(
    vt: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = LocalPacer(10.0, clock=vt.clock, sleep=vt.sleep)
    caplog.set_level(logging.INFO, logger="kartra_async")
    await pacer.on_rate_limited()
    rates = []
    for _ in range(12):
        await vt.advance(5.0)
        await vt.run(pacer.acquire())
        rates.append(pacer.snapshot().rate)
    assert rates[0] < 10.0
    assert all(b >= a for a, b in itertools.pairwise(rates))
    assert rates[-1] == 10.0
    assert any("raised" in r.getMessage() for r in caplog.records)


async def test_cancelled_waiters_leak_no_slot(vt: VirtualTime) -> None:
    rate = 10.0
    pacer = LocalPacer(rate, clock=vt.clock, sleep=vt.sleep)
    await pacer.acquire()  # t=0, the next slot is 0.1
    log: list[tuple[int, float]] = []
    tasks = [asyncio.create_task(timed_acquire(pacer, vt, log, i)) for i in range(6)]
    await vt.advance(0.05)
    tasks[0].cancel()  # the head, asleep on its reservation
    tasks[3].cancel()  # one still queued on the lock
    await vt.run(asyncio.gather(*tasks, return_exceptions=True))
    assert tasks[0].cancelled()
    assert tasks[3].cancelled()
    assert [i for i, _ in log] == [1, 2, 4, 5]
    # The head's slot went to the next waiter, not to waste.
    assert [t for _, t in log] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert pacer.snapshot().granted == 1 + 4


async def test_no_pacer_never_waits_and_counts(vt: VirtualTime) -> None:
    pacer = NoPacer()
    for _ in range(3):
        await pacer.acquire()
    await pacer.on_rate_limited()
    stats = pacer.snapshot()
    assert (stats.granted, stats.rate_limited) == (3, 1)
    assert math.isinf(stats.rate)
    await pacer.aclose()


def test_pacers_satisfy_the_protocol() -> None:
    assert isinstance(LocalPacer(), Pacer)
    assert isinstance(NoPacer(), Pacer)
