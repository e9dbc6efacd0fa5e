"""The options of ``kartra-async bench``, checked together before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import attrs
import click

from .._errors import UsageError
from .._model import check_email
from .._pacing import DEFAULT_RATE
from ..bench import (
    TEST_DOMAIN,
    TEST_TAG,
    Workload,
    find_browser,
    workload,
)
from ..bench._workloads import has_leads
from ._common import CannotRun

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


def sandbox_label(settings: Settings) -> str:
    """How the report names the sandbox target: its limit, latency and faults."""
    limit = settings.sandbox_rate_limit
    parts = [f"limit {limit}/s" if limit is not None else "no limit"]
    if settings.latency:
        latency = settings.latency
        shown = f"{latency[0]}-{latency[1]}" if isinstance(latency, tuple) else f"{latency}"
        parts.append(f"+{shown} s latency")
    parts.extend(f"{kind} {probability:g}" for kind, probability in settings.faults)
    return f"the sandbox ({', '.join(parts)})"
