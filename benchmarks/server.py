"""The benchmark servers, each run in its own process so its CPU never counts as the client's.

``python -m benchmarks.server canned`` serves a canned Kartra success reply from a bare
``asyncio.Protocol`` (a few µs per request, so it is never the bottleneck of a client
benchmark). ``python -m benchmarks.server sandbox [--rate-limit N|off] [--latency S]`` serves
the real sandbox, with ``GET /stats`` added for the pacing case (calls, 429s, the most calls
that reached the limiter in any one second, RSS).

Credentials come from the ``KARTRA_*`` environment (never the command line). The first line
on stdout is ``{"url": ...}``; the server stops when its stdin closes or on SIGTERM/SIGINT.

``ServerProcess`` starts one from the parent and reads its CPU time with psutil.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
import psutil  # type: ignore[import-untyped]

from kartra_async import KartraClient
from kartra_async.bench import max_in_window, rate
from kartra_async.sandbox import FaultKind, FaultRule, Faults, Sandbox, SandboxCredentials

# --- the canned responder ---------------------------------------------------------------------


def canned_reply() -> bytes:
    """The sandbox's own reply to a typical create_lead + 3 actions call, as a full response."""
    from kartra_async import Credentials, encode
    from kartra_async._form import parse_query
    from kartra_async.sandbox import default_account, process

    from ._common import typical_call

    secrets = SandboxCredentials.generate()
    body = encode(typical_call(0), Credentials(**secrets.as_dict()))
    account = default_account()
    outcome = process(account, parse_query(body), credentials=secrets, now=account.now())
    payload = json.dumps(outcome.body, separators=(",", ":")).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    return head + payload


class CannedHttp(asyncio.Protocol):
    """HTTP/1.1 keep-alive: answer every complete request with the same bytes."""

    def __init__(self, reply: bytes) -> None:
        self._reply = reply
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                return
            del buffer[:total]
            assert self._transport is not None
            self._transport.write(self._reply)


async def serve_canned(stop: asyncio.Event) -> None:
    """Serve the canned reply on a free loopback port until ``stop``."""
    reply = canned_reply()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CannedHttp(reply), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _announce(f"http://127.0.0.1:{port}/api")
    await stop.wait()
    server.close()
    await server.wait_closed()


# --- the sandbox ------------------------------------------------------------------------------


class RecordingWindow:
    """Wraps the sandbox's limiter: remembers when every call reached it (admitted or not)."""

    def __init__(self, inner: Any, clock: Callable[[], float]) -> None:
        self._inner = inner
        self._clock = clock
        self.arrivals: list[float] = []
        self.admitted: list[float] = []

    def admit(self, key: str) -> bool:
        """Record the arrival, then let the real limiter decide."""
        now = self._clock()
        self.arrivals.append(now)
        if self._inner.admit(key):
            self.admitted.append(now)
            return True
        return False


async def serve_sandbox(stop: asyncio.Event, rate_limit: int | None, latency: float) -> None:
    """Serve the real sandbox with ``GET /stats`` until ``stop``."""
    from aiohttp import web

    faults = Faults(FaultRule(FaultKind.LATENCY, delay=latency)) if latency > 0 else None
    sandbox = Sandbox(
        credentials=SandboxCredentials.from_env(), rate_limit=rate_limit, faults=faults
    )
    recorder = None
    if sandbox.limiter is not None:
        recorder = RecordingWindow(sandbox.limiter, time.monotonic)
        sandbox.limiter = recorder  # type: ignore[assignment]

    async def stats(request: web.Request) -> web.Response:
        arrivals = recorder.arrivals if recorder is not None else []
        admitted = recorder.admitted if recorder is not None else []
        return web.json_response(
            {
                "calls": sandbox.stats.calls,
                "rate_limited": sandbox.stats.rate_limited,
                "leads": len(sandbox.account.leads),
                "max_in_1s": max_in_window(arrivals),
                "steady_rate": steady_rate(admitted),
                "rss": psutil.Process().memory_info().rss,
            }
        )

    sandbox.app.router.add_get("/stats", stats)
    async with sandbox:
        _announce(sandbox.url)
        await stop.wait()


def steady_rate(admitted: list[float], warmup: float = 1.0) -> float:
    """Admitted calls per second after the first ``warmup`` seconds (connections opening)."""
    return rate(admitted, warmup=warmup)


def _announce(url: str) -> None:
    sys.stdout.write(json.dumps({"url": url}) + "\n")
    sys.stdout.flush()


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent closing our stdin (or dying) stops us too: no orphan servers.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    if args.kind == "canned":
        await serve_canned(stop)
    else:
        limit = None if args.rate_limit == "off" else int(args.rate_limit)
        await serve_sandbox(stop, limit, args.latency)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the server process."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server")
    parser.add_argument("kind", choices=["canned", "sandbox"])
    parser.add_argument("--rate-limit", default="off", help="calls per sliding second, or off")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each call")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args(argv)
    if args.uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(_main(args))


# --- the parent's handle ----------------------------------------------------------------------


class ServerProcess:
    """``with ServerProcess("canned") as server: server.url, server.cpu()``."""

    def __init__(
        self, kind: str, *args: str, credentials: SandboxCredentials | None = None
    ) -> None:
        self.credentials = credentials or SandboxCredentials.generate()
        self._argv = [sys.executable, "-m", "benchmarks.server", kind, *args]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.pid = 0

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, **self.credentials.as_env()}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        # The server's stderr goes to a file: a traceback per request would flood the tables.
        self._log = tempfile.NamedTemporaryFile("w+", prefix="bench-server-", suffix=".log")
        self._process = subprocess.Popen(
            self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=root,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._stop()
            raise RuntimeError(f"benchmark server {self._argv[3:]} did not start: {self.errors()}")
        self.url = json.loads(line)["url"]
        self.pid = self._process.pid
        self._ps = psutil.Process(self.pid)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(OSError):
            assert process.stdin is not None
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._process = None
        self._log.close()

    def errors(self) -> str:
        """The last lines the server wrote to stderr (empty when it ran cleanly)."""
        self._log.flush()
        self._log.seek(0)
        return "".join(self._log.readlines()[-20:])

    def cpu(self) -> float:
        """The server's CPU seconds so far: nanosecond ``schedstat`` on Linux, else psutil."""
        try:
            with open(f"/proc/{self.pid}/schedstat", encoding="ascii") as stat:
                return int(stat.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            times = self._ps.cpu_times()
            return float(times.user + times.system)

    def client_credentials(self) -> dict[str, str]:
        """The three credentials as Kartra's form keys."""
        return self.credentials.as_dict()

    def client(self, **options: Any) -> KartraClient:
        """A ``KartraClient`` for this server (``options`` pass through)."""
        secrets = self.credentials
        return KartraClient(
            app_id=secrets.app_id,
            api_key=secrets.api_key,
            api_password=secrets.api_password,
            base_url=self.url,
            **options,
        )

    async def stats(self) -> dict[str, Any]:
        """The sandbox's ``GET /stats``."""
        url = self.url.rsplit("/api", 1)[0] + "/stats"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            result: dict[str, Any] = await response.json()
            return result


if __name__ == "__main__":
    main()
