"""The client's ``Encoder`` reuses encoded parts between calls, and is byte-identical to ``encode``."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kartra_async import AccountCall, GetLead, LeadRequest, encode
from kartra_async._model import Credentials
from kartra_async._protocol import ACTION_CACHE_SIZE, Encoder

from .test_encoding import CALLS, Step, leads, names, steps

CREDENTIALS = Credentials("app & id", "key=1", "pass word%")


@settings(max_examples=150, deadline=None)
@given(
    lead=leads,
    chain=st.lists(steps, max_size=5),
    opener=st.sampled_from(["create", "edit", "search"]),
    creds=st.tuples(names, names, names),
)
def test_encoder_equals_encode_for_lead_calls(
    lead: LeadRequest,
    chain: list[tuple[Step, dict[str, Any]]],
    opener: str,
    creds: tuple[str, str, str],
) -> None:
    credentials = Credentials(*creds)
    call = getattr(lead, opener)()
    for step, _expected in chain:
        call = step(call)
    encoder = Encoder(credentials)
    first = encoder.encode(call)
    # The second encoding comes from the action cache: it must not differ either.
    assert encoder.encode(call) == first == encode(call, credentials)


def test_encoder_equals_encode_for_every_golden_call() -> None:
    encoder = Encoder(CREDENTIALS)
    for build in CALLS.values():
        call = build()
        assert encoder.encode(call) == encode(call, CREDENTIALS)


def test_one_chain_shared_by_many_leads_is_encoded_per_lead() -> None:
    encoder = Encoder(CREDENTIALS)
    bodies = {
        encoder.encode(LeadRequest(email=f"u{i}@example.com").create().assign_tag("VIP"))
        for i in range(50)
    }
    assert len(bodies) == 50
    for i in range(50):
        call = LeadRequest(email=f"u{i}@example.com").create().assign_tag("VIP")
        assert encode(call, CREDENTIALS) in bodies


def test_the_cache_is_bounded_and_unhashable_chains_still_encode() -> None:
    encoder = Encoder(CREDENTIALS)
    for i in range(ACTION_CACHE_SIZE + 50):
        call = AccountCall().search_transaction(i + 1)
        assert encoder.encode(call) == encode(call, CREDENTIALS)
    assert len(encoder._actions) == ACTION_CACHE_SIZE
    custom = LeadRequest(email="a@b.co").search().then("future_cmd", colour="blue")
    assert encoder.encode(custom) == encode(custom, CREDENTIALS)
    assert encoder.encode(GetLead(id=3)) == encode(GetLead(id=3), CREDENTIALS)


def test_the_encoder_and_its_bodies_hide_the_credentials() -> None:
    encoder = Encoder(Credentials("app", "canary-secret", "canary-secret"))
    body = encoder.encode(GetLead(email="a@b.co"))
    assert b"canary-secret" in body
    assert "canary-secret" not in repr(encoder)
    assert "canary-secret" not in repr(body)
