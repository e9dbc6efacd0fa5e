"""Calls per lead against the sandbox: create + 3 actions, and upsert by share of existing leads.

Counts come from ``Progress.calls`` (every HTTP call the client made, retries included). The
sandbox runs in its own process with its limit off, so nothing is retried and the counts are
the strategy's own. For upsert, ``p`` of the leads are created first (not counted); then every
lead is upserted with the same 3 actions by a fresh client using the adaptive strategy, in a
seeded random order. The "best fixed strategy" column is min(1 + p, 2 - p): what create-first
(1 + p) or edit-first (2 - p) would cost if one knew p in advance.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from kartra_async import KartraClient, LeadCall, LeadRequest, NoPacer

from ._common import LIST, TAG, Table, Target, typical_call
from .server import ServerProcess


def _upsert(i: int, domain: str) -> LeadCall:
    lead = LeadRequest(email=f"lead{i}@{domain}", first_name="Ada", last_name="Lovelace")
    return lead.upsert().assign_tag(TAG).subscribe(LIST).give_points(10)


async def _stream(client: KartraClient, calls: list[LeadCall]) -> dict[str, Any]:
    async with client.stream(calls, concurrency=10) as outcomes:
        failed = sum([not outcome.ok async for outcome in outcomes])
        progress = outcomes.progress
    return {
        "leads": progress.done,
        "calls": progress.calls,
        "failed": failed,
        "created": progress.created,
        "updated": progress.updated,
    }


def table(count: int) -> tuple[Table, dict[str, Any]]:
    """Calls per lead for plain creates and for adaptive upserts at 0 %, 50 %, 95 % existing."""
    result = Table(
        "Calls per lead (sandbox, limit off)",
        [
            "case",
            "leads",
            "HTTP calls",
            "calls/lead",
            "created / updated",
            "best fixed strategy",
            "target",
        ],
    )
    raw: dict[str, Any] = {}
    with ServerProcess("sandbox", "--rate-limit", "off") as server:

        def client() -> KartraClient:
            return server.client(pacer=NoPacer())

        async def run() -> None:
            async with client() as plain:
                stats = await _stream(
                    plain, [typical_call(i, "calls.example") for i in range(count)]
                )
            raw["create+3"] = stats
            per = stats["calls"] / stats["leads"]
            result.add(
                "create_lead + tag + list + points",
                stats["leads"],
                stats["calls"],
                per,
                f"{stats['leads'] - stats['failed']} / 0",
                1.0,
                Target("1 call per lead", per == 1.0 and stats["failed"] == 0),
            )
            for share in (0.0, 0.5, 0.95):
                domain = f"upsert{int(share * 100)}.example"
                rng = random.Random(42)
                existing = sorted(rng.sample(range(count), int(count * share)))
                order = list(range(count))
                rng.shuffle(order)
                async with client() as seeding:
                    await _stream(
                        seeding, [LeadRequest(email=f"lead{i}@{domain}").create() for i in existing]
                    )
                async with client() as upserting:
                    stats = await _stream(upserting, [_upsert(i, domain) for i in order])
                raw[f"upsert-{share:.0%}"] = stats
                result.add(
                    f"upsert (adaptive), {share:.0%} already present",
                    stats["leads"],
                    stats["calls"],
                    stats["calls"] / stats["leads"],
                    f"{stats['created']} / {stats['updated']}",
                    min(1 + share, 2 - share),
                    "",
                )

        asyncio.run(run())
    return result, raw
