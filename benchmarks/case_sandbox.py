"""The sandbox itself: create_lead calls per CPU-second of its process, and memory per lead.

Throughput: the sandbox (limit off) in its own process, driven by raw aiohttp at concurrency
50 with pre-encoded create_lead calls (8 fields, no other action); the sandbox's CPU time
comes from its process, so "calls/s on one core" is calls per second of its CPU.

Memory: in a fresh process (``python -m benchmarks.case_sandbox N``), ``tracemalloc`` measures
what the account retains after processing N create_lead requests through the engine.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import aiohttp

from kartra_async import Credentials, LeadRequest, encode
from kartra_async._form import parse_query
from kartra_async.sandbox import SandboxCredentials, default_account, process

from ._common import Table, Target
from .server import ServerProcess

_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def create_only(i: int) -> Any:
    """create_lead alone, with the typical call's 8 lead fields."""
    return LeadRequest(
        email=f"sb{i}@sandbox.example",
        first_name="Ada",
        last_name="Lovelace",
        phone="5551234567",
        company="Analytical Engines & Co",
        city="London",
        country="GB",
        zip="N1 9GU",
    ).create()


async def _drive(url: str, bodies: list[bytes], concurrency: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        items = iter(bodies)

        async def worker() -> None:
            for body in items:
                async with session.post(url, data=body, headers=_HEADERS) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def retained_per_lead(count: int) -> dict[str, float]:
    """Bytes the account retains per lead after ``count`` create_lead requests (tracemalloc)."""
    secrets = SandboxCredentials.generate()
    credentials = Credentials(**secrets.as_dict())
    account = default_account()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        form = parse_query(encode(create_only(i), credentials))
        process(account, form, credentials=secrets, now=account.now())
    del form
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"leads": len(account.leads), "bytes_per_lead": (after - before) / count}


def table(count: int, memory_count: int) -> tuple[Table, dict[str, Any]]:
    """Sandbox throughput on one core and memory per stored lead."""
    secrets = SandboxCredentials.generate()
    credentials = Credentials(**secrets.as_dict())
    bodies = [encode(create_only(i), credentials) for i in range(count)]
    warm = [encode(create_only(i), credentials) for i in range(count, count + 200)]
    with ServerProcess("sandbox", "--rate-limit", "off", credentials=secrets) as server:
        asyncio.run(_drive(server.url, warm, 50))
        cpu = server.cpu()
        wall = asyncio.run(_drive(server.url, bodies, 50))
        cpu = server.cpu() - cpu
        leads = asyncio.run(server.stats())["leads"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.case_sandbox", str(memory_count)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    memory = json.loads(out.strip().splitlines()[-1])
    per_core = count / cpu
    result = Table(
        "Sandbox: create_lead throughput and memory per stored lead (limit off)",
        ["figure", "value", "target"],
    )
    result.add(
        "create_lead calls per CPU-second of the sandbox process",
        per_core,
        Target("≥ 3,000/s", per_core >= 3000),
    )
    result.add("create_lead calls/s wall (client at c=50 sharing the 2 cores)", count / wall, "")
    result.add("sandbox CPU µs per create_lead", cpu / count * 1e6, "")
    result.add(
        f"bytes retained per stored lead ({memory_count:,} leads, tracemalloc)",
        memory["bytes_per_lead"],
        Target("< 1 KB", memory["bytes_per_lead"] < 1024),
    )
    raw = {"calls": count, "cpu_s": cpu, "wall_s": wall, "leads_stored": leads, **memory}
    return result, raw


if __name__ == "__main__":
    print(json.dumps(retained_per_lead(int(sys.argv[1]))))
