"""The pytest plugin's fixtures, used as a user would, and the real client against the sandbox."""

from __future__ import annotations

import pytest

from kartra_async import KartraClient, LeadAlreadyExists, LeadRequest
from kartra_async.sandbox import Sandbox


async def test_kartra_sandbox_fixture_is_started(kartra_sandbox: Sandbox) -> None:
    assert kartra_sandbox.url.startswith("http://127.0.0.1:")
    assert kartra_sandbox.account.lead_by_email("buyer@example.com") is not None


async def test_chain_through_the_real_client(
    kartra_client: KartraClient, kartra_sandbox: Sandbox
) -> None:
    call = (
        LeadRequest(email="client@example.com", first_name="Cli")
        .create()
        .assign_tag("VIP")
        .subscribe("Newsletter")
        .give_points(12)
    )
    reply = await kartra_client.send(call)
    lead = kartra_sandbox.account.lead_by_email("client@example.com")
    assert lead is not None
    assert reply.ok
    assert reply.lead_id == lead.id
    assert lead.tags == [kartra_sandbox.account.tags["VIP"]]
    assert lead.lists == {kartra_sandbox.account.lists["Newsletter"]: 1}
    assert lead.score == 12
    profile = await kartra_client.get_lead(email="client@example.com")
    assert profile is not None
    with pytest.raises(LeadAlreadyExists):
        await kartra_client.send(LeadRequest(email="client@example.com").create())
    assert kartra_sandbox.stats.cmds["create_lead"] == 2
