"""The pure parts of the import: reading rows, columns, journal, results; and ImportRun's
resume semantics against an in-process sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kartra_async import (
    AccountSchema,
    CustomFieldSchema,
    KartraClient,
    LocalPacer,
    ValidationError,
)
from kartra_async._importing import (
    ColumnPlan,
    ImportOptions,
    ImportRun,
    JournalError,
    JournalHeader,
    JournalWriter,
    ResultsWriter,
    RowSet,
    iter_done,
    neutralize_cell,
    read_journal,
    read_rows,
)
from kartra_async.cli import main
from kartra_async.sandbox import Sandbox

SPECS = AccountSchema(
    [
        CustomFieldSchema("colour", "drop_down", ((1, "blue"), (2, "brown"))),
        CustomFieldSchema("interests", "checkbox", ((7, "email"), (8, "video"))),
        CustomFieldSchema("size", "input_field"),
    ]
)


def test_csv_rows_are_numbered_by_their_first_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(
        b"\xef\xbb\xbfemail,city\r\n"
        b"a@example.com,\"Paris, FR\"\r\n"
        b"\r\n"
        b"b@example.com,\"multi\nline\"\r\n"
        b",\r\n"
        b"c@example.com,K\xf6ln\r\n"
    )
    rows = list(read_rows(path, "csv"))
    assert [row.number for row in rows] == [2, 4, 7]
    assert rows[0].values == {"email": "a@example.com", "city": "Paris, FR"}
    assert rows[1].values["city"] == "multi\nline"
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        ColumnPlan().lead(rows[2].values, None)


def test_jsonl_rows_report_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"email": "a@example.com", "cf:interests": [7, 8]}\n\n{oops\n[1]\n')
    rows = list(read_rows(path, "jsonl"))
    assert [row.number for row in rows] == [1, 3, 4]
    assert rows[1].problem is not None and rows[1].problem[0] == "json"
    assert rows[2].problem == ("json", "must be an object, not list")
    lead = ColumnPlan().lead(rows[0].values, SPECS)
    assert lead.custom_fields[0].value == (7, 8)


def test_custom_fields_follow_the_account_definitions() -> None:
    plan = ColumnPlan({"Size": "cf:size"})
    lead = plan.lead(
        {"Email": "a@example.com", "cf:colour": "Brown", "cf:interests": "video|7", "Size": "12"},
        SPECS,
    )
    assert {field.identifier: field.value for field in lead.custom_fields} == {
        "colour": 2,
        "interests": (8, 7),
        "size": "12",
    }
    for values, field in (
        ({"cf:colour": "purple"}, "cf:colour"),
        ({"cf:colour": "1|2"}, "cf:colour"),
        ({"cf:interests": "email|3"}, "cf:interests[1]"),
        ({"cf:nope": "x"}, "cf:nope"),
    ):
        with pytest.raises(ValidationError) as caught:
            plan.lead({"email": "a@example.com", **values}, SPECS)
        assert caught.value.field == field


def test_empty_cells_are_not_sent_and_ignored_columns_are_dropped() -> None:
    plan = ColumnPlan({"Notes": ""})
    lead = plan.lead({"email": "a@example.com", "first_name": " ", "Notes": "x"}, None)
    assert lead.first_name is None


def test_options_build_the_chain_in_order() -> None:
    options = ImportOptions(
        mode="create", tags=("VIP",), lists=("News",), sequences=(("Welcome", "1"),), points=5
    )
    call = options.call_for(ColumnPlan().lead({"email": "a@example.com"}, None))
    assert [action.wire_cmd for action in call.actions] == [
        "create_lead",
        "assign_tag",
        "subscribe_lead_to_list",
        "subscribe_lead_to_sequence_at_step",
        "give_points_to_lead",
    ]


def test_row_set_is_a_set_of_ints() -> None:
    rows = RowSet()
    for number in (3, 3, 900_001, 8):
        rows.add(number)
    assert len(rows) == 3
    assert list(rows) == [3, 8, 900_001]
    assert 4 not in rows and 900_001 in rows and -1 not in rows


def _header(**options: Any) -> JournalHeader:
    return JournalHeader("a.csv", "ab" * 32, 100, {"mode": "upsert", **options})


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    writer = JournalWriter.create(path, _header())
    writer.write_started([2, 3, 4])
    writer.write_done({"row": 2, "outcome": "created"})
    writer.close()
    with path.open("ab") as handle:
        handle.write(b'{"kind":"done","row":3,"outc')  # the crash hit mid-write
    state = read_journal(path)
    assert list(state.done) == [2]
    assert list(state.in_flight) == [3, 4]
    appended = JournalWriter.append(path, state)
    appended.write_done({"row": 3, "outcome": "created"})
    appended.close()
    assert [record["row"] for record in iter_done(path)] == [2, 3]
    assert list(read_journal(path).in_flight) == [4]


def test_journal_refuses_other_files_and_options(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    JournalWriter.create(path, _header()).close()
    with pytest.raises(JournalError, match="already exists"):
        JournalWriter.create(path, _header())
    header = read_journal(path).header
    header.check_matches(_header())
    with pytest.raises(JournalError, match="different input file"):
        header.check_matches(JournalHeader("a.csv", "cd" * 32, 100, header.options))
    with pytest.raises(JournalError, match="tags"):
        header.check_matches(_header(tags=["VIP"]))
    (tmp_path / "not.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(JournalError, match="not a kartra-async import journal"):
        read_journal(tmp_path / "not.jsonl")


def test_csv_results_neutralise_formulas(tmp_path: Path) -> None:
    assert neutralize_cell("=1+1") == "'=1+1"
    assert neutralize_cell("@SUM(A1)") == "'@SUM(A1)"
    assert neutralize_cell("plain") == "plain"
    assert neutralize_cell(-3) == -3
    writer = ResultsWriter(tmp_path / "r.csv")
    writer.write({"row": 2, "email": "=cmd|' /C calc'!A0", "outcome": "invalid"})
    writer.close()
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[1].startswith("2,'=cmd|")


async def test_resume_reconciles_in_flight_rows_and_never_replays_points(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,first_name\n"
        "done@example.com,Done\n"
        "sent@example.com,Sent\n"
        "lost@example.com,Lost\n"
        "new@example.com,New\n"
    )
    options = ImportOptions(mode="create", tags=("VIP",), points=10)
    async with Sandbox(rate_limit=None) as sandbox:
        creds = sandbox.credentials
        async with KartraClient(
            app_id=creds.app_id,
            api_key=creds.api_key,
            api_password=creds.api_password,
            base_url=sandbox.url,
            pacer=LocalPacer(1000),
        ) as client:
            # The interrupted run: row 2 finished, row 3 reached Kartra but its done record
            # was never written, row 4 was started but the process died before sending it.
            # As in a real run, the start record is written before the calls go out.
            journal_path = tmp_path / "j.jsonl"
            writer = JournalWriter.create(journal_path, _header())
            writer.write_started([2, 3, 4])
            await client.send(options.call_for(ColumnPlan().lead({"email": "done@example.com"},
                                                                 None)))
            await client.send(options.call_for(ColumnPlan().lead({"email": "sent@example.com",
                                                                  "first_name": "Sent"}, None)))
            writer.write_done({"row": 2, "outcome": "created", "attempts": 1})
            writer.close()
            state = read_journal(journal_path)
            records: list[dict[str, Any]] = []
            appender = JournalWriter.append(journal_path, state)
            run = ImportRun(
                read_rows(path, "csv"),
                plan=ColumnPlan(),
                options=options,
                schema=None,
                sink=lambda record, replayed: records.append(record),
                journal=appender,
                resume=state,
            )
            run.replay(iter_done(journal_path))
            try:
                tally = await run.run(client, concurrency=2)
            finally:
                appender.close()
        account = sandbox.account
        by_email = {lead.email: lead for lead in account.leads.values()}
    outcomes = {record["row"]: record["outcome"] for record in records}
    assert outcomes == {2: "created", 3: "unknown", 4: "created", 5: "created"}
    assert (run.skipped, run.recovered) == (1, 2)
    assert tally.unknown == 1 and tally.created == 3
    # Nothing applied twice: the lead whose call had landed keeps exactly one grant and its
    # points are reported unknown; the lead whose create never ran is absent, so its whole
    # call (points included) is sent now.
    assert by_email["sent@example.com"].score == 10
    assert by_email["lost@example.com"].score == 10
    assert by_email["lost@example.com"].tags
    assert by_email["new@example.com"].score == 10
    lines = [json.loads(line) for line in journal_path.read_text().splitlines()]
    # One done record per row (rows 4 and 5 ran side by side: either may finish first).
    assert sorted(line["row"] for line in lines if line["kind"] == "done") == [2, 3, 4, 5]


def test_get_and_inventory_against_the_sandbox() -> None:
    runner = CliRunner()
    found = runner.invoke(main, ["get", "buyer@example.com", "--sandbox", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["first_name"] == "Bea"
    missing = runner.invoke(main, ["get", "nobody@example.com", "--sandbox"])
    assert missing.exit_code == 1
    inventory = runner.invoke(main, ["inventory", "--sandbox", "--json"])
    assert inventory.exit_code == 0, inventory.output
    data = json.loads(inventory.output)
    assert "VIP" in data["tags"]
    colour = next(field for field in data["custom_fields"] if field["identifier"] == "colour")
    assert [option["name"] for option in colour["options"]] == ["blue", "brown", "green"]
