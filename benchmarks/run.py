"""Run every benchmark case, print Markdown tables, write JSON.

    python -m benchmarks            # full run (several minutes; 60 s of it is the pacing case)
    python -m benchmarks --quick    # smoke run: every case, tiny sizes, a few seconds each
    python -m benchmarks --only http,codec --profile

Full runs write ``benchmarks/results/latest.json`` (the figures quoted in
``benchmarks/README.md``); quick runs write ``benchmarks/results/quick.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import case_calls, case_codec, case_http, case_memory, case_pacing, case_sandbox
from ._common import Table, machine

RESULTS = Path(__file__).resolve().parent / "results"
CASES = ("http", "uvloop", "codec", "pacing", "redis", "memory", "calls", "sandbox", "profile")


class Sizes:
    """How big each case is in quick and full mode."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.http_reps = 2 if quick else 5
        self.http_calls = 200 if quick else 3000
        self.codec_seconds = 0.05 if quick else 1.0
        self.pacing_seconds = 2.0 if quick else 60.0
        self.redis_seconds = 2.0 if quick else 30.0
        self.redis_workers = 2 if quick else 4
        self.memory_sizes = (2_000, 20_000) if quick else (100_000, 1_000_000)
        self.calls_leads = 50 if quick else 1000
        self.sandbox_calls = 300 if quick else 5000
        self.sandbox_memory_leads = 500 if quick else 20_000
        self.profile_leads = 2_000 if quick else 30_000


def _case_runners(sizes: Sizes) -> dict[str, Callable[[], tuple[list[Table], Any]]]:
    def http() -> tuple[list[Table], Any]:
        samples = case_http.measure((1, 10, 50), sizes.http_reps, sizes.http_calls)
        return [case_http.tables(samples)], samples

    def uvloop() -> tuple[list[Table], Any]:
        samples = case_http.measure((50,), sizes.http_reps, sizes.http_calls, uvloop=True)
        return [case_http.tables(samples, label=" under uvloop (client loop only)")], samples

    def codec() -> tuple[list[Table], Any]:
        table = case_codec.table(sizes.codec_seconds)
        return [table], table.as_json()

    def pacing() -> tuple[list[Table], Any]:
        table, raw = case_pacing.local(sizes.pacing_seconds)
        return [table], raw

    def redis() -> tuple[list[Table], Any]:
        table, raw = case_pacing.shared(sizes.redis_seconds, sizes.redis_workers)
        return ([table] if table is not None else []), raw

    def memory() -> tuple[list[Table], Any]:
        table, raw = case_memory.table(sizes.memory_sizes)
        return [table], raw

    def calls() -> tuple[list[Table], Any]:
        table, raw = case_calls.table(sizes.calls_leads)
        return [table], raw

    def sandbox() -> tuple[list[Table], Any]:
        table, raw = case_sandbox.table(sizes.sandbox_calls, sizes.sandbox_memory_leads)
        return [table], raw

    def profile() -> tuple[list[Table], Any]:
        from . import profile as profiling

        table, raw = profiling.table(sizes.profile_leads)
        return [table], raw

    return {
        "http": http,
        "uvloop": uvloop,
        "codec": codec,
        "pacing": pacing,
        "redis": redis,
        "memory": memory,
        "calls": calls,
        "sandbox": sandbox,
        "profile": profile,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the chosen cases, print and save the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny sizes, seconds")
    parser.add_argument("--only", help=f"comma-separated cases among {', '.join(CASES)}")
    parser.add_argument("--skip", help="comma-separated cases to leave out")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    chosen = list(CASES) if not args.only else [name.strip() for name in args.only.split(",")]
    skipped = {name.strip() for name in (args.skip or "").split(",") if name.strip()}
    unknown = [name for name in [*chosen, *skipped] if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose among {', '.join(CASES)}")
    sizes = Sizes(args.quick)
    runners = _case_runners(sizes)
    report: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "cases": {},
    }
    print(f"# kartra-async benchmarks ({report['mode']} run)\n")
    began = time.perf_counter()
    for name in chosen:
        if name in skipped:
            continue
        started = time.perf_counter()
        tables, raw = runners[name]()
        seconds = time.perf_counter() - started
        for table in tables:
            print(table.markdown(), end="\n\n", flush=True)
        if not tables:
            print(f"### {name}: skipped ({raw.get('skipped', 'not available')})\n", flush=True)
        report["cases"][name] = {
            "seconds": seconds,
            "tables": [table.as_json() for table in tables],
            "raw": raw,
        }
    report["seconds"] = time.perf_counter() - began
    report["load_average_at_end"] = list(__import__("os").getloadavg())
    # Only a complete full run may replace latest.json: the README quotes it as one run.
    partial = args.quick or len(report["cases"]) < len(CASES) - len(skipped) or bool(skipped)
    partial = partial or bool(args.only)
    name = "quick.json" if args.quick else ("partial.json" if partial else "latest.json")
    target = args.json or RESULTS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"_{len(report['cases'])} cases in {report['seconds']:.0f} s; JSON: {target}_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
