"""Pacing every call under Kartra's 20 calls/s per App.

Kartra counts calls per App in a strict sliding one-second window and answers 429 with no
``Retry-After``, so a burst is never safe: the only rate that works is one evenly spaced call
every ``1 / rate`` seconds. Two layers live here:

* pure arithmetic over frozen values, with ``now`` passed in (no clock, no I/O):
  :class:`Gcra` (evenly spaced slots, no burst), :class:`AdaptiveRate` (lower the rate on a
  429, climb back slowly when 429s stop) and :class:`PacingState` (both, plus the pause a 429
  imposes on everyone);
* the :class:`Pacer` protocol every call passes through, with :class:`LocalPacer` (one process,
  many concurrent workers) and :class:`NoPacer`. A shared pacer (``RedisPacer``) implements the
  same protocol.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol, runtime_checkable

import attrs

from ._errors import UsageError

__all__ = [
    "DEFAULT_RATE",
    "KARTRA_RATE_LIMIT",
    "AdaptiveRate",
    "Gcra",
    "LocalPacer",
    "NoPacer",
    "Pacer",
    "PacerStats",
    "PacingState",
]

logger = logging.getLogger(__name__)

#: Kartra's documented limit: calls per second per App, shared by every process using it.
KARTRA_RATE_LIMIT: Final = 20.0
#: 2 % under the limit: measured to hold ~19.6 calls/s with zero 429s under 20 ms send jitter,
#: because 20 consecutive slots then span 1.02 s instead of exactly the 1 s window.
DEFAULT_RATE: Final = KARTRA_RATE_LIMIT * 0.98
#: Kartra's documented remedy for a 429 is to wait one second.
DEFAULT_PAUSE: Final = 1.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_NEVER: Final = -math.inf


def _check_rate(rate: float, name: str = "rate") -> None:
    if not (math.isfinite(rate) and rate > 0):
        raise UsageError(f"{name} must be a positive number of calls per second, got {rate!r}")


@attrs.frozen
class Gcra:
    """Generic cell rate algorithm: one slot every ``1 / rate`` seconds.

    ``tat`` (theoretical arrival time) is the earliest moment the next call may be sent.
    ``tolerance`` is how early a call may go relative to its slot; 0 (the default) means no
    burst at all, which is what a strict sliding window needs.
    """

    rate: float
    tat: float = _NEVER
    tolerance: float = 0.0

    @property
    def interval(self) -> float:
        """Seconds between two consecutive slots."""
        return 1.0 / self.rate

    def reserve(self, now: float) -> tuple[float, Gcra]:
        """Reserve the next slot: return how long to wait from ``now``, and the new state.

        The next slot is computed from the reserved one, not from when the caller actually
        wakes up, so a late wake-up (scheduler jitter) does not drift the rate downwards.
        """
        send_at = max(now, self.tat - self.tolerance)
        new_tat = max(self.tat, now) + self.interval
        return send_at - now, attrs.evolve(self, tat=new_tat)

    def wait_time(self, now: float) -> float:
        """How long a call arriving at ``now`` would wait, without reserving anything."""
        return max(0.0, self.tat - self.tolerance - now)

    def paused_until(self, until: float) -> Gcra:
        """No slot before ``until``; slots after it stay evenly spaced."""
        return attrs.evolve(self, tat=max(self.tat, until))

    def with_rate(self, rate: float) -> Gcra:
        """The same schedule at another rate (already reserved slots are kept)."""
        return self if rate == self.rate else attrs.evolve(self, rate=rate)


@attrs.frozen
class AdaptiveRate:
    """Additive-increase / multiplicative-decrease of the rate, driven by 429s.

    A 429 multiplies the rate by ``decrease`` (never below ``floor``). Workers usually see
    several 429s from one burst, so the rate is cut at most once per ``cooldown`` seconds.
    After ``quiet`` seconds without a change the rate climbs by ``step × ceiling``, one step per
    quiet period, back up to ``ceiling``.
    """

    ceiling: float = DEFAULT_RATE
    rate: float = attrs.field(default=attrs.Factory(lambda self: self.ceiling, takes_self=True))
    floor: float = attrs.field(
        default=attrs.Factory(lambda self: self.ceiling / 10, takes_self=True)
    )
    decrease: float = 0.8
    step: float = 0.05
    quiet: float = 5.0
    cooldown: float = DEFAULT_PAUSE
    #: When the rate last changed (cut or raised); recovery counts quiet periods from here.
    changed_at: float = _NEVER
    #: No further cut before this moment (the 429s of one burst count once).
    cut_until: float = _NEVER

    def __attrs_post_init__(self) -> None:
        _check_rate(self.ceiling, "ceiling")
        _check_rate(self.floor, "floor")
        if self.floor > self.ceiling:
            raise UsageError(f"floor ({self.floor}) must not exceed ceiling ({self.ceiling})")
        if not 0 < self.decrease < 1:
            raise UsageError(f"decrease must be between 0 and 1, got {self.decrease!r}")
        if not (self.step > 0 and self.quiet > 0 and self.cooldown >= 0):
            raise UsageError("step and quiet must be positive and cooldown not negative")

    def on_rate_limited(self, now: float) -> AdaptiveRate:
        """A 429 was seen at ``now``."""
        if now < self.cut_until:
            return self
        return attrs.evolve(
            self,
            rate=max(self.floor, self.rate * self.decrease),
            changed_at=now,
            cut_until=now + self.cooldown,
        )

    def recovered(self, now: float) -> AdaptiveRate:
        """The rate after the quiet periods that elapsed by ``now`` (itself if none did)."""
        if self.rate >= self.ceiling:
            return self
        periods = math.floor((now - self.changed_at) / self.quiet)
        if periods <= 0:
            return self
        rate = min(self.ceiling, self.rate + periods * self.step * self.ceiling)
        return attrs.evolve(self, rate=rate, changed_at=self.changed_at + periods * self.quiet)


@attrs.frozen
class PacingState:
    """Everything a pacer decides from: the slot schedule, the adaptive rate, the pause."""

    gcra: Gcra
    adaptive: AdaptiveRate
    pause: float = DEFAULT_PAUSE
    paused_until: float = _NEVER

    @classmethod
    def start(
        cls, rate: float = DEFAULT_RATE, *, pause: float = DEFAULT_PAUSE, floor: float | None = None
    ) -> PacingState:
        """A fresh state pacing at ``rate`` calls/s (the ceiling the rate recovers to)."""
        _check_rate(rate)
        if not pause >= DEFAULT_PAUSE:
            # Kartra's window is one second: a shorter pause runs straight into another 429.
            raise UsageError(f"pause must be at least {DEFAULT_PAUSE} s, got {pause!r}")
        adaptive = AdaptiveRate(
            ceiling=rate, floor=rate / 10 if floor is None else floor, cooldown=pause
        )
        return cls(gcra=Gcra(rate=rate), adaptive=adaptive, pause=pause)

    @property
    def rate(self) -> float:
        """The current rate in calls per second."""
        return self.adaptive.rate

    def reserve(self, now: float) -> tuple[float, PacingState]:
        """Reserve the next slot at ``now``: the delay before sending, and the new state."""
        adaptive = self.adaptive.recovered(now)
        delay, gcra = self.gcra.with_rate(adaptive.rate).reserve(now)
        return delay, attrs.evolve(self, gcra=gcra, adaptive=adaptive)

    def rate_limited(self, now: float) -> PacingState:
        """A 429 was seen at ``now``: nobody sends before ``now + pause``, and the rate drops."""
        until = max(self.paused_until, now + self.pause)
        # Cut from the rate in force now, quiet periods included, not from a stale one.
        adaptive = self.adaptive.recovered(now).on_rate_limited(now)
        gcra = self.gcra.with_rate(adaptive.rate).paused_until(until)
        return attrs.evolve(self, gcra=gcra, adaptive=adaptive, paused_until=until)


@attrs.frozen
class PacerStats:
    """A point-in-time view of a pacer, cheap enough for a progress bar to poll."""

    #: Current rate in calls per second.
    rate: float
    #: The configured rate the pacer climbs back to.
    ceiling: float
    #: How many 429s were reported to this pacer.
    rate_limited: int
    #: How many pauses those 429s started (429s during a pause extend it, not count again).
    pauses: int
    #: How many calls were let through.
    granted: int
    #: True while a shared pacer has lost its store and paces locally at a conservative rate.
    degraded: bool = False


@runtime_checkable
class Pacer(Protocol):
    """What the client needs from a pacer. Every call (retries included) acquires a slot."""

    async def acquire(self) -> None:
        """Wait until this call may be sent."""

    async def on_rate_limited(self) -> None:
        """Kartra answered 429: pause every caller for at least one second, lower the rate."""

    def snapshot(self) -> PacerStats:
        """Current figures (rate, 429s, pauses, calls granted)."""

    async def aclose(self) -> None:
        """Release any resources; the pacer is not used afterwards."""


class NoPacer:
    """A pacer that never waits (tests and benchmarks against unlimited servers)."""

    def __init__(self) -> None:
        self._granted = 0
        self._rate_limited = 0

    async def acquire(self) -> None:
        """Return at once."""
        self._granted += 1

    async def on_rate_limited(self) -> None:
        """Count the 429 and do nothing else."""
        self._rate_limited += 1

    def snapshot(self) -> PacerStats:
        """Figures with an infinite rate."""
        return PacerStats(
            rate=math.inf,
            ceiling=math.inf,
            rate_limited=self._rate_limited,
            pauses=0,
            granted=self._granted,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


class LocalPacer:
    """Paces all the workers of one process, first come first served.

    Waiters queue on one FIFO lock; only the head holds a reservation, so a 429 reported while
    it sleeps (which moves the schedule) sends it back to sleep until the pause ends, and
    everyone behind it waits too. A cancelled waiter never committed its slot, so cancelling
    wastes nothing and does not disturb the others.
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        pause: float = DEFAULT_PAUSE,
        floor: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._state = PacingState.start(rate, pause=pause, floor=floor)
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._granted = 0
        self._rate_limited = 0
        self._pauses = 0

    def __repr__(self) -> str:
        state = getattr(self, "_state", None)  # None while __init__ runs (or after it raised)
        if state is None:
            return "LocalPacer(not configured)"
        return f"LocalPacer(rate={state.rate:.2f}, ceiling={state.adaptive.ceiling:.2f})"

    async def acquire(self) -> None:
        """Wait for this call's slot."""
        async with self._lock:
            while True:
                observed = self._state
                delay, planned = observed.reserve(self._clock())
                if delay > 0:
                    await self._sleep(delay)
                    if self._state is not observed:
                        # A 429 (or rate change) moved the schedule while we slept: plan again.
                        continue
                self._commit(planned)
                return

    def _commit(self, planned: PacingState) -> None:
        if planned.rate > self._state.rate:
            logger.info("pacing rate raised to %.2f calls/s after a quiet period", planned.rate)
        self._state = planned
        self._granted += 1

    def hold_until(self, moment: float) -> None:
        """Grant no slot before ``moment`` (clock seconds); no 429 is counted, the rate stays.

        For a shared pacer taking over from another schedule whose recent calls this one does
        not know (see ``RedisPacer``).
        """
        state = self._state
        self._state = attrs.evolve(state, gcra=state.gcra.paused_until(moment))

    async def on_rate_limited(self) -> None:
        """Pause everyone for the pause length from now and lower the rate."""
        now = self._clock()
        before = self._state
        after = before.rate_limited(now)
        self._state = after
        self._rate_limited += 1
        if before.paused_until <= now:
            self._pauses += 1
            logger.warning(
                "Kartra answered 429: pausing all calls for %.1f s, rate %.2f -> %.2f calls/s",
                after.pause,
                before.rate,
                after.rate,
            )

    def snapshot(self) -> PacerStats:
        """Current figures."""
        return PacerStats(
            rate=self._state.rate,
            ceiling=self._state.adaptive.ceiling,
            rate_limited=self._rate_limited,
            pauses=self._pauses,
            granted=self._granted,
        )

    async def aclose(self) -> None:
        """Nothing to release: an in-process pacer holds no resources."""
