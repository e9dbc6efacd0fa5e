"""``KartraClient.stream``: many calls settled on a bounded pool, one ``Outcome`` each.

The pool (``_pool.Pool``) knows nothing of Kartra; this module gives it the three Kartra
facts it needs: how to settle one input (the client hands in its ``settle`` and ``recover``
coroutines; this module never imports the client), which inputs concern the same lead (so they
never overlap and settle in input order: the last row for a lead wins), and what the caller
wants back with each outcome (their key).
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
)
from datetime import datetime
from time import monotonic as _monotonic
from types import TracebackType
from typing import Any

import attrs

from ._builder import CALL_TYPES, AccountCall, Call, GetLead
from ._errors import ConfigurationError, KartraError, OutcomeUnknown, UsageError
from ._outcome import Outcome, Progress
from ._pool import Pool, check_iterable
from ._replies import Reply
from ._settle import Trace

#: ``settle(call, trace)``: the client's retrying, reconciling send of one call.
Settle = Callable[[Call, Trace], Awaitable[Reply]]
#: ``recover(call, trace, first_sent)``: the same for a call a dead run left in flight.
RecoverFn = Callable[[Call, Trace, datetime | None], Awaitable[Reply]]


@attrs.frozen
class Recover:
    """Wrap a stream input that may already have been sent (in flight when a run died).

    The stream settles it with ``KartraClient.recover``: checked before anything is resent,
    never-replay actions reported as unknown unless a read-back proves they never landed.
    ``first_sent`` (when the dead run sent it, from its journal) lets a lost create tell its
    own lead from one that existed before. The ``Outcome.call`` is the wrapped call.
    """

    call: Call
    first_sent: datetime | None = None


#: What ``stream`` accepts per input: a call, a ``Recover``, or a ``(key, call)`` pair.
StreamInput = Call | Recover | tuple[Any, Call | Recover]
_INPUT_TYPES = (*CALL_TYPES, Recover)


#: One input as the pool carries it: (the caller's key, the call or ``Recover``). A plain
#: tuple: built once per input, it is the cheapest container.
_Entry = tuple[Any, Call | Recover]


def lead_identity(call: Call | Recover, stored: Callable[[str], str] = str) -> Hashable | None:
    """The lead a call is about, for per-lead ordering: its id, else its email (any case).

    None for account-level calls, which run unordered. ``stored`` maps an email to the address
    Kartra keeps (Test Mode), so two inputs that land on one stored lead share one lane.
    """
    if isinstance(call, Recover):
        call = call.call
    if isinstance(call, AccountCall):
        return None
    if isinstance(call, GetLead):
        lead_id, email = call.id, call.email
    else:
        lead_id, email = call.lead.id, call.lead.email
    if lead_id is not None:
        return ("id", lead_id)
    return ("email", stored(email).casefold()) if email is not None else None


class OutcomeStream:
    """``async with client.stream(calls) as outcomes: async for outcome in outcomes: ...``

    ``progress`` holds live counters (done, ok, failed, retried, reconciled, calls, 429s).
    """

    def __init__(
        self,
        settle: Settle,
        recover: RecoverFn,
        calls: Iterable[StreamInput] | AsyncIterable[StreamInput],
        *,
        order_key: Callable[[Call | Recover], Hashable | None],
        concurrency: int = 8,
        ordered: bool = False,
        buffer: int | None = None,
        key: Callable[[Call], Any] | None = None,
    ) -> None:
        check_iterable("calls", calls)
        self._settle_call = settle
        self._recover_call = recover
        self._key = key
        self._order_key = order_key
        self.progress = Progress(total=_length(calls))
        self._pool: Pool[_Entry, Outcome] = Pool(
            self._settle,
            self._entries(calls),
            concurrency=concurrency,
            buffer=buffer,
            ordered=ordered,
            lane=self._lane,
        )

    def _entries(
        self, calls: Iterable[StreamInput] | AsyncIterable[StreamInput]
    ) -> Iterator[_Entry] | AsyncIterator[_Entry]:
        # A plain generator for plain iterables: an async one would cost a coroutine per input.
        if isinstance(calls, AsyncIterable):
            return self._async_entries(calls)
        return self._sync_entries(calls)

    def _sync_entries(self, calls: Iterable[StreamInput]) -> Iterator[_Entry]:
        index = 0
        for raw in calls:
            yield self._entry(index, raw)
            index += 1
        self.progress.total = index

    async def _async_entries(self, calls: AsyncIterable[StreamInput]) -> AsyncIterator[_Entry]:
        index = 0
        async for raw in calls:
            yield self._entry(index, raw)
            index += 1
        self.progress.total = index

    def _entry(self, index: int, raw: object) -> _Entry:
        if isinstance(raw, tuple) and len(raw) == 2 and isinstance(raw[1], _INPUT_TYPES):
            return (raw[0], raw[1])
        if not isinstance(raw, _INPUT_TYPES):
            raise UsageError(
                f"input {index} is a {type(raw).__name__}, not a call; build calls with "
                "LeadRequest, AccountCall or GetLead (or pass (key, call) pairs)"
            )
        if self._key is None:
            return (None, raw)
        return (self._key(raw.call if isinstance(raw, Recover) else raw), raw)

    def _lane(self, entry: _Entry) -> Hashable | None:
        return self._order_key(entry[1])

    async def _settle(self, index: int, entry: _Entry) -> Outcome:
        self.progress.started += 1
        trace = Trace()
        started = _monotonic()
        reply = None
        error: KartraError | None = None
        key, item = entry
        try:
            if isinstance(item, Recover):
                call: Call = item.call
                reply = await self._recover_call(call, trace, item.first_sent)
            else:
                call = item
                reply = await self._settle_call(call, trace)
        except ConfigurationError:
            raise  # not Kartra at all: stop the stream on its first call
        except KartraError as exc:
            error = exc
            if isinstance(exc, OutcomeUnknown):
                reply = exc.reply
        # Positional: Outcome(index, call, reply, error, attempts, elapsed, retries,
        # reconciled, upsert, key), the cheapest way to build one per input.
        outcome = Outcome(
            index,
            call,
            reply,
            error,
            trace.calls,
            _monotonic() - started,
            trace.retries,
            trace.reconciled,
            trace.upsert,
            key,
        )
        self.progress.record(outcome, trace)
        return outcome

    async def __aenter__(self) -> OutcomeStream:
        await self._pool.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._pool.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[Outcome]:
        # Inside ``async with``, ``async for`` iterates the pool itself: one coroutine fewer per
        # outcome. Outside, this object's ``__anext__`` raises the stream's own usage error.
        return self._pool if self._pool._entered else self

    async def __anext__(self) -> Outcome:
        if not self._pool._entered:
            raise UsageError("use the stream inside 'async with client.stream(...) as outcomes'")
        return await self._pool.__anext__()


def _length(calls: object) -> int | None:
    try:
        return len(calls)  # type: ignore[arg-type]
    except TypeError:
        return None
