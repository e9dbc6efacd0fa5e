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
from .._errors import Failure, ValidationError
from .._outcome import Progress
from .._schema import AccountSchema
from ._columns import ColumnPlan, ImportOptions
from ._journal import JournalState, JournalWriter
from ._recovery import Breaker, RetryChoice
from ._rejects import RejectsWriter
from ._repeats import SeenLeads
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

    ``schema`` is the account's (``KartraClient.account_schema``): every row is resolved and
    checked against it exactly alike in a dry run and a real run; None (an offline dry run)
    checks shapes only. ``retry`` picks the journaled failures a resumed run sends again,
    ``rejects`` receives every invalid or failed row, and ``breaker`` stops feeding rows after
    too many consecutive ``not_sent`` failures.
    """

    def __init__(
        self,
        rows: Iterable[SourceRow],
        *,
        plan: ColumnPlan,
        options: ImportOptions,
        schema: AccountSchema | None,
        sink: RecordSink,
        journal: JournalWriter | None = None,
        resume: JournalState | None = None,
        retry: RetryChoice | None = None,
        rejects: RejectsWriter | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self._rows = iter(rows)
        self._plan = plan
        self._options = options
        self._schema = schema
        self._sink = sink
        self._journal = journal
        self._resume = resume
        self._retry = retry or RetryChoice()
        self._rejects = rejects
        self.breaker = breaker
        # Journaled failures: the ones to send again (row → failure class), and the ones kept,
        # whose rows go to the rejects file when the input is read again.
        self._to_retry: dict[int, Failure] = {}
        self._kept_failures: dict[int, dict[str, Any]] = {}
        # Values of the rows in flight, for the rejects file (only when there is one).
        self._values: dict[int, Mapping[str, Any]] = {}
        self._seen = SeenLeads()
        self.tally = Tally()
        self.progress: Progress | None = None
        #: Rows skipped because the journal has them done.
        self.skipped = 0
        #: Rows re-sent as ``Recover`` because they were in flight when a run died.
        self.recovered = 0
        #: Journaled failures sent again (``--retry-failed``/``--retry-rejected``).
        self.retried = 0
        #: True once every row was settled (False while running or when interrupted).
        self.finished = False
        # Set when the breaker trips: no further row is handed to the stream.
        self._stopped = False

    def replay(self, records: Iterable[dict[str, Any]]) -> None:
        """Count (and pass to the sink) the results an interrupted run already recorded.

        A row retried by an earlier resume has several done records; only its last counts.
        Failures the ``retry`` choice sends again are not counted: their new result will be.
        """
        pending: dict[int, dict[str, Any]] = {}
        for record in records:
            row = int(record["row"])
            if record.get("outcome") in ("failed", "unknown", "invalid"):
                pending[row] = record
                continue
            pending.pop(row, None)
            self.tally.add(record)
            self._sink(record, True)
        for row, record in pending.items():
            failure = self._retry.wants(record)
            if failure is not None:
                self._to_retry[row] = failure
                continue
            self.tally.add(record)
            self._sink(record, True)
            if self._rejects is not None:
                self._kept_failures[row] = record

    def _record(self, record: dict[str, Any], values: Mapping[str, Any] | None = None) -> None:
        if self._journal is not None:
            self._journal.write_done(record)
        self.tally.add(record)
        self._sink(record, False)
        if self._rejects is not None and values is not None and record.get("failure"):
            self._rejects.write(values, record)

    def _done_row(self, row: SourceRow) -> Failure | None:
        """For a row the journal has done: the failure class to send it again as, or None."""
        failure = self._to_retry.pop(row.number, None)
        if failure is None:
            self.skipped += 1
            kept = self._kept_failures.pop(row.number, None)
            if kept is not None and self._rejects is not None:
                self._rejects.write(row.values, kept)
        return failure

    def _calls(self) -> Iterator[tuple[int, Call | Recover] | None]:
        """Valid rows as (row number, call); None now and then while skipping rows."""
        since_yield = 0
        in_flight = self._resume.in_flight if self._resume is not None else None
        for row in self._rows:
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                yield None
            retry: Failure | None = None
            if self._resume is not None and row.number in self._resume.done:
                retry = self._done_row(row)
                if retry is None:
                    continue
                self.retried += 1
            try:
                if row.problem is not None:
                    raise ValidationError(*row.problem)
                lead_call = self._options.call_for(self._plan.lead(row.values, self._schema))
                if self._schema is not None:
                    self._schema.check(lead_call)
            except ValidationError as exc:
                record = invalid_record(row.number, self._plan.email_of(row.values), exc)
                self._record(record, row.values)
                continue
            if self._seen.add(lead_call.lead.key):
                self.tally.repeated += 1
            if self._rejects is not None:
                self._values[row.number] = row.values
            resumed = in_flight is not None and row.number in in_flight
            if (retry is None and resumed) or retry is Failure.UNKNOWN:
                # Maybe applied by an earlier run: settled by reading back, never replayed.
                self.recovered += int(retry is None)
                yield row.number, Recover(lead_call, self._first_sent(row.number))
            else:
                yield row.number, lead_call

    def dry_run(self) -> Tally:
        """Validate every row without sending anything; valid rows get outcome ``valid``."""
        for item in self._calls():
            if item is not None:
                number, call = item
                self._values.pop(number, None)
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
                row = outcome.key
                record = outcome_record(row, mode, outcome)
                self._record(record, self._values.pop(row, None))
                if self.breaker is not None and self.breaker.observe(record):
                    self._stopped = True  # start no further rows; those in flight settle
        if self._journal is not None:
            await asyncio.to_thread(self._journal.sync)
        self.finished = True
        return self.tally

    def _first_sent(self, row: int) -> datetime | None:
        when = self._resume.started_at.get(row) if self._resume is not None else None
        return datetime.fromtimestamp(when, UTC) if when is not None else None

    async def _journaled(
        self, calls: Iterator[tuple[int, Call | Recover] | None]
    ) -> AsyncIterator[tuple[int, Call | Recover]]:
        journal = self._journal
        for item in calls:
            if self._stopped:
                return  # the breaker tripped: rows not yet started stay unsent and resumable
            if item is None:
                await asyncio.sleep(0)  # a long run of skipped rows: let the workers breathe
                continue
            if journal is not None:
                journal.write_started([item[0]])
                # Durable before this row can be sent; off the loop so workers keep going.
                await asyncio.to_thread(os.fsync, journal.fileno())
            yield item
