"""RedisPacer against a real redis-server on 127.0.0.1 (started per test by the fixture).

Sleeps are recorded instead of slept, so the assertions are about the delays the shared
schedule hands out, bounded with Redis's own clock, never about wall-clock speed.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis
from redis_server_process import RedisServer, free_port

from kartra_async._errors import UsageError
from kartra_async._pacing import Pacer
from kartra_async.redis_pacer import RedisPacer

pytestmark = pytest.mark.redis


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def redis_now(url: str) -> float:
    client = Redis.from_url(url)
    try:
        seconds, micros = await client.time()
        return seconds + micros / 1e6
    finally:
        await client.aclose()


async def test_unreachable_redis_at_start_is_a_clear_usage_error() -> None:
    port = free_port()
    pacer = RedisPacer.from_url(f"redis://:s3cret@127.0.0.1:{port}/0", app_id="app", timeout=0.5)
    try:
        with pytest.raises(UsageError) as acquired:
            await pacer.acquire()
        with pytest.raises(UsageError) as connected:
            await pacer.connect()
    finally:
        await pacer.aclose()
    for message in (str(acquired.value), str(connected.value)):
        assert f"127.0.0.1:{port}" in message
        assert "s3cret" not in message


async def test_workers_with_separate_connections_share_one_schedule(
    redis_server: RedisServer,
) -> None:
    rate, per_worker = 10.0, 8
    sleeps = [RecordedSleep() for _ in range(3)]
    pacers = [
        RedisPacer.from_url(redis_server.url, app_id="app", rate=rate, sleep=s.sleep)
        for s in sleeps
    ]
    assert all(isinstance(p, Pacer) for p in pacers)
    started = await redis_now(redis_server.url)
    try:
        await asyncio.gather(*(p.acquire() for p in pacers for _ in range(per_worker)))
    finally:
        ended = await redis_now(redis_server.url)
        for p in pacers:
            await p.aclose()
    n = len(pacers) * per_worker
    delays = sorted(d for s in sleeps for d in s.delays)
    # Every call but the very first waited for a later slot of the one shared schedule.
    assert len(delays) >= n - 1
    assert max(delays) <= (n - 1) / rate + 1e-6
    assert max(delays) >= (n - 1) / rate - (ended - started)
    assert sum(p.snapshot().granted for p in pacers) == n


async def test_a_429_in_one_worker_pauses_the_others(redis_server: RedisServer) -> None:
    sleep_b = RecordedSleep()
    a = RedisPacer.from_url(redis_server.url, app_id="app", rate=10.0, sleep=RecordedSleep().sleep)
    b = RedisPacer.from_url(redis_server.url, app_id="app", rate=10.0, sleep=sleep_b.sleep)
    try:
        await a.acquire()
        seen = await redis_now(redis_server.url)
        await a.on_rate_limited()
        await b.acquire()
        asked = await redis_now(redis_server.url)
    finally:
        await a.aclose()
        await b.aclose()
    assert sleep_b.delays
    assert sleep_b.delays[-1] >= 1.0 - (asked - seen)
    assert b.snapshot().rate == pytest.approx(8.0)
    assert (a.snapshot().pauses, a.snapshot().rate_limited) == (1, 1)
    assert b.snapshot().pauses == 0


async def test_keys_expire_and_hide_the_app_id(redis_server: RedisServer) -> None:
    pacer = RedisPacer.from_url(redis_server.url, app_id="my-app-id", ttl=30.0)
    client = Redis.from_url(redis_server.url)
    try:
        await pacer.acquire()
        await pacer.on_rate_limited()
        names = await client.keys("*")
        ttls = [await client.pttl(name) for name in names]
    finally:
        await pacer.aclose()
        await client.aclose()
    assert len(names) == 2
    assert all(b"my-app-id" not in name for name in names)
    assert all(0 < ttl <= 32_000 for ttl in ttls)


async def test_lost_redis_falls_back_to_a_conservative_rate_then_shares_again(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kartra_async")
    clock, recorded = ManualClock(), RecordedSleep()
    pacer = RedisPacer.from_url(
        redis_server.url,
        app_id="app",
        rate=20.0,
        expected_workers=4,
        reconnect_every=5.0,
        clock=clock,
        sleep=recorded.sleep,
    )
    try:
        await pacer.acquire()
        redis_server.stop()
        await pacer.acquire()
        await pacer.acquire()
        degraded = pacer.snapshot()
        # The first local slot waits one window (SWITCH_HOLD) after the loss; then 1/5 s apart.
        hold, fallback_delay = recorded.delays[-2], recorded.delays[-1] - recorded.delays[-2]

        redis_server.start()
        for _ in range(3):  # the first probe may meet the connection the restart broke
            clock.now += 5.0
            await pacer.acquire()
            if not pacer.snapshot().degraded:
                break
        recovered = pacer.snapshot()
    finally:
        await pacer.aclose()
    assert degraded.degraded
    assert degraded.rate == pytest.approx(5.0)
    assert hold == pytest.approx(1.0)
    assert fallback_delay == pytest.approx(1 / 5.0)
    assert not recovered.degraded
    assert recovered.granted >= 4
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "lost Redis" in m]) == 1
    assert any("is back" in m for m in messages)


async def test_a_closed_pacer_refuses_calls(redis_server: RedisServer) -> None:
    pacer = RedisPacer.from_url(redis_server.url, app_id="app")
    async with pacer:
        await pacer.acquire()
    with pytest.raises(UsageError):
        await pacer.acquire()
    await pacer.aclose()
