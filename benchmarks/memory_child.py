"""One memory measurement, in a fresh process: stream N leads through an in-process transport.

``python -m benchmarks.memory_child N CONCURRENCY`` prints one JSON line: RSS after start-up
and warm-up, peak RSS (``ru_maxrss``), CPU seconds and outcomes. The transport answers every
call with the sandbox's reply to a typical call, at once; the pacer is ``NoPacer``: what is
measured is the client's own memory as the input grows, nothing else.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

import psutil  # type: ignore[import-untyped]

from kartra_async import KartraClient, NoPacer, RawResponse

from ._common import typical_call
from .case_codec import sandbox_reply


class CannedTransport:
    """A ``Transport`` that answers every post with the same success reply."""

    def __init__(self, body: bytes) -> None:
        self._response = RawResponse(200, body)
        self.posts = 0

    async def post(self, body: bytes) -> RawResponse:
        """Return the canned reply."""
        self.posts += 1
        return self._response

    async def aclose(self) -> None:
        """Nothing to release."""


async def run(count: int, concurrency: int) -> dict[str, float]:
    """Stream ``count`` generated leads; figures for the JSON line."""
    transport = CannedTransport(sandbox_reply(typical_call(0)))
    client = KartraClient(
        app_id="app-bench",
        api_key="key-bench",
        api_password="pw-bench",
        transport=transport,
        pacer=NoPacer(),
    )
    async with client:
        # Warm up (imports, first allocations) before the baseline is read.
        async with client.stream(
            (typical_call(i) for i in range(1000)), concurrency=concurrency
        ) as out:
            async for _ in out:
                pass
        baseline = psutil.Process().memory_info().rss
        cpu = time.process_time()
        ok = 0
        leads = (typical_call(i) for i in range(count))
        async with client.stream(leads, concurrency=concurrency) as outcomes:
            async for outcome in outcomes:
                ok += outcome.ok
        cpu = time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "leads": count,
        "ok": ok,
        "baseline_rss_mb": baseline / 2**20,
        "peak_rss_mb": peak_kb / 1024,
        "cpu_s": cpu,
        "cpu_us_per_lead": cpu / count * 1e6,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(int(sys.argv[1]), int(sys.argv[2])))))
