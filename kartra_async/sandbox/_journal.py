"""The admin journal: every Kartra call with its latency and masked ``app_id``, the outbound
events, and per-second call counts, for the admin API, the inspector and ``--log-requests``.

The server's request log stays the one place a call is recorded: ``RequestLog`` is that log,
and each record appended to it is copied into the ``Journal`` together with what a middleware
noted when the call arrived (its start time and masked ``app_id``). A context variable carries
that note from the middleware to the append, so the server's handler needs no journal code and
concurrent calls never mix their notes.
"""

from __future__ import annotations

import contextvars
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

if TYPE_CHECKING:
    from ._base import Event
    from ._records import RequestRecord

#: Seconds of per-second call counts kept for the gauge.
HISTORY_SECONDS = 120
_APP_ID = re.compile(rb"(?:^|&)app_id=([^&]*)")


def mask_app_id(app_id: str) -> str:
    """An ``app_id`` shown without giving it away: its first two and last two characters."""
    if not app_id:
        return ""
    if len(app_id) < 8:
        return "***"
    return f"{app_id[:2]}…{app_id[-2:]}"


@attrs.frozen
class JournalEntry:
    """One Kartra call as the admin API shows it: never a credential, ``app_id`` masked."""

    seq: int
    at: float
    cmds: tuple[str, ...]
    email: str
    http_status: int
    status: str
    type: str
    fault: str
    #: Milliseconds from the call's arrival to its reply (None when not measured).
    latency_ms: float | None
    app_id: str


@attrs.frozen
class EventEntry:
    """One outbound event the sandbox produced; ``posted`` when a webhook was set to get it."""

    seq: int
    at: float
    action: str
    lead_id: str
    email: str
    posted: bool
    payload: dict[str, Any]


@attrs.frozen
class _Arrival:
    started: float
    app_id: str


_ARRIVAL: contextvars.ContextVar[_Arrival | None] = contextvars.ContextVar(
    "kartra_sandbox_arrival", default=None
)


class Journal:
    """Bounded, sequence-numbered records of calls and events, plus per-second counts.

    ``clock`` is wall-clock seconds (entries' ``at``); latency uses ``time.perf_counter``.
    ``listeners`` are called with each new call entry (``--log-requests`` prints them).
    """

    def __init__(self, size: int = 10_000, *, clock: Callable[[], float] = time.time) -> None:
        self.calls: deque[JournalEntry] = deque(maxlen=size)
        self.events: deque[EventEntry] = deque(maxlen=min(size, 1_000))
        self.listeners: list[Callable[[JournalEntry], None]] = []
        self._clock = clock
        self._seq = 0
        self._event_seq = 0
        #: second (int Unix time) -> [calls, rate-limited calls]
        self._per_second: dict[int, list[int]] = {}

    def __repr__(self) -> str:
        return f"<Journal calls={len(self.calls)} events={len(self.events)}>"

    def record(self, record: RequestRecord) -> JournalEntry:
        """Copy a request-log record in, with the arrival noted by the middleware (if any)."""
        arrival = _ARRIVAL.get()
        latency = None
        app_id = ""
        if arrival is not None:
            latency = round((time.perf_counter() - arrival.started) * 1000.0, 3)
            app_id = arrival.app_id
        now = self._clock()
        self._seq += 1
        entry = JournalEntry(
            seq=self._seq,
            at=now,
            cmds=record.cmds,
            email=record.email,
            http_status=record.http_status,
            status=record.status,
            type=record.type,
            fault=record.fault,
            latency_ms=latency,
            app_id=app_id,
        )
        self.calls.append(entry)
        self._count(int(now), entry.http_status == 429)
        for listener in self.listeners:
            listener(entry)
        return entry

    def add_events(self, events: Iterable[Event], *, posted: bool) -> None:
        """Record outbound events in the order they were produced."""
        now = self._clock()
        for event in events:
            self._event_seq += 1
            lead = event.lead
            self.events.append(
                EventEntry(
                    seq=self._event_seq,
                    at=now,
                    action=event.action,
                    lead_id=str(lead.get("id", "")),
                    email=str(lead.get("email", "")),
                    posted=posted,
                    payload=event.payload(),
                )
            )

    def calls_since(self, seq: int, limit: int) -> list[JournalEntry]:
        """Call entries after ``seq``, oldest first, at most ``limit`` (the newest ones)."""
        found = [entry for entry in self.calls if entry.seq > seq] if seq else list(self.calls)
        return found[-limit:] if limit else []

    def events_since(self, seq: int, limit: int) -> list[EventEntry]:
        """Event entries after ``seq``, oldest first, at most ``limit`` (the newest ones)."""
        found = [entry for entry in self.events if entry.seq > seq] if seq else list(self.events)
        return found[-limit:] if limit else []

    def per_second(self, seconds: int = 60) -> list[tuple[int, int, int]]:
        """``(second, calls, rate_limited)`` for each of the last ``seconds`` whole seconds."""
        now = int(self._clock())
        rows = []
        for second in range(now - seconds + 1, now + 1):
            calls, limited = self._per_second.get(second, (0, 0))
            rows.append((second, calls, limited))
        return rows

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest call entry (0 when none yet)."""
        return self._seq

    @property
    def last_event_seq(self) -> int:
        """The sequence number of the newest event entry (0 when none yet)."""
        return self._event_seq

    def clear(self) -> None:
        """Forget every entry; sequence numbers keep growing so pollers never see a repeat."""
        self.calls.clear()
        self.events.clear()
        self._per_second.clear()

    def _count(self, second: int, limited: bool) -> None:
        counts = self._per_second.get(second)
        if counts is None:
            counts = self._per_second[second] = [0, 0]
            horizon = second - HISTORY_SECONDS
            for old in [key for key in self._per_second if key < horizon]:
                del self._per_second[old]
        counts[0] += 1
        if limited:
            counts[1] += 1


class RequestLog(deque["RequestRecord"]):
    """The sandbox's request log; every record appended is also copied into ``journal``."""

    def __init__(self, journal: Journal, maxlen: int) -> None:
        super().__init__(maxlen=maxlen)
        self.journal = journal

    def append(self, record: RequestRecord) -> None:
        """Log the record and journal it."""
        super().append(record)
        self.journal.record(record)


def journal_middleware(api_paths: frozenset[str]) -> Middleware:
    """A middleware noting each Kartra call's arrival time and masked ``app_id``."""

    @web.middleware
    async def note_arrival(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path not in api_paths:
            return await handler(request)
        started = time.perf_counter()
        app_id = await _app_id(request)
        token = _ARRIVAL.set(_Arrival(started, mask_app_id(app_id)))
        try:
            return await handler(request)
        finally:
            _ARRIVAL.reset(token)

    return note_arrival


async def _app_id(request: web.Request) -> str:
    """The call's ``app_id`` from a form or JSON body, or the query string; ``""`` if none.

    A multipart body is not read here: reading it would consume the stream the handler parses.
    """
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        body = b""
    else:
        body = await request.read()  # aiohttp keeps the bytes for the handler's own read
    if content_type == "application/json" or body[:1] == b"{":
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("app_id"), str):
            return str(decoded["app_id"])
    for source in (body, request.query_string.encode()):
        found = _APP_ID.search(source)
        if found:
            return unquote_plus(found.group(1).decode("utf-8", "replace"))
    return ""
