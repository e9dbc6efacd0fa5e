"""Running an import: rows → calls → ``KartraClient.stream`` → one result record per row.

The journal protocol (see ``_journal``) lives here: the stream reads a row only when one of
its slots is free, the row's ``start`` record is made durable before the stream can see its
call, and its ``done`` record is written as soon as its outcome arrives (the outcome carries
the row number as its key), before the slot is given to a new row: at most ``concurrency``
rows are ever in flight.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from .._builder import Call
from .._bulk import Recover
from .._client import KartraClient
from .._errors import ValidationError
from .._outcome import Progress
from ._columns import ColumnPlan, FieldSpec, ImportOptions
from ._journal import JournalState, JournalWriter
from ._results import Tally, invalid_record, outcome_record, valid_record
from ._source import SourceRow

#: Called with each result record and whether it was replayed from the journal (resume).
RecordSink = Callable[[dict[str, Any], bool], None]
# Rows are read synchronously; hand control back to the event loop this often when a long run
# of rows needs no call (invalid or already done), so progress keeps moving.
_YIELD_EVERY = 500


class ImportRun:
    """One import: validates rows, sends the valid ones, records and counts every outcome.

    ``tally`` counts result records (replayed ones included); ``progress`` is the stream's live
    counters (calls, retries, 429s) once ``run`` started.
    """

    def __init__(
        self,
        rows: Iterable[SourceRow],
        *,
        plan: ColumnPlan,
        options: ImportOptions,
        specs: Mapping[str, FieldSpec] | None,
        sink: RecordSink,
        journal: JournalWriter | None = None,
        resume: JournalState | None = None,
    ) -> None:
        self._rows = iter(rows)
        self._plan = plan
        self._options = options
        self._specs = specs
        self._sink = sink
        self._journal = journal
        self._resume = resume
        self.tally = Tally()
        self.progress: Progress | None = None
        #: Rows skipped because the journal has them done.
        self.skipped = 0
        #: Rows re-sent as ``Recover`` because they were in flight when a run died.
        self.recovered = 0
        #: True once every row was settled (False while running or when interrupted).
        self.finished = False

    def replay(self, records: Iterable[dict[str, Any]]) -> None:
        """Count (and pass to the sink) the results an interrupted run already recorded."""
        for record in records:
            self.tally.add(record)
            self._sink(record, True)

    def _record(self, record: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.write_done(record)
        self.tally.add(record)
        self._sink(record, False)

    def _calls(self) -> Iterator[tuple[int, Call | Recover] | None]:
        """Valid rows as (row number, call); None now and then while skipping rows."""
        since_yield = 0
        in_flight = self._resume.in_flight if self._resume is not None else None
        for row in self._rows:
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                yield None
            if self._resume is not None and row.number in self._resume.done:
                self.skipped += 1
                continue
            try:
                if row.problem is not None:
                    raise ValidationError(*row.problem)
                lead_call = self._options.call_for(self._plan.lead(row.values, self._specs))
            except ValidationError as exc:
                self._record(invalid_record(row.number, self._plan.email_of(row.values), exc))
                continue
            if self._resume is not None and in_flight is not None and row.number in in_flight:
                self.recovered += 1
                when = self._resume.started_at.get(row.number)
                sent = datetime.fromtimestamp(when, UTC) if when is not None else None
                yield row.number, Recover(lead_call, sent)
            else:
                yield row.number, lead_call

    def dry_run(self) -> Tally:
        """Validate every row without sending anything; valid rows get outcome ``valid``."""
        for item in self._calls():
            if item is not None:
                number, call = item
                record = valid_record(number, getattr(getattr(call, "lead", None), "email", None))
                self.tally.add(record)
                self._sink(record, False)
        self.finished = True
        return self.tally

    async def run(self, client: KartraClient, *, concurrency: int = 8) -> Tally:
        """Send every valid row through ``client.stream``; return the tally.

        Rows ride the stream as ``(row number, call)`` pairs, so each outcome names its row.
        The stream reads a row only when one of its ``concurrency`` slots is free, and a row's
        ``start`` record is durable before the row is handed over: at most ``concurrency``
        rows are ever started and not done.
        """
        mode = self._options.mode
        keyed = self._journaled(self._calls())
        async with client.stream(keyed, concurrency=concurrency, buffer=concurrency) as outcomes:
            self.progress = outcomes.progress
            async for outcome in outcomes:
                self._record(outcome_record(outcome.key, mode, outcome))
        if self._journal is not None:
            await asyncio.to_thread(self._journal.sync)
        self.finished = True
        return self.tally

    async def _journaled(
        self, calls: Iterator[tuple[int, Call | Recover] | None]
    ) -> AsyncIterator[tuple[int, Call | Recover]]:
        journal = self._journal
        for item in calls:
            if item is None:
                await asyncio.sleep(0)  # a long run of skipped rows: let the workers breathe
                continue
            if journal is not None:
                journal.write_started([item[0]])
                # Durable before this row can be sent; off the loop so workers keep going.
                await asyncio.to_thread(os.fsync, journal.fileno())
            yield item
