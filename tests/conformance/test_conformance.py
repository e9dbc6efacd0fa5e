"""``run_conformance`` against sandboxes: a plain one agrees on every scenario; altered ones
(JSON content type, chains that go on, changed messages, moved data, no rate limit) are each
reported where they differ."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kartra_async import Credentials, test_mode_email
from kartra_async.conformance import (
    SCENARIOS,
    ConformanceError,
    Inventory,
    Options,
    Report,
    run_conformance,
)
from kartra_async.sandbox import JSON_CONTENT_TYPE, Sandbox, SandboxAccount

TAG = "kartra-async-conformance"
FULL = Inventory(
    tag=TAG, list="Newsletter", sequence=("Welcome", "2"), calendar=("Coaching", "Intro call")
)
Payload = dict[str, Any]


def rewriting(transform: Callable[[Payload], Payload]) -> Any:
    """An aiohttp middleware that rewrites every JSON reply: a proxy that alters the answers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if isinstance(response, web.Response) and response.body:
            assert isinstance(response.body, bytes)
            response.body = json.dumps(transform(json.loads(response.body))).encode()
        return response

    return middleware


async def check(
    endpoint: Sandbox, inventory: Inventory = FULL, **options: Any
) -> tuple[Report, dict[str, list[str]]]:
    """Run the check against ``endpoint``; the report and each scenario's difference fields."""
    async with endpoint:
        endpoint.seed(tags=[TAG])
        creds = endpoint.credentials
        report = await run_conformance(
            endpoint.url,
            Credentials(creds.app_id, creds.api_key, creds.api_password),
            Options(inventory=inventory, rate=0, **options),
        )
    fields = {
        result.name: [diff.field for diff in result.differences]
        for result in report.results
        if result.differences
    }
    return report, fields


async def test_a_plain_sandbox_agrees_everywhere() -> None:
    endpoint = Sandbox(rate_limit=None)
    report, fields = await check(endpoint)
    assert fields == {}
    assert report.differences == 0
    assert not report.test_mode
    compared = [result.name for result in report.results if not result.skipped]
    assert compared == [scenario.name for scenario in SCENARIOS if not scenario.burst]
    assert [result.skipped for result in report.results if result.skipped] == ["opt-in: --burst"]
    # Only leads under the run's domain, each tagged, and each one reported.
    domain = f"run-{report.run_id}.kartra-async-conformance.example.com"
    assert report.created
    assert all(address.endswith("@" + domain) for address in report.created)
    made = [lead for lead in endpoint.account.leads.values() if lead.email.endswith(domain)]
    assert sorted(lead.email for lead in made) == sorted(report.created)
    assert all(lead.tags == [endpoint.account.tags[TAG]] for lead in made)
    assert report.render()[-1].startswith(f"{len(compared)} scenarios compared, 0 differ")


async def test_scenarios_without_inventory_are_skipped_by_name() -> None:
    report, fields = await check(Sandbox(rate_limit=None), Inventory(tag=TAG))
    assert fields == {}
    skipped = {result.name: result.skipped for result in report.results if result.skipped}
    assert skipped == {
        "lists": "needs --list",
        "sequences": "needs --sequence",
        "calendars": "needs --calendar",
        "burst_429": "opt-in: --burst",
    }


async def test_a_test_mode_endpoint_is_detected_and_matched() -> None:
    endpoint = Sandbox(rate_limit=None, test_mode=True)
    report, fields = await check(endpoint)
    assert fields == {}
    assert report.test_mode
    assert "Test Mode: on" in "\n".join(report.render())
    stored = {lead.email for lead in endpoint.account.leads.values()}
    assert {test_mode_email(address) for address in report.created} <= stored


async def test_json_content_type_differs_in_every_scenario() -> None:
    report, fields = await check(Sandbox(rate_limit=None, content_type=JSON_CONTENT_TYPE))
    compared = {result.name for result in report.results if not result.skipped}
    assert set(fields) == compared
    assert all(set(found) == {"content type"} for found in fields.values())
    diff = report.results[0].differences[0]
    assert (diff.sandbox, diff.endpoint) == ("'text/html; charset=UTF-8'", "'application/json'")


async def test_a_chain_that_goes_on_is_reported() -> None:
    _, fields = await check(Sandbox(rate_limit=None, chain_failure="continue"))
    assert "actions" in fields["chain_midway"]
    assert "lead (score, tags)" in fields["chain_midway"]
    # A failed create_lead followed by a tag: the tag ran on the existing lead.
    assert "actions" in fields["error_244"]
    assert set(fields) <= {"chain_midway", "error_244", "error_271"}


async def test_a_changed_message_is_reported() -> None:
    def reword(payload: Payload) -> Payload:
        text = json.dumps(payload).replace("Tag does not exist", "Tag not found")
        result: Payload = json.loads(text)
        return result

    endpoint = Sandbox(rate_limit=None)
    endpoint.app.middlewares.append(rewriting(reword))
    report, fields = await check(endpoint)
    assert set(fields) == {"error_212", "chain_midway"}
    assert "message" in fields["error_212"]
    assert "actions[1].message" in fields["error_212"]
    line = next(d for d in report.results if d.name == "error_212").differences[0].render()
    assert "'Tag does not exist'" in line
    assert "'Tag not found'" in line


