"""The README's Python blocks: every one compiles, and "First call" runs verbatim against a
sandbox in another process, configured only through the environment as the README says."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from .support import SandboxProcess, cli_env

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> dict[str, list[str]]:
    """The ```python blocks, keyed by the ## heading they sit under."""
    blocks: dict[str, list[str]] = {}
    heading, code = "", None
    for line in README.read_text().splitlines(keepends=True):
        if code is not None:
            if line.rstrip() == "```":
                blocks.setdefault(heading, []).append("".join(code))
                code = None
            else:
                code.append(line)
        elif line.startswith("## "):
            heading = line[3:].strip()
        elif line.rstrip() == "```python":
            code = []
    return blocks


def test_every_python_block_compiles() -> None:
    blocks = _python_blocks()
    assert sum(len(found) for found in blocks.values()) >= 2
    for heading, found in blocks.items():
        for index, code in enumerate(found):
            # Snippets may await at top level, as in an async function's body.
            compile(code, f"README.md ## {heading} block {index}", "exec",
                    flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_first_call_runs_verbatim_against_a_sandbox(tmp_path: Path) -> None:
    (code,) = _python_blocks()["First call"]
    script = tmp_path / "first_call.py"
    script.write_text(code)
    sandbox = SandboxProcess.start(tmp_path)
    try:
        env = cli_env(KARTRA_BASE_URL=sandbox.url)
        first = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               env=env, timeout=60, check=False)
        second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                env=env, timeout=60, check=False)
    finally:
        _, export = sandbox.stop()
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("lead id ")
    assert "('assign_tag', True" in first.stdout and "('subscribe_lead_to_list', True" in first.stdout
    assert second.stdout.strip() == "already there: jo@example.com"
    account = json.loads(export)
    jo = next(lead for lead in account["leads"] if lead.get("email") == "jo@example.com")
    assert jo["fields"]["first_name"] == "Jo"
    assert jo["custom"], "the option names became the custom fields' ids"


def test_the_bulk_example_runs_verbatim_against_a_sandbox(tmp_path: Path) -> None:
    code = _python_blocks()["Bulk: streaming, pacing, retries that never duplicate a write"][0]
    script = tmp_path / "bulk.py"
    script.write_text(code)
    # Its input: three new leads, one of them repeated in another case: the rows for one lead
    # settle in file order, so the repeat updates the lead the first row created.
    (tmp_path / "leads.txt").write_text(
        "ann@example.com\nbob@example.com\nAnn@Example.com\ncarl@example.com\n"
    )
    sandbox = SandboxProcess.start(tmp_path)
    try:
        env = cli_env(KARTRA_BASE_URL=sandbox.url)
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             env=env, timeout=60, check=False, cwd=tmp_path)
    finally:
        _, export = sandbox.stop()
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # One line per row, keyed by its line number, then the progress counters.
    keyed = {int(line.split()[0]): line for line in lines if line.split()[0].isdigit()}
    assert sorted(keyed) == [1, 2, 3, 4]
    assert all(" ok " in keyed[number] for number in (1, 2, 3, 4))
    assert keyed[1].endswith(" created")
    assert keyed[3].endswith(" updated")
    assert keyed[1].split()[2] == keyed[3].split()[2]  # the same lead id
    assert lines[-1].startswith("Progress(")
    account = json.loads(export)
    emails = sorted(lead["email"] for lead in account["leads"] if "example.com" in lead["email"])
    assert "ann@example.com" in emails and "carl@example.com" in emails
