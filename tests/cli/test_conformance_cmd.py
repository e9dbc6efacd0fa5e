"""``kartra-async conformance`` through the console script, against a sandbox in another
process: exit 0 when it agrees, 1 with the differences listed, 2 and 3 when it cannot run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .support import CANARY, SCRIPT, SandboxProcess, cli_env

ARGS = ["--tag", "VIP", "--list", "Newsletter", "--sequence", "Welcome:2", "--rate", "0"]


def conformance(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, "conformance", "--base-url", url, *args],
        capture_output=True,
        text=True,
        env=cli_env(**env),
        timeout=60,
        check=False,
    )


def test_agreement_difference_and_refusals(tmp_path: Path) -> None:
    plain = SandboxProcess.start(tmp_path)
    altered = SandboxProcess.start(tmp_path, options=("--content-type", "json"))
    going_on = SandboxProcess.start(tmp_path, options=("--chain-failure", "continue"))
    try:
        same = conformance(plain.url, *ARGS, "--record", str(tmp_path / "golden"))
        differ = conformance(altered.url, *ARGS, "--scenario", "get_lead")
        chain = conformance(going_on.url, *ARGS, "--scenario", "chain_midway")
        no_tag = conformance(plain.url, "--tag", "No such tag", "--rate", "0")
        no_credentials = subprocess.run(
            [SCRIPT, "conformance", "--base-url", plain.url],
            capture_output=True,
            text=True,
            env={k: v for k, v in cli_env().items() if not k.startswith("KARTRA_")},
            timeout=60,
            check=False,
        )
    finally:
        plain.stop()
        altered.stop()
        going_on.stop()

    assert same.returncode == 0, same.stdout + same.stderr
    assert "0 differ" in same.stdout
    assert "skip  calendars: needs --calendar" in same.stdout
    assert "leads created on the endpoint, each tagged 'VIP':" in same.stdout
    assert len(list((tmp_path / "golden").rglob("*.json"))) > 20

    assert differ.returncode == 1, differ.stdout + differ.stderr
    assert "DIFF  get_lead" in differ.stdout
    assert "content type: sandbox 'text/html; charset=UTF-8', endpoint 'application/json'" in (
        differ.stdout
    )
    assert "2 scenarios compared" in differ.stdout

    assert chain.returncode == 1, chain.stdout + chain.stderr
    assert "DIFF  chain_midway" in chain.stdout
    assert "actions: sandbox ['create_lead', 'assign_tag', 'assign_tag'], endpoint" in chain.stdout

    assert no_tag.returncode == 2
    assert "no tag 'No such tag'" in no_tag.stderr
    assert "Traceback" not in no_tag.stderr
    assert no_credentials.returncode == 3

    outputs = [same.stdout, same.stderr, differ.stdout, no_tag.stderr]
    outputs += [path.read_text() for path in (tmp_path / "golden").rglob("*.json")]
    for text in outputs:
        assert not any(secret in text for secret in CANARY.values())
