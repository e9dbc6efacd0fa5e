"""``kartra-async import FILE``: push a CSV/JSONL file of leads into Kartra, exactly once.

The click layer only parses options and shows things; the work is in ``kartra_async._importing``
(rows, columns, journal, results) and ``KartraClient.stream`` (pacing, retries, reconciliation).
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console

from .._builder import LeadRequest
from .._client import KartraClient
from .._errors import KartraError, UsageError, ValidationError
from .._importing import (
    FORMATS,
    MODES,
    Breaker,
    ColumnPlan,
    ImportOptions,
    ImportRun,
    JournalHeader,
    JournalLock,
    JournalState,
    JournalWriter,
    RejectsWriter,
    ResultsWriter,
    RetryChoice,
    Tally,
    check_witness,
    csv_header,
    detect_encoding,
    file_facts,
    guess_format,
    iter_done,
    parse_map_option,
    parse_sequence_option,
    read_journal,
    read_rows,
)
from .._schema import AccountSchema
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_UNREACHABLE,
    CannotRun,
    Connection,
    Target,
    cli_logger,
    connect,
    describe_error,
    find_credentials,
    log_json,
    target_options,
)
from ._main import main
from ._progress import ProgressView, summary_table

JOURNAL_SUFFIX = ".journal.jsonl"


@attrs.frozen
class _Job:
    path: Path
    fmt: str
    plan: ColumnPlan
    options: ImportOptions
    header_columns: tuple[str, ...] | None
    journal_path: Path | None
    resume: bool
    output: Path | None
    concurrency: int
    target: Target
    estimated_rows: int
    journal_header: JournalHeader
    allow_invalid: bool = False
    encoding: str | None = None
    #: No row can have a larger number (bounds the journal's row numbers).
    line_bound: int = 0
    rejects: Path | None = None
    retry: RetryChoice = attrs.field(factory=RetryChoice)
    max_failures: int = 20
    #: The command line, for the resume command printed when the breaker trips.
    argv: tuple[str, ...] = ()

    def rejects_writer(self) -> RejectsWriter | None:
        """The rejects file, opened (None without ``--rejects``)."""
        if self.rejects is None:
            return None
        try:
            return RejectsWriter(self.rejects, self.fmt, self.header_columns)
        except OSError as exc:
            raise CannotRun(_text(exc)) from None

    def resume_command(self) -> str:
        """This command with ``--resume --retry-failed`` (each added once)."""
        args = list(self.argv)
        for flag in ("--resume", "--retry-failed"):
            if flag not in args:
                args.append(flag)
        return shlex.join(["kartra-async", *args])

    def exit_status(self, tally: Tally) -> int:
        """0 when every row succeeded; invalid rows count only without --allow-invalid."""
        not_ok = tally.not_ok - (tally.invalid if self.allow_invalid else 0)
        return EXIT_OK if not_ok == 0 else EXIT_ROWS_FAILED


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the suffix.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="upsert",
    show_default=True,
    help="create: new leads only; edit: existing only; upsert: either.",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Assign this tag (repeatable).")
@click.option(
    "--list", "lists", multiple=True, metavar="LIST", help="Subscribe to this list (repeatable)."
)
@click.option(
    "--sequence",
    "sequences",
    multiple=True,
    metavar="NAME:STEP",
    help="Start this sequence at this step (repeatable).",
)
@click.option(
    "--points",
    type=click.IntRange(min=1),
    default=None,
    help="Give these points. Never replayed: see README on resume.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADER=FIELD",
    help="Read column HEADER as FIELD (a lead field or cf:<identifier>); "
    "'HEADER=' ignores the column. Repeatable.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Calls in flight at once.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, min_open=False),
    default=None,
    help="Calls per second (default 19.6, under Kartra's 20/s).",
)
@click.option(
    "--redis-url", default=None, help="Share the App's rate with other processes through Redis."
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Journal file (default: FILE{JOURNAL_SUFFIX}; none with --sandbox).",
)
@click.option("--resume", is_flag=True, help="Continue the import recorded in the journal.")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="With --resume: send again the rows that failed without reaching Kartra (not_sent), "
    "and settle those whose outcome is unknown through recovery (never replaying points).",
)
@click.option(
    "--retry-rejected",
    is_flag=True,
    help="With --resume: also send again the rows Kartra rejected (after fixing the account).",
)
@click.option(
    "--max-consecutive-failures",
    "max_failures",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Stop (exit 4) after this many rows in a row could not be sent; 0 never stops.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate every row; send nothing. With credentials or --sandbox it reads the "
    "account (custom fields, tags, lists, sequences) and checks every row as the real run does.",
)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Invalid rows are still reported and never sent, but do not make the exit status 1.",
)
@click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="The file's encoding (default: from its byte order mark, else UTF-8), e.g. latin-1.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one result per row (JSONL, or CSV if the name ends in .csv).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every invalid or failed row here, in the input's format, with its columns plus "
    "reason, field and failure: fix it and import it again.",
)
@target_options
def import_(
    file: Path,
    fmt: str | None,
    mode: str,
    tags: Sequence[str],
    lists: Sequence[str],
    sequences: Sequence[str],
    points: int | None,
    maps: Sequence[str],
    concurrency: int,
    rate: float | None,
    redis_url: str | None,
    journal_path: Path | None,
    resume: bool,
    retry_failed: bool,
    retry_rejected: bool,
    max_failures: int,
    dry_run: bool,
    allow_invalid: bool,
    encoding: str | None,
    output: Path | None,
    rejects: Path | None,
    sandbox: bool,
    sandbox_rate_limit: int,
    credentials_file: Path | None,
    base_url: str | None,
    test_mode: bool | None,
) -> None:
    """Import leads from FILE (CSV or JSONL), paced under Kartra's limit, journaled, resumable.

    Exit status: 0 every row succeeded; 1 some rows failed, were invalid (unless
    --allow-invalid) or have an unknown outcome; 2 could not run; 3 no credentials;
    4 stopped because Kartra could not be reached (resume with the printed command);
    130 interrupted (resume with --resume).
    """
    try:
        options = ImportOptions(
            mode=mode,
            tags=tuple(tags),
            lists=tuple(lists),
            sequences=tuple(parse_sequence_option(s) for s in sequences),
            points=points,
        )
        plan = ColumnPlan(parse_map_option(maps))
        fmt = guess_format(file, fmt)
        encoding = detect_encoding(file, encoding)
        columns = csv_header(file, encoding=encoding) if fmt == "csv" else None
        if columns is not None:
            plan.check_columns(columns, None)
    except (UsageError, OSError) as exc:
        raise CannotRun(_text(exc)) from None
    if (retry_failed or retry_rejected) and not resume:
        raise CannotRun(
            "--retry-failed and --retry-rejected apply to a resumed import: add --resume"
        )
    if resume and sandbox:
        raise CannotRun(
            "--resume needs the account the journal was written for; "
            "--sandbox always starts a fresh one"
        )
    if journal_path is None and not sandbox and not dry_run:
        journal_path = file.with_name(file.name + JOURNAL_SUFFIX)
    if resume and (journal_path is None or not journal_path.exists()):
        raise CannotRun(f"--resume: there is no journal at {journal_path}")
    facts = file_facts(file, fmt)
    header = JournalHeader(
        input_name=file.name,
        sha256=facts.sha256,
        size=facts.size,
        options={
            **options.as_json(),
            "format": fmt,
            "map": dict(plan.overrides),
            "encoding": encoding,
        },
    )
    job = _Job(
        path=file,
        fmt=fmt,
        plan=plan,
        options=options,
        header_columns=columns,
        journal_path=None if dry_run else journal_path,
        resume=resume,
        output=output,
        concurrency=concurrency,
        target=Target(
            sandbox,
            sandbox_rate_limit,
            credentials_file,
            base_url,
            rate,
            redis_url,
            test_mode=test_mode,
        ),
        estimated_rows=facts.estimated_rows,
        journal_header=header,
        allow_invalid=allow_invalid,
        rejects=rejects,
        retry=RetryChoice(failed=retry_failed, rejected=retry_rejected),
        max_failures=max_failures,
        argv=tuple(sys.argv[1:]),
        encoding=encoding,
        line_bound=facts.line_bound,
    )
    err = Console(stderr=True)
    if dry_run:
        sys.exit(_dry_run(job, err))
    sys.exit(_run(job, err))


def _text(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return str(exc)


def _print_record(view: ProgressView | Console, record: Mapping[str, Any]) -> None:
    outcome = record.get("outcome")
    if outcome == "invalid":
        message = f"row {record['row']}: invalid {record['field']}: {record['error']}"
    elif outcome in ("failed", "unknown"):
        message = (
            f"row {record['row']} ({record.get('email')}): {outcome} "
            f"({record.get('failure')}): {record['error']}"
        )
    else:
        return
    if log_json():
        fields = {key: record.get(key) for key in ("row", "outcome", "field", "failure")}
        cli_logger.warning(message, extra={"fields": fields})
        return
    if isinstance(view, ProgressView):
        view.say(message)
    else:
        view.print(message, markup=False, highlight=False, soft_wrap=True)


def _dry_run(job: _Job, err: Console) -> int:
    """Validate every row. With credentials or --sandbox the account is read first (four
    inventory calls, never a lead call) and each row is checked exactly as the real run does."""
    if job.target.sandbox or find_credentials(job.target.credentials_file) is not None:
        try:
            return asyncio.run(_dry_run_online(job, err))
        except KeyboardInterrupt:
            return _interrupted(job, err)
    err.print(
        "account checks skipped (no credentials): custom fields, options, tags, lists and "
        "sequences were not checked; pass credentials or --sandbox to check them",
        markup=False,
        highlight=False,
    )
    return _validate(job, None, err)


async def _dry_run_online(job: _Job, err: Console) -> int:
    seed = _seed(job.options) if job.target.sandbox else None
    async with connect(job.target, seed=seed) as conn:
        schema = await _preflight(conn.client, job)
    return _validate(job, schema, err)


def _validate(job: _Job, schema: AccountSchema | None, err: Console) -> int:
    started = time.monotonic()
    results = ResultsWriter(job.output) if job.output is not None else None
    rejects = job.rejects_writer()

    def sink(record: dict[str, Any], replayed: bool) -> None:
        _print_record(err, record)
        if results is not None:
            results.write(record)

    run = ImportRun(
        read_rows(job.path, job.fmt, encoding=job.encoding),
        plan=job.plan,
        options=job.options,
        schema=schema,
        sink=sink,
        rejects=rejects,
    )
    try:
        tally = run.dry_run()
    finally:
        if results is not None:
            results.close()
        if rejects is not None:
            rejects.close()
    Console().print(
        summary_table(tally, run=None, elapsed=time.monotonic() - started, dry_run=True)
    )
    return job.exit_status(tally)


def _run(job: _Job, err: Console) -> int:
    # One importer per journal, for the whole run: taken before the journal is even read.
    lock: JournalLock | None = None
    if job.journal_path is not None:
        try:
            lock = JournalLock.acquire(job.journal_path)
        except (UsageError, OSError) as exc:
            raise CannotRun(_text(exc)) from None
    try:
        return _run_locked(job, lock, err)
    finally:
        if lock is not None:
            lock.release()


def _run_locked(job: _Job, lock: JournalLock | None, err: Console) -> int:
    state: JournalState | None = None
    if job.resume:
        assert job.journal_path is not None
        try:
            # Rows are numbered by line: none can be past the input's last line.
            state = read_journal(job.journal_path, max_row=job.line_bound)
            if lock is not None:
                check_witness(job.journal_path, state, lock.previous)
            state.header.check_matches(job.journal_header)
        except (UsageError, OSError) as exc:
            raise CannotRun(_text(exc)) from None
        if job.journal_path is not None:
            err.print(
                f"resuming from {job.journal_path}: {len(state.done)} rows done, "
                f"{len(state.in_flight)} were in flight (they will be reconciled)",
                markup=False,
                highlight=False,
            )
    try:
        return asyncio.run(_main(job, state, lock, err))
    except KeyboardInterrupt:
        return _interrupted(job, err)
    except asyncio.CancelledError:
        return _interrupted(job, err)


def _interrupted(job: _Job, err: Console) -> int:
    hint = ""
    if job.journal_path is not None and not job.target.sandbox:
        hint = f"; run the same command with --resume to continue (journal: {job.journal_path})"
    err.print(f"interrupted{hint}", markup=False, highlight=False)
    return EXIT_INTERRUPTED


def _seed(options: ImportOptions) -> dict[str, Any]:
    sequences: dict[str, list[str]] = {}
    for name, step in options.sequences:
        sequences.setdefault(name, []).append(step)
    return {"tags": options.tags, "lists": options.lists, "sequences": sequences}


async def _main(
    job: _Job, state: JournalState | None, lock: JournalLock | None, err: Console
) -> int:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    started = time.monotonic()
    seed = _seed(job.options) if job.target.sandbox else None
    async with connect(job.target, seed=seed) as conn:
        if conn.sandbox is not None:
            err.print(
                f"sandbox: a fresh in-process Kartra at {conn.sandbox.url}, limited to "
                f"{job.target.sandbox_rate_limit} calls/s (Kartra's real limit is 20/s); "
                f"pacing at {conn.rate:g} calls/s",
                markup=False,
                highlight=False,
            )
        schema = await _preflight(conn.client, job)
        journal = _open_journal(job, state, lock)
        results = ResultsWriter(job.output) if job.output is not None else None
        rejects = job.rejects_writer()
        try:
            tally, run = await _stream(job, conn, schema, journal, state, results, rejects, err)
        finally:
            if journal is not None:
                journal.close()
            if results is not None:
                results.close()
            if rejects is not None:
                rejects.close()
        out = Console()
        out.print(summary_table(tally, run=run, elapsed=time.monotonic() - started))
        if conn.sandbox is not None:
            out.print(_sandbox_summary(conn))
    if job.output is not None:
        err.print(f"results: {job.output}", markup=False, highlight=False)
    if job.rejects is not None:
        err.print(f"rejects: {job.rejects}", markup=False, highlight=False)
    if run.breaker is not None and run.breaker.tripped:
        return _unreachable(job, run, err)
    return job.exit_status(tally)


def _unreachable(job: _Job, run: ImportRun, err: Console) -> int:
    assert run.breaker is not None
    if job.journal_path is None:
        hint = "there is no journal (--sandbox), so the import cannot be resumed"
    else:
        hint = f"when Kartra is reachable again, resume with:\n  {job.resume_command()}"
    err.print(
        f"stopped: {run.breaker.limit} rows in a row could not be sent (Kartra is unreachable); "
        f"rows not yet started were left untouched. {hint}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_UNREACHABLE


async def _preflight(client: KartraClient, job: _Job) -> AccountSchema:
    """The account's schema (one call per inventory), and the options and header checked
    against it up front, so that a missing tag stops the run before any row."""
    try:
        schema = await client.account_schema()
    except KartraError as exc:
        raise CannotRun(f"could not read the account's inventory: {describe_error(exc)}") from None
    try:
        schema.check(job.options.call_for(LeadRequest(email="preflight@example.com")))
    except ValidationError as exc:
        raise CannotRun(f"{exc.reason}. See 'kartra-async inventory'.") from None
    if job.header_columns is not None:
        try:
            job.plan.check_columns(job.header_columns, schema)
        except UsageError as exc:
            raise CannotRun(str(exc)) from None
    return schema


def _open_journal(
    job: _Job, state: JournalState | None, lock: JournalLock | None
) -> JournalWriter | None:
    if job.journal_path is None:
        return None
    try:
        if state is not None:
            return JournalWriter.append(job.journal_path, state, lock=lock)
        return JournalWriter.create(job.journal_path, job.journal_header, lock=lock)
    except (UsageError, OSError) as exc:
        raise CannotRun(_text(exc)) from None


async def _stream(
    job: _Job,
    conn: Connection,
    schema: AccountSchema,
    journal: JournalWriter | None,
    state: JournalState | None,
    results: ResultsWriter | None,
    rejects: RejectsWriter | None,
    err: Console,
) -> tuple[Tally, ImportRun]:
    view: ProgressView | None = None

    def sink(record: dict[str, Any], replayed: bool) -> None:
        if results is not None:
            results.write(record)
        if not replayed and view is not None:
            _print_record(view, record)

    run = ImportRun(
        read_rows(job.path, job.fmt, encoding=job.encoding),
        plan=job.plan,
        options=job.options,
        schema=schema,
        sink=sink,
        journal=journal,
        resume=state,
        retry=job.retry,
        rejects=rejects,
        breaker=Breaker(job.max_failures) if job.max_failures else None,
    )
    if state is not None and job.journal_path is not None:
        run.replay(iter_done(job.journal_path))
    view = ProgressView(run, total=job.estimated_rows, console=err)
    watcher = asyncio.create_task(view.watch())
    try:
        tally = await run.run(conn.client, concurrency=job.concurrency)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    return tally, run


def _sandbox_summary(conn: Connection) -> Any:
    from rich.table import Table

    sandbox = conn.sandbox
    assert sandbox is not None
    account = sandbox.account
    leads = [lead for lead in account.leads.values() if lead.deleted is None]
    table = Table(title="sandbox account at the end")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("leads", str(len(leads)))
    for name, tag_id in account.tags.items():
        count = sum(1 for lead in leads if tag_id in (lead.tags or ()))
        if count:
            table.add_row(f"  tagged {name!r}", str(count))
    for name, list_id in account.lists.items():
        count = sum(1 for lead in leads if (lead.lists or {}).get(list_id) == 1)
        if count:
            table.add_row(f"  on list {name!r}", str(count))
    for name, sequence in account.sequences.items():
        count = sum(1 for lead in leads if sequence.id in (lead.sequences or {}))
        if count:
            table.add_row(f"  in sequence {name!r}", str(count))
    table.add_row("  total points", str(sum(lead.score for lead in leads)))
    stats = sandbox.stats
    table.add_row("calls received", str(stats.calls))
    table.add_row("429s sent", str(stats.rate_limited))
    return table