async def test_moved_data_is_reported_by_place() -> None:
    def move(payload: Payload) -> Payload:
        if "lead_details" in payload and "actions" not in payload:
            payload["lead"] = payload.pop("lead_details")
        return payload

    endpoint = Sandbox(rate_limit=None)
    endpoint.app.middlewares.append(rewriting(move))
    report, fields = await check(endpoint)
    assert "data only in the sandbox's reply" in fields["get_lead"]
    assert "data only in the endpoint's reply" in fields["get_lead"]
    diff = next(
        d
        for d in next(r for r in report.results if r.name == "get_lead").differences
        if d.field == "data only in the endpoint's reply"
    )
    assert "lead.email: string" in diff.endpoint


async def test_the_burst_meets_the_rate_limit_on_both_sides() -> None:
    report, fields = await check(Sandbox(), burst=True, only=frozenset({"burst_429"}))
    assert fields == {}
    assert [result.name for result in report.results] == ["test_mode", "burst_429"]


async def test_an_endpoint_without_a_rate_limit_is_reported() -> None:
    _, fields = await check(Sandbox(rate_limit=None), burst=True, only=frozenset({"burst_429"}))
    assert fields == {"burst_429": ["a 429 came"]}


def recorded(root: Path) -> list[dict[str, Any]]:
    """Every recorded reply file under ``root``, parsed, with its raw text."""
    return [
        {**json.loads(path.read_text(encoding="utf-8")), "raw": path.read_text(encoding="utf-8")}
        for path in sorted(root.rglob("*.json"))
    ]


async def test_record_saves_every_endpoint_reply_without_credentials(tmp_path: Path) -> None:
    endpoint = Sandbox(rate_limit=None)
    await check(endpoint, record=tmp_path)
    records = recorded(tmp_path)
    assert len(records) == sum(len(s.steps) for s in SCENARIOS if not s.burst)
    secrets = endpoint.credentials.as_dict().values()
    for record in records:
        assert not any(secret in record["raw"] for secret in secrets)
        assert set(record) == {
            "scenario", "step", "request", "http_status", "content_type", "body", "raw"
        }
        assert not {"app_id", "api_key", "api_password"} & set(record["request"])
        json.loads(record["body"])
    created = next(r for r in records if r["scenario"] == "create_lead")
    assert created["request"]["actions"][0] == {"cmd": "create_lead"}


async def test_a_missing_tag_stops_the_check_before_any_lead_is_created() -> None:
    endpoint = Sandbox(rate_limit=None)
    async with endpoint:
        creds = endpoint.credentials
        before = endpoint.account.lead_count()
        with pytest.raises(ConformanceError, match="no tag 'nope'"):
            await run_conformance(
                endpoint.url,
                Credentials(creds.app_id, creds.api_key, creds.api_password),
                Options(inventory=Inventory(tag="nope"), rate=0),
            )
        assert endpoint.account.lead_count() == before


async def test_refused_credentials_stop_the_check() -> None:
    async with Sandbox(rate_limit=None) as endpoint:
        with pytest.raises(ConformanceError, match="refused") as info:
            await run_conformance(
                endpoint.url, Credentials("app-x", "key-x", "pw-x"), Options(rate=0)
            )
    assert "pw-x" not in str(info.value)


async def test_two_runs_on_one_test_mode_app_do_not_collide() -> None:
    endpoint = Sandbox(rate_limit=None, test_mode=True)
    async with endpoint:
        endpoint.seed(tags=[TAG])
        creds = endpoint.credentials
        credentials = Credentials(creds.app_id, creds.api_key, creds.api_password)
        first = await run_conformance(endpoint.url, credentials, Options(inventory=FULL, rate=0))
        second = await run_conformance(endpoint.url, credentials, Options(inventory=FULL, rate=0))
    assert first.run_id != second.run_id
    assert (first.differences, second.differences) == (0, 0)
    assert second.test_mode


@pytest.mark.parametrize(
    "custom_fields",
    [{}, {"shoe_size": "input_field", "pet": ("radio_button", ["cat"])}],
    ids=["none", "two"],
)
async def test_the_reference_mirrors_the_endpoints_custom_fields(
    custom_fields: dict[str, Any],
) -> None:
    account = SandboxAccount().seed(tags=[TAG], custom_fields=custom_fields)
    report, fields = await check(Sandbox(account, rate_limit=None), Inventory(tag=TAG))
    assert fields == {}
    assert report.differences == 0


CANARY = "canary-5e1f-conformance-secret"


async def test_an_unreachable_endpoint_shows_no_secret_even_with_locals() -> None:
    # Port 9 on loopback: nothing listens, so the first post fails.
    with pytest.raises(ConformanceError) as caught:
        await run_conformance(
            "http://127.0.0.1:9/api", Credentials(CANARY, CANARY, CANARY), Options(rate=0)
        )
    rendered = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert "127.0.0.1:9" in rendered
    assert "FormBody" in rendered  # the request was a local of a captured frame
    assert CANARY not in rendered
