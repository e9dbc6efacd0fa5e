"""Share one App's 20 calls/s between processes and machines through Redis.

Kartra's limit belongs to the App, so two processes each pacing at 20/s get 429s. A
:class:`RedisPacer` keeps the App's schedule in Redis (one Lua script, Redis's own clock, see
``_redis_gcra``); every process using the same Redis and ``app_id`` draws from it::

    pacer = RedisPacer.from_url("redis://localhost:6379/0", app_id=app_id)
    async with KartraClient(app_id=app_id, ..., pacer=pacer) as client:
        ...

Needs the ``redis`` extra: ``pip install 'kartra-async[redis]'``.

Failure behaviour: if Redis cannot be reached when the pacer is first used, a ``UsageError``
says so. If it is lost later, the pacer warns once and paces locally at a conservative
``fallback_rate`` (by default ``rate / expected_workers``, so the workers together still stay
under the budget), probing Redis every ``reconnect_every`` seconds, and shares again as soon
as it answers.

Switching without a 429 either way (a switch is where the two schedules meet, and neither knows
the other's recent calls):

* shared → local: the local schedule grants nothing for one window (``SWITCH_HOLD``, Kartra's
  one second) after the loss is noticed, so the shared slots already handed out, by this
  process or any other, have left Kartra's window before local calls start;
* local → shared: a worker back from local pacing keeps pacing locally too (its local slot
  first, then a shared one) and tells Redis, which puts *every* worker in a rejoin period of
  ``reconnect_every + SWITCH_HOLD`` seconds with the same rule: long enough for the workers
  still pacing locally to probe and come back, so no worker takes the full shared rate while
  another still spends its local share.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from ._errors import UsageError
from ._pacing import DEFAULT_PAUSE, DEFAULT_RATE, Clock, LocalPacer, PacerStats, Sleep
from ._redis_gcra import GCRA_SCRIPT, SharedParams, SharedResult, keys_for

try:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("RedisPacer needs redis-py: pip install 'kartra-async[redis]'") from exc

__all__ = ["RedisPacer"]

logger = logging.getLogger(__name__)

#: Fail fast: a pacer that hangs on a dead Redis stalls every worker behind it.
DEFAULT_REDIS_TIMEOUT: Final = 1.0
#: Kartra's window (seconds): what separates calls of two schedules that cannot see each other.
SWITCH_HOLD: Final = 1.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisPacer:
    """A :class:`~kartra_async.Pacer` whose schedule lives in Redis, shared by every process.

    Slots are evenly spaced at ``rate`` calls/s for the whole App with no burst; a 429 seen by
    any worker pauses all of them for ``pause`` seconds and lowers the shared rate, which climbs
    back once 429s stop. Within one process, callers queue first come first served and hold at
    most one reservation at a time, so a pause reaches all but that one at once.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        app_id: str,
        rate: float = DEFAULT_RATE,
        floor: float | None = None,
        pause: float = DEFAULT_PAUSE,
        expected_workers: int = 4,
        fallback_rate: float | None = None,
        reconnect_every: float = 5.0,
        ttl: float = 60.0,
        key_prefix: str = "kartra_async",
        owns_redis: bool = False,
        where: str = "redis",
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not app_id:
            raise UsageError("app_id is required: Kartra's limit is per App")
        if expected_workers < 1:
            raise UsageError(f"expected_workers must be at least 1, got {expected_workers!r}")
        if fallback_rate is None:
            fallback_rate = rate / expected_workers
        # LocalPacer validates rate, floor and pause; the fallback is also the local pause
        # record while Redis is away.
        self._fallback = LocalPacer(
            fallback_rate,
            pause=pause,
            floor=min(fallback_rate, floor or rate / 10),
            clock=clock,
            sleep=sleep,
        )
        self._params = SharedParams(
            ceiling=rate, floor=rate / 10 if floor is None else floor, pause=pause, ttl=ttl
        )
        self._redis = redis
        self._script = redis.register_script(GCRA_SCRIPT)
        self._keys = list(keys_for(key_prefix, app_id))
        self._owns_redis = owns_redis
        self._where = where
        self._reconnect_every = reconnect_every
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._connected_once = False
        self._degraded = False
        self._next_probe = 0.0
        #: Until then (this pacer's clock) every call also takes a local slot (a rejoin period).
        self._cautious_until = 0.0
        self._closed = False
        # Bumped by every 429 seen here, so a caller asleep on its slot knows to plan again.
        self._epoch = 0
        self._rate = rate
        self._granted = 0
        self._rate_limited = 0
        self._pauses = 0

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        app_id: str,
        rate: float = DEFAULT_RATE,
        timeout: float = DEFAULT_REDIS_TIMEOUT,
        **options: Any,
    ) -> RedisPacer:
        """A pacer on a new connection pool to ``url`` (closed by :meth:`aclose`).

        Nothing is contacted yet: the first :meth:`acquire` (or :meth:`connect`) does, and
        raises ``UsageError`` if Redis cannot be reached. ``options`` are the keyword arguments
        of the constructor (``expected_workers``, ``fallback_rate``, ``pause``, ...).
        """
        client = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # No hidden retries: on failure the pacer falls back at once instead of stalling.
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client, app_id=app_id, rate=rate, owns_redis=True, where=_redact(url), **options)

    def __repr__(self) -> str:
        if not hasattr(self, "_rate"):  # __init__ raised before setting it
            return "RedisPacer(not configured)"
        state = "degraded" if getattr(self, "_degraded", False) else "shared"
        return f"RedisPacer({getattr(self, '_where', '?')}, rate={self._rate:.2f}, {state})"

    async def __aenter__(self) -> RedisPacer:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Check now that Redis answers; ``UsageError`` if it does not."""
        self._check_open()
        try:
            await self._redis.ping()
        except _UNREACHABLE as exc:
            raise self._unreachable(exc) from exc
        self._connected_once = True

    async def acquire(self) -> None:
        """Wait for this call's slot in the App's shared schedule."""
        async with self._lock:
            while True:
                self._check_open()
                epoch = self._epoch
                # While local (a probe may bring Redis back) or rejoining, this process's local
                # share comes first: a shared slot is then never closer to its local calls.
                local = self._degraded or self._clock() < self._cautious_until
                if local:
                    await self._fallback.acquire()
                result = await self._shared("acquire")
                if result is None:
                    if not local:
                        await self._fallback.acquire()
                    break
                self._note_rate(result.rate)
                if result.rejoin > 0:
                    self._cautious_until = max(self._cautious_until, self._clock() + result.rejoin)
                if result.delay > 0:
                    await self._sleep(result.delay)
                if self._epoch == epoch:
                    break
                # A 429 was seen here while we slept: this slot falls inside the pause.
            self._granted += 1

    async def on_rate_limited(self) -> None:
        """Pause every worker of the App (through Redis) and lower the shared rate."""
        self._check_open()
        self._epoch += 1
        self._rate_limited += 1
        result = await self._shared("pause")
        if result is None:
            # Redis is away: the local fallback pauses (and logs) for this process.
            before = self._fallback.snapshot().pauses
            await self._fallback.on_rate_limited()
            self._pauses += self._fallback.snapshot().pauses - before
            return
        if result.started:
            self._pauses += 1
            logger.warning(
                "Kartra answered 429: pausing all workers of this App for %.1f s, "
                "shared rate %.2f -> %.2f calls/s",
                result.delay,
                self._rate,
                result.rate,
            )
        self._rate = result.rate

    def snapshot(self) -> PacerStats:
        """Current figures; ``degraded`` while Redis is away and pacing is local."""
        rate = self._fallback.snapshot().rate if self._degraded else self._rate
        return PacerStats(
            rate=rate,
            ceiling=self._params.ceiling,
            rate_limited=self._rate_limited,
            pauses=self._pauses,
            granted=self._granted,
            degraded=self._degraded,
        )

    async def aclose(self) -> None:
        """Close the Redis connection pool if this pacer opened it; idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._fallback.aclose()
        if self._owns_redis:
            await self._redis.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("this RedisPacer is closed")

    def _unreachable(self, exc: BaseException) -> UsageError:
        return UsageError(f"cannot reach Redis at {self._where} for pacing: {exc}")

    def _note_rate(self, rate: float) -> None:
        if rate > self._rate:
            logger.info("shared pacing rate raised to %.2f calls/s after a quiet period", rate)
        self._rate = rate

    async def _shared(self, op: str) -> SharedResult | None:
        """Run the script; None when Redis is away and the local fallback must pace."""
        if self._degraded and self._clock() < self._next_probe:
            return None
        # A call made while degraded is a probe: if it succeeds, this worker is rejoining.
        rejoin = self._reconnect_every + SWITCH_HOLD if self._degraded else 0.0
        try:
            reply = await self._script(keys=self._keys, args=self._params.argv(op, rejoin=rejoin))
        except _UNREACHABLE as exc:
            if not self._connected_once:
                raise self._unreachable(exc) from exc
            if not self._degraded:
                logger.warning(
                    "lost Redis at %s (%s): pacing locally at %.2f calls/s until it returns",
                    self._where,
                    type(exc).__name__,
                    self._fallback.snapshot().rate,
                )
                # Shared slots already handed out (here or elsewhere) may still be in Kartra's
                # window: the local schedule starts one window after the loss was noticed.
                self._fallback.hold_until(self._clock() + SWITCH_HOLD)
            self._degraded = True
            self._next_probe = self._clock() + self._reconnect_every
            return None
        if self._degraded:
            logger.warning("Redis at %s is back: sharing the App's rate again", self._where)
            self._degraded = False
        self._connected_once = True
        return SharedResult.parse(reply)
