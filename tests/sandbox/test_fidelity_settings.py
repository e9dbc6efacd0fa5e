"""The sandbox's Test Mode (leads stored under @kartra.com) and chain-failure settings."""

from __future__ import annotations

import pytest

from kartra_async import test_mode_email
from kartra_async.sandbox import Sandbox, SandboxAccount

from .conftest import Runner
from .support import chain, code


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        ("jo@gmail.com", "jo@kartra.com"),
        ("Jo.Smith+x@mail.example.co.uk", "Jo.Smith+x@kartra.com"),
        ("jo@kartra.com", "jo@kartra.com"),
        (" jo@gmail.com ", "jo@kartra.com"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_test_mode_email(email: str, stored: str) -> None:
    assert test_mode_email(email) == stored


def test_test_mode_stores_created_leads_under_kartra_com(
    run: Runner, account: SandboxAccount
) -> None:
    reply = run(chain("jo@gmail.com", {"cmd": "create_lead"}), test_mode=True)
    assert reply["status"] == "Success"
    lead = account.lead_by_email("jo@kartra.com")
    assert lead is not None
    assert account.lead_by_email("jo@gmail.com") is None
    # The original address finds nothing; the stored one does.
    missing = run({"get_lead": {"email": "jo@gmail.com"}}, test_mode=True)
    assert code(missing) == 234
    found = run({"get_lead": {"email": "jo@kartra.com"}}, test_mode=True)
    assert found["lead_details"]["id"] == str(lead.id)


def test_test_mode_collides_on_the_local_part(run: Runner, account: SandboxAccount) -> None:
    assert run(chain("jo@gmail.com", {"cmd": "create_lead"}), test_mode=True)["status"] == "Success"
    again = run(chain("jo@yahoo.com", {"cmd": "create_lead"}), test_mode=True)
    assert code(again) == 244
    assert len([lead for lead in account.leads.values() if lead.email == "jo@kartra.com"]) == 1


def test_test_mode_renames_under_kartra_com(run: Runner, account: SandboxAccount) -> None:
    run(chain("old@gmail.com", {"cmd": "create_lead"}), test_mode=True)
    reply = run(
        chain("old@kartra.com", {"cmd": "edit_lead"}, new_email="new@gmail.com"), test_mode=True
    )
    assert reply["status"] == "Success"
    assert account.lead_by_email("new@kartra.com") is not None


def test_live_mode_keeps_the_address(run: Runner, account: SandboxAccount) -> None:
    run(chain("jo@gmail.com", {"cmd": "create_lead"}))
    assert account.lead_by_email("jo@gmail.com") is not None


MIDWAY = (
    {"cmd": "create_lead"},
    {"cmd": "assign_tag", "tag_name": "VIP"},
    {"cmd": "assign_tag", "tag_name": "No such tag"},
    {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
)


def test_stop_ends_the_chain_at_its_first_failure(run: Runner, account: SandboxAccount) -> None:
    reply = run(chain("mid@example.com", *MIDWAY))
    assert (reply["status"], reply["type"]) == ("Error", "212")
    assert [next(iter(item)) for item in reply["actions"]] == [
        "create_lead",
        "assign_tag",
        "assign_tag",
    ]
    lead = account.lead_by_email("mid@example.com")
    assert lead is not None
    assert not lead.lists


def test_continue_runs_every_later_action(run: Runner, account: SandboxAccount) -> None:
    reply = run(chain("mid@example.com", *MIDWAY), chain_failure="continue")
    assert (reply["status"], reply["type"], reply["message"]) == (
        "Error",
        "212",
        "Tag does not exist",
    )
    statuses = [next(iter(item.values()))["status"] for item in reply["actions"]]
    assert statuses == ["Success", "Success", "Error", "Success"]
    lead = account.lead_by_email("mid@example.com")
    assert lead is not None
    assert lead.lists and set(lead.lists.values()) == {1}


def test_continue_after_a_failed_opener_looks_the_lead_up_again(
    run: Runner, account: SandboxAccount
) -> None:
    run(chain("dup@example.com", {"cmd": "create_lead"}))
    reply = run(
        chain("dup@example.com", {"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": "VIP"}),
        chain_failure="continue",
    )
    assert code(reply) == 244
    assert reply["actions"][1]["assign_tag"]["status"] == "Success"
    lead = account.lead_by_email("dup@example.com")
    assert lead is not None
    assert lead.tags


def test_a_sandbox_refuses_an_unknown_chain_failure() -> None:
    with pytest.raises(ValueError, match="chain_failure"):
        Sandbox(chain_failure="maybe")  # type: ignore[arg-type]
