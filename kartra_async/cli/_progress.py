"""Showing an import while it runs (a rich bar on a terminal, log lines otherwise) and after
it ends (the summary table)."""

from __future__ import annotations

import asyncio
import time
from typing import Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .._importing import ImportRun, Tally

#: Seconds between two log lines when stderr is not a terminal.
LOG_INTERVAL: Final = 5.0
_REFRESH: Final = 0.25


class ProgressView:
    """Polls an ``ImportRun``'s counters; never slows the workers (no callbacks, no locks)."""

    def __init__(
        self,
        run: ImportRun,
        *,
        total: int | None,
        console: Console,
        log_interval: float = LOG_INTERVAL,
    ) -> None:
        self._run = run
        self._total = total
        self._console = console
        self._interval = log_interval
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._bar = Progress(
                TextColumn("[bold]import"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )

    @property
    def elapsed(self) -> float:
        """Seconds since the view was created."""
        return time.monotonic() - self._started

    def say(self, message: str) -> None:
        """Print a line above the bar (or plainly)."""
        self._console.print(message, markup=False, highlight=False, soft_wrap=True)

    def _numbers(self) -> tuple[int, str, str]:
        tally = self._run.tally
        progress = self._run.progress
        retried = progress.retried if progress is not None else 0
        calls = progress.calls if progress is not None else 0
        speed = calls / self.elapsed if self.elapsed > 0 else 0.0
        failed = tally.not_ok - tally.invalid
        counts = f"ok {tally.ok}  failed {failed}  invalid {tally.invalid}  retried {retried}"
        return tally.rows, counts, f"{speed:.1f} calls/s"

    def _refresh(self) -> None:
        done, counts, speed = self._numbers()
        total = self._total
        if total is not None and done > total:
            total = done
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, counts=counts, speed=speed)

    def _log_line(self) -> None:
        done, counts, speed = self._numbers()
        of = f"/{self._total}" if self._total else ""
        eta = ""
        progress = self._run.progress
        fresh = done - self._run.skipped
        if self._total and progress is not None and fresh > 0 and done < self._total:
            rate = fresh / self.elapsed
            eta = f", ETA {_duration((self._total - done) / rate)}" if rate > 0 else ""
        self.say(f"import: {done}{of} rows, {counts}, {speed}{eta}")

    async def watch(self) -> None:
        """Update the bar (or log) until cancelled."""
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("import", total=self._total, counts="", speed="")
            try:
                while True:
                    self._refresh()
                    await asyncio.sleep(_REFRESH)
            finally:
                if self._run.finished:
                    self._total = self._run.tally.rows
                self._refresh()
                self._bar.stop()
        else:
            try:
                while True:
                    await asyncio.sleep(self._interval)
                    self._log_line()
            finally:
                if self._run.finished:
                    self._total = self._run.tally.rows
                self._log_line()


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def summary_table(
    tally: Tally, *, run: ImportRun | None, elapsed: float, dry_run: bool = False
) -> Table:
    """The final summary: outcomes, failures by reason, calls, 429s, elapsed time."""
    table = Table(title="dry run: nothing was sent" if dry_run else "import summary")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("rows", str(tally.rows))
    if dry_run:
        table.add_row("valid (would be sent)", str(tally.valid))
    else:
        table.add_row("created", str(tally.created))
        table.add_row("updated", str(tally.updated))
        table.add_row("failed", str(tally.failed))
        table.add_row("  not sent (safe to retry)", str(tally.failures["not_sent"]))
        table.add_row("  rejected by Kartra", str(tally.failures["rejected"]))
        table.add_row("outcome unknown (may have been applied)", str(tally.unknown))
    table.add_row("invalid (not sent)", str(tally.invalid))
    for reason, count in sorted(tally.reasons.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(f"  {reason}", str(count))
    table.add_row("rows repeating an earlier lead", str(tally.repeated))
    if not dry_run:
        sent = tally.created + tally.updated + tally.failed + tally.unknown
        table.add_row("calls for rows (all runs)", str(tally.calls))
        table.add_row("calls per lead", f"{tally.calls / sent:.2f}" if sent else "-")
        progress = run.progress if run is not None else None
        table.add_row("429s (this run)", str(progress.rate_limited if progress else 0))
        if run is not None and (run.skipped or run.recovered or run.retried):
            table.add_row("resumed: rows already done", str(run.skipped))
            table.add_row("resumed: in-flight rows reconciled", str(run.recovered))
            table.add_row("resumed: failed rows sent again", str(run.retried))
    table.add_row("elapsed (this run)", f"{elapsed:.1f} s")
    return table
