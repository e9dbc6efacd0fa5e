"""A bounded pool of workers over any async function and any (async) iterable.

It knows nothing of Kartra (aiometer's ``amap`` is the model): ``Pool(fn, items)`` is an async
context manager and an async iterator of ``fn(index, item)`` results.

* A fixed number of workers (never a task per item) take items from one feeder task.
* A window of ``buffer`` slots bounds every item read but not yet handed to the consumer
  (running, waiting, or finished and waiting to be reordered), so memory depends on
  ``buffer``, never on the input's length.
* ``lane(item)`` (optional) names a lane: items of one lane never run at the same time and
  run in input order, so the last one wins. A lane's later items wait inside the window, not
  in an unbounded side queue.
* ``ordered=True`` yields results in input order (the reorder buffer is inside the window).
* An exception from the caller's iterable stops the reading; the items already read still run
  and are delivered, then the exception is raised from the ``async for``. An exception from
  ``fn`` is a bug or a fatal condition: it stops the pool and is raised at once.
* Leaving the ``async with`` block early cancels the feeder and the workers and waits for them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
)
from types import TracebackType
from typing import Final, Generic, TypeVar, cast

import attrs

from ._errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

_FED: Final = object()


def check_iterable(name: str, value: object) -> None:
    """Refuse, before anything starts, an input that is neither iterable nor async iterable."""
    if not isinstance(value, (Iterable, AsyncIterable)):
        raise UsageError(
            f"{name}: must be an iterable or async iterable, not {type(value).__name__}"
        )


@attrs.frozen
class _Failure:
    """An exception from ``fn`` (a bug or a fatal condition): raised to the consumer at once."""

    error: BaseException


class Pool(Generic[T, R]):
    """``async with Pool(fn, items, concurrency=8) as results: async for r in results: ...``"""

    def __init__(
        self,
        fn: Callable[[int, T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = 8,
        buffer: int | None = None,
        ordered: bool = False,
        lane: Callable[[T], Hashable | None] | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise UsageError(f"concurrency: must be a positive integer, got {concurrency!r}")
        window = buffer if buffer is not None else concurrency * 4
        if isinstance(window, bool) or not isinstance(window, int) or window < concurrency:
            raise UsageError(f"buffer: must be an integer >= concurrency ({concurrency})")
        check_iterable("items", items)
        self._fn = fn
        self._items = items
        self._concurrency = concurrency
        self._window_size = window
        self._ordered = ordered
        self._lane = lane
        #: How many items the input held, once it is exhausted (or failed).
        self.total: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._entered = False
        self._finished = False
        self._input_error: BaseException | None = None
        #: The plain iterable being read by ``_refill``; None for async ones and once exhausted.
        self._sync_items: Iterator[T] | None = None

    async def __aenter__(self) -> Pool[T, R]:
        if self._entered:
            raise UsageError("a pool can be entered only once")
        self._entered = True
        # The window: free slots, and an event set whenever one is freed (cheaper than a
        # semaphore's coroutine per acquire on the hot path).
        self._free = self._window_size
        self._room = asyncio.Event()
        # Items ready to run, and the futures of idle workers waiting for one (cheaper than a
        # queue: a worker that finds an item never creates a future).
        self._inbox: deque[tuple[int, T, Hashable | None]] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()
        # Finished results (and the end-of-input / failure markers), and the consumer's waiter:
        # a bare future is cheaper than a queue's getter machinery on every result.
        self._results: deque[object] = deque()
        self._waiter: asyncio.Future[None] | None = None
        # The lanes with an item running: their later items, in input order (None until a
        # second item of the lane arrives: most lanes never hold more than one).
        self._lanes: dict[Hashable, deque[tuple[int, T]] | None] = {}
        self._pending: dict[int, R] = {}
        self._next_index = 0
        self._delivered = 0
        self._fed_all = False
        self._read = 0
        if isinstance(self._items, AsyncIterable):
            self._tasks.append(asyncio.create_task(self._feed(), name="pool-feeder"))
        else:
            # A plain iterable needs no await to read: the consumer refills the window itself
            # as it frees slots (``_refill``), which saves a feeder task wake-up per item.
            try:
                self._sync_items = iter(self._items)
            except BaseException as exc:  # as if the first read failed: raised from the loop
                self._input_error = exc
                self.total = 0
                self._fed_all = True
            self._refill()
        for number in range(self._concurrency):
            self._tasks.append(asyncio.create_task(self._work(), name=f"pool-worker-{number}"))
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
        # A slot is taken *before* the next item is read: nothing is read from the caller's
        # iterable until there is room for it (an importer journals a row as it yields it).
        index = 0
        try:
            async_items = aiter(cast(AsyncIterable[T], self._items))
            while True:
                await self._take_slot()
                try:
                    item = await anext(async_items)
                except StopAsyncIteration:
                    break
                self._dispatch(index, item)
                index += 1
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's iterable failed: raised after the rest
            self._input_error = exc
        self.total = index
        self._deliver(_FED)

    def _refill(self) -> None:
        """Read plain-iterable items into the window's free slots (no await needed).

        The same rule as the feeder's: an item is read only once a slot is free for it.
        """
        items = self._sync_items
        if items is None:
            return
        index = self._read
        try:
            while self._free:
                try:
                    item = next(items)
                except StopIteration:
                    break
                self._free -= 1
                self._dispatch(index, item)
                index += 1
            else:
                self._read = index
                return
        except BaseException as exc:  # the caller's iterable failed: raised after the rest
            self._input_error = exc
        self._read = index
        self._sync_items = None
        self.total = index
        self._fed_all = True

    async def _take_slot(self) -> None:
        while self._free == 0:
            self._room.clear()
            await self._room.wait()
        self._free -= 1

    def _dispatch(self, index: int, item: T) -> None:
        lane = self._lane(item) if self._lane is not None else None
        if lane is not None:
            lanes = self._lanes
            if lane in lanes:
                waiting = lanes[lane]
                if waiting is None:
                    waiting = lanes[lane] = deque()
                waiting.append((index, item))
                return
            lanes[lane] = None
        self._inbox.append((index, item, lane))
        idle = self._idle
        while idle:
            waiter = idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    async def _work(self) -> None:
        inbox = self._inbox
        try:
            while True:
                while not inbox:
                    waiter = asyncio.get_running_loop().create_future()
                    self._idle.append(waiter)
                    await waiter
                index, item, lane = inbox.popleft()
                while True:
                    result = await self._fn(index, item)
                    self._deliver((index, result))
                    if lane is None:
                        break
                    waiting = self._lanes[lane]
                    if not waiting:
                        del self._lanes[lane]
                        break
                    # The lane's next item runs here, after this one: input order per lane.
                    index, item = waiting.popleft()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._deliver(_Failure(exc))

    def _deliver(self, entry: object) -> None:
        self._results.append(entry)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- consumer side ---------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
        if not self._entered:
            raise UsageError("use the pool inside 'async with'")
        if self._ordered:
            while self._next_index not in self._pending:
                index, result = await self._receive()
                self._pending[index] = result
            result = self._pending.pop(self._next_index)
            self._next_index += 1
        else:
            results = self._results
            if results and type(results[0]) is tuple and not self._finished:
                # A result is already waiting: take it here, without ``_receive``'s coroutine.
                self._delivered += 1
                _index, result = cast(tuple[int, R], results.popleft())
            else:
                _index, result = await self._receive()
        # The slot is freed only now: at most `buffer` items are ever read and not delivered.
        self._free += 1
        if self._sync_items is not None:
            self._refill()
        else:
            self._room.set()
        return result

    async def _receive(self) -> tuple[int, R]:
        while True:
            if self._finished or (self._fed_all and self._delivered == self.total):
                self._finished = True
                if self._input_error is not None:
                    error, self._input_error = self._input_error, None
                    raise error
                raise StopAsyncIteration
            if not self._results:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                continue
            item = self._results.popleft()
            if item is _FED:
                self._fed_all = True
                continue
            if isinstance(item, _Failure):
                self._finished = True
                await self._stop()
                raise item.error
            self._delivered += 1
            return cast(tuple[int, R], item)
