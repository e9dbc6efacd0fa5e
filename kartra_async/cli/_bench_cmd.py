"""``kartra-async bench``: measure calls/s, latency, 429s, retries and client cost of a workload,
against the built-in sandbox or a real App.

Every HTTP call is timed on the client's transport (``kartra_async.bench``), so the figures are
what the client saw; against the sandbox its own counters are reported beside them.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Final

import attrs
import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .._client import ENV_BASE_URL, KartraClient
from .._errors import KartraError, UsageError
from .._model import check_email
from .._pacing import DEFAULT_RATE, LocalPacer, NoPacer, Pacer
from .._transport import DEFAULT_BASE_URL, AiohttpTransport
from ..bench import (
    CEILING,
    TEST_DOMAIN,
    TEST_TAG,
    Figures,
    PngUnavailable,
    Recorder,
    RecordingTransport,
    Tick,
    Workload,
    find_browser,
    render_svg,
    run,
    run_tag,
    svg_to_png,
    workload,
)
from ..bench._chart import HEIGHT, WIDTH
from ..bench._workloads import LOOKUP_POOL, calls, has_leads, test_email
from . import main
from ._common import CannotRun, NoCredentials, find_credentials

#: Seconds a run lasts when neither --duration nor --count is given.
DEFAULT_DURATION: Final = 10.0
_FAULT_KINDS: Final = (
    "rate_limited",
    "reset_before",
    "reset_after",
    "http_500",
    "http_502",
    "http_503",
    "malformed_json",
    "truncated_json",
    "html_content_type",
)


@attrs.frozen
class Settings:
    """The validated options of one run."""

    spec: Workload
    duration: float | None
    count: int | None
    concurrency: int
    rate: float | None
    sandbox: bool
    sandbox_rate_limit: int | None
    latency: float | tuple[float, float] | None
    faults: tuple[tuple[str, float], ...]
    seed: int
    credentials_file: Path | None
    base_url: str | None
    lead_email: str | None


def parse_latency(value: str) -> float | tuple[float, float]:
    """``0.2`` (seconds) or ``0.1-0.3`` (a uniform draw per call)."""
    low_text, sep, high_text = value.partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if sep else low
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: seconds like 0.2, or a range like 0.1-0.3", param_hint="--latency"
        ) from None
    if not (0 <= low <= high <= 60):
        raise click.BadParameter(
            f"{value!r}: needs 0 <= low <= high <= 60 seconds", param_hint="--latency"
        )
    return (low, high) if sep else low


def parse_fault(value: str) -> tuple[str, float]:
    """``KIND:RATE``, e.g. ``rate_limited:0.05`` (5 % of calls answered 429)."""
    kind, sep, rate_text = value.partition(":")
    kind = kind.strip().lower().replace("-", "_")
    if kind not in _FAULT_KINDS:
        raise click.BadParameter(
            f"{value!r}: KIND must be one of {', '.join(_FAULT_KINDS)}", param_hint="--fault"
        )
    try:
        probability = float(rate_text) if sep else float("nan")
    except ValueError:
        probability = float("nan")
    if not 0 < probability <= 1:
        raise click.BadParameter(
            f"{value!r}: RATE must be a share of calls in (0, 1], as in {kind}:0.05",
            param_hint="--fault",
        )
    return kind, probability


def _fail(message: str) -> click.UsageError:
    return click.UsageError(message)


def settings_from(options: dict[str, Any], ctx: click.Context) -> Settings:
    """Check the options together; ``click.UsageError`` (exit 2) names the conflict."""
    sandbox = bool(options["sandbox"])
    if options["duration"] is not None and options["count"] is not None:
        raise _fail("give --duration or --count, not both")
    if options["unpaced"] and options["rate"] is not None:
        raise _fail("give --rate or --unpaced, not both")
    if not sandbox:
        for name in ("unpaced", "latency", "fault"):
            if options[name]:
                flag = "--" + name
                raise _fail(
                    f"{flag} is allowed only with --sandbox (against a real App the client "
                    "must pace under Kartra's 20 calls/s, and the network is what it is)"
                )
        if ctx.get_parameter_source("sandbox_rate_limit") is not click.core.ParameterSource.DEFAULT:
            raise _fail("--sandbox-rate-limit is allowed only with --sandbox")
    try:
        spec = workload(options["workload"])
        if spec.path is not None and not has_leads(spec.path):
            raise CannotRun(f"--workload: {spec.path} holds no lead with a valid email")
    except UsageError as exc:
        raise CannotRun(str(exc)) from None
    if spec.writes and not sandbox and not options["allow_writes"]:
        raise CannotRun(
            f"the {spec.name} workload writes leads; against a real App only the read-only "
            "workloads (get-lead, inventory) run unless you add --allow-writes. Writes create "
            f"leads at @{TEST_DOMAIN} tagged {TEST_TAG!r} (create that tag first)."
        )
    if options["lead_email"] is not None:
        try:
            check_email("--lead-email", options["lead_email"])
        except UsageError as exc:
            raise _fail(str(exc)) from None
    chart: Path | None = options["chart"]
    if chart is not None:
        suffix = chart.suffix.lower()
        if suffix not in (".svg", ".png"):
            raise _fail(f"--chart: {chart.name} must end in .svg or .png")
        if suffix == ".png" and find_browser() is None:
            raise CannotRun(
                "--chart: a PNG needs Chromium (apt install chromium); write an .svg instead"
            )
    limit: int | None = options["sandbox_rate_limit"]
    if options["unpaced"] and (
        ctx.get_parameter_source("sandbox_rate_limit") is click.core.ParameterSource.DEFAULT
    ):
        # Unpaced measures what client and sandbox can do; a 20/s limit would measure 429s.
        limit = None
    duration = options["duration"]
    if duration is None and options["count"] is None:
        duration = DEFAULT_DURATION
    rate = None if options["unpaced"] else (options["rate"] or DEFAULT_RATE)
    return Settings(
        spec=spec,
        duration=duration,
        count=options["count"],
        concurrency=options["concurrency"],
        rate=rate,
        sandbox=sandbox,
        sandbox_rate_limit=limit,
        latency=options["latency"],
        faults=tuple(options["fault"]),
        seed=options["seed"],
        credentials_file=options["credentials_file"],
        base_url=options["base_url"],
        lead_email=options["lead_email"],
    )


def _pacer(settings: Settings) -> Pacer:
    return LocalPacer(settings.rate) if settings.rate is not None else NoPacer()


def _sandbox_label(settings: Settings) -> str:
    limit = settings.sandbox_rate_limit
    parts = [f"limit {limit}/s" if limit is not None else "no limit"]
    if settings.latency:
        latency = settings.latency
        shown = f"{latency[0]}-{latency[1]}" if isinstance(latency, tuple) else f"{latency}"
        parts.append(f"+{shown} s latency")
    parts.extend(f"{kind} {probability:g}" for kind, probability in settings.faults)
    return f"the sandbox ({', '.join(parts)})"


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
            live.update(Text(_live_line(tick, settings)))

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


def _live_line(tick: Tick, settings: Settings) -> str:
    # Kept under 80 columns: a wrapped live line leaves its first half behind on every refresh.
    if settings.duration is not None:
        where = f"{tick.elapsed:.1f}/{settings.duration:g}s"
    else:
        where = f"{tick.ok + tick.failed}/{settings.count} in {tick.elapsed:.1f}s"
    return (
        f"{settings.spec.name[:16]} {where}  {tick.calls:,} calls  {tick.calls_last_second}/s now"
        f"  {tick.rate_limited}×429  {tick.retries} retries  {tick.failed:,} failed"
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
                target=_sandbox_label(settings),
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
    credentials = find_credentials(settings.credentials_file)
    if credentials is None:
        raise NoCredentials()
    base_url = settings.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
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


def _table(figures: Figures, own: dict[str, Any] | None) -> Table:
    table = Table(title=f"kartra-async bench: {figures.workload} against {figures.target}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    latency = figures.latency
    rows: list[tuple[str, str]] = [
        ("pacing, concurrency", f"{figures.pacing}, {figures.concurrency}"),
        ("seconds", f"{figures.seconds:.2f}"),
        ("HTTP calls", f"{figures.calls:,}"),
        ("calls/s", f"{figures.calls_per_second:,.2f}"),
        ("ratio to the 20/s ceiling", f"{figures.ratio_to_ceiling:.3f}"),
        ("most calls in any 1 s", f"{figures.max_calls_in_1s:,}"),
        ("items ok / failed", f"{figures.ok:,} / {figures.failed:,}"),
    ]
    if figures.errors:
        rows.append(("errors", ", ".join(f"{k} {v:,}" for k, v in figures.errors.items())))
    if figures.leads_per_hour is not None:
        rows.append(("leads/hour", f"{figures.leads_per_hour:,.0f}"))
    if figures.created or figures.updated:
        rows.append(("upserts created / updated", f"{figures.created:,} / {figures.updated:,}"))
    rows += [
        (
            "latency p50 / p90 / p99 / max (ms)",
            " / ".join(
                f"{v * 1000:.2f}" for v in (latency.p50, latency.p90, latency.p99, latency.max)
            ),
        ),
        ("429 answers", f"{figures.rate_limited:,}"),
        ("calls without a response", f"{figures.no_response:,}"),
        ("retries (items retried)", f"{figures.retries:,} ({figures.retried_items:,})"),
        ("items settled by reading back", f"{figures.reconciled_items:,}"),
        ("client CPU per call (µs)", f"{figures.client_cpu_per_call_us:,.0f}"),
        (
            "peak RSS (MB)",
            f"{figures.peak_rss_bytes / 1e6:.1f}" if figures.peak_rss_bytes is not None else "n/a",
        ),
    ]
    if own is not None:
        faults = own["faults_injected"].get("rate_limited", 0)
        rows.append(
            (
                "sandbox's own count: calls / 429s",
                f"{own['calls']:,} / {own['rate_limited_by_limit'] + faults:,}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    table.caption = (
        "client CPU: the process's minus the sandbox thread's; peak RSS: the whole process"
        if own is not None
        else "client CPU and peak RSS: the whole process"
    )
    return table


def _write_chart(path: Path, figures: Figures) -> None:
    svg = render_svg(figures)
    try:
        if path.suffix.lower() == ".png":
            svg_to_png(svg, path, WIDTH, HEIGHT)
        else:
            path.write_text(svg, encoding="utf-8")
    except (OSError, PngUnavailable) as exc:
        raise CannotRun(f"--chart: cannot write {path}: {exc}") from None


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
        _write_chart(chart, figures)
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
        Console().print(_table(figures, own))
        if chart is not None:
            click.echo(f"chart: {chart}")
