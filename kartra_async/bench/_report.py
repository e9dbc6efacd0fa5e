"""The figures of a run, computed once from what was recorded, as a frozen value and as JSON."""

from __future__ import annotations

import math
from typing import Any

import attrs

from ._records import NO_RESPONSE, RunData
from ._stats import CEILING, Latency, max_in_window, per_second, rate, ratio_to_ceiling

#: What the client CPU figure includes when the sandbox's share could be separated.
CPU_CLIENT_ONLY = (
    "process CPU time minus the in-process sandbox thread's: the client, the bench's "
    "bookkeeping and its progress line"
)
#: ... and when it could not (a remote endpoint has no share in this process).
CPU_WHOLE_PROCESS = "process CPU time: the client, the bench's bookkeeping and its progress line"


@attrs.frozen
class Series:
    """Per whole second since the start: calls posted, 429s answered, retries settled."""

    calls: tuple[int, ...]
    rate_limited: tuple[int, ...]
    retries: tuple[int, ...]


@attrs.frozen
class Figures:
    """Every figure the command reports."""

    workload: str
    target: str
    pacing: str
    concurrency: int
    seconds: float
    calls: int
    calls_per_second: float
    ratio_to_ceiling: float
    max_calls_in_1s: int
    items: int
    ok: int
    failed: int
    errors: dict[str, int]
    leads_per_hour: float | None
    created: int
    updated: int
    latency: Latency
    rate_limited: int
    no_response: int
    retries: int
    retried_items: int
    reconciled_items: int
    cpu_process_seconds: float
    cpu_sandbox_seconds: float | None
    client_cpu_per_call_us: float
    cpu_includes: str
    peak_rss_bytes: int | None
    series: Series
    latencies: tuple[float, ...] = attrs.field(repr=False)

    @classmethod
    def of(
        cls,
        data: RunData,
        *,
        workload: str,
        leads: bool,
        target: str,
        pacing: str,
        concurrency: int,
    ) -> Figures:
        """Compute the figures of one run."""
        attempts = data.recorder.attempts
        starts = [attempt.start for attempt in attempts]
        seconds = max(data.ended - data.started, 1e-9)
        per_call = rate(starts)
        if per_call == 0.0 and attempts:
            per_call = len(attempts) / seconds
        buckets = max(1, math.ceil(seconds))
        retry_marks: list[float] = []
        for moment, count in data.tally.retry_marks:
            retry_marks.extend([moment] * count)
        series = Series(
            calls=tuple(per_second(starts, data.started, buckets)),
            rate_limited=tuple(
                per_second((a.end for a in attempts if a.rate_limited), data.started, buckets)
            ),
            retries=tuple(per_second(retry_marks, data.started, buckets)),
        )
        latencies = tuple(a.latency for a in attempts if a.status != NO_RESPONSE)
        client_cpu = data.cpu_process - (data.cpu_sandbox or 0.0)
        tally = data.tally
        return cls(
            workload=workload,
            target=target,
            pacing=pacing,
            concurrency=concurrency,
            seconds=seconds,
            calls=len(attempts),
            calls_per_second=per_call,
            ratio_to_ceiling=ratio_to_ceiling(per_call),
            max_calls_in_1s=max_in_window(starts),
            items=tally.items,
            ok=tally.ok,
            failed=tally.failed,
            errors=dict(sorted(tally.errors.items())),
            leads_per_hour=tally.ok / seconds * 3600 if leads else None,
            created=tally.created,
            updated=tally.updated,
            latency=Latency.of(latencies),
            rate_limited=data.recorder.rate_limited,
            no_response=data.recorder.no_response,
            retries=tally.retries,
            retried_items=tally.retried_items,
            reconciled_items=tally.reconciled,
            cpu_process_seconds=data.cpu_process,
            cpu_sandbox_seconds=data.cpu_sandbox,
            client_cpu_per_call_us=client_cpu / len(attempts) * 1e6 if attempts else 0.0,
            cpu_includes=CPU_CLIENT_ONLY if data.cpu_sandbox is not None else CPU_WHOLE_PROCESS,
            peak_rss_bytes=data.peak_rss,
            series=series,
            latencies=latencies,
        )

    def as_json(self) -> dict[str, Any]:
        """Every figure as JSON values (latencies in milliseconds, the series per second)."""
        latency = self.latency
        return {
            "workload": self.workload,
            "target": self.target,
            "pacing": self.pacing,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 3),
            "calls": self.calls,
            "calls_per_second": round(self.calls_per_second, 3),
            "ceiling_calls_per_second": CEILING,
            "ratio_to_ceiling": round(self.ratio_to_ceiling, 4),
            "max_calls_in_any_1s": self.max_calls_in_1s,
            "items": self.items,
            "ok": self.ok,
            "failed": self.failed,
            "errors": self.errors,
            "leads_per_hour": (
                round(self.leads_per_hour, 1) if self.leads_per_hour is not None else None
            ),
            "upserts": {"created": self.created, "updated": self.updated},
            "latency_ms": {
                "count": latency.count,
                "p50": round(latency.p50 * 1000, 3),
                "p90": round(latency.p90 * 1000, 3),
                "p99": round(latency.p99 * 1000, 3),
                "max": round(latency.max * 1000, 3),
                "mean": round(latency.mean * 1000, 3),
            },
            "rate_limited_429": self.rate_limited,
            "no_response": self.no_response,
            "retries": self.retries,
            "retried_items": self.retried_items,
            "reconciled_items": self.reconciled_items,
            "cpu": {
                "process_seconds": round(self.cpu_process_seconds, 4),
                "sandbox_seconds": (
                    round(self.cpu_sandbox_seconds, 4)
                    if self.cpu_sandbox_seconds is not None
                    else None
                ),
                "client_per_call_us": round(self.client_cpu_per_call_us, 1),
                "includes": self.cpu_includes,
            },
            "peak_rss_bytes": self.peak_rss_bytes,
            "per_second": {
                "calls": list(self.series.calls),
                "rate_limited_429": list(self.series.rate_limited),
                "retries": list(self.series.retries),
            },
        }
