"""Pacing against the sandbox's strict 20-per-sliding-second limit, in one and several processes.

The sandbox runs in its own process with 200 ms added to every call; its limiter is wrapped to
record every arrival, so the most calls in any one second and the achieved rate are measured
where Kartra would count them, not where the client thinks it sent them.

* one process: ``KartraClient`` with its default ``LocalPacer`` streaming creates;
* several processes: each a ``KartraClient`` with a ``RedisPacer`` on one ``redis-server``
  (skipped when ``redis-server`` is not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from kartra_async import KartraClient

from ._common import Table, Target, typical_call
from .server import ServerProcess

LATENCY = 0.2
LIMIT = 20


async def stream_for(
    client: KartraClient, seconds: float, concurrency: int, prefix: str
) -> dict[str, int]:
    """Stream creates for ``seconds``; counts of outcomes, failures and 429s seen."""
    calls = (typical_call(i, f"{prefix}.example") for i in itertools.count())
    deadline = time.monotonic() + seconds
    done = failed = 0
    async with client.stream(calls, concurrency=concurrency) as outcomes:
        async for outcome in outcomes:
            done += 1
            failed += not outcome.ok
            if time.monotonic() >= deadline:
                break
        rate_limited = outcomes.progress.rate_limited
    return {"done": done, "failed": failed, "rate_limited_seen": rate_limited}


def _sandbox(*extra: str) -> ServerProcess:
    return ServerProcess("sandbox", "--rate-limit", str(LIMIT), "--latency", str(LATENCY), *extra)


def _row(table: Table, name: str, stats: dict[str, Any], seconds: float, target: float) -> None:
    rate = stats["steady_rate"]
    table.add(
        name,
        seconds,
        rate,
        stats["rate_limited"],
        stats["max_in_1s"],
        Target(f"≥ {target} calls/s and zero 429s", rate >= target and stats["rate_limited"] == 0),
    )


def local(seconds: float) -> tuple[Table, dict[str, Any]]:
    """One process, default ``LocalPacer``."""
    table = Table(
        f"Pacing against a strict {LIMIT}/s sliding window with {LATENCY * 1000:.0f} ms latency",
        ["pacer", "seconds", "calls/s (server side)", "429s", "most calls in any 1 s", "target"],
    )
    with _sandbox() as server:

        async def run() -> dict[str, Any]:
            async with server.client() as client:
                seen = await stream_for(client, seconds, 10, "pace")
            return {**seen, **await server.stats()}

        stats = asyncio.run(run())
    _row(table, "LocalPacer (default 19.6/s), 1 process, concurrency 10", stats, seconds, 19.5)
    return table, stats


# --- several processes through Redis --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away ``redis-server`` on a free loopback port (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 5
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=5)


def shared(seconds: float, workers: int) -> tuple[Table | None, dict[str, Any]]:
    """``workers`` processes sharing the App's rate through ``RedisPacer``."""
    if shutil.which("redis-server") is None:
        return None, {"skipped": "redis-server not installed"}
    table = Table(
        f"Shared pacing: {workers} processes through RedisPacer, strict {LIMIT}/s window, "
        f"{LATENCY * 1000:.0f} ms latency",
        ["pacer", "seconds", "calls/s (server side)", "429s", "most calls in any 1 s", "target"],
    )
    with redis_server() as redis_url, _sandbox() as server:
        env = {**os.environ, **server.credentials.as_env(), "KARTRA_BASE_URL": server.url}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.redis_worker",
                    redis_url,
                    str(seconds),
                    str(n),
                    str(workers),
                ],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=root,
            )
            for n in range(workers)
        ]
        reports = []
        for proc in procs:
            out, _ = proc.communicate(timeout=seconds + 60)
            reports.append(json.loads(out.strip().splitlines()[-1]))
        stats = {**asyncio.run(server.stats()), "workers": reports}
    _row(table, f"RedisPacer (19.6/s shared), {workers} processes", stats, seconds, 19.0)
    return table, stats
