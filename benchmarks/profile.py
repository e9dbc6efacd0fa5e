"""Where the client's CPU goes: cProfile over ``stream`` through an in-process transport.

No network: the transport answers at once (see ``memory_child.CannedTransport``), so the
profile shows only the library's own work per call (encode, pacing, retry bookkeeping,
decode, the worker loop). Calls are built before profiling starts.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
from typing import Any

from kartra_async import KartraClient, NoPacer

from ._common import Table, typical_call
from .case_codec import sandbox_reply
from .memory_child import CannedTransport

TOP = 15


async def _stream(client: KartraClient, calls: list[Any]) -> None:
    async with client.stream(calls, concurrency=50) as outcomes:
        async for _ in outcomes:
            pass


def table(count: int) -> tuple[Table, list[dict[str, Any]]]:
    """The top functions by own time, per lead."""
    calls = [typical_call(i) for i in range(count)]
    transport = CannedTransport(sandbox_reply(typical_call(0)))
    client = KartraClient(
        app_id="app-bench",
        api_key="key-bench",
        api_password="pw-bench",
        transport=transport,
        pacer=NoPacer(),
    )

    async def run() -> pstats.Stats:
        async with client:
            await _stream(client, calls[:500])  # warm-up, not profiled
            profiler = cProfile.Profile()
            profiler.enable()
            await _stream(client, calls)
            profiler.disable()
        return pstats.Stats(profiler)

    stats = asyncio.run(run())
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in entries.values())
    rows = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    result = Table(
        f"Profile: stream of {count:,} typical calls, in-process transport, c=50 (cProfile, own time)",
        [
            "function",
            "calls per lead",
            "own µs per lead",
            "share of total",
            "cumulative µs per lead",
        ],
    )
    raw = []
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in rows:
        where = f"{_short(path)}:{line} {name}" if line else name
        result.add(
            where,
            ncalls / count,
            tottime / count * 1e6,
            f"{tottime / total:.0%}",
            cumtime / count * 1e6,
        )
        raw.append({"function": where, "ncalls": ncalls, "tottime": tottime, "cumtime": cumtime})
    result.notes.append(
        f"Total profiled CPU: {total / count * 1e6:.0f} µs per lead (cProfile inflates small "
        "functions; read shares, not absolute figures)."
    )
    return result, raw


def _short(path: str) -> str:
    for marker in ("kartra_async/", "site-packages/", "lib/python3"):
        at = path.find(marker)
        if at >= 0:
            return path[at:]
    return path
