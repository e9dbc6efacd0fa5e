"""Account-level commands: custom field creation (263-273) and the retrieve_* inventories."""

from __future__ import annotations

from typing import Any

import pytest

from kartra_async._form import FormValue
from kartra_async.sandbox import SandboxAccount

from .conftest import Runner
from .support import chain, code


def _options(*names: str) -> list[dict[str, FormValue]]:
    return [{"option_name": name} for name in names]


def test_create_custom_field_then_use_it(run: Runner, account: SandboxAccount) -> None:
    reply = run(
        chain(
            None,
            {
                "cmd": "create_custom_field",
                "custom_field_identifier": "shoe-size_2",
                "custom_field_type": "drop_down",
                "custom_field_options": _options("small", "large"),
            },
            {"cmd": "retrieve_custom_fields"},
        )
    )
    assert reply["actions"][0]["create_custom_field"] == {
        "status": "Success",
        "message": "Custom Field created",
        "type": "114",
    }
    fields = {item["field_identifier"]: item for item in reply["custom_fields"]}
    assert reply["actions"][1]["retrieve_custom_fields"]["custom_fields"] == reply["custom_fields"]
    shoe = fields["shoe-size_2"]
    assert shoe["field_type"] == "drop_down"
    assert [opt["option_value"] for opt in shoe["field_value"]] == ["small", "large"]
    assert all(isinstance(opt["option_id"], str) for opt in shoe["field_value"])
    assert "field_value" not in fields["company_size"]
    large = shoe["field_value"][1]["option_id"]
    run(
        chain(
            "buyer@example.com",
            {"cmd": "edit_lead"},
            custom_fields=[{"field_identifier": "shoe-size_2", "field_value": large}],
        )
    )
    lead = account.lead_by_email("buyer@example.com")
    assert lead is not None
    assert lead.custom is not None
    assert lead.custom[account.custom_fields["shoe-size_2"].id] == (int(large),)


def test_text_field_needs_no_options(run: Runner, account: SandboxAccount) -> None:
    action = {
        "cmd": "create_custom_field",
        "custom_field_identifier": "memo",
        "custom_field_type": "text_area",
    }
    assert run(chain(None, action))["status"] == "Success"
    assert account.custom_fields["memo"].type == "text_area"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"custom_field_type": "input_field"}, 265),
        ({"custom_field_identifier": "has space", "custom_field_type": "input_field"}, 263),
        ({"custom_field_identifier": "br[ack]et", "custom_field_type": "input_field"}, 263),
        ({"custom_field_identifier": "colour", "custom_field_type": "input_field"}, 264),
        ({"custom_field_identifier": "first_name", "custom_field_type": "input_field"}, 264),
        ({"custom_field_identifier": "fresh", "custom_field_type": "date"}, 269),
        ({"custom_field_identifier": "fresh"}, 269),
        ({"custom_field_identifier": "fresh", "custom_field_type": "checkbox"}, 270),
        (
            {
                "custom_field_identifier": "fresh",
                "custom_field_type": "checkbox",
                "custom_field_options": "a,b",
            },
            270,
        ),
        (
            {
                "custom_field_identifier": "fresh",
                "custom_field_type": "radio_button",
                "custom_field_options": _options("a", ""),
            },
            272,
        ),
        (
            {
                "custom_field_identifier": "fresh",
                "custom_field_type": "radio_button",
                "custom_field_options": ["a", "b"],
            },
            272,
        ),
        (
            {
                "custom_field_identifier": "fresh",
                "custom_field_type": "drop_down",
                "custom_field_options": _options("a"),
            },
            273,
        ),
    ],
)
def test_create_custom_field_errors(
    run: Runner, account: SandboxAccount, action: dict[str, FormValue], expected: int
) -> None:
    before = set(account.custom_fields)
    assert code(run(chain(None, {"cmd": "create_custom_field", **action}))) == expected
    assert set(account.custom_fields) == before


@pytest.mark.parametrize(
    ("cmd", "key", "expected"),
    [
        (
            "retrieve_account_tags",
            "account_tags",
            ["VIP", "Customer", "Newsletter", "Webinar attendee"],
        ),
        ("retrieve_account_lists", "account_lists", ["Newsletter", "Customers", "Prospects"]),
        ("retrieve_account_sequences", "account_sequences", ["Welcome", "Onboarding"]),
        ("retrieve_account_pages", "account_pages", ["Home", "Sales page", "Thank you"]),
    ],
)
def test_inventories_are_hoisted_and_in_actions(
    run: Runner, cmd: str, key: str, expected: list[str]
) -> None:
    reply = run(chain(None, {"cmd": cmd}))
    assert reply["status"] == "Success"
    assert reply[key] == expected
    assert reply["actions"] == [{cmd: {"status": "Success", key: expected}}]


def test_inventory_follows_seeding(run: Runner, account: SandboxAccount) -> None:
    account.seed(tags=["Fresh"], lists=["Fresh list"], sequences={"Drip": [1, 2]})
    reply: dict[str, Any] = run(
        chain(
            None,
            {"cmd": "retrieve_account_tags"},
            {"cmd": "retrieve_account_lists"},
            {"cmd": "retrieve_account_sequences"},
        )
    )
    assert "Fresh" in reply["account_tags"]
    assert "Fresh list" in reply["account_lists"]
    assert "Drip" in reply["account_sequences"]
    assert account.sequences["Drip"].steps == ["1", "2"]


def test_account_commands_need_no_lead(run: Runner) -> None:
    assert run(chain(None, {"cmd": "retrieve_custom_fields"}))["status"] == "Success"
