"""Issue 7's acceptance test: 4 OS processes, one App, one sandbox limited to 20 calls/s.

Each process paces through the same Redis; the sandbox's strict sliding window must never
answer 429. About 20 s by design (the point is sustained sharing), hence ``slow``. The
aggregate rate is printed for the README; speed itself is asserted only in benchmarks/.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from redis_server_process import RedisServer

from kartra_async.sandbox import Sandbox

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WORKERS = 4
LEADS_PER_WORKER = int(os.environ.get("KARTRA_SOAK_LEADS_PER_WORKER", "100"))
WORKER_SCRIPT = Path(__file__).with_name("soak_worker.py")


async def test_four_processes_share_twenty_calls_per_second(redis_server: RedisServer) -> None:
    async with Sandbox(rate_limit=20) as sandbox:
        creds = sandbox.credentials
        env = {
            **os.environ,
            "KARTRA_APP_ID": creds.app_id,
            "KARTRA_API_KEY": creds.api_key,
            "KARTRA_API_PASSWORD": creds.api_password,
            "KARTRA_BASE_URL": sandbox.url,
        }
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER_SCRIPT),
                redis_server.url,
                str(w),
                str(LEADS_PER_WORKER),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for w in range(WORKERS)
        ]
        results = [await p.communicate() for p in procs]
        for proc, (_, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in results]
        total = WORKERS * LEADS_PER_WORKER
        span = max(r["last"] for r in reports) - min(r["first"] for r in reports)
        print(
            f"\n{total} calls from {WORKERS} processes over {span:.1f} s: "
            f"{total / span:.2f} calls/s aggregate, {sandbox.stats.rate_limited} 429s"
        )
        assert sandbox.stats.rate_limited == 0
        assert sum(r["rate_limited"] for r in reports) == 0
        assert sum(r["granted"] for r in reports) == total
        assert sandbox.stats.cmds["create_lead"] == total
