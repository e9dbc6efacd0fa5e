"""The pytest plugin as a user meets it: the README's test file, run in a fresh pytest process
in pytest-asyncio's strict and auto modes, without pytest-asyncio, and with a bad marker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
EXAMPLE = HERE / "plugin_user" / "readme_example.py"
README = HERE.parents[1] / "README.md"
ROOT = HERE.parents[1]


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``project`` in a fresh interpreter, as a user's project would."""
    (project / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_shows_this_very_file() -> None:
    assert EXAMPLE.read_text() in README.read_text()


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_readme_example_passes(tmp_path: Path, mode: str) -> None:
    (tmp_path / "test_signup.py").write_text(EXAMPLE.read_text())
    run = _pytest(tmp_path, "-o", f"asyncio_mode={mode}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    assert "warning" not in run.stdout.lower()


def test_strict_mode_runs_unmarked_coroutine_tests_that_use_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_unmarked.py").write_text(
        "async def test_unmarked(kartra_client, kartra_sandbox):\n"
        "    assert (await kartra_client.get_lead(email='buyer@example.com')) is not None\n"
        "    assert kartra_sandbox.stats.cmds['get_lead'] == 1\n"
    )
    run = _pytest(tmp_path, "-o", "asyncio_mode=strict")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_without_pytest_asyncio_the_fixtures_say_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "test_signup.py").write_text(EXAMPLE.read_text())
    run = _pytest(tmp_path, "-p", "no:asyncio")
    assert run.returncode != 0
    assert "3 errors" in run.stdout
    assert "need the pytest-asyncio plugin" in run.stdout
    assert "pip install 'kartra-async[pytest]'" in run.stdout
    assert "Traceback" not in run.stdout


def test_a_bad_marker_option_is_named(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.kartra_sandbox(rate_limt=None)\n"
        "async def test_typo(kartra_sandbox):\n"
        "    pass\n\n"
        "@pytest.mark.kartra_sandbox(faults=['http_999:1'])\n"
        "async def test_bad_fault(kartra_sandbox):\n"
        "    pass\n"
    )
    run = _pytest(tmp_path, "-o", "asyncio_mode=strict", "--strict-markers")
    assert run.returncode != 0
    assert "unknown option(s) rate_limt" in run.stdout
    assert "faults[0]" in run.stdout
    assert "unknown fault kind 'http_999'" in run.stdout
