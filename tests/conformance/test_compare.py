"""The pure core of the conformance check: answers reduced to shapes, shapes compared."""

from __future__ import annotations

import json
from typing import Any

from kartra_async.conformance import SCENARIOS, Answer, Context, Inventory, compare, shape_of
from kartra_async.conformance._compare import scrub

HTML = "text/html; charset=UTF-8"


def answer(payload: Any, status: int = 200, content_type: str = HTML) -> Answer:
    return Answer(status, content_type, json.dumps(payload).encode())


def fields(ours: Answer, theirs: Answer) -> list[str]:
    return [diff.field for diff in compare("step", shape_of(ours), shape_of(theirs))]


def test_ids_and_dates_are_not_compared_but_types_and_places_are() -> None:
    ours = answer({"status": "Success", "lead_details": {"id": "12", "date_joined": "2026-01-01"}})
    same = answer({"status": "Success", "lead_details": {"id": "99", "date_joined": "2031-05-05"}})
    assert fields(ours, same) == []
    number = answer({"status": "Success", "lead_details": {"id": 99, "date_joined": "x"}})
    diffs = compare("get", shape_of(ours), shape_of(number))
    assert [d.field for d in diffs] == [
        "data only in the sandbox's reply",
        "data only in the endpoint's reply",
    ]
    assert diffs[0].sandbox == "[lead_details.id: string]"
    assert diffs[1].endpoint == "[lead_details.id: number]"


def test_a_numeric_type_code_reads_as_its_text_but_its_place_differs() -> None:
    ours = answer({"status": "Error", "message": "No lead found", "type": "243"})
    theirs = answer({"status": "Error", "message": "No lead found", "type": 243})
    assert fields(ours, theirs) == ["data only in the sandbox's reply", "data only in the endpoint's reply"]


def test_each_action_result_is_compared() -> None:
    ours = answer({"status": "Error", "type": "212", "actions": [
        {"create_lead": {"status": "Success"}},
        {"assign_tag": {"status": "Error", "type": "212", "message": "Tag does not exist"}},
    ]})
    theirs = answer({"status": "Error", "type": "212", "actions": [
        {"create_lead": {"status": "Success"}},
        {"assign_tag": {"status": "Error", "type": "212", "message": "Unknown tag"}},
        {"give_points_to_lead": {"status": "Success"}},
    ]})
    found = fields(ours, theirs)
    assert found[:2] == ["actions", "actions[1].message"]


def test_status_content_type_and_non_json_bodies() -> None:
    ours = answer({"status": "Error", "message": "Too many requests"}, 429)
    page = Answer(502, "text/html", b"<html>Bad Gateway</html>")
    assert fields(ours, page)[:4] == ["HTTP status", "content type", "body is JSON", "status"]
    listed = Answer(200, HTML, b"[1]")
    assert shape_of(listed).paths == frozenset({": array"})


def test_scrub_removes_every_secret() -> None:
    assert scrub("app=A1&key=K2&pw=P3", ("A1", "K2", "P3", "")) == "app=***&key=***&pw=***"


def test_scenario_requests_use_the_run_domain_and_the_tag() -> None:
    ctx = Context("abcd1234", Inventory(tag="T", list="L", sequence=("S", "1"), calendar=("C", "K")))
    for scenario in SCENARIOS:
        step_ctx = Context(ctx.run_id, ctx.inventory, scenario=scenario.name)
        for step in scenario.steps:
            form = step.build(step_ctx)
            lead = form.get("lead") or form.get("get_lead")
            if lead is not None:
                assert lead["email"].endswith(("@run-abcd1234.kartra-async-conformance.example.com", "@kartra.com"))
            actions = form.get("actions", [])
            if actions and actions[0]["cmd"] == "create_lead":
                assert {"cmd": "assign_tag", "tag_name": "T"} in actions
    names = [scenario.name for scenario in SCENARIOS]
    assert len(names) == len(set(names))
    assert {f"error_{code}" for code in (233, 243, 244, 212, 231, 219, 271, 262)} <= set(names)


def test_lookups_follow_test_mode() -> None:
    live = Context("r1", scenario="s")
    test = Context("r1", scenario="s", test_mode=True)
    assert live.lookup() == live.email() == "ka-r1-s-a@run-r1.kartra-async-conformance.example.com"
    assert test.lookup() == "ka-r1-s-a@kartra.com"
