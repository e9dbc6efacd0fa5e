"""The admin API under /_sandbox/: leads, one lead whole, the journal, events, counters and the
rate-limit window, export, reset, faults, health; loopback only; never a credential."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from kartra_async import KartraClient, KartraError, LeadRequest, NoPacer
from kartra_async.sandbox import (
    AdminAPIError,
    FaultKind,
    FaultRule,
    Sandbox,
    SandboxAdminClient,
    default_account,
)
from kartra_async.sandbox._admin import is_loopback
from kartra_async.sandbox._journal import mask_app_id

from .support import CREDENTIALS, chain, fixed_clock, post


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    """A sandbox with fixed credentials and clock, journaling events, at 20 calls/s."""
    async with Sandbox(
        default_account(now=fixed_clock), credentials=CREDENTIALS, record_events=True
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def admin(sb: Sandbox) -> AsyncIterator[SandboxAdminClient]:
    async with SandboxAdminClient(sb.admin_url) as client:
        yield client


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[KartraClient]:
    async with KartraClient(base_url=sb.url, pacer=NoPacer(), **CREDENTIALS.as_dict()) as kc:
        yield kc


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def test_leads_filter_and_page(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    for n in range(5):
        call = LeadRequest(email=f"page{n}@example.com", first_name=f"P{n}").create()
        if n % 2 == 0:
            call = call.assign_tag("VIP").subscribe("Customers")
        await client.send(call)
    everyone = await admin.leads(limit=1000)
    assert everyone["total"] == len(sb.account.leads) == 8
    assert everyone["leads"][0]["email"] == "page4@example.com"  # newest first
    vips = await admin.leads(tag="VIP")
    assert [lead["email"] for lead in vips["leads"]] == [
        "page4@example.com",
        "page2@example.com",
        "page0@example.com",
    ]
    assert vips["leads"][0]["tags"] == ["VIP"]
    assert vips["leads"][0]["lists"] == ["Customers"]
    assert (await admin.leads(list_name="Customers"))["total"] == 3
    assert (await admin.leads(tag="VIP", email="page2"))["total"] == 1
    assert (await admin.leads(q="p3"))["leads"][0]["first_name"] == "P3"
    assert (await admin.leads(tag="No such tag"))["total"] == 0
    page = await admin.leads(offset=2, limit=2)
    assert page["total"] == 8
    assert [lead["email"] for lead in page["leads"]] == ["page2@example.com", "page1@example.com"]
    deleted = (await admin.leads(email="deleted@"))["leads"][0]
    assert deleted["deleted"] is True


async def test_a_bad_page_parameter_is_named(sb: Sandbox) -> None:
    status, content_type, body = await _get(sb.admin_url + "leads?limit=lots")
    assert status == 400
    assert content_type == "application/json"
    assert json.loads(body) == {"error": "limit: a whole number, got 'lots'"}
    status, _, body = await _get(sb.admin_url + "leads?limit=5000")
    assert json.loads(body)["error"] == "limit: between 0 and 1000, got 5000"


async def test_one_lead_whole(sb: Sandbox, admin: SandboxAdminClient, client: KartraClient) -> None:
    await client.send(
        LeadRequest(email="whole@example.com", first_name="Wanda", phone="555")
        .create()
        .assign_tag("VIP")
        .subscribe("Newsletter")
        .unsubscribe("Newsletter")
        .subscribe_to_sequence("Welcome", step="2")
        .give_points(7)
        .give_points(3, expiration=30)
    )
    lead = await admin.lead("whole@example.com")
    assert lead == await admin.lead(lead["id"])
    assert lead["fields"] == {"first_name": "Wanda", "phone": "555"}
    assert lead["tags"] == ["VIP"]
    assert lead["lists"] == [{"name": "Newsletter", "active": False}]
    assert lead["sequences"] == [{"name": "Welcome", "step": "2", "status": "active"}]
    assert lead["points"]["score"] == 10
    assert [grant["points"] for grant in lead["points"]["grants"]] == [3]
    buyer = await admin.lead("buyer@example.com")
    assert {row["type"] for row in buyer["transactions"]} >= {"sale"}
    assert buyer["subscriptions"]
    assert buyer["subscriptions"][0]["product"] == "Membership"
    assert buyer["memberships"][0]["membership_name"] == "Academy"
    with pytest.raises(AdminAPIError) as missing:
        await admin.lead("nobody@example.com")
    assert missing.value.status == 404
    assert "nobody@example.com" in str(missing.value)


async def test_custom_fields_and_bookings_are_shown_by_name(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    account = sb.account
    colour = account.custom_fields["colour"]
    green = next(ident for ident, name in colour.options.items() if name == "green")
    coaching = account.calendars["Coaching"]
    lead = account.add_lead("booked@example.com")
    lead.custom = {colour.id: (green,), account.custom_fields["company_size"].id: "12"}
    from kartra_async.sandbox._state import Booking

    lead.bookings = [Booking(1, coaching.id, coaching.classes["Deep dive"].id, "2026-07-01 10:00")]
    shown = await admin.lead("booked@example.com")
    assert {"identifier": "colour", "type": "drop_down", "value": ["green"]} in shown[
        "custom_fields"
    ]
    assert {"identifier": "company_size", "type": "input_field", "value": "12"} in shown[
        "custom_fields"
    ]
    assert shown["bookings"] == [
        {
            "id": 1,
            "calendar": "Coaching",
            "calendar_class": "Deep dive",
            "start": "2026-07-01 10:00",
            "status": "active",
        }
    ]


async def test_the_journal_records_each_call_without_credentials(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    await client.send(LeadRequest(email="j@example.com").create().assign_tag("VIP"))
    with pytest.raises(KartraError):
        await client.send(LeadRequest(email="j@example.com").create())
    sb.faults.force(FaultKind.RATE_LIMITED)
    await client.get_lead(email="j@example.com")  # 429 first, then the retry
    calls = await admin.requests()
    assert [(c["cmds"], c["http_status"], c["status"], c["type"]) for c in calls] == [
        (["create_lead", "assign_tag"], 200, "Success", ""),
        (["create_lead"], 200, "Error", "244"),
        (["get_lead"], 429, "Error", ""),
        (["get_lead"], 200, "Success", ""),
    ]
    assert calls[2]["fault"] == "rate_limited"
    assert all(c["latency_ms"] is not None and c["latency_ms"] >= 0 for c in calls)
    assert {c["app_id"] for c in calls} == {mask_app_id(CREDENTIALS.app_id)}
    assert [c["seq"] for c in calls] == [1, 2, 3, 4]
    assert [c["seq"] for c in await admin.requests(since=2)] == [3, 4]
    assert [c["seq"] for c in await admin.requests(limit=1)] == [4]
    # No endpoint ever shows a secret.
    for path in ("requests", "stats", "events", "health", "leads", "faults", "export", ""):
        _, _, body = await _get(sb.admin_url + path)
        for secret in CREDENTIALS.as_dict().values():
            assert secret not in body, path


def test_app_ids_are_masked() -> None:
    assert mask_app_id("app-1234567890ab") == "ap…ab"
    assert mask_app_id("short") == "***"
    assert mask_app_id("") == ""


async def test_the_app_id_of_a_json_body_and_of_the_query_string(sb: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        query = "app_id=query-app-id-123&api_key=x&api_password=y"
        await http.post(sb.url + "?" + query, data=b"actions[0][cmd]=retrieve_account_tags")
        await http.post(sb.url, json={"app_id": "json-app-id-456", "actions": []})
    assert [entry.app_id for entry in sb.admin.journal.calls] == ["qu…23", "js…56"]


async def test_events_are_journaled(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    await client.send(
        LeadRequest(email="ev@example.com").create().assign_tag("VIP").subscribe("Newsletter")
    )
    await client.send(LeadRequest(email="ev@example.com").search().assign_tag("VIP"))  # no-op
    events = await admin.events()
    assert [(e["action"], e["email"], e["posted"]) for e in events] == [
        ("assign_tag", "ev@example.com", False),
        ("list_subscription", "ev@example.com", False),
    ]
    assert events[0]["payload"]["action_details"]["tag"]["tag_name"] == "VIP"
    assert await admin.events(since=events[-1]["seq"]) == []


async def test_events_posted_to_a_webhook_are_marked_posted() -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with (
            Sandbox(
                credentials=CREDENTIALS, rate_limit=None, webhook_url=f"http://{host}:{port}/hook"
            ) as sandbox,
            aiohttp.ClientSession() as http,
        ):
            await post(
                http,
                sandbox.url,
                chain(
                    "hook@example.com",
                    {"cmd": "create_lead"},
                    {"cmd": "assign_tag", "tag_name": "VIP"},
                ),
            )
            await sandbox.wait_events()
            async with SandboxAdminClient(sandbox.admin_url) as admin:
                events = await admin.events()
                assert (await admin.health())["webhook"] is True
                assert (await admin.stats())["events_sent"] == 1
    finally:
        await runner.cleanup()
    assert [(e["action"], e["posted"]) for e in events] == [("assign_tag", True)]
    assert received == [events[0]["payload"]]


async def test_without_recording_or_webhook_there_are_no_events() -> None:
    async with Sandbox(credentials=CREDENTIALS, rate_limit=None) as sandbox:
        async with aiohttp.ClientSession() as http:
            await post(
                http,
                sandbox.url,
                chain(
                    "x@example.com",
                    {"cmd": "create_lead"},
                    {"cmd": "assign_tag", "tag_name": "VIP"},
                ),
            )
        async with SandboxAdminClient(sandbox.admin_url) as admin:
            assert await admin.events() == []
            assert (await admin.health())["record_events"] is False


async def test_stats_and_the_rate_window(sb: Sandbox, admin: SandboxAdminClient) -> None:
    async with aiohttp.ClientSession() as http:
        statuses = [
            (await post(http, sb.url, {"actions": [{"cmd": "retrieve_account_tags"}]}))[0]
            for _ in range(22)
        ]
    assert statuses.count(429) == 2
    stats = await admin.stats()
    assert stats["calls"] == 22
    assert stats["rate_limited"] == 2
    assert stats["cmds"] == {"retrieve_account_tags": 22}
    assert stats["replies"] == {"Success": 20}
    rate = stats["rate"]
    assert rate["limit"] == 20
    assert rate["window_seconds"] == 1.0
    assert rate["window"] == [{"app_id": mask_app_id(CREDENTIALS.app_id), "calls": 20}]
    assert len(rate["per_second"]) == 60
    assert sum(second["calls"] for second in rate["per_second"]) == 22
    assert sum(second["rate_limited"] for second in rate["per_second"]) == 2


async def test_export_is_the_account(sb: Sandbox, admin: SandboxAdminClient) -> None:
    assert await admin.export() == json.loads(sb.export())
    assert await admin.export(stable=True) == json.loads(sb.export(stable=True))


async def test_reset_to_default_empty_and_a_saved_state(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    await client.send(LeadRequest(email="saved@example.com").create().assign_tag("VIP"))
    saved = await admin.export()
    await client.send(LeadRequest(email="later@example.com").create())
    sb.faults.add(FaultRule(FaultKind.LATENCY, probability=0.5))

    reset = await admin.reset(saved)
    assert reset == {"status": "reset", "account": "posted", "leads": 4}
    assert "VIP" in (await admin.lead("saved@example.com"))["tags"]
    assert (await admin.leads(email="later@"))["total"] == 0
    assert await admin.requests() == []
    assert (await admin.stats())["calls"] == 0
    assert len(sb.faults.rules) == 1, "fault rules survive a reset"

    assert (await admin.reset())["leads"] == len(default_account().leads)
    assert (await admin.leads(email="saved@"))["total"] == 0
    assert (await admin.reset("empty"))["leads"] == 0
    assert sb.account.tags == {}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "body: not JSON"),
        (b"[1]", "body: an object"),
        (b'{"to": "yesterday"}', "to: 'default'"),
        (b'{"format": 99, "leads": []}', "body: not a sandbox account export"),
    ],
)
async def test_a_bad_reset_changes_nothing(sb: Sandbox, body: bytes, error: str) -> None:
    before = sb.export()
    async with aiohttp.ClientSession() as http, http.post(sb.admin_url + "reset", data=body) as r:
        assert r.status == 400
        assert (await r.json())["error"].startswith(error)
    assert sb.export() == before


async def test_fault_rules_read_and_set(
    sb: Sandbox, admin: SandboxAdminClient, client: KartraClient
) -> None:
    shown = await admin.set_faults(
        ["http_503:1:create_lead", {"kind": "latency", "delay": [0.0, 0.001]}], seed=4
    )
    assert shown["seed"] == 4
    assert shown["rules"] == [
        {
            "kind": "http_503",
            "probability": 1.0,
            "cmds": ["create_lead"],
            "count": None,
            "delay": 0.0,
            "after_commit": False,
        },
        {
            "kind": "latency",
            "probability": 1.0,
            "cmds": None,
            "count": None,
            "delay": [0.0, 0.001],
            "after_commit": False,
        },
    ]
    assert "http_500" in shown["kinds"]
    assert await admin.faults() == shown
    with pytest.raises(KartraError):
        await client.send(LeadRequest(email="down@example.com").create())
    assert sb.account.lead_by_email("down@example.com") is None
    assert (await admin.faults())["injected"]["http_503"] >= 1
    cleared = await admin.set_faults([])
    assert cleared["rules"] == []
    await client.send(LeadRequest(email="down@example.com").create())
    assert sb.account.lead_by_email("down@example.com") is not None


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ([{"kind": "http_999"}], "rules[0].kind: unknown fault kind 'http_999'"),
        ([{"probability": 1}], "rules[0].kind: required"),
        (
            [{"kind": "http_500", "probability": 2}],
            "rules[0].probability: a number between 0 and 1",
        ),
        ([{"kind": "latency", "delay": [2, 1]}], "rules[0].delay: low 2.0 is above high 1.0"),
        ([{"kind": "latency", "count": -1}], "rules[0].count: null or a whole number >= 0"),
        ([{"kind": "latency", "cmds": "get_lead"}], "rules[0].cmds: null or a list of cmd names"),
        ([{"kind": "latency", "colour": "red"}], "rules[0]: unknown field(s) colour"),
        ("all", "rules: required, a list"),
    ],
)
async def test_bad_fault_rules_are_refused_whole(
    sb: Sandbox, admin: SandboxAdminClient, rules: Any, error: str
) -> None:
    sb.faults.add(FaultRule(FaultKind.LATENCY))
    async with (
        aiohttp.ClientSession() as http,
        http.put(sb.admin_url + "faults", json={"rules": rules}) as response,
    ):
        assert response.status == 400
        assert (await response.json())["error"].startswith(error)
    assert [rule.kind for rule in sb.faults.rules] == [FaultKind.LATENCY]


async def test_health(sb: Sandbox, admin: SandboxAdminClient) -> None:
    health = await admin.health()
    assert health["status"] == "ok"
    assert health["url"] == sb.url
    assert health["inspector_url"] == sb.admin_url
    assert health["rate_limit"] == 20
    assert health["webhook"] is False
    assert health["leads"] == len(sb.account.leads)


async def test_the_inspector_page_is_self_contained(sb: Sandbox) -> None:
    status, content_type, page = await _get(sb.admin_url)
    assert status == 200
    assert content_type == "text/html"
    assert "<title>Kartra sandbox inspector</title>" in page
    # Works offline: no script, style, font or image comes from anywhere else.
    for external in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert external not in page, external
    async with (
        aiohttp.ClientSession() as http,
        http.get(sb.admin_url.rstrip("/"), allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/_sandbox/"


async def test_the_admin_api_is_not_on_the_kartra_endpoint(sb: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        status, _, _ = await post(http, sb.url, {"actions": [{"cmd": "retrieve_account_tags"}]})
        assert status == 200
        async with http.get(sb.url) as response:
            assert response.status == 405
    assert sb.stats.calls == 1


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.5.6.7")
    assert is_loopback("::1")
    assert not is_loopback("192.168.1.20")
    assert not is_loopback("203.0.113.9")
    assert not is_loopback(None)
    assert not is_loopback("not an address")


class _PeerTransport:
    """The transport of a request from ``peer`` (aiohttp reads ``request.remote`` from it)."""

    def __init__(self, peer: str) -> None:
        self._peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self._peer, 40000) if name == "peername" else default


@pytest.mark.parametrize(("allow", "status"), [(False, 403), (True, 200)])
async def test_remote_clients_are_refused_unless_allowed(allow: bool, status: int) -> None:
    async with Sandbox(credentials=CREDENTIALS, allow_remote_admin=allow) as sandbox:
        request = make_mocked_request(
            "GET", "/_sandbox/health", app=sandbox.app, transport=_PeerTransport("203.0.113.9")
        )
        match = await sandbox.app.router.resolve(request)
        response = await match.handler(request)
    assert response.status == status
    if not allow:
        assert b"loopback clients only" in response.body
