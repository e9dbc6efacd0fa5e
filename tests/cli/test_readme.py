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
