"""Helpers for the CLI tests: small input files and a sandbox running in another process."""

from __future__ import annotations

import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs

from kartra_async.sandbox import export_account, load_account

#: Canary credentials: they must never appear in any output or file the CLI writes.
CANARY = {
    "KARTRA_APP_ID": "app-CANARY-7f3a9e",
    "KARTRA_API_KEY": "key-CANARY-b81c44d2e9",
    "KARTRA_API_PASSWORD": "pw-CANARY-0d5e6f7a8b",
}
SCRIPT = str(Path(sys.executable).with_name("kartra-async"))
HEADER = ["email", "first_name", "last_name", "country", "lead_preferred_time_zone",
          "cf:colour", "cf:interests", "cf:company_size"]


def write_leads(path: Path, count: int, *, invalid: tuple[int, ...] = (), seed: int = 7) -> None:
    """A CSV of ``count`` leads; the data rows at the indexes in ``invalid`` get a bad email."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for index in range(count):
            email = "broken-at-example.com" if index in invalid else f"lead{index}@example.com"
            writer.writerow([
                email,
                rng.choice(["Ana", "Zoë", "O'Brien, Jr."]),
                rng.choice(["Smith", "Müller", "=cmd|' /C calc'!A0"]),
                rng.choice(["US", "DE", ""]),
                rng.choice(["Europe/London", "America/Chicago", ""]),
                rng.choice(["blue", "2", ""]),
                rng.choice(["7|9", "8", ""]),
                rng.choice(["11-50", "", "note with\nnewline"]),
            ])


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for the CLI: canary credentials, no terminal, nothing inherited that
    could point elsewhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KARTRA_")}
    env.update(CANARY)
    env["COLUMNS"] = "120"
    env.update(extra)
    return env


@attrs.define
class SandboxProcess:
    """``kartra-async sandbox`` in a child process, with the canary credentials."""

    process: subprocess.Popen[str]
    url: str
    export_path: Path

    @classmethod
    def start(
        cls, tmp: Path, *, rate_limit: int = 1000, options: tuple[str, ...] = ()
    ) -> SandboxProcess:
        """Start it on a free port (with extra command ``options``) and wait for its URL."""
        export_path = tmp / f"export-{time.monotonic_ns()}.json"
        process = subprocess.Popen(
            [SCRIPT, "sandbox", "--port", "0", "--rate-limit", str(rate_limit),
             "--export-on-exit", str(export_path), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=cli_env(),
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://\S+/api)", line)
        if match is None:
            process.kill()
            raise AssertionError(f"the sandbox did not start: {line!r}")
        return cls(process, match.group(1), export_path)

    def stop(self) -> tuple[str, str]:
        """Stop it; return its remaining output and its account export (stable form)."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=20)
        account = load_account(self.export_path)
        return output, export_account(account, stable=True)


def run_import(
    args: list[str], url: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``kartra-async import`` to completion against the sandbox at ``url``."""
    return subprocess.run(
        [SCRIPT, "import", *args, "--base-url", url],
        capture_output=True,
        text=True,
        env=cli_env(**env),
        timeout=60,
        check=False,
    )
