"""Transport safety (issue 8 §5): https only (loopback excepted), no redirects, TLS verified by
default, connect and read timeouts that say whether the call may have been sent.

Every server here is a real one on 127.0.0.1: the sandbox, or a tiny aiohttp app.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web

from kartra_async import (
    ConfigurationError,
    GetLead,
    KartraClient,
    LeadRequest,
    NetworkError,
    NoPacer,
    RequestTimeout,
    RetryPolicy,
    Timeouts,
    UsageError,
)
from kartra_async.sandbox import FaultKind, Sandbox

CREDS = {"app_id": "app-x", "api_key": "key-x", "api_password": "pw-x"}


def client_for(
    url: str, credentials: dict[str, str] | None = None, timeout: Timeouts | None = None
) -> KartraClient:
    """A client that sends each call once and is not paced (these tests are about transport)."""
    return KartraClient(
        **(credentials or CREDS),
        base_url=url,
        pacer=NoPacer(),
        retry=RetryPolicy.none(),
        timeout=timeout,
    )


# --- https only --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://app.kartra.com/api",
        "HTTP://app.kartra.com/api",
        "http://127.0.0.1.evil.example/api",
        "http://localhost.evil.example/api",
        "http://localhost:80@evil.example/api",
        "http://10.0.0.1/api",
        "http://[2001:db8::1]/api",
        "ftp://app.kartra.com/api",
        "app.kartra.com/api",
        "https://user:secret@app.kartra.com/api",
        "",
    ],
)
async def test_insecure_or_odd_base_urls_are_refused_before_anything_is_sent(url: str) -> None:
    async with Sandbox(rate_limit=None) as sandbox:
        with pytest.raises(UsageError):
            KartraClient(**sandbox.credentials.as_dict(), base_url=url)
        assert sandbox.stats.calls == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_plain_http_is_allowed_for_loopback_only(host: str) -> None:
    client = client_for(f"http://{host}:1/api")
    assert "closed" not in repr(client)
    asyncio.run(client.aclose())


async def test_loopback_http_reaches_the_sandbox() -> None:
    async with Sandbox(rate_limit=None) as sandbox:
        async with client_for(sandbox.url, sandbox.credentials.as_dict()) as client:
            tags = await client.retrieve_account_tags()
        assert "VIP" in tags
        assert sandbox.stats.calls == 1


# --- redirects ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yield its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    host, port = runner.addresses[0][:2]
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield f"{scheme}://{host}:{port}/api"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_never_followed(status: int) -> None:
    received: list[bytes] = []

    async def target(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"status": "Success"})

    target_app = web.Application()
    target_app.router.add_post("/api", target)
    async with serve(target_app) as target_url:

        async def redirect(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": target_url})

        redirect_app = web.Application()
        redirect_app.router.add_post("/api", redirect)
        async with serve(redirect_app) as redirect_url, client_for(redirect_url) as client:
            with pytest.raises(ConfigurationError) as caught:
                await client.send(LeadRequest(email="ann@example.com").search())
            # With a retrying policy too: a redirect is never Kartra's answer, so it is a
            # configuration error at once, neither followed nor resent.
            async with KartraClient(
                **CREDS,
                base_url=redirect_url,
                pacer=NoPacer(),
                retry=RetryPolicy(max_attempts=3, base_delay=0.0),
            ) as retrying:
                with pytest.raises(ConfigurationError) as again:
                    await retrying.send(GetLead(email="ann@example.com"))
    assert caught.value.status == status
    assert caught.value.url == redirect_url
    assert again.value.status == status
    assert received == []


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_tls_certificate_of_an_unknown_ca_is_rejected_by_default(ca: trustme.CA) -> None:
    async with Sandbox(rate_limit=None, ssl=server_context(ca, "127.0.0.1")) as sandbox:
        assert sandbox.url.startswith("https://")
        async with KartraClient(
            **sandbox.credentials.as_dict(),
            base_url=sandbox.url,
            pacer=NoPacer(),
            retry=RetryPolicy.none(),
        ) as client:
            with pytest.raises(NetworkError) as caught:
                await client.retrieve_account_tags()
        assert caught.value.may_have_been_sent is False
        assert "certificate" in str(caught.value).lower()
        # The handshake failed: the sandbox never saw a request.
        assert sandbox.stats.calls == 0


async def test_tls_with_the_ca_passed_in_ssl_context_is_accepted(ca: trustme.CA) -> None:
    async with Sandbox(rate_limit=None, ssl=server_context(ca, "127.0.0.1")) as sandbox:
        async with KartraClient(
            **sandbox.credentials.as_dict(),
            base_url=sandbox.url,
            pacer=NoPacer(),
            ssl_context=trusting(ca),
        ) as client:
            tags = await client.retrieve_account_tags()
        assert "VIP" in tags
        assert sandbox.stats.calls == 1


async def test_tls_certificate_for_another_host_is_rejected_even_from_a_trusted_ca(
    ca: trustme.CA,
) -> None:
    async with Sandbox(rate_limit=None, ssl=server_context(ca, "app.kartra.com")) as sandbox:
        async with KartraClient(
            **sandbox.credentials.as_dict(),
            base_url=sandbox.url,
            pacer=NoPacer(),
            retry=RetryPolicy.none(),
            ssl_context=trusting(ca),
        ) as client:
            with pytest.raises(NetworkError) as caught:
                await client.retrieve_account_tags()
        assert caught.value.may_have_been_sent is False
        assert sandbox.stats.calls == 0


# --- timeouts ----------------------------------------------------------------------------------


@contextlib.contextmanager
def unanswered_listener() -> object:
    """A loopback port whose accept queue is full: new connections hang in SYN-SENT."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers: list[socket.socket] = []
    port = listener.getsockname()[1]
    try:
        # Fill the backlog with connections nobody accepts; later SYNs are dropped.
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_connect_timeout_says_the_call_was_not_sent() -> None:
    with unanswered_listener() as port:
        async with client_for(
            f"http://127.0.0.1:{port}/api", timeout=Timeouts(connect=0.3, read=5.0, total=10.0)
        ) as client:
            with pytest.raises(RequestTimeout) as caught:
                await client.send(GetLead(email="ann@example.com"))
    assert caught.value.may_have_been_sent is False


async def test_refused_connection_says_the_call_was_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_for(f"http://127.0.0.1:{port}/api") as client:
        with pytest.raises(NetworkError) as caught:
            await client.send(GetLead(email="ann@example.com"))
    assert not isinstance(caught.value, RequestTimeout)
    assert caught.value.may_have_been_sent is False


@pytest.mark.parametrize("after_commit", [False, True])
async def test_read_timeout_says_the_call_may_have_been_sent(after_commit: bool) -> None:
    async with Sandbox(rate_limit=None) as sandbox:
        sandbox.faults.force(FaultKind.STALL, count=1, delay=30.0, after_commit=after_commit)
        async with KartraClient(
            **sandbox.credentials.as_dict(),
            base_url=sandbox.url,
            pacer=NoPacer(),
            retry=RetryPolicy.none(),
            timeout=Timeouts(connect=5.0, read=0.3, total=10.0),
        ) as client:
            with pytest.raises(RequestTimeout) as caught:
                await client.send_once(LeadRequest(email="slow@example.com").create())
        assert caught.value.may_have_been_sent is True
        # The stalled call committed only when the fault said so: the timeout cannot tell.
        created = sandbox.account.lead_by_email("slow@example.com") is not None
        assert created is after_commit
