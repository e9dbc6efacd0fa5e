"""CPU per call and throughput: raw aiohttp vs ``KartraClient`` against one server process.

The contenders post the same typical call to the same canned responder (a separate
process, see ``server``), in alternating order, ``reps`` times each at every concurrency:

* raw: an ``aiohttp.ClientSession`` posting pre-encoded bytes and reading the reply (what a
  hand-rolled loop does at best: no encoding, no decoding);
* hand-rolled (for reference): what an integrator typically writes: the request flattened
  to PHP-style keys, form-encoded by aiohttp (its ``FormData`` path), the reply parsed with
  ``json``;
* send: ``concurrency`` tasks each looping ``await client.send(call)``;
* stream: ``client.stream(calls, concurrency=...)``.

The client uses ``NoPacer`` (the server has no limit) and the default retry policy. Client
CPU is ``time.process_time()`` of this process over the measured calls (connections are
opened by a warm-up first); the server's CPU is read from its process. Ratios are taken per
A/B pair (the same repetition) and the median of those ratios is reported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp

from kartra_async import Credentials, KartraClient, LeadCall, NoPacer, encode
from kartra_async._protocol import to_request

from ._common import Table, Target, median, typical_call
from .case_codec import flatten
from .server import ServerProcess

_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "application/json, text/html;q=0.9, */*;q=0.1",
}
Runner = Callable[[str, dict[str, str], int, int], Coroutine[Any, Any, tuple[float, float]]]


async def _measure(
    warm: Callable[[], Coroutine[Any, Any, None]], work: Callable[[], Coroutine[Any, Any, None]]
) -> tuple[float, float]:
    await warm()
    cpu, wall = time.process_time(), time.perf_counter()
    await work()
    return time.process_time() - cpu, time.perf_counter() - wall


async def run_raw(
    url: str, creds: dict[str, str], concurrency: int, count: int
) -> tuple[float, float]:
    """Raw aiohttp posting pre-encoded bytes: (client CPU s, wall s) for ``count`` calls."""
    credentials = Credentials(**creds)
    bodies = [encode(typical_call(i), credentials) for i in range(count + concurrency)]
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> None:
            async with session.post(
                url, data=body, headers=_HEADERS, allow_redirects=False
            ) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"server answered {resp.status}")

        async def warm() -> None:
            await asyncio.gather(*(post(body) for body in bodies[count:]))

        async def work() -> None:
            items = iter(bodies[:count])

            async def worker() -> None:
                for body in items:
                    await post(body)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        return await _measure(warm, work)


async def run_handrolled(
    url: str, creds: dict[str, str], concurrency: int, count: int
) -> tuple[float, float]:
    """A typical hand-rolled loop: flatten the request, let aiohttp form-encode it, parse JSON."""
    nested = [{**creds, **to_request(typical_call(i))} for i in range(count + concurrency)]
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(request: dict[str, Any]) -> None:
            pairs: list[tuple[str, str]] = []
            flatten(request, "", pairs)
            async with session.post(url, data=pairs, allow_redirects=False) as resp:
                reply = await resp.json(content_type=None)
                if resp.status != 200 or reply.get("status") != "Success":
                    raise RuntimeError(f"server answered {resp.status}")

        async def warm() -> None:
            await asyncio.gather(*(post(request) for request in nested[count:]))

        async def work() -> None:
            items = iter(nested[:count])

            async def worker() -> None:
                for request in items:
                    await post(request)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        return await _measure(warm, work)


def _client(url: str, creds: dict[str, str]) -> KartraClient:
    return KartraClient(
        app_id=creds["app_id"],
        api_key=creds["api_key"],
        api_password=creds["api_password"],
        base_url=url,
        pacer=NoPacer(),
    )


async def run_send(
    url: str, creds: dict[str, str], concurrency: int, count: int
) -> tuple[float, float]:
    """``concurrency`` tasks looping ``client.send``: (client CPU s, wall s)."""
    calls = [typical_call(i) for i in range(count + concurrency)]
    async with _client(url, creds) as client:

        async def warm() -> None:
            await asyncio.gather(*(client.send(call) for call in calls[count:]))

        async def work() -> None:
            items = iter(calls[:count])

            async def worker() -> None:
                for call in items:
                    await client.send(call)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        return await _measure(warm, work)


async def run_stream(
    url: str, creds: dict[str, str], concurrency: int, count: int
) -> tuple[float, float]:
    """``client.stream(calls, concurrency=...)``: (client CPU s, wall s)."""
    calls: list[LeadCall] = [typical_call(i) for i in range(count + concurrency)]
    async with _client(url, creds) as client:

        async def warm() -> None:
            await asyncio.gather(*(client.send(call) for call in calls[count:]))

        async def work() -> None:
            failed = 0
            async with client.stream(calls[:count], concurrency=concurrency) as outcomes:
                async for outcome in outcomes:
                    failed += not outcome.ok
            if failed:
                raise RuntimeError(f"{failed} calls failed")

        return await _measure(warm, work)


CONTENDERS: dict[str, Runner] = {
    "raw": run_raw,
    "handrolled": run_handrolled,
    "send": run_send,
    "stream": run_stream,
}
_LABELS = {
    "handrolled": "hand-rolled aiohttp (dict form + json)",
    "send": "KartraClient send",
    "stream": "KartraClient stream",
}


def _run(
    runner: Runner, url: str, creds: dict[str, str], concurrency: int, count: int, uvloop: bool
) -> tuple[float, float]:
    factory = None
    if uvloop:
        import uvloop as uv

        factory = uv.new_event_loop
    with asyncio.Runner(loop_factory=factory) as loop_runner:
        return loop_runner.run(runner(url, creds, concurrency, count))


def measure(
    concurrencies: Sequence[int], reps: int, count: int, *, uvloop: bool = False
) -> dict[int, dict[str, list[dict[str, float]]]]:
    """Every contender at every concurrency, ``reps`` alternating rounds; raw samples."""
    samples: dict[int, dict[str, list[dict[str, float]]]] = {}
    with ServerProcess("canned") as server:
        creds = server.client_credentials()
        for concurrency in concurrencies:
            per = samples.setdefault(concurrency, {name: [] for name in CONTENDERS})
            names = list(CONTENDERS)
            for rep in range(reps):
                # Rotate the order each round so no contender always runs first (cache, heat).
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for name in order:
                    server_before = server.cpu()
                    cpu, wall = _run(
                        CONTENDERS[name], server.url, creds, concurrency, count, uvloop
                    )
                    per[name].append(
                        {
                            "cpu_us": cpu / count * 1e6,
                            "calls_per_s": count / wall,
                            "server_cpu_us": (server.cpu() - server_before) / count * 1e6,
                        }
                    )
    return samples


def _pair_ratios(a: list[dict[str, float]], b: list[dict[str, float]], key: str) -> list[float]:
    return [x[key] / y[key] for x, y in zip(a, b, strict=True)]


def tables(samples: dict[int, dict[str, list[dict[str, float]]]], *, label: str = "") -> Table:
    """The CPU and throughput table (medians, per-pair ratios against raw)."""
    reps = len(next(iter(samples.values()))["raw"])
    table = Table(
        f"CPU per call and throughput vs raw aiohttp{label} ({reps} alternating runs each, medians)",
        [
            "c",
            "client",
            "client CPU µs/call",
            "CPU ratio",
            "calls/s",
            "throughput ratio",
            "server CPU µs/call",
            "CPU target",
            "throughput target",
        ],
    )
    for concurrency, per in samples.items():
        raw = per["raw"]
        table.add(
            concurrency,
            "raw aiohttp (pre-encoded bytes)",
            median(s["cpu_us"] for s in raw),
            1.0,
            median(s["calls_per_s"] for s in raw),
            1.0,
            median(s["server_cpu_us"] for s in raw),
            "",
            "",
        )
        for name in ("handrolled", "send", "stream"):
            mine = per[name]
            cpu_ratio = median(_pair_ratios(mine, raw, "cpu_us"))
            speed_ratio = median(_pair_ratios(mine, raw, "calls_per_s"))
            ours = name != "handrolled"
            cpu_target: Target | str = ""
            if ours and concurrency == 50:
                cpu_target = Target("≤ 1.10 at c=50", cpu_ratio <= 1.10)
            table.add(
                concurrency,
                _LABELS[name],
                median(s["cpu_us"] for s in mine),
                cpu_ratio,
                median(s["calls_per_s"] for s in mine),
                speed_ratio,
                median(s["server_cpu_us"] for s in mine),
                cpu_target,
                Target("≥ 0.90", speed_ratio >= 0.90) if ours else "",
            )
    table.notes.append(
        "Server: a canned-reply asyncio responder in a separate process on 127.0.0.1 "
        "(its CPU per call is shown so it is visibly not the bottleneck)."
    )
    return table
