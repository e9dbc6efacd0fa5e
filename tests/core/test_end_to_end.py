"""End to end against the sandbox (a faithful fake Kartra on 127.0.0.1), through the plugin."""

from __future__ import annotations

import pytest

from kartra_async import (
    AccountCall,
    KartraClient,
    LeadAlreadyExists,
    LeadNotFound,
    LeadRequest,
    TagError,
)


async def test_create_tag_and_read_back(kartra_client: KartraClient) -> None:
    tags = await kartra_client.retrieve_account_tags()
    lists = await kartra_client.retrieve_account_lists()
    assert tags
    assert lists
    reply = await kartra_client.send(
        LeadRequest(email="ann@example.com", first_name="Ann")
        .create()
        .assign_tag(tags[0])
        .subscribe(lists[0])
    )
    assert reply.lead_id is not None
    profile = await kartra_client.get_lead(email="ann@example.com")
    assert profile.id == reply.lead_id
    assert profile.first_name == "Ann"
    assert tags[0] in [tag.name for tag in profile.tags]
    assert (await kartra_client.get_lead(id=reply.lead_id)).email == "ann@example.com"


async def test_errors_end_to_end(kartra_client: KartraClient) -> None:
    await kartra_client.send(LeadRequest(email="bob@example.com").create())
    with pytest.raises(LeadAlreadyExists):
        await kartra_client.send(LeadRequest(email="bob@example.com").create())
    with pytest.raises(LeadNotFound):
        await kartra_client.get_lead(email="nobody@example.com")
    with pytest.raises(TagError) as info:
        await kartra_client.send(
            LeadRequest(email="cid@example.com").create().assign_tag("No such tag zz")
        )
    assert info.value.reply is not None
    assert info.value.reply.lead_id is not None


async def test_account_chain_end_to_end(kartra_client: KartraClient) -> None:
    reply = await kartra_client.send(
        AccountCall().retrieve_account_tags().retrieve_account_sequences().retrieve_custom_fields()
    )
    assert isinstance(reply.account_tags, tuple)
    assert isinstance(reply.account_sequences, tuple)
    assert isinstance(reply.custom_fields, tuple)
