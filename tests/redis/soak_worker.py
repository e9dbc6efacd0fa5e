"""One worker process of the multi-process soak test: create leads through a shared pacer.

Run as ``python soak_worker.py REDIS_URL WORKER_ID COUNT``; credentials and the sandbox URL
come from the ``KARTRA_*`` environment (never the command line, which other users can list).
Prints one JSON line: calls granted and 429s seen by this worker, and the span of its sends
on ``time.monotonic()`` (one system-wide clock on Linux, so the parent can combine them).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from kartra_async import KartraClient, LeadRequest
from kartra_async.redis_pacer import RedisPacer


async def main(redis_url: str, worker: int, count: int) -> None:
    pacer = RedisPacer.from_url(redis_url, app_id=os.environ["KARTRA_APP_ID"])
    await pacer.connect()
    async with KartraClient.from_env(pacer=pacer) as client:
        first = time.monotonic()
        for i in range(count):
            await client.send(LeadRequest(email=f"w{worker}-{i}@soak.example").create())
        last = time.monotonic()
        stats = pacer.snapshot()
    report = {"granted": stats.granted, "rate_limited": stats.rate_limited}
    print(json.dumps({**report, "first": first, "last": last}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
