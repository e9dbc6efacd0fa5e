"""Export and load: a faithful, deterministic round trip of the whole account."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from kartra_async.sandbox import (
    Sandbox,
    SandboxAccount,
    default_account,
    export_account,
    load_account,
)

from .conftest import Runner
from .support import CREDENTIALS, chain, fixed_clock, post


def _busy(run: Runner) -> None:
    run(
        chain(
            "snap@example.com",
            {"cmd": "create_lead"},
            {"cmd": "assign_tag", "tag_name": "VIP"},
            {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
            {"cmd": "give_points_to_lead", "points": 4, "expiration": 3},
            {"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome", "step": "3"},
            {"cmd": "calendar_subscribe", "calendar_name": "Coaching", "class_name": "Deep dive"},
            custom_fields=[{"field_identifier": "interests", "field_value": [7, 9]}],
        )
    )
    run(chain(None, {"cmd": "refund_transaction", "transaction_id": 1, "refund_amount": "9.99"}))


def test_round_trip_is_exact(run: Runner, account: SandboxAccount) -> None:
    _busy(run)
    text = export_account(account)
    loaded = load_account(text, now=fixed_clock)
    assert export_account(loaded) == text
    data = json.loads(text)
    assert {
        "tags",
        "lists",
        "sequences",
        "calendars",
        "custom_fields",
        "leads",
        "transactions",
        "subscriptions",
        "next_ids",
    } <= set(data)
    assert loaded.lead_by_email("SNAP@example.com") is not None
    assert loaded.lead_by_email("deleted@example.com") is not None
    assert loaded.new_id("lead") == account.new_id("lead")


def test_loaded_account_behaves_the_same(
    run: Runner, account: SandboxAccount, tmp_path: Path
) -> None:
    _busy(run)
    path = tmp_path / "account.json"
    path.write_text(export_account(account), encoding="utf-8")
    loaded = load_account(path)
    lead = loaded.lead_by_email("snap@example.com")
    assert lead is not None
    assert loaded.tag_name(lead.tags[0] if lead.tags else 0) == "VIP"
    assert loaded.custom_fields["interests"].options[7] == "email"
    assert lead.custom == {loaded.custom_fields["interests"].id: (7, 9)}


def test_export_is_deterministic_across_equal_histories() -> None:
    def build() -> str:
        account = default_account(now=fixed_clock)
        lead = account.add_lead("x@example.com", first_name="X")
        account.seed(tags=["Late"])
        lead.tags = [account.tags["Late"]]
        return export_account(account)

    assert build() == build()


def test_stable_export_ignores_arrival_order_and_clock() -> None:
    def build(order: list[str], clock: float) -> str:
        account = default_account(now=lambda: clock)
        for email in order:
            account.add_lead(email)
        return export_account(account, stable=True)

    one = build(["a@example.com", "b@example.com"], 1_800_000_000.0)
    two = build(["b@example.com", "a@example.com"], 1_800_000_500.0)
    assert one == two
    assert '"joined"' not in one
    reloaded = load_account(one, now=fixed_clock)
    assert export_account(reloaded, stable=True) == one


async def test_sandbox_from_an_export_file(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    account = SandboxAccount(now=fixed_clock).seed(tags=["Only tag"], lists=["Only list"])
    path = tmp_path / "account.json"
    path.write_text(export_account(account), encoding="utf-8")
    async with Sandbox(path, credentials=CREDENTIALS) as sb:
        _, body, _ = await post(http, sb.url, chain(None, {"cmd": "retrieve_account_tags"}))
        assert json.loads(body)["account_tags"] == ["Only tag"]
        assert sb.export() == export_account(account)
        sb.seed(tags=["Added live"], sequences={"Drip": ["1"]})
        _, body, _ = await post(http, sb.url, chain(None, {"cmd": "retrieve_account_tags"}))
        assert json.loads(body)["account_tags"] == ["Only tag", "Added live"]
