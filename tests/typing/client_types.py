"""Typing-only checks of the client's constructors (see ``builder_types`` for the convention).

Lines marked ``# type: ignore[...]`` MUST be type errors under ``mypy --strict``.
"""

from __future__ import annotations

from typing import assert_type

from kartra_async import Credentials, KartraClient, LeadRequest, UpsertCall
from kartra_async.sandbox import Sandbox
from kartra_async.sync import KartraClient as SyncKartraClient


def valid(sb: Sandbox) -> None:
    """Everything here must type-check."""
    assert_type(KartraClient(credentials=Credentials("a", "k", "p")), KartraClient)
    assert_type(KartraClient.for_sandbox(sb, timeout=3), KartraClient)
    assert_type(KartraClient.from_env(base_url="https://x.test/api"), KartraClient)
    assert_type(SyncKartraClient.for_sandbox(sb), SyncKartraClient)
    assert_type(LeadRequest(email="a@b.co").upsert("create-first"), UpsertCall)


def invalid() -> None:
    """Every line here must be a type error."""
    KartraClient.from_env(timout=5)  # type: ignore[call-arg]
    KartraClient.from_env(timeout="5")  # type: ignore[arg-type]
    SyncKartraClient.from_env(retries=3)  # type: ignore[call-arg]
    LeadRequest(email="a@b.co").upsert("create_first")  # type: ignore[arg-type]
    KartraClient(credentials=("a", "k", "p"))  # type: ignore[arg-type]
