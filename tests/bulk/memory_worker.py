"""Run N calls through ``stream`` over an in-process transport; print the RSS growth in bytes.

Run in a fresh interpreter by ``test_memory.py``: ``python memory_worker.py N``. A short
warm-up run comes first so that imports, the event loop and the allocator's pools are in
place before the baseline is taken.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Iterator

import psutil

from kartra_async import KartraClient, LeadCall, LeadRequest, NoPacer, RawResponse

WARM_UP = 5_000
_REPLY = json.dumps(
    {
        "status": "Success",
        "message": "Lead found",
        "actions": [
            {"search_lead": {"status": "Success", "lead_details": {"id": "1"}}},
            {"assign_tag": {"status": "Success", "type": 103}},
        ],
    }
).encode()


class CannedTransport:
    """A transport that answers every post with the same success, without any I/O."""

    def __init__(self) -> None:
        self.posts = 0

    async def post(self, body: bytes) -> RawResponse:
        """Count the post and answer success."""
        self.posts += 1
        return RawResponse(200, _REPLY)

    async def aclose(self) -> None:
        """Nothing to release."""


def calls(count: int) -> Iterator[LeadCall]:
    """``count`` distinct calls, generated lazily as a file reader would."""
    return (
        LeadRequest(email=f"lead{number}@memory.example").search().assign_tag("VIP")
        for number in range(count)
    )


async def run(client: KartraClient, count: int) -> int:
    """Stream ``count`` calls and return how many succeeded."""
    ok = 0
    async with client.stream(calls(count), concurrency=8) as outcomes:
        async for outcome in outcomes:
            ok += outcome.ok
    return ok


async def main(count: int) -> dict[str, int]:
    """Warm up, take the baseline, run ``count`` calls, measure again."""
    transport = CannedTransport()
    process = psutil.Process()
    async with KartraClient(
        app_id="app", api_key="key", api_password="pw", transport=transport, pacer=NoPacer()
    ) as client:
        await run(client, WARM_UP)
        gc.collect()
        before = process.memory_info().rss
        ok = await run(client, count)
        gc.collect()
        after = process.memory_info().rss
    return {"ok": ok, "posts": transport.posts - WARM_UP, "growth": after - before}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
