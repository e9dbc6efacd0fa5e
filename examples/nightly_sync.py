"""A nightly cron job: push the customers changed since the last good run to Kartra.

Each night gets its own run directory, ``RUNS/YYYY-MM-DD/``, holding the exported rows
(``leads.csv``), the import's journal (``journal.jsonl``) and one result per row
(``results.jsonl``). The rows come from your application's database (here a SQLite table
``customers(email, first_name, last_name, updated_at)``) and are sent by ``kartra-async import``
in upsert mode, paced under Kartra's 20 calls/s and retried safely.

If the job dies (a reboot, a kill, a lost network), run it again for the same date: the same
rows are resumed from the journal, none sent twice, none skipped. ``RUNS/last-success`` holds
the date of the last run that finished without a failed row; the next night exports what
changed since then, so a bad night's rows are exported again.

    KARTRA_APP_ID=... KARTRA_API_KEY=... KARTRA_API_PASSWORD=... \\
        python examples/nightly_sync.py app.sqlite3 --runs /var/lib/kartra-sync --tag Customer

crontab: ``15 3 * * * cd /srv/app && .venv/bin/python examples/nightly_sync.py ...``

Exit status (for cron's mail and your monitoring), the import's own:

- ``0`` every row synced;
- ``1`` the run finished but some rows failed, were invalid or have an unknown outcome
  (``results.jsonl`` says which and why);
- ``2`` could not run (no such database, bad options, tags missing in the account...);
- ``3`` no credentials in the environment;
- ``130`` interrupted: run it again with the same ``--date`` to resume.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path

from kartra_async.cli import main as kartra_cli

EXIT_OK = 0
EXIT_USAGE = 2
FIELDS = ("email", "first_name", "last_name")


def export_changed(database: Path, since: str | None, out: Path) -> int:
    """Write the customers changed since ``since`` (ISO date) to ``out``; return their number.

    Written to a temporary name and renamed, so a half-written export is never imported.
    """
    query = "SELECT email, first_name, last_name FROM customers"
    params: tuple[str, ...] = ()
    if since is not None:
        query += " WHERE updated_at >= ?"
        params = (since,)
    partial = out.with_suffix(".partial")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(query + " ORDER BY email", params).fetchall()
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        writer.writerows(rows)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(out)
    return len(rows)


def run(database: Path, runs: Path, date: str, tags: list[str]) -> int:
    """One night's sync; returns the exit status."""
    run_dir = runs / date
    leads, journal = run_dir / "leads.csv", run_dir / "journal.jsonl"
    last_success = runs / "last-success"
    resuming = journal.exists()
    if not resuming:
        # A fresh night: export again (also when an earlier attempt died before its journal).
        if not database.is_file():
            print(f"nightly_sync: no database at {database}", file=sys.stderr)
            return EXIT_USAGE
        run_dir.mkdir(parents=True, exist_ok=True)
        since = last_success.read_text().strip() if last_success.exists() else None
        try:
            count = export_changed(database, since, leads)
        except sqlite3.Error as error:
            print(f"nightly_sync: cannot read {database}: {error}", file=sys.stderr)
            return EXIT_USAGE
        print(f"nightly_sync: {count} customers changed since {since or 'the beginning'}")
    args = ["import", str(leads), "--mode", "upsert", "--journal", str(journal)]
    args += ["--output", str(run_dir / ("results-resumed.jsonl" if resuming else "results.jsonl"))]
    for tag in tags:
        args += ["--tag", tag]
    if resuming:
        args.append("--resume")
    status = _run_cli(args)
    if status == EXIT_OK:
        last_success.write_text(date + "\n")
    return status


def _run_cli(args: list[str]) -> int:
    try:
        kartra_cli.main(args=args, prog_name="kartra-async", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run one night."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="SQLite database with a customers table")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where run folders go")
    parser.add_argument(
        "--date", default=dt.date.today().isoformat(), help="the night to run (YYYY-MM-DD)"
    )
    parser.add_argument("--tag", action="append", default=[], help="tag to assign (repeatable)")
    options = parser.parse_args(argv)
    try:
        dt.date.fromisoformat(options.date)
    except ValueError:
        parser.exit(EXIT_USAGE, f"nightly_sync: --date must be YYYY-MM-DD, not {options.date!r}\n")
    return run(options.database, options.runs, options.date, options.tag)


if __name__ == "__main__":
    sys.exit(main())
