"""``KartraClient`` against a real aiohttp server on 127.0.0.1: what mocks cannot show."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from kartra_async import (
    AccountCall,
    ConfigurationError,
    KartraClient,
    NetworkError,
    NoPacer,
    RequestTimeout,
    RetryPolicy,
    Timeouts,
    UsageError,
)

from .conftest import CANARY_APP_ID, CANARY_KEY, CANARY_PASSWORD

TAGS = AccountCall().retrieve_account_tags()


class Server:
    """A loopback HTTP server with a Kartra-like endpoint, a redirect and a stalled endpoint."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.release = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _count(self, request: web.Request) -> None:
        await request.read()
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def api(self, request: web.Request) -> web.Response:
        await self._count(request)
        # Kartra labels its JSON text/html.
        return web.Response(
            text='{"status":"Success","account_tags":["VIP"]}', content_type="text/html"
        )

    async def redirect(self, request: web.Request) -> web.Response:
        await self._count(request)
        raise web.HTTPTemporaryRedirect(self.url("/target"))

    async def target(self, request: web.Request) -> web.Response:
        await self._count(request)
        return web.json_response({"status": "Success", "account_tags": ["stolen"]})

    async def stall(self, request: web.Request) -> web.Response:
        await self._count(request)
        await self.release.wait()
        return web.json_response({"status": "Success", "account_tags": []})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api", self.api)
        app.router.add_post("/redirect", self.redirect)
        app.router.add_post("/target", self.target)
        app.router.add_post("/stall", self.stall)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        address: Any = self.runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    running = Server()
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def client(base_url: str, **kwargs: Any) -> KartraClient:
    kwargs.setdefault("retry", RetryPolicy.none())
    return KartraClient(
        app_id=CANARY_APP_ID,
        api_key=CANARY_KEY,
        api_password=CANARY_PASSWORD,
        base_url=base_url,
        pacer=NoPacer(),
        **kwargs,
    )


async def test_json_labelled_text_html_is_decoded(server: Server) -> None:
    async with client(server.url("/api")) as kartra:
        assert await kartra.retrieve_account_tags() == ("VIP",)
    assert server.hits == {"/api": 1}


async def test_redirect_is_not_followed(server: Server) -> None:
    async with client(server.url("/redirect")) as kartra:
        with pytest.raises(ConfigurationError) as info:
            await kartra.send_once(TAGS)
    # A redirect is never Kartra's answer: a configuration error naming the URL, not sent on.
    assert info.value.status == 307
    assert info.value.url == server.url("/redirect")
    assert info.value.failure == "not_sent"
    # The credentials in the body never reached the redirect's target.
    assert server.hits == {"/redirect": 1}


@pytest.mark.parametrize(
    "url",
    [
        "http://app.kartra.com/api",
        "http://10.0.0.1/api",
        "http://192.168.1.10:8080/api",
        "http://localhost.example.com/api",
        "http://127.0.0.1.example.com/api",
        "ftp://127.0.0.1/api",
        "https://user:pw@app.kartra.com/api",
        "not a url",
    ],
)
async def test_insecure_or_odd_base_urls_are_refused_before_sending(
    server: Server, url: str
) -> None:
    with pytest.raises(UsageError) as info:
        client(url)
    assert "base_url" in str(info.value)
    assert server.hits == {}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.8.9.10"])
def test_plain_http_is_allowed_on_loopback(host: str) -> None:
    kartra = client(f"http://{host}:8080/api")
    assert not kartra.closed


async def test_read_timeout_may_have_been_sent(server: Server) -> None:
    timeouts = Timeouts(connect=5.0, read=0.2, total=5.0)
    async with client(server.url("/stall"), timeout=timeouts) as kartra:
        with pytest.raises(RequestTimeout) as info:
            await kartra.send_once(TAGS)
    assert info.value.may_have_been_sent is True
    assert isinstance(info.value, NetworkError)
    assert server.hits == {"/stall": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_was_not_sent() -> None:
    async with client(f"http://127.0.0.1:{free_port()}/api") as kartra:
        with pytest.raises(NetworkError) as info:
            await kartra.send_once(TAGS)
    assert info.value.may_have_been_sent is False
    assert not isinstance(info.value, RequestTimeout)


async def test_connection_refused_is_retried_by_send_then_reported() -> None:
    policy = RetryPolicy(max_attempts=2, base_delay=0.0)
    async with client(f"http://127.0.0.1:{free_port()}/api", retry=policy) as kartra:
        with pytest.raises(NetworkError) as info:
            await kartra.send(TAGS)
    assert info.value.may_have_been_sent is False
