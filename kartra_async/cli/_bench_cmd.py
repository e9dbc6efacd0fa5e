"""``kartra-async bench``: measure calls/s, latency, 429s, retries and client cost of a workload,
against the built-in sandbox or a real App.

Every HTTP call is timed on the client's transport (``kartra_async.bench``), so the figures are
what the client saw; against the sandbox its own counters are reported beside them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from .._client import ENV_BASE_URL, KartraClient
from .._errors import KartraError, UsageError
from .._pacing import DEFAULT_RATE, LocalPacer, NoPacer, Pacer
from .._transport import DEFAULT_BASE_URL, AiohttpTransport
from ..bench import (
    CEILING,
    TEST_DOMAIN,
    TEST_TAG,
    Figures,
    Recorder,
    RecordingTransport,
    Tick,
    run,
    run_tag,
)
from ..bench._workloads import LOOKUP_POOL, calls, test_email
from ._bench_output import live_line, summary_table, write_chart
from ._bench_settings import (
    DEFAULT_DURATION,
    Settings,
    parse_fault,
    parse_latency,
    sandbox_label,
    settings_from,
)
from ._common import CannotRun, require_endpoint
from ._main import main


def _pacer(settings: Settings) -> Pacer:
    return LocalPacer(settings.rate) if settings.rate is not None else NoPacer()


async def _measure(
    settings: Settings,
    client: KartraClient,
    recorder: Recorder,
    *,
    target: str,
    sandbox_cpu: Any,
    lookup: tuple[str, ...],
    console: Console | None,
) -> Figures:
    spec = settings.spec
    live: Live | None = None
    on_tick = None
    if console is not None:
        live = Live(Text("starting…"), console=console, refresh_per_second=8, transient=True)

        def on_tick(tick: Tick) -> None:
            assert live is not None
            live.update(Text(live_line(tick, settings)))

    try:
        if live is not None:
            live.start()
        data = await run(
            client,
            calls(spec, run_tag(), lookup=lookup),
            recorder=recorder,
            duration=settings.duration,
            count=settings.count,
            concurrency=settings.concurrency,
            sandbox_cpu=sandbox_cpu,
            on_tick=on_tick,
        )
    finally:
        if live is not None:
            live.stop()
    pacing = f"paced at {settings.rate:g}/s" if settings.rate is not None else "unpaced"
    return Figures.of(
        data,
        workload=spec.name,
        leads=spec.leads,
        target=target,
        pacing=pacing,
        concurrency=settings.concurrency,
    )


async def _against_sandbox(
    settings: Settings, console: Console | None
) -> tuple[Figures, dict[str, Any]]:
    from ..bench import SandboxThread
    from ..sandbox import FaultKind, FaultRule

    rules: list[FaultRule] = []
    if settings.latency:
        rules.append(FaultRule(FaultKind.LATENCY, delay=settings.latency))
    rules.extend(FaultRule(FaultKind(kind), probability=p) for kind, p in settings.faults)
    lookup = tuple(test_email("seeded", i) for i in range(LOOKUP_POOL))
    box = SandboxThread(
        rate_limit=settings.sandbox_rate_limit,
        rules=tuple(rules),
        seed=settings.seed,
        inventory={"tags": [TEST_TAG]},
        leads=lookup if settings.spec.name == "get-lead" else (),
    )
    with box:
        recorder = Recorder()
        creds = box.credentials
        client = KartraClient(
            app_id=creds.app_id,
            api_key=creds.api_key,
            api_password=creds.api_password,
            transport=RecordingTransport(AiohttpTransport(box.url), recorder),
            pacer=_pacer(settings),
        )
        async with client:
            figures = await _measure(
                settings,
                client,
                recorder,
                target=sandbox_label(settings),
                sandbox_cpu=box.cpu_seconds,
                lookup=lookup,
                console=console,
            )
        assert box.sandbox is not None
        stats = box.sandbox.stats
        own = {
            "calls": stats.calls,
            "rate_limited_by_limit": stats.rate_limited,
            "faults_injected": dict(sorted(stats.faults.items())),
            "leads_stored": len(box.sandbox.account.leads),
        }
    return figures, own


async def _against_endpoint(settings: Settings, console: Console | None) -> Figures:
    credentials, base_url = require_endpoint(settings.credentials_file, settings.base_url)
    recorder = Recorder()
    try:
        transport = RecordingTransport(AiohttpTransport(base_url), recorder)
    except UsageError as exc:
        raise CannotRun(str(exc)) from None
    client = KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        transport=transport,
        pacer=_pacer(settings),
    )
    async with client:
        if settings.spec.writes:
            try:
                tags = await client.retrieve_account_tags()
            except KartraError as exc:
                raise CannotRun(
                    f"cannot read the account's tags: {type(exc).__name__}: {exc}"
                ) from None
            if TEST_TAG not in tags:
                raise CannotRun(
                    f"create the tag {TEST_TAG!r} in your Kartra account first: every benchmark "
                    "write assigns it, and Kartra refuses unknown tags (error 212)"
                )
            recorder.reset()
        host = base_url.split("//", 1)[-1].split("/", 1)[0]
        lookup = (settings.lead_email,) if settings.lead_email else ()
        return await _measure(
            settings,
            client,
            recorder,
            target=host,
            sandbox_cpu=None,
            lookup=lookup,
            console=console,
        )


@main.command("bench")
@click.option(
    "--workload",
    "workload_name",
    default="create-chain",
    show_default=True,
    metavar="create-chain|upsert|get-lead|inventory|FILE",
    help="What to send; FILE is a CSV/JSONL of leads (upserted, tagged, emails moved "
    f"to @{TEST_DOMAIN}).",
)
@click.option(
    "--duration",
    type=click.FloatRange(0, 86_400, min_open=True),
    default=None,
    help=f"Seconds to take new items (default {DEFAULT_DURATION:g} unless --count); the "
    "ones already taken (at most twice the concurrency) then settle.",
)
@click.option("--count", type=click.IntRange(1), default=None, help="Items to send instead.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="Calls in flight at most.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, 1000, min_open=True),
    default=None,
    help=f"Pace at this many calls/s (default {DEFAULT_RATE:g}, 2 % under Kartra's 20).",
)
@click.option(
    "--unpaced",
    is_flag=True,
    help="No pacer (only with --sandbox, whose limit is then off unless "
    "--sandbox-rate-limit is given): the client's own ceiling.",
)
@click.option("--sandbox", is_flag=True, help="Run against the built-in in-process sandbox.")
@click.option(
    "--sandbox-rate-limit",
    type=click.IntRange(1, 100_000),
    default=20,
    show_default=True,
    help="The sandbox's calls/s limit (Kartra's is 20).",
)
@click.option(
    "--latency",
    type=str,
    default=None,
    callback=lambda c, p, v: parse_latency(v) if v is not None else None,
    help="Sandbox only: seconds added to each call (0.2), or a range (0.1-0.3).",
)
@click.option(
    "--fault",
    multiple=True,
    callback=lambda c, p, v: tuple(parse_fault(x) for x in v),
    metavar="KIND:RATE",
    help="Sandbox only: inject a fault into this share of calls, e.g. "
    "rate_limited:0.05 or http_503:0.01 (repeatable).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the sandbox's fault draws."
)
@click.option(
    "--credentials-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File with KARTRA_APP_ID=, KARTRA_API_KEY=, KARTRA_API_PASSWORD= lines "
    "(default: those environment variables).",
)
@click.option(
    "--base-url",
    default=None,
    help=f"API endpoint (default: ${ENV_BASE_URL} or {DEFAULT_BASE_URL}).",
)
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Against a real App, allow the workloads that write (create-chain, upsert, "
    f"FILE): leads at @{TEST_DOMAIN}, tagged {TEST_TAG!r}.",
)
@click.option(
    "--lead-email",
    default=None,
    help="get-lead against a real App: the lead to look up (default: an address "
    "that matches no lead, still a full call).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON on stdout.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw calls/s over time and the latency distribution to FILE.svg or .png.",
)
@click.pass_context
def bench(ctx: click.Context, /, workload_name: str, **options: Any) -> None:
    """Measure calls/s, leads/hour, latency, 429s, retries and client cost of a workload.

    Against the built-in sandbox (--sandbox, optionally with --latency and --fault to model a
    network) or a real App (credentials as for the other commands). Against a real App only
    read-only workloads run unless --allow-writes is given.
    """
    options["workload"] = workload_name
    settings = settings_from(options, ctx)
    if settings.rate is not None and settings.rate > CEILING and not settings.sandbox:
        click.echo(
            f"note: --rate {settings.rate:g} is above Kartra's {CEILING:g} calls/s: expect 429s",
            err=True,
        )
    stderr = Console(stderr=True)
    console = stderr if stderr.is_terminal else None
    own: dict[str, Any] | None = None
    try:
        if settings.sandbox:
            figures, own = asyncio.run(_against_sandbox(settings, console))
        else:
            figures = asyncio.run(_against_endpoint(settings, console))
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
    chart: Path | None = options["chart"]
    if chart is not None:
        write_chart(chart, figures)
    if options["as_json"]:
        report = figures.as_json()
        report["peak_rss_includes"] = (
            "the whole process, the in-process sandbox included"
            if own is not None
            else "the whole process"
        )
        report["sandbox"] = own
        report["chart"] = str(chart) if chart is not None else None
        click.echo(json.dumps(report, indent=1))
    else:
        Console().print(summary_table(figures, own))
        if chart is not None:
            click.echo(f"chart: {chart}")
