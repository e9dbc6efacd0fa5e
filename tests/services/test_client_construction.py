"""``credentials=``, ``for_sandbox`` and typed ``from_env``: the ways a client is built."""

from __future__ import annotations

import pytest

from kartra_async import (
    Credentials,
    KartraClient,
    LeadRequest,
    NoPacer,
    RetryPolicy,
    UsageError,
    ValidationError,
)
from kartra_async.sandbox import Sandbox

#: Values that must never show up in an error message.
CANARIES = ("canary-app-51c2", "canary-key-9d04", "canary-pass-e7a1")


async def test_credentials_object_and_for_sandbox_reach_the_sandbox() -> None:
    async with Sandbox(rate_limit=None) as sb:
        keys = sb.credentials
        credentials = Credentials(keys.app_id, keys.api_key, keys.api_password)
        async with KartraClient(credentials=credentials, base_url=sb.url) as by_object:
            tags = await by_object.retrieve_account_tags()
        async with KartraClient.for_sandbox(sb, retry=RetryPolicy.none()) as shortcut:
            assert shortcut.retry_policy == RetryPolicy.none()
            reply = await shortcut.send(LeadRequest(email="fs@example.com").upsert("edit-first"))
    assert tags and reply.lead_id is not None


def test_credentials_and_strings_together_are_refused_without_echoing_them() -> None:
    credentials = Credentials(*CANARIES)
    with pytest.raises(UsageError, match="not both") as caught:
        KartraClient(credentials=credentials, api_key=CANARIES[1])
    assert not any(canary in str(caught.value) for canary in CANARIES)
    with pytest.raises(UsageError, match="credentials: must be a Credentials, not tuple"):
        KartraClient(credentials=CANARIES)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="api_password"):
        KartraClient(app_id="a", api_key="k")


async def test_from_env_reads_the_variables_and_options_override_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Sandbox(rate_limit=None) as sb:
        for name, value in sb.credentials.as_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("KARTRA_BASE_URL", sb.url)
        async with KartraClient.from_env(pacer=NoPacer()) as client:
            tags = await client.retrieve_account_tags()
        wrong = KartraClient.from_env(base_url="http://127.0.0.1:9/api")
        assert "127.0.0.1:9" in repr(wrong)
        await wrong.aclose()
    monkeypatch.delenv("KARTRA_API_KEY")
    with pytest.raises(UsageError, match="KARTRA_API_KEY"):
        KartraClient.from_env()
    assert tags


def test_an_unknown_upsert_strategy_still_fails_at_run_time() -> None:
    with pytest.raises(ValidationError, match="strategy"):
        LeadRequest(email="a@b.co").upsert("create_first")  # type: ignore[arg-type]
