"""One process of the shared-pacing case: stream creates through a ``RedisPacer`` for a while.

``python -m benchmarks.redis_worker REDIS_URL SECONDS WORKER_NUMBER WORKERS``; the sandbox URL
and credentials come from the ``KARTRA_*`` environment. Prints one JSON line of counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from kartra_async import KartraClient
from kartra_async.bench import Recorder
from kartra_async.redis_pacer import RedisPacer

from .case_pacing import recording_client, stream_for


async def main(redis_url: str, seconds: float, number: int, workers: int) -> None:
    """Run one worker and print its counts."""
    pacer = RedisPacer.from_url(
        redis_url, app_id=os.environ["KARTRA_APP_ID"], expected_workers=workers
    )
    await pacer.connect()
    recorder = Recorder()
    url = os.environ["KARTRA_BASE_URL"]
    async with recording_client(url, recorder, KartraClient.from_env, pacer=pacer) as client:
        seen = await stream_for(client, recorder, seconds, 5, f"w{number}")
        stats = pacer.snapshot()
    report = {**seen, "granted": stats.granted, "degraded": stats.degraded}
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
