"""Streaming fan-out on a fixed pool of workers, with memory bounded whatever the input's size.

One feeder task pulls calls from the caller's (async) iterable into a bounded queue; a fixed
number of workers settle them through the client's ``Sender`` (pacing, retries,
reconciliation); outcomes come back through the async iterator. A window of ``buffer`` slots
bounds everything in flight: the feeder takes a slot per input, the consumer frees it when it
receives that input's outcome. So memory depends on ``buffer``, never on the input's length,
and ``ordered=True`` needs a reorder buffer of at most ``buffer`` outcomes.

Leaving the ``async with`` block early (break, exception, cancellation) cancels the feeder and
the workers and waits for them: no task outlives the block.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Final, cast

import attrs

from ._builder import AccountCall, Call, GetLead, LeadCall
from ._errors import KartraError, OutcomeUnknown, UsageError
from ._outcome import Outcome, Progress, Trace

if TYPE_CHECKING:
    from ._client import KartraClient

_DONE: Final = object()


@attrs.frozen
class Recover:
    """Wrap a stream input that may already have been sent (in flight when a run died).

    The stream settles it with ``KartraClient.recover``: checked before anything is resent,
    never-replay actions reported as unknown. The ``Outcome.call`` is the wrapped call.
    """

    call: Call


@attrs.frozen
class _Failure:
    """An exception from the caller's iterable or a worker bug, to re-raise in the consumer."""

    error: BaseException


class OutcomeStream:
    """``async with client.stream(calls) as outcomes: async for outcome in outcomes: ...``

    ``progress`` holds live counters (done, ok, failed, retried, reconciled, calls, 429s).
    """

    def __init__(
        self,
        client: KartraClient,
        calls: Iterable[Call | Recover] | AsyncIterable[Call | Recover],
        *,
        concurrency: int = 8,
        ordered: bool = False,
        buffer: int | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise UsageError(f"concurrency: must be a positive integer, got {concurrency!r}")
        window = buffer if buffer is not None else concurrency * 4
        if isinstance(window, bool) or not isinstance(window, int) or window < concurrency:
            raise UsageError(f"buffer: must be an integer >= concurrency ({concurrency})")
        if not isinstance(calls, (Iterable, AsyncIterable)):
            raise UsageError(
                f"calls: must be an iterable or async iterable, not {type(calls).__name__}"
            )
        self._client = client
        self._calls = calls
        self._concurrency = concurrency
        self._ordered = ordered
        self._window_size = window
        self.progress = Progress(total=_length(calls))
        self._tasks: list[asyncio.Task[None]] = []
        self._entered = False
        self._finished = False

    async def __aenter__(self) -> OutcomeStream:
        if self._entered:
            raise UsageError("an OutcomeStream can be entered only once")
        self._entered = True
        self._window = asyncio.Semaphore(self._window_size)
        self._inbox: asyncio.Queue[object] = asyncio.Queue(maxsize=self._concurrency)
        self._results: asyncio.Queue[object] = asyncio.Queue()
        self._pending: dict[int, Outcome] = {}
        self._next_index = 0
        self._workers_left = self._concurrency
        self._tasks.append(asyncio.create_task(self._feed(), name="kartra-feeder"))
        for number in range(self._concurrency):
            self._tasks.append(asyncio.create_task(self._work(), name=f"kartra-worker-{number}"))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # --- producer side ---------------------------------------------------------------------

    async def _feed(self) -> None:
        index = 0
        try:
            if isinstance(self._calls, AsyncIterable):
                async for call in self._calls:
                    await self._enqueue(index, call)
                    index += 1
            else:
                for call in self._calls:
                    await self._enqueue(index, call)
                    index += 1
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's iterable failed: tell the consumer
            self._results.put_nowait(_Failure(exc))
            return
        self.progress.total = index
        for _ in range(self._concurrency):
            await self._inbox.put(_DONE)

    async def _enqueue(self, index: int, call: Call | Recover) -> None:
        await self._window.acquire()
        self.progress.started += 1
        await self._inbox.put((index, call))

    async def _work(self) -> None:
        sender = self._client._sender
        clock = time.monotonic
        try:
            while True:
                item = await self._inbox.get()
                if item is _DONE:
                    break
                index, item_call = cast(tuple[int, Call | Recover], item)
                if not isinstance(item_call, (Recover, LeadCall, AccountCall, GetLead)):
                    raise UsageError(
                        f"input {index} is a {type(item_call).__name__}, not a call; build calls "
                        "with LeadRequest, AccountCall or GetLead"
                    )
                trace = Trace()
                started = clock()
                reply = None
                error: KartraError | None = None
                try:
                    if isinstance(item_call, Recover):
                        call = item_call.call
                        reply = await sender.recover(call, trace)
                    else:
                        call = item_call
                        reply = await sender.send(call, trace)
                except KartraError as exc:
                    error = exc
                    if isinstance(exc, OutcomeUnknown):
                        reply = exc.reply
                outcome = Outcome(
                    index=index,
                    call=call,
                    reply=reply,
                    error=error,
                    attempts=trace.calls,
                    elapsed=clock() - started,
                    retries=trace.retries,
                    reconciled=trace.reconciled,
                    upsert=trace.upsert,
                )
                self.progress.record(outcome, trace)
                self._results.put_nowait(outcome)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug, not a Kartra failure: surface it, do not hide it
            self._results.put_nowait(_Failure(exc))
            return
        self._workers_left -= 1
        if self._workers_left == 0:
            self._results.put_nowait(_DONE)

    # --- consumer side ---------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Outcome]:
        return self

    async def __anext__(self) -> Outcome:
        if not self._entered:
            raise UsageError("use the stream inside 'async with client.stream(...) as outcomes'")
        if self._ordered:
            return await self._next_ordered()
        return await self._next_any()

    async def _receive(self) -> Outcome:
        if self._finished:
            raise StopAsyncIteration
        item = await self._results.get()
        if item is _DONE:
            self._finished = True
            raise StopAsyncIteration
        if isinstance(item, _Failure):
            self._finished = True
            await self._stop()
            raise item.error
        assert isinstance(item, Outcome)
        return item

    async def _next_any(self) -> Outcome:
        outcome = await self._receive()
        self._window.release()
        return outcome

    async def _next_ordered(self) -> Outcome:
        while self._next_index not in self._pending:
            outcome = await self._receive()
            self._pending[outcome.index] = outcome
        # The slot is freed only now, so at most `buffer` outcomes ever wait for reordering.
        self._window.release()
        self._next_index += 1
        return self._pending.pop(self._next_index - 1)


def _length(calls: object) -> int | None:
    try:
        return len(calls)  # type: ignore[arg-type]
    except TypeError:
        return None
