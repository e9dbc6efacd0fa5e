"""Seamless switches between shared and local pacing (issue 17 §7).

Reproduction of the attack: with Redis killed or frozen mid-run, the shared pacer let one 429
through at each switch between shared and local pacing (2, 1 and 4 in three runs). Here one and
then three clients, each with its own ``RedisPacer`` (own connection pool, own fallback), send
without pause against the sandbox's strict 20 calls/s sliding window while Redis is killed,
restarted empty, frozen (SIGSTOP) and thawed; the sandbox must answer no 429 at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from redis_server_process import RedisServer

from kartra_async import AccountCall, KartraClient, RateLimited, RetryPolicy
from kartra_async.redis_pacer import RedisPacer
from kartra_async.sandbox import Sandbox

pytestmark = [pytest.mark.redis, pytest.mark.slow]

RECONNECT = 1.0  # seconds between probes while local (short, to switch often in a short test)


async def _storm(server: RedisServer, clients: int) -> dict[str, int]:
    async with Sandbox(rate_limit=20) as sandbox:
        creds = sandbox.credentials
        pacers = [
            RedisPacer.from_url(
                server.url, app_id=creds.app_id, expected_workers=clients,
                reconnect_every=RECONNECT,
            )
            for _ in range(clients)
        ]
        stop = asyncio.Event()
        sent = [0] * clients
        degraded_seen = [False] * clients

        async def worker(index: int, client: KartraClient) -> None:
            call = AccountCall().retrieve_account_tags()
            while not stop.is_set():
                with contextlib.suppress(RateLimited):  # counted by the sandbox: want zero
                    await client.send(call)
                sent[index] += 1
                degraded_seen[index] |= client.pacer.snapshot().degraded

        async def chaos() -> None:
            await asyncio.sleep(1.5)
            server.kill()  # shared -> local
            await asyncio.sleep(2.0)
            server.start()  # local -> shared, on an empty Redis
            await asyncio.sleep(2.5)
            server.freeze()  # shared -> local through timeouts
            await asyncio.sleep(2.0)
            server.thaw()  # local -> shared, on the old schedule
            await asyncio.sleep(2.5)
            stop.set()

        clients_ = [
            KartraClient(
                app_id=creds.app_id, api_key=creds.api_key, api_password=creds.api_password,
                base_url=sandbox.url, pacer=pacer, retry=RetryPolicy.none(),
            )
            for pacer in pacers
        ]
        started = time.monotonic()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(chaos())
                for index, client in enumerate(clients_):
                    group.create_task(worker(index, client))
        finally:
            for client in clients_:
                await client.aclose()
        elapsed = time.monotonic() - started
        figures = {
            "clients": clients,
            "calls": sandbox.stats.calls,
            "rate_limited": sandbox.stats.rate_limited,
            "per_second_x10": round(10 * sum(sent) / elapsed),
            "degraded_clients": sum(degraded_seen),
        }
        print(f"\npacer switches: {figures}")
        return figures


@pytest.mark.parametrize("clients", [1, 3])
async def test_no_429_across_switches(redis_server: RedisServer, clients: int) -> None:
    figures = await _storm(redis_server, clients)
    assert figures["rate_limited"] == 0
    assert figures["degraded_clients"] == clients  # every client really paced locally
    assert figures["calls"] > 60  # and really kept calling through the switches
