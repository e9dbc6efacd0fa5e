"""Credentials, request shape and permissions: flat errors, checked in Kartra's order."""

from __future__ import annotations

from typing import Any

import pytest

from kartra_async._codes import ERROR_CODES
from kartra_async.sandbox import SandboxAccount

from .conftest import Runner
from .support import CREDENTIALS, chain, code

GOOD = CREDENTIALS.as_dict()
TAGS = chain(None, {"cmd": "retrieve_account_tags"})


def assert_flat_error(reply: dict[str, Any], expected: int) -> None:
    assert reply == {
        "status": "Error",
        "message": ERROR_CODES[expected][0],
        "type": str(expected),
    }


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"app_id": ""}, 238),
        ({"app_id": "nope"}, 239),
        ({"api_key": ""}, 202),
        ({"api_key": "nope"}, 203),
        ({"api_password": ""}, 233),
        ({"api_password": "nope"}, 233),
        # app_id is checked before api_key, api_key before api_password.
        ({"app_id": "nope", "api_key": "", "api_password": ""}, 239),
        ({"api_key": "nope", "api_password": "nope"}, 203),
    ],
)
def test_credentials_are_checked_in_kartras_order(
    run: Runner, override: dict[str, str], expected: int
) -> None:
    assert_flat_error(run({**TAGS, **GOOD, **override}), expected)


def test_missing_credentials_mean_empty_app_id(run: Runner) -> None:
    assert_flat_error(run(TAGS, credentials=False), 238)


def test_inactive_app_and_account(run: Runner, account: SandboxAccount) -> None:
    account.settings.account_active = False
    assert_flat_error(run(TAGS), 204)
    account.settings.app_active = False
    assert_flat_error(run(TAGS), 240)


def test_tls_required_answers_201_before_anything_else(run: Runner) -> None:
    assert_flat_error(run({**TAGS, "app_id": ""}, insecure=True), 201)


def test_ip_allowlist(run: Runner, account: SandboxAccount) -> None:
    account.settings.allowed_ips = ["10.0.0.1"]
    assert_flat_error(run(TAGS, remote="127.0.0.1"), 242)
    assert run(TAGS, remote="10.0.0.1")["status"] == "Success"


def test_command_permissions(run: Runner, account: SandboxAccount) -> None:
    account.settings.allowed_cmds = ["retrieve_account_tags"]
    assert run(TAGS)["status"] == "Success"
    assert_flat_error(run(chain(None, {"cmd": "retrieve_account_lists"})), 262)
    assert_flat_error(run({"get_lead": {"email": "buyer@example.com"}}), 262)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"lead": "x", "actions": [{"cmd": "create_lead"}]}, 223),
        ({"get_lead": "x"}, 236),
        ({"actions": "x"}, 224),
        ({}, 254),
        ({"actions": [{"tag_name": "VIP"}]}, 254),
        ({"actions": [{"cmd": ""}]}, 254),
        ({"actions": ["create_lead"]}, 254),
        ({"actions": [{"cmd": "remove_tag"}]}, 262),
        ({"actions": [{"cmd": "get_lead"}]}, 262),
    ],
)
def test_request_shape_errors(run: Runner, payload: dict[str, Any], expected: int) -> None:
    assert_flat_error(run(payload), expected)


@pytest.mark.parametrize("opener", ["create_lead", "edit_lead", "search_lead"])
def test_opener_outside_actions_0_runs_nothing(
    run: Runner, account: SandboxAccount, opener: str
) -> None:
    payload = chain("new@example.com", {"cmd": "retrieve_account_tags"}, {"cmd": opener})
    assert_flat_error(run(payload), 262)
    assert account.lead_by_email("new@example.com") is None


def test_unknown_cmd_later_in_a_chain_runs_nothing(run: Runner, account: SandboxAccount) -> None:
    payload = chain("new@example.com", {"cmd": "create_lead"}, {"cmd": "grant_membership"})
    assert code(run(payload)) == 262
    assert account.lead_by_email("new@example.com") is None


def test_raw_php_body_with_pushes_and_plus_spaces(account: SandboxAccount) -> None:
    from kartra_async._form import parse_query
    from kartra_async.sandbox import process

    from .support import NOW

    body = (
        "app_id=app-test&api_key=key-test&api_password=pw-test"
        "&lead[email]=old@example.com&lead[email]=plus+space@example.com"
        "&lead[first_name]=Ann+Lee&actions[][cmd]=create_lead"
    )
    outcome = process(account, parse_query(body), credentials=CREDENTIALS, now=NOW)
    assert outcome.status == "Success"
    lead = account.lead_by_email("plus space@example.com")
    assert lead is not None
    assert lead.field("first_name") == "Ann Lee"
    assert account.lead_by_email("old@example.com") is None
