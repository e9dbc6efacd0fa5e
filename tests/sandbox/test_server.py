"""The sandbox over loopback: replies, the request log, counters, the rate limit, TLS."""

from __future__ import annotations

import json

import aiohttp

from kartra_async.sandbox import Sandbox, default_account

from .support import CREDENTIALS, chain, fixed_clock, post


async def test_chain_over_http_and_a_credential_free_log(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    payload = chain(
        "web@example.com",
        {"cmd": "create_lead"},
        {"cmd": "assign_tag", "tag_name": "VIP"},
        {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
        {"cmd": "give_points_to_lead", "points": 3},
    )
    status, body, content_type = await post(http, sandbox.url, payload)
    assert status == 200
    assert content_type == "text/html; charset=UTF-8"
    reply = json.loads(body)
    lead = sandbox.account.lead_by_email("web@example.com")
    assert lead is not None
    assert reply["actions"][0]["create_lead"]["lead_details"] == {"id": str(lead.id)}
    assert [next(iter(item)) for item in reply["actions"]] == [
        "create_lead",
        "assign_tag",
        "subscribe_lead_to_list",
        "give_points_to_lead",
    ]
    assert sandbox.stats.calls == 1
    assert sandbox.stats.cmds["assign_tag"] == 1
    assert sandbox.stats.replies["Success"] == 1
    (record,) = sandbox.log
    assert record.cmds[0] == "create_lead"
    assert (record.email, record.http_status, record.status) == ("web@example.com", 200, "Success")
    logged = (
        repr(list(sandbox.log)) + repr(sandbox.stats) + repr(sandbox) + repr(sandbox.credentials)
    )
    for secret in CREDENTIALS.as_dict().values():
        assert secret not in logged


async def test_trailing_slash_and_query_string_credentials(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    query = "&".join(f"{key}={value}" for key, value in CREDENTIALS.as_dict().items())
    async with http.post(
        f"{sandbox.url}/?{query}", data="actions[0][cmd]=retrieve_account_tags"
    ) as response:
        reply = json.loads(await response.read())
    assert reply["status"] == "Success"
    assert "VIP" in reply["account_tags"]


async def test_only_post(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(sandbox.url) as response:
        assert response.status == 405


async def test_sliding_window_of_twenty_per_app(http: aiohttp.ClientSession) -> None:
    now = [100.0]
    account = default_account(now=fixed_clock)
    async with Sandbox(account, credentials=CREDENTIALS, clock=lambda: now[0]) as sb:
        tags = chain(None, {"cmd": "retrieve_account_tags"})
        for _ in range(20):
            assert (await post(http, sb.url, tags))[0] == 200
            now[0] += 0.01
        async with http.post(sb.url, data="app_id=" + CREDENTIALS.app_id) as response:
            assert response.status == 429
            assert "Retry-After" not in response.headers
            assert json.loads(await response.read()) == {
                "status": "Error",
                "message": "Too many requests",
            }
        # The window is per app_id: another App is not limited by this one's calls.
        other = await post(http, sb.url, {**tags, "app_id": "another-app"}, credentials=False)
        assert other[0] == 200
        assert json.loads(other[1])["type"] == "239"
        # 1 s after the first accepted call it leaves the window: exactly one more fits.
        now[0] = 101.0
        assert (await post(http, sb.url, tags))[0] == 200
        assert (await post(http, sb.url, tags))[0] == 429
        now[0] = 101.2
        assert (await post(http, sb.url, tags))[0] == 200
        assert sb.stats.rate_limited == 2
        assert [r.http_status for r in sb.log].count(429) == 2


async def test_rate_limit_can_be_switched_off(http: aiohttp.ClientSession) -> None:
    async with Sandbox(credentials=CREDENTIALS, rate_limit=None, clock=lambda: 5.0) as sb:
        tags = chain(None, {"cmd": "retrieve_account_tags"})
        statuses = {(await post(http, sb.url, tags))[0] for _ in range(30)}
    assert statuses == {200}
    assert sb.stats.rate_limited == 0


async def test_tls_required_over_plain_http(http: aiohttp.ClientSession) -> None:
    async with Sandbox(credentials=CREDENTIALS, require_tls=True) as sb:
        _, body, _ = await post(http, sb.url, chain(None, {"cmd": "retrieve_account_tags"}))
    assert json.loads(body)["type"] == "201"


async def test_https_sandbox_accepts_tls_when_required(http: aiohttp.ClientSession) -> None:
    import ssl

    import trustme

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    async with Sandbox(credentials=CREDENTIALS, require_tls=True, ssl=server_context) as sb:
        assert sb.url.startswith("https://")
        from kartra_async._form import build_query

        body = build_query({**CREDENTIALS.as_dict(), "actions": [{"cmd": "retrieve_account_tags"}]})
        async with http.post(sb.url, data=body, ssl=client_context) as response:
            reply = json.loads(await response.read())
    assert reply["status"] == "Success"


async def test_the_app_serves_in_process() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from kartra_async._form import build_query

    sb = Sandbox(credentials=CREDENTIALS)
    async with TestClient(TestServer(sb.app)) as client:
        body = build_query({**CREDENTIALS.as_dict(), "get_lead": {"email": "buyer@example.com"}})
        response = await client.post("/api", data=body)
        reply = json.loads(await response.read())
    assert reply["lead_details"]["first_name"] == "Bea"
    assert sb.stats.cmds["get_lead"] == 1
