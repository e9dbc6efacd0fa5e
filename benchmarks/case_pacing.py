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
from collections.abc import Callable, Iterator
from typing import Any

from kartra_async import KartraClient, bench
from kartra_async._transport import AiohttpTransport
from kartra_async.bench import Recorder, RecordingTransport

from ._common import Table, Target, typical_call
from .server import ServerProcess

LATENCY = 0.2
LIMIT = 20


def recording_client(
    url: str, recorder: Recorder, factory: Callable[..., KartraClient], **options: Any
) -> KartraClient:
    """A client whose every HTTP call is timed into ``recorder`` (as ``kartra-async bench``)."""
    return factory(transport=RecordingTransport(AiohttpTransport(url), recorder), **options)


async def stream_for(
    client: KartraClient, recorder: Recorder, seconds: float, concurrency: int, prefix: str
) -> dict[str, Any]:
    """Stream creates for ``seconds`` with ``kartra_async.bench.run``, the measuring loop of
    ``kartra-async bench``: counts of outcomes, failures and 429s seen, and the client's side
    of the figures (calls/s, latency, retries)."""
    calls = (typical_call(i, f"{prefix}.example") for i in itertools.count())
    data = await bench.run(
        client, calls, recorder=recorder, duration=seconds, concurrency=concurrency
    )
    figures = bench.Figures.of(
        data,
        workload="create + 3 actions",
        leads=True,
        target=prefix,
        pacing="paced",
        concurrency=concurrency,
    )
    return {
        "done": data.tally.items,
        "failed": data.tally.failed,
        "rate_limited_seen": recorder.rate_limited,
        "client": {
            "calls": figures.calls,
            "calls_per_second": figures.calls_per_second,
            "latency_p50_ms": figures.latency.p50 * 1000,
            "latency_p99_ms": figures.latency.p99 * 1000,
            "retries": figures.retries,
        },
    }


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
            recorder = bench.Recorder()
            async with recording_client(server.url, recorder, server.client) as client:
                seen = await stream_for(client, recorder, seconds, 10, "pace")
            return {**seen, **await server.stats()}

        stats = asyncio.run(run())
    _row(table, "LocalPacer (default 19.6/s), 1 process, concurrency 10", stats, seconds, 19.5)
    client = stats["client"]
    table.notes.append(
        f"Client side (kartra_async.bench, as `kartra-async bench`): {client['calls_per_second']:.2f} "
        f"calls/s, latency p50 {client['latency_p50_ms']:.0f} ms, p99 {client['latency_p99_ms']:.0f} ms, "
        f"{client['retries']} retries."
    )
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
