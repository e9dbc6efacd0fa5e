"""``kartra-async bench`` end to end: against the built-in sandbox (figures agree with the
sandbox's own counters), JSON and charts, read-only enforcement against a loopback stand-in for
a real App, and option errors."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kartra_async.bench import TEST_DOMAIN, TEST_TAG, SandboxThread, find_browser
from kartra_async.cli import main

SVG = "{http://www.w3.org/2000/svg}"

#: Every key --json promises.
KEYS = {
    "workload",
    "target",
    "pacing",
    "concurrency",
    "seconds",
    "calls",
    "calls_per_second",
    "ceiling_calls_per_second",
    "ratio_to_ceiling",
    "max_calls_in_any_1s",
    "items",
    "ok",
    "failed",
    "errors",
    "leads_per_hour",
    "upserts",
    "latency_ms",
    "rate_limited_429",
    "no_response",
    "retries",
    "retried_items",
    "reconciled_items",
    "cpu",
    "peak_rss_bytes",
    "peak_rss_includes",
    "per_second",
    "sandbox",
    "chart",
}


def bench(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["bench", *args], env=env, catch_exceptions=False)


def figures(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_figures_agree_with_the_sandbox_counters_under_forced_429s() -> None:
    report = figures(
        bench(
            "--sandbox",
            "--count",
            "30",
            "--unpaced",
            "--fault",
            "rate_limited:0.2",
            "--seed",
            "3",
            "--json",
        )
    )
    sandbox = report["sandbox"]
    assert report["calls"] == sandbox["calls"]
    assert report["rate_limited_429"] > 0
    assert report["rate_limited_429"] == (
        sandbox["rate_limited_by_limit"] + sandbox["faults_injected"]["rate_limited"]
    )
    # create-chain: one call per item, plus one per retry of a 429.
    assert report["items"] == 30
    assert report["calls"] == report["items"] + report["retries"]
    assert sum(report["per_second"]["calls"]) == report["calls"]
    assert sum(report["per_second"]["rate_limited_429"]) == report["rate_limited_429"]
    assert sum(report["per_second"]["retries"]) == report["retries"]


def test_json_is_complete_and_the_paced_rate_stays_under_the_ceiling(tmp_path: Path) -> None:
    chart = tmp_path / "run.svg"
    report = figures(
        bench(
            "--sandbox",
            "--duration",
            "1.5",
            "--workload",
            "get-lead",
            "--json",
            "--chart",
            str(chart),
        )
    )
    assert set(report) == KEYS
    assert report["sandbox"]["calls"] == report["calls"] > 0
    assert report["rate_limited_429"] == 0
    assert report["max_calls_in_any_1s"] <= 20
    assert 0 < report["ratio_to_ceiling"] <= 1
    assert report["ratio_to_ceiling"] == pytest.approx(report["calls_per_second"] / 20, abs=1e-3)
    assert report["ok"] == report["items"]
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert report["cpu"]["sandbox_seconds"] is not None
    assert report["cpu"]["client_per_call_us"] > 0
    assert report["leads_per_hour"] > 0
    root = ET.parse(chart).getroot()
    assert root.tag == f"{SVG}svg"
    texts = " ".join(node.text or "" for node in root.iter(f"{SVG}text"))
    assert "20 calls/s" in texts
    assert "p99" in texts
    # One bar per second with calls, and the latency histogram's bars.
    assert len(list(root.iter(f"{SVG}rect"))) > sum(1 for n in report["per_second"]["calls"] if n)


def test_the_table_reports_the_same_figures() -> None:
    result = bench("--sandbox", "--count", "5", "--unpaced", "--workload", "inventory")
    assert result.exit_code == 0, result.output
    assert "ratio to the 20/s ceiling" in result.stdout
    assert "sandbox's own count: calls / 429s" in result.stdout
    assert "5 / 0" in result.stdout


@pytest.mark.skipif(find_browser() is None, reason="PNG charts need Chromium")
def test_png_chart(tmp_path: Path) -> None:
    chart = tmp_path / "run.png"
    result = bench("--sandbox", "--count", "10", "--unpaced", "--chart", str(chart))
    assert result.exit_code == 0, result.output
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0


# --- a real App: a sandbox served without the --sandbox flag stands in for it -----------------


@pytest.fixture
def stand_in() -> Any:
    with SandboxThread(inventory={"tags": [TEST_TAG]}) as box:
        yield box


def env_of(box: SandboxThread) -> dict[str, str]:
    return {**box.credentials.as_env(), "KARTRA_BASE_URL": box.url}


@pytest.mark.parametrize("workload", ["create-chain", "upsert"])
def test_writes_are_refused_against_a_real_app_without_allow_writes(
    stand_in: SandboxThread, workload: str
) -> None:
    result = bench("--workload", workload, "--count", "3", env=env_of(stand_in))
    assert result.exit_code == 2
    assert "--allow-writes" in result.output
    assert stand_in.sandbox is not None
    assert stand_in.sandbox.stats.calls == 0


def test_a_file_workload_is_a_write(stand_in: SandboxThread, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("email,first_name\nada@example.org,Ada\n", encoding="utf-8")
    result = bench("--workload", str(leads), env=env_of(stand_in))
    assert result.exit_code == 2
    assert "--allow-writes" in result.output


def test_read_only_workloads_run_against_a_real_app(stand_in: SandboxThread) -> None:
    report = figures(
        bench("--workload", "inventory", "--count", "4", "--json", env=env_of(stand_in))
    )
    assert stand_in.sandbox is not None
    assert report["calls"] == stand_in.sandbox.stats.calls == 4
    assert report["sandbox"] is None
    assert report["cpu"]["sandbox_seconds"] is None
    assert report["pacing"] == "paced at 19.6/s"


def test_get_lead_looks_up_the_lead_named(stand_in: SandboxThread) -> None:
    box = stand_in.sandbox
    assert box is not None
    box.account.add_lead("ada@example.org")
    report = figures(
        bench(
            "--workload",
            "get-lead",
            "--lead-email",
            "ada@example.org",
            "--count",
            "3",
            "--json",
            env=env_of(stand_in),
        )
    )
    assert report["ok"] == 3
    assert box.stats.cmds["get_lead"] == 3


def test_allowed_writes_are_marked_with_the_test_tag_and_domain(stand_in: SandboxThread) -> None:
    box = stand_in.sandbox
    assert box is not None
    before = set(box.account.leads)
    report = figures(
        bench(
            "--workload",
            "create-chain",
            "--count",
            "3",
            "--allow-writes",
            "--json",
            env=env_of(stand_in),
        )
    )
    assert report["ok"] == 3
    new = [box.account.leads[i] for i in set(box.account.leads) - before]
    assert len(new) == 3
    tag_id = box.account.tags[TEST_TAG]
    for lead in new:
        assert lead.email.endswith("@" + TEST_DOMAIN)
        assert lead.tags == [tag_id]


def test_allowed_writes_need_the_test_tag_in_the_account() -> None:
    with SandboxThread() as box:
        result = bench("--workload", "upsert", "--count", "2", "--allow-writes", env=env_of(box))
        assert result.exit_code == 2
        assert TEST_TAG in result.output
        assert box.sandbox is not None
        assert box.sandbox.stats.cmds["create_lead"] == 0


# --- bad options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sandbox", "--duration", "1", "--count", "2"], "not both"),
        (["--sandbox", "--rate", "5", "--unpaced"], "not both"),
        (["--unpaced"], "only with --sandbox"),
        (["--latency", "0.2"], "only with --sandbox"),
        (["--fault", "http_503:0.1"], "only with --sandbox"),
        (["--sandbox", "--fault", "meteor:0.1"], "KIND must be one of"),
        (["--sandbox", "--fault", "http_503:2"], "RATE must be"),
        (["--sandbox", "--latency", "slow"], "--latency"),
        (["--sandbox", "--chart", "out.txt"], ".svg or .png"),
        (["--sandbox", "--workload", "no-such-file.csv"], "neither one of"),
        (["--sandbox", "--duration", "0"], "--duration"),
        (["--sandbox", "--concurrency", "0"], "--concurrency"),
        (["--workload", "get-lead", "--lead-email", "nobody"], "--lead-email"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = bench(
        *args, env={"KARTRA_APP_ID": "", "KARTRA_API_KEY": "", "KARTRA_API_PASSWORD": ""}
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_bad_file_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "none.csv"
    empty.write_text("email,first_name\nnot-an-email,Ada\n", encoding="utf-8")
    result = bench("--sandbox", "--workload", str(empty))
    assert result.exit_code == 2
    assert "no lead with a valid email" in result.output


def test_lost_replies_are_counted_as_the_sandbox_counts_them() -> None:
    report = figures(
        bench(
            "--sandbox",
            "--count",
            "30",
            "--unpaced",
            "--fault",
            "reset_after:0.15",
            "--fault",
            "http_503:0.15",
            "--seed",
            "5",
            "--json",
        )
    )
    injected = report["sandbox"]["faults_injected"]
    assert report["calls"] == report["sandbox"]["calls"]
    assert report["no_response"] == injected["reset_after"] > 0
    # Every fault costs at least one more call: a retry, or reading the outcome back.
    assert report["calls"] >= report["items"] + injected["http_503"]
    assert report["retried_items"] + report["reconciled_items"] > 0
