"""Where the figures come from: a transport wrapper that times every HTTP call the client makes.

Wrapping the transport (rather than the client) sees exactly what reaches the wire: retries,
read-backs and upsert fallbacks each count as a call, and the pacer's wait is not part of a
call's latency, because the client paces before it posts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .._transport import RawResponse, Transport
from ._records import NO_RESPONSE, Attempt, Recorder


class RecordingTransport:
    """A ``Transport`` that times each ``post`` of the transport it wraps into a ``Recorder``."""

    def __init__(
        self,
        inner: Transport,
        recorder: Recorder,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._inner = inner
        self._recorder = recorder
        self._clock = clock

    @property
    def url(self) -> str:
        """The wrapped transport's endpoint (for the client's repr)."""
        return str(getattr(self._inner, "url", ""))

    async def post(self, body: bytes) -> RawResponse:
        """Post through the wrapped transport; record the attempt whatever happens."""
        recorder = self._recorder
        recorder.in_flight += 1
        start = self._clock()
        status = NO_RESPONSE
        try:
            response = await self._inner.post(body)
            status = response.status
            return response
        finally:
            recorder.in_flight -= 1
            recorder.add(Attempt(start, self._clock(), status))

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()
