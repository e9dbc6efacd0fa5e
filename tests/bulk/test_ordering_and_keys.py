"""Per-lead ordering, caller keys and failure classes of ``stream`` (issue 12, items 4-6)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from kartra_async import (
    ConfigurationError,
    KartraClient,
    LeadRequest,
    NoPacer,
    UpsertCall,
)
from kartra_async.sandbox import FaultKind, FaultRule, Faults, Sandbox, export_account

from .support import client_for

EMAILS = [f"Repeat{n}@Example.com" for n in range(5)]


def repeated_rows(seed: int) -> list[UpsertCall]:
    """40 upserts over 5 leads, emails in random case: each lead's rows in a random order."""
    rng = random.Random(seed)
    rows = []
    for number in range(40):
        address = rng.choice(EMAILS)
        address = address.lower() if rng.random() < 0.5 else address
        call = LeadRequest(email=address, first_name=f"row{number}", city=f"c{number % 3}").upsert()
        rows.append(call.assign_tag("VIP") if number % 2 else call.subscribe("Newsletter"))
    return rows


async def final_state(rows: list[UpsertCall], *, faults: Faults | None, concurrency: int) -> str:
    async with Sandbox(rate_limit=None, faults=faults, seed=3) as sandbox:
        async with client_for(sandbox) as client:
            if concurrency == 1:
                for row in rows:
                    await client.send(row)
            else:
                async with client.stream(rows, concurrency=concurrency) as outcomes:
                    async for outcome in outcomes:
                        assert outcome.ok, outcome.error
        return export_account(sandbox.account, stable=True)


@pytest.mark.parametrize("run", range(20))
async def test_repeated_leads_end_as_a_one_at_a_time_run_would_leave_them(run: int) -> None:
    rows = repeated_rows(run)
    expected = await final_state(rows, faults=None, concurrency=1)
    faults = Faults(
        FaultRule(FaultKind.LATENCY, probability=0.7, delay=(0.0, 0.01)),
        FaultRule(FaultKind.RESET_BEFORE, probability=0.05),
        FaultRule(FaultKind.RESET_AFTER, probability=0.05),
        FaultRule(FaultKind.HTTP_502, probability=0.05),
        seed=run,
    )

    got = await final_state(rows, faults=faults, concurrency=8)

    # The last row for each lead wins, whatever the faults and latencies.
    assert got == expected


async def test_calls_for_one_lead_never_overlap(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(FaultKind.LATENCY, delay=(0.0, 0.005)))
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    async with client_for(sandbox) as client:
        send_attempt = client._send_attempt

        async def watched(call: object, attempt: int) -> object:
            address = str(getattr(getattr(call, "lead", None), "email", "")).lower()
            active[address] = active.get(address, 0) + 1
            peak[address] = max(peak.get(address, 0), active[address])
            try:
                return await send_attempt(call, attempt)  # type: ignore[arg-type]
            finally:
                active[address] -= 1

        client._send_attempt = watched  # type: ignore[method-assign]
        calls = [LeadRequest(email=EMAILS[n % 2]).upsert().assign_tag("VIP") for n in range(30)]
        async with client.stream(calls, concurrency=8) as outcomes:
            assert all([outcome.ok async for outcome in outcomes])

    assert peak == {EMAILS[0].lower(): 1, EMAILS[1].lower(): 1}


async def test_caller_keys_come_back_on_every_outcome(client: KartraClient) -> None:
    pairs = [(f"row-{n}", LeadRequest(email=f"key{n}@example.com").create()) for n in range(12)]
    pairs.append(("dup", LeadRequest(email="key0@example.com").create()))

    async with client.stream(pairs, concurrency=4) as outcomes:
        by_key = {outcome.key: outcome async for outcome in outcomes}

    assert set(by_key) == {key for key, _ in pairs}
    assert all(by_key[f"row-{n}"].ok for n in range(12))
    # The repeated lead ran after the first one (same lane) and met Kartra's 244.
    assert by_key["dup"].failure == "rejected"
    assert by_key["dup"].call == pairs[-1][1]


async def test_a_key_function_labels_outcomes(client: KartraClient) -> None:
    calls = [LeadRequest(email=f"fn{n}@example.com").create() for n in range(5)]

    outcomes = await client.send_many(calls)
    assert all(outcome.key is None for outcome in outcomes)

    async with client.stream(calls, key=lambda call: call.lead.email) as stream:  # type: ignore[union-attr]
        keys = sorted([outcome.key async for outcome in stream])
    assert keys == sorted(call.lead.email for call in calls)


async def test_a_refused_connection_is_not_sent_and_says_so() -> None:
    async with Sandbox(rate_limit=None) as sandbox:
        url = sandbox.url
        credentials = sandbox.credentials
    # The sandbox is gone: nothing listens on its port any more.
    async with KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        base_url=url,
        pacer=NoPacer(),
        retry=client_retry(),
    ) as client:
        outcomes = await client.send_many([LeadRequest(email="x@example.com").create().give_points(3)])

    assert outcomes[0].failure == "not_sent"
    assert not outcomes[0].unknown


def client_retry() -> object:
    from kartra_async import RetryPolicy

    return RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)


@pytest.fixture
async def not_kartra() -> AsyncIterator[tuple[str, list[int]]]:
    hits: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(1)
        return web.Response(status=404, text="<html>Not Found</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/wrong", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/wrong", hits
    await runner.cleanup()


async def test_a_wrong_endpoint_stops_the_stream_at_its_first_call(
    not_kartra: tuple[str, list[int]],
) -> None:
    url, hits = not_kartra

    def many() -> Iterator[object]:
        return (LeadRequest(email=f"c{n}@example.com").create() for n in range(1000))

    async def consume(client: KartraClient) -> list[object]:
        async with client.stream(many(), concurrency=4) as outcomes:  # type: ignore[arg-type]
            return [outcome async for outcome in outcomes]

    async with KartraClient(
        app_id="a", api_key="b", api_password="c", base_url=url, pacer=NoPacer()
    ) as client:
        with pytest.raises(ConfigurationError) as caught:
            await consume(client)

    assert caught.value.status == 404
    assert caught.value.url == url
    # Raised once, on the first answers, not once per lead after retries.
    assert len(hits) <= 4
