"""Capped replies (issue 17 §4): a hostile endpoint cannot make the client hold a huge body.

Reproduction of the attack: a 200 MB reply peaked at 400 MB of client memory and a 256 KB gzip
bomb at 512 MB. Here a loopback server sends both; the client runs in a subprocess so that its
peak RSS can be measured without the server's memory mixed in.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from kartra_async import (
    AiohttpTransport,
    Failure,
    KartraClient,
    LeadRequest,
    MalformedReply,
    NoPacer,
    OutcomeUnknown,
    RetryPolicy,
    UsageError,
)

ROOT = Path(__file__).resolve().parents[2]
CAP = 4 * 1024 * 1024
MiB = 1024 * 1024
OK = b'{"status":"Success","message":"Lead created","type":1,"lead_details":{"id":1}}'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def huge(request: web.Request) -> web.StreamResponse:
    """200 MB of JSON-looking bytes, generated as it is sent (the server holds 1 MiB)."""
    # Chunked, no Content-Length: the client cannot refuse it up front and must count.
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    chunk = b" " * MiB
    sent = 0
    try:
        while sent < 200 * 1000 * 1000:
            piece = chunk[: 200 * 1000 * 1000 - sent]
            await response.write(piece)
            sent += len(piece)
    except (ConnectionError, RuntimeError):
        pass  # the client hung up at its cap: what this test wants
    return response


def gzip_bomb(expanded: int) -> bytes:
    """``expanded`` zero bytes, gzipped (about 1/1000 of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    parts = [packer.compress(block) for _ in range(expanded // MiB)]
    parts.append(packer.flush())
    return b"".join(parts)


def bomb_handler(body: bytes) -> Handler:
    async def bomb(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )

    return bomb


async def small(request: web.Request) -> web.StreamResponse:
    return web.Response(body=OK, content_type="application/json")


async def serve(hostile: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/small", small)
    app.router.add_post("/hostile", hostile)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def measure(hostile: Handler) -> dict[str, object]:
    async for base in serve(hostile):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.hardening.reply_cap_worker",
            base,
            str(CAP),
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err.decode()
        result: dict[str, object] = json.loads(out)
        print(f"\nreply cap {CAP // MiB} MiB: {result}")
        return result
    raise AssertionError("the server did not start")


async def test_a_200_mb_reply_stops_at_the_cap_in_bounded_memory() -> None:
    result = await measure(huge)
    assert result["error"] == "MalformedReply"
    assert result["failure"] == "unknown"
    # Within a few times the cap (the chunks read plus the joined preview), not 200 MB.
    assert isinstance(result["traced_peak"], int) and result["traced_peak"] < 3 * CAP
    assert isinstance(result["rss_growth"], int) and result["rss_growth"] < 4 * CAP


async def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory() -> None:
    body = gzip_bomb(256 * MiB)
    assert len(body) < 300 * 1024  # a ~256 KB file that expands to 256 MiB
    result = await measure(bomb_handler(body))
    assert result["error"] == "MalformedReply"
    assert isinstance(result["traced_peak"], int) and result["traced_peak"] < 3 * CAP
    assert isinstance(result["rss_growth"], int) and result["rss_growth"] < 4 * CAP


async def test_a_reply_over_the_cap_on_a_write_is_an_unknown_outcome() -> None:
    # A write whose reply was too long may have been applied: with points (never replayed)
    # it must end "outcome unknown", not be resent or called failed.
    async def long_reply(request: web.Request) -> web.StreamResponse:
        return web.Response(body=OK + b" " * 2048, content_type="application/json")

    async for base in serve(long_reply):
        transport = AiohttpTransport(base + "/hostile", max_reply_bytes=1024)
        client = KartraClient(
            app_id="a",
            api_key="k",
            api_password="p",
            transport=transport,
            pacer=NoPacer(),
            retry=RetryPolicy.none(),
        )
        async with client:
            with pytest.raises(MalformedReply) as caught:
                await client.send_once(LeadRequest(email="a@b.co").create().give_points(5))
            assert caught.value.failure is Failure.UNKNOWN
            assert "1024-byte cap" in str(caught.value)
            with pytest.raises(OutcomeUnknown):
                await client.send(LeadRequest(email="a@b.co").create().give_points(5))


async def test_a_reply_at_the_cap_is_read_whole() -> None:
    async for base in serve(small):
        transport = AiohttpTransport(base + "/small", max_reply_bytes=len(OK))
        try:
            assert (await transport.post(b"x")).body == OK
        finally:
            await transport.aclose()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4M"])
def test_the_cap_must_be_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(UsageError, match="max_reply_bytes"):
        AiohttpTransport("http://127.0.0.1:9/api", max_reply_bytes=bad)  # type: ignore[arg-type]
