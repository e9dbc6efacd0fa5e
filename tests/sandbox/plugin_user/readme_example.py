import pytest

from kartra_async import KartraClient, KartraError, LeadRequest


async def sign_up(client: KartraClient, email: str) -> None:
    """Your code under test: a signup creates the lead and tags it VIP."""
    await client.send(LeadRequest(email=email).create().assign_tag("VIP"))


@pytest.mark.asyncio
async def test_signup_tags_the_lead(kartra_client, kartra_admin):
    await sign_up(kartra_client, "ann@example.com")
    lead = await kartra_admin.lead("ann@example.com")  # no Kartra call spent
    assert "VIP" in lead["tags"]


@pytest.mark.asyncio
@pytest.mark.kartra_sandbox(rate_limit=None)  # no limit: the client is not paced either
async def test_a_hundred_signups(kartra_client, kartra_admin):
    for n in range(100):
        await sign_up(kartra_client, f"user{n}@example.com")
    assert (await kartra_admin.leads(tag="VIP"))["total"] == 100


@pytest.mark.asyncio
@pytest.mark.kartra_sandbox(faults=["http_503:1:create_lead"])
async def test_signup_during_an_outage(kartra_client, kartra_admin):
    with pytest.raises(KartraError):
        await sign_up(kartra_client, "bob@example.com")
    assert (await kartra_admin.leads(email="bob@example.com"))["total"] == 0
    assert 503 in {call["http_status"] for call in await kartra_admin.requests()}
