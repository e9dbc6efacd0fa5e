"""The pure parts of day two: which journaled failures a resume sends again, the breaker,
repeated leads, and the rejects file's formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from kartra_async import KartraClient, LeadRequest, LocalPacer
from kartra_async._importing import (
    Breaker,
    ColumnPlan,
    ImportOptions,
    ImportRun,
    JournalHeader,
    JournalWriter,
    RejectsWriter,
    RetryChoice,
    SeenLeads,
    SourceRow,
    iter_done,
    read_journal,
    read_rows,
)
from kartra_async.sandbox import Sandbox


def _record(row: int, outcome: str, failure: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"row": row, "outcome": outcome, "failure": failure, "error": "x", "field": None,
            "attempts": 1, **extra}


def test_retry_choice_follows_the_failure_class() -> None:
    not_sent, unknown = _record(2, "failed", "not_sent"), _record(3, "unknown", "unknown")
    rejected, invalid = _record(4, "failed", "rejected"), _record(5, "invalid", "not_sent")
    old_journal = _record(6, "failed")  # written before records had a failure class
    assert [RetryChoice().wants(r) for r in (not_sent, unknown, rejected)] == [None] * 3
    failed = RetryChoice(failed=True)
    assert [failed.wants(r) for r in (not_sent, unknown, rejected, invalid, old_journal)] == [
        "not_sent", "unknown", None, None, None]
    assert RetryChoice(failed=True, rejected=True).wants(rejected) == "rejected"
    assert RetryChoice(rejected=True).wants(old_journal) == "rejected"


def test_replay_counts_only_each_rows_last_record_and_leaves_out_retried_ones() -> None:
    seen: list[tuple[int, bool]] = []
    run = ImportRun([], plan=ColumnPlan(), options=ImportOptions(), schema=None,
                    sink=lambda record, replayed: seen.append((record["row"], replayed)),
                    retry=RetryChoice(failed=True))
    run.replay([
        _record(2, "failed", "not_sent"), _record(3, "failed", "rejected"),
        _record(4, "unknown", "unknown"), _record(5, "created"),
        _record(2, "created"),  # row 2 was retried by an earlier resume and succeeded
    ])
    assert run.tally.rows == 3 and run.tally.created == 2 and run.tally.failed == 1
    assert run.tally.failures == {"rejected": 1}
    assert sorted(row for row, _ in seen) == [2, 3, 5]


def test_breaker_trips_on_consecutive_not_sent_only() -> None:
    breaker = Breaker(3)
    results = [breaker.observe(r) for r in (
        _record(1, "failed", "not_sent"), _record(2, "failed", "not_sent"),
        _record(3, "failed", "rejected"),  # Kartra answered: it is reachable
        _record(4, "failed", "not_sent"), _record(5, "failed", "not_sent"),
        _record(6, "failed", "not_sent"))]
    assert results == [False] * 5 + [True]
    assert not any(Breaker(0).observe(_record(n, "failed", "not_sent")) for n in range(50))


def test_seen_leads_counts_repeats_case_insensitively() -> None:
    seen = SeenLeads()
    assert [seen.add(k) for k in ("a@x.co", "B@x.co", "A@X.CO", "b@x.co", "c@x.co")] == [
        False, False, True, True, False]
    many = SeenLeads()
    assert not any(many.add(f"lead{n}@example.com") for n in range(20_000))
    assert all(many.add(f"LEAD{n}@example.com") for n in range(0, 20_000, 7))
    assert len(many) == 20_000


def test_dry_run_reports_rows_repeating_an_earlier_lead() -> None:
    rows = [SourceRow(n, {"email": email}) for n, email in
            enumerate(["a@x.co", "b@x.co", "A@x.co", "a@x.co", "c@x.co"], start=2)]
    run = ImportRun(rows, plan=ColumnPlan(), options=ImportOptions(), schema=None,
                    sink=lambda record, replayed: None)
    assert run.dry_run().repeated == 2


def test_rejects_file_keeps_the_input_format(tmp_path: Path) -> None:
    record = _record(7, "invalid", "not_sent", field="cf:colour", error="=purple: no such option")
    as_csv = RejectsWriter(tmp_path / "r.csv", "csv", ("email", "cf:colour", "reason"))
    as_csv.write({"email": "a@x.co", "cf:colour": "=purple"}, record)
    as_csv.close()
    with (tmp_path / "r.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["email", "cf:colour", "reason", "field", "failure"],
            # the row's own cells verbatim (re-imported as they were); ours made formula-safe
            ["a@x.co", "=purple", "'=purple: no such option", "cf:colour", "not_sent"],
        ]
    as_jsonl = RejectsWriter(tmp_path / "r.jsonl", "jsonl", None)
    as_jsonl.write({"email": "a@x.co", "cf:interests": ["email", "sms"]}, record)
    as_jsonl.close()
    assert json.loads((tmp_path / "r.jsonl").read_text()) == {
        "email": "a@x.co", "cf:interests": ["email", "sms"], "reason": "=purple: no such option",
        "field": "cf:colour", "failure": "not_sent"}


async def test_retry_failed_resends_not_sent_settles_unknown_and_keeps_rejected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email\nlanded@example.com\nrefused@example.com\nrejected@example.com\n")
    options = ImportOptions(mode="create", tags=("VIP",), points=10)
    header = JournalHeader(input_name="leads.csv", sha256="0" * 64, size=1, options={})
    async with Sandbox(rate_limit=None) as sandbox:
        creds = sandbox.credentials
        async with KartraClient(**creds.as_dict(), base_url=sandbox.url,
                                pacer=LocalPacer(1000)) as client:
            # The earlier run: row 2's create landed but its reply was lost (unknown); row 3
            # never reached Kartra (not_sent); Kartra refused row 4 (rejected).
            await client.send(options.call_for(LeadRequest(email="landed@example.com")))
            journal = tmp_path / "j.jsonl"
            writer = JournalWriter.create(journal, header)
            writer.write_started([2, 3, 4])
            writer.write_done(_record(2, "unknown", "unknown"))
            writer.write_done(_record(3, "failed", "not_sent"))
            writer.write_done(_record(4, "failed", "rejected"))
            writer.close()
            state = read_journal(journal)
            records: list[dict[str, Any]] = []
            appender = JournalWriter.append(journal, state)
            run = ImportRun(read_rows(path, "csv"), plan=ColumnPlan(), options=options,
                            schema=await client.account_schema(),
                            sink=lambda record, replayed: records.append(record),
                            journal=appender, resume=state, retry=RetryChoice(failed=True))
            run.replay(iter_done(journal))
            try:
                tally = await run.run(client, concurrency=2)
            finally:
                appender.close()
        by_email = {lead.email: lead for lead in sandbox.account.leads.values()}
    outcomes = {record["row"]: record["outcome"] for record in records}
    # Row 2 is settled by recovery: found, tagged, its points reported unknown (never given
    # twice); row 3 is sent whole; row 4's rejection is kept as it was.
    assert outcomes == {2: "unknown", 3: "created", 4: "failed"}
    assert by_email["landed@example.com"].score == 10 and by_email["landed@example.com"].tags
    assert by_email["refused@example.com"].score == 10
    assert "rejected@example.com" not in by_email
    assert run.retried == 2 and tally.rows == 3
