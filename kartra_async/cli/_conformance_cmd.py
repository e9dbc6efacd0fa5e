"""``kartra-async conformance``: compare an endpoint's answers with the sandbox's.

Exit status: 0 no difference; 1 differences found; 2 could not run; 3 no credentials.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import attrs
import click

from .._client import ENV_BASE_URL
from ..conformance import (
    DEFAULT_TAG,
    SCENARIOS,
    ConformanceError,
    Inventory,
    Options,
    run_conformance,
)
from ._common import EXIT_OK, EXIT_ROWS_FAILED, CannotRun, require_endpoint
from ._main import main


def _pair(value: str | None, option: str) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, second = value.rpartition(":")
    if not sep or not name.strip() or not second.strip():
        raise click.BadParameter(f"expected NAME:{option}", param_hint=f"--{option.lower()}")
    return name.strip(), second.strip()


@main.command("conformance")
@click.option("--base-url", default=None, help=f"Endpoint (default: ${ENV_BASE_URL} or Kartra).")
@click.option(
    "--credentials-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File with KARTRA_APP_ID=, KARTRA_API_KEY=, KARTRA_API_PASSWORD= lines "
    "(default: those environment variables).",
)
@click.option(
    "--tag",
    default=DEFAULT_TAG,
    show_default=True,
    help="An existing tag; every lead the check creates gets it.",
)
@click.option("--list", "list_name", default=None, help="An existing list (list scenarios).")
@click.option("--sequence", default=None, help="NAME:STEP of an existing sequence.")
@click.option("--calendar", default=None, help="NAME:CLASS of an existing calendar class.")
@click.option("--burst", is_flag=True, help="Also send a short burst to see the 429 answer.")
@click.option(
    "--record",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Save every endpoint reply here (credentials removed), one JSON file per step.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, 20),
    default=4.0,
    show_default=True,
    help="Calls per second sent to the endpoint (0: unpaced).",
)
@click.option(
    "--scenario",
    "only",
    multiple=True,
    type=click.Choice([scenario.name for scenario in SCENARIOS]),
    help="Run only this scenario (repeatable; Test Mode detection always runs).",
)
@click.option("--run-id", default=None, hidden=True, help="Fix the run id (tests).")
def conformance(
    base_url: str | None,
    credentials_file: Path | None,
    tag: str,
    list_name: str | None,
    sequence: str | None,
    calendar: str | None,
    burst: bool,
    record: Path | None,
    rate: float,
    only: tuple[str, ...],
    run_id: str | None,
) -> None:
    """Run a fixed scenario set against an endpoint and an in-process sandbox and report, per
    scenario, where the answers differ.

    On a real App it creates a few leads under a unique example.com domain, each tagged with
    --tag, and prints them. Exit status: 0 no difference; 1 differences; 2 could not run;
    3 no credentials.
    """
    credentials, url = require_endpoint(credentials_file, base_url)
    inventory = Inventory(
        tag=tag,
        list=list_name,
        sequence=_pair(sequence, "STEP"),
        calendar=_pair(calendar, "CLASS"),
    )
    options = Options(
        inventory=inventory,
        rate=rate,
        burst=burst or "burst_429" in only,
        record=record,
        only=frozenset(only) if only else None,
    )
    if run_id is not None:
        options = attrs.evolve(options, run_id=run_id)
    try:
        report = asyncio.run(run_conformance(url, credentials, options))
    except (ConformanceError, OSError) as exc:
        raise CannotRun(f"conformance: {exc}") from None
    for line in report.render():
        click.echo(line)
    sys.exit(EXIT_ROWS_FAILED if report.differences else EXIT_OK)
