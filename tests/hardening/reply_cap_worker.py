"""Subprocess for ``test_reply_cap``: posts to one hostile loopback URL and reports memory.

Run as ``python -m tests.hardening.reply_cap_worker URL CAP``. Prints one JSON object: the
error class, its failure, the peak of memory traced by ``tracemalloc`` during the hostile call
(every bytes object the client builds is in it) and the growth of the resident set (bytes), both
measured after a warm-up call has loaded everything and opened the connection pool.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tracemalloc

from kartra_async import AiohttpTransport, KartraError


def rss() -> int:
    """The resident set now, from /proc (ru_maxrss would hide growth under the import peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def main(base: str, cap: int) -> dict[str, object]:
    warm = AiohttpTransport(base + "/small", max_reply_bytes=cap)
    hostile = AiohttpTransport(base + "/hostile", max_reply_bytes=cap)
    try:
        await warm.post(b"x")
        before = rss()
        tracemalloc.start()
        peak_seen = 0
        stop = asyncio.Event()

        async def sample() -> None:
            nonlocal peak_seen
            while not stop.is_set():
                peak_seen = max(peak_seen, rss() - before)
                await asyncio.sleep(0.001)

        sampler = asyncio.create_task(sample())
        try:
            await hostile.post(b"x")
        except KartraError as exc:
            error, failure = type(exc).__name__, str(exc.failure)
        else:
            error, failure = "none", "none"
        _, traced = tracemalloc.get_traced_memory()
        stop.set()
        await sampler
        peak_seen = max(peak_seen, rss() - before)
        return {"error": error, "failure": failure, "traced_peak": traced, "rss_growth": peak_seen}
    finally:
        await warm.aclose()
        await hostile.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))))
