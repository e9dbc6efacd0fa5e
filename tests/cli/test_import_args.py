"""Argument handling and validation output, through click's runner (no calls are made)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kartra_async._importing import JournalHeader, JournalWriter
from kartra_async.cli import main

from .support import CANARY, write_leads


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in CANARY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KARTRA_BASE_URL", raising=False)
    return CliRunner()


@pytest.fixture
def leads(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    write_leads(path, 5)
    return path


def test_without_credentials_says_how_to_provide_them(runner: CliRunner, leads: Path) -> None:
    result = runner.invoke(main, ["import", str(leads)])
    assert result.exit_code == 3
    assert "KARTRA_APP_ID" in result.output
    assert "--credentials-file" in result.output
    assert "--sandbox" in result.output


def test_credentials_are_not_accepted_as_flags(runner: CliRunner, leads: Path) -> None:
    result = runner.invoke(main, ["import", str(leads), "--api-key", "x"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_a_bad_credentials_file_line_is_not_echoed(
    runner: CliRunner, leads: Path, tmp_path: Path
) -> None:
    creds = tmp_path / "creds"
    creds.write_text(f"KARTRA_APP_ID={CANARY['KARTRA_APP_ID']}\n{CANARY['KARTRA_API_KEY']}\n")
    result = runner.invoke(main, ["import", str(leads), "--credentials-file", str(creds)])
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert all(secret not in result.output for secret in CANARY.values())


def test_unknown_columns_stop_the_run_with_a_hint(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("E-mail,Favourite\nann@example.com,tea\n", encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--dry-run"])
    assert result.exit_code == 2
    assert "'E-mail'" in result.output and "'Favourite'" in result.output
    assert "--map" in result.output


def test_map_renames_and_ignores_columns(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("E-mail,Favourite,First Name\nann@example.com,tea,Ann\n", encoding="utf-8")
    result = runner.invoke(
        main, ["import", str(path), "--dry-run", "--map", "E-mail=email", "--map", "Favourite="]
    )
    assert result.exit_code == 0, result.output
    assert "valid (would be sent)" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sequence", "Welcome"], "NAME:STEP"),
        (["--map", "no-equals-sign"], "Header=field"),
        (["--map", "A=favourite_colour"], "not a lead field"),
        (["--format", "xml"], "Invalid value"),
        (["--points", "0"], "Invalid value"),
        (["--resume"], "no journal"),
        (["--resume", "--sandbox"], "fresh one"),
    ],
)
def test_bad_options_are_usage_errors(
    runner: CliRunner, leads: Path, extra: list[str], message: str
) -> None:
    result = runner.invoke(main, ["import", str(leads), *extra])
    assert result.exit_code == 2
    assert message in result.output


def test_dry_run_reports_each_invalid_row_and_continues(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    text = (
        "\ufeffemail,first_name,lead_preferred_time_zone,cf:notes_long\n"
        "ann@example.com,Ann,Europe/London,\n"
        "\n"
        'not-an-email,Bob,,"two\nlines"\n'
        "cy@example.com,Cy,Mars/Base,\n"
        "dee@example.com,Dee,,,surplus\n"
        "eve@example.com,\"Eve, Jr.\"\n"
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "row 4: invalid email: is not a valid email address" in result.output
    assert "row 6: invalid lead_preferred_time_zone" in result.output
    assert "row 7: invalid row: has 5 cells" in result.output
    assert "row 2:" not in result.output and "row 8:" not in result.output
    assert "dry run: nothing was sent" in result.output

    # --allow-invalid keeps reporting the rows, but they no longer fail the exit status.
    allowed = runner.invoke(main, ["import", str(path), "--dry-run", "--allow-invalid"])
    assert allowed.exit_code == 0
    assert "row 4: invalid email: is not a valid email address" in allowed.output


def test_resume_refuses_a_journal_of_another_file(
    runner: CliRunner, leads: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    JournalWriter.create(journal, JournalHeader("other.csv", "0" * 64, 10, {})).close()
    result = runner.invoke(main, ["import", str(leads), "--resume", "--journal", str(journal)])
    assert result.exit_code == 2
    assert "different input file" in result.output


def test_get_and_inventory_need_credentials_too(runner: CliRunner) -> None:
    assert runner.invoke(main, ["get", "ann@example.com"]).exit_code == 3
    assert runner.invoke(main, ["inventory"]).exit_code == 3
    bad = runner.invoke(main, ["get", "not-an-email"])
    assert bad.exit_code == 2
    assert "not a valid email" in bad.output
