"""Every fault kind as a raw aiohttp client sees it, and the determinism of the seed."""

from __future__ import annotations

import json

import aiohttp
import pytest

from kartra_async.sandbox import FaultKind, FaultRule, Faults, Sandbox

from .support import chain, post

CREATE = chain("fault@example.com", {"cmd": "create_lead"})


def _created(sandbox: Sandbox) -> bool:
    return sandbox.account.lead_by_email("fault@example.com") is not None


@pytest.mark.parametrize("kind", [FaultKind.RESET_BEFORE, FaultKind.RESET_AFTER])
async def test_connection_resets(
    sandbox: Sandbox, http: aiohttp.ClientSession, kind: FaultKind
) -> None:
    sandbox.faults.force(kind)
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(http, sandbox.url, CREATE)
    # Reset after commit: the effect happened although the reply was lost.
    assert _created(sandbox) is (kind is FaultKind.RESET_AFTER)
    assert sandbox.stats.faults[kind.value] == 1
    assert sandbox.log[-1].fault == kind.value
    # The fault was used up: the next call is answered normally.
    status, body, _ = await post(http, sandbox.url, chain(None, {"cmd": "retrieve_account_tags"}))
    assert status == 200
    assert json.loads(body)["status"] == "Success"


@pytest.mark.parametrize(
    ("kind", "status"),
    [(FaultKind.HTTP_500, 500), (FaultKind.HTTP_502, 502), (FaultKind.HTTP_503, 503)],
)
@pytest.mark.parametrize("after_commit", [False, True])
async def test_http_errors(
    sandbox: Sandbox, http: aiohttp.ClientSession, kind: FaultKind, status: int, after_commit: bool
) -> None:
    sandbox.faults.force(kind, after_commit=after_commit)
    got, body, content_type = await post(http, sandbox.url, CREATE)
    assert got == status
    assert content_type.startswith("text/html")
    assert str(status).encode() in body
    assert _created(sandbox) is after_commit


async def test_malformed_json_after_commit(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.force(FaultKind.MALFORMED_JSON)
    status, body, _ = await post(http, sandbox.url, CREATE)
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert _created(sandbox)


async def test_truncated_json_after_commit(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.force(FaultKind.TRUNCATED_JSON)
    status, body, _ = await post(http, sandbox.url, CREATE)
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert body.startswith(b'{"status":"Success"')
    assert _created(sandbox)


async def test_html_content_type_with_valid_json(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.faults.force(FaultKind.HTML_CONTENT_TYPE)
    status, body, content_type = await post(http, sandbox.url, CREATE)
    assert (status, content_type.split(";")[0]) == (200, "text/html")
    assert json.loads(body)["status"] == "Success"


async def test_stall_outlasts_the_client_timeout_and_ends_on_close(
    http: aiohttp.ClientSession,
) -> None:
    async with Sandbox(faults=Faults(FaultRule(FaultKind.STALL, count=1))) as sb:
        timeout = aiohttp.ClientTimeout(total=0.2)
        with pytest.raises(TimeoutError):
            async with http.post(sb.url, data="x=1", timeout=timeout) as response:
                await response.read()
        assert sb.stats.faults["stall"] == 1
    # Leaving the block did not wait an hour: the stalled handler was released on close.
    assert sb.log[-1].fault == "stall"


async def test_latency_delays_the_reply(http: aiohttp.ClientSession) -> None:
    async with Sandbox(faults=Faults(FaultRule(FaultKind.LATENCY, delay=30.0, count=1))) as sb:
        with pytest.raises(TimeoutError):
            async with http.post(sb.url, data="x=1", timeout=aiohttp.ClientTimeout(total=0.2)):
                pass
    assert sb.stats.faults["latency"] == 1


async def test_burst_of_forced_429s(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.force(FaultKind.RATE_LIMITED, count=3)
    tags = chain(None, {"cmd": "retrieve_account_tags"})
    statuses = [(await post(http, sandbox.url, tags))[0] for _ in range(5)]
    assert statuses == [429, 429, 429, 200, 200]
    assert sandbox.stats.faults["rate_limited"] == 3


async def test_rules_can_target_commands(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.add(FaultRule(FaultKind.HTTP_503, cmds="assign_tag"))
    tags = chain(None, {"cmd": "retrieve_account_tags"})
    assert (await post(http, sandbox.url, tags))[0] == 200
    tagging = chain("buyer@example.com", {"cmd": "assign_tag", "tag_name": "VIP"})
    assert (await post(http, sandbox.url, tagging))[0] == 503


def test_probabilities_are_deterministic_from_the_seed() -> None:
    def draw(seed: int) -> list[str]:
        faults = Faults(
            FaultRule(FaultKind.LATENCY, probability=0.5, delay=(0.1, 0.2)),
            FaultRule(FaultKind.HTTP_502, probability=0.2),
            FaultRule(FaultKind.RESET_AFTER, probability=0.2, cmds={"create_lead"}),
            seed=seed,
        )
        decisions = [faults.decide(("create_lead",)) for _ in range(200)]
        return [f"{d.latency:.6f}:{d.fault.kind.value if d.fault else ''}" for d in decisions]

    first, again, other = draw(7), draw(7), draw(8)
    assert first == again
    assert first != other
    kinds = {item.split(":")[1] for item in first}
    assert kinds == {"", "http_502", "reset_after"}


def test_counted_rules_run_out() -> None:
    faults = Faults(FaultRule(FaultKind.HTTP_500, count=2))
    kinds = [faults.decide(("search_lead",)).fault is not None for _ in range(4)]
    assert kinds == [True, True, False, False]
    assert faults.injected["http_500"] == 2


def test_a_sandbox_seeds_unseeded_faults() -> None:
    def kinds(sandbox_seed: int) -> list[bool]:
        faults = Faults(FaultRule(FaultKind.HTTP_500, probability=0.5))
        Sandbox(faults=faults, seed=sandbox_seed)
        return [faults.decide(("create_lead",)).fault is not None for _ in range(64)]

    assert kinds(3) == kinds(3)
    assert kinds(3) != kinds(4)
    own = Faults(seed=11)
    Sandbox(faults=own, seed=3)
    assert own.seed == 11
