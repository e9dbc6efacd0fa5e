"""A sandbox served from an event loop in its own thread, for the blocking-code tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from kartra_async.sandbox import Sandbox

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread; ``run`` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextmanager
def threaded_sandbox(**options: Any) -> Iterator[Sandbox]:
    """A started ``Sandbox`` whose loop runs in another thread of this process."""
    runner = LoopThread()

    async def start() -> Sandbox:
        sandbox = Sandbox(**options)
        await sandbox.start()
        return sandbox

    sandbox = runner.run(start())
    try:
        yield sandbox
    finally:
        runner.run(sandbox.close())
        runner.stop()
