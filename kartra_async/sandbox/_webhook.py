"""Posting outbound events to a webhook URL, in the background, in order.

The events are Kartra's outbound API (docs/kartra-api.md#webhooks).

Replies never wait for a post: events go to a queue drained by one task, which also keeps them
in the order the commands ran. A failing or slow webhook is counted and otherwise ignored; on
shutdown, queued posts get a short grace period and are then cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp

_log = logging.getLogger(__name__)

#: How long shutdown waits for queued posts before cancelling them.
DRAIN_TIMEOUT = 2.0


class WebhookEmitter:
    """Posts JSON events to ``url`` one at a time; counts ``sent`` and ``failed``."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.sent = 0
        self.failed = 0
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the HTTP session and start the posting task."""
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="kartra-sandbox-webhook")

    def emit(self, payload: dict[str, Any]) -> None:
        """Queue an event for posting (never blocks, never raises)."""
        self._queue.put_nowait(json.dumps(payload, separators=(",", ":")).encode())

    async def _run(self) -> None:
        assert self._session is not None
        while True:
            body = await self._queue.get()
            try:
                async with self._session.post(
                    self.url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    await response.read()
                    if response.status >= 400:
                        self.failed += 1
                    else:
                        self.sent += 1
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                self.failed += 1
                _log.debug("webhook post failed: %s", type(exc).__name__)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued event was posted (or failed)."""
        await self._queue.join()

    async def close(self) -> None:
        """Let queued posts finish (briefly), then stop the task and close the session."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), DRAIN_TIMEOUT)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
