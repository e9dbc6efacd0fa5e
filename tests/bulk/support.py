"""Helpers for the bulk tests: a client wired to a sandbox, fast retries, task checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from kartra_async import KartraClient, LeadRequest, NoPacer, Pacer, RetryPolicy
from kartra_async._builder import LeadCall
from kartra_async.sandbox import RequestRecord, Sandbox

#: Retries with millisecond backoff: the tests check decisions, not how long they wait.
FAST_RETRY = RetryPolicy(base_delay=0.005, max_delay=0.02)


def client_for(
    sandbox: Sandbox, *, pacer: Pacer | None = None, retry: RetryPolicy = FAST_RETRY
) -> KartraClient:
    """A real ``KartraClient`` talking to ``sandbox`` over loopback (no pacing unless given)."""
    credentials = sandbox.credentials
    return KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        base_url=sandbox.url,
        pacer=pacer if pacer is not None else NoPacer(),
        retry=retry,
    )


def email(number: int, domain: str = "bulk.example") -> str:
    """The email of the ``number``-th test lead."""
    return f"lead{number:06d}@{domain}"


def signup(number: int) -> LeadCall:
    """The typical bulk call: create a lead, tag it, subscribe it to a list."""
    return (
        LeadRequest(email=email(number), first_name=f"N{number}")
        .create()
        .assign_tag("VIP")
        .subscribe("Newsletter")
    )


def signups(count: int) -> Iterator[LeadCall]:
    """``count`` signup calls, generated lazily."""
    return (signup(number) for number in range(count))


def records_for(sandbox: Sandbox, address: str) -> list[RequestRecord]:
    """Every logged call about the lead ``address``, oldest first."""
    return [record for record in sandbox.log if record.email.lower() == address.lower()]


async def settle_loop() -> None:
    """Let callbacks scheduled by closed transports run."""
    for _ in range(3):
        await asyncio.sleep(0)


def other_tasks() -> set[asyncio.Task[object]]:
    """Tasks of this loop other than the running one."""
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}
