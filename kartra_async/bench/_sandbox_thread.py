"""The built-in sandbox for a benchmark, served from its own thread and event loop.

On its own thread the sandbox's CPU time can be read apart from the client's
(``time.thread_time`` runs inside the sandbox's thread), so the bench subtracts it from the
process's CPU and reports what the client alone costs. Both threads still share the GIL: under
an unpaced run each waits for the other, which shows up in the latency, not in the CPU figures.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from types import TracebackType
from typing import Any

from ..sandbox import FaultRule, Faults, Sandbox, SandboxCredentials


class SandboxThread:
    """``with SandboxThread(rate_limit=20) as box: box.url, box.credentials, box.stats()``."""

    def __init__(
        self,
        *,
        rate_limit: int | None = 20,
        rules: tuple[FaultRule, ...] = (),
        seed: int = 0,
        inventory: dict[str, Any] | None = None,
        leads: tuple[str, ...] = (),
    ) -> None:
        self._rate_limit = rate_limit
        self._rules = rules
        self._seed = seed
        self._inventory = inventory or {}
        self._leads = leads
        self.credentials = SandboxCredentials.generate()
        self.url = ""
        self.sandbox: Sandbox | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="kartra-bench-sandbox", daemon=True)

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None:
            raise self._failure
        if self.sandbox is None:
            raise RuntimeError("the sandbox did not start within 30 s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        faults = Faults(*self._rules, seed=self._seed)
        sandbox = Sandbox(credentials=self.credentials, rate_limit=self._rate_limit, faults=faults)
        if self._inventory:
            sandbox.seed(**self._inventory)
        for email in self._leads:
            sandbox.account.add_lead(email)
        async with sandbox:
            self.sandbox = sandbox
            self.url = sandbox.url
            self._ready.set()
            await self._stop.wait()

    def cpu_seconds(self) -> float:
        """CPU seconds the sandbox's thread has used so far (asked on that thread)."""
        if self._loop is None:
            return 0.0
        future: concurrent.futures.Future[float] = concurrent.futures.Future()

        def read() -> None:
            future.set_result(time.thread_time())

        self._loop.call_soon_threadsafe(read)
        return future.result(timeout=30)
