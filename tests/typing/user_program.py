"""A user's program, written as the README teaches; ``mypy --strict`` must pass it unchanged.

Checked by ``mypy --strict kartra_async tests/typing`` (never run: pytest collects only
``test_*.py``). It uses only public names, no casts and no ``type: ignore``.
"""

from __future__ import annotations

import asyncio
import logging

from kartra_async import (
    Credentials,
    HookEvent,
    KartraClient,
    LeadNotFound,
    LeadRequest,
    LocalPacer,
    Outcome,
    PacerStats,
    ReplyDecoded,
    RetryPolicy,
    UpsertStrategy,
)
from kartra_async.events import KartraEvent, TagEvent, asgi_app
from kartra_async.sandbox import Sandbox
from kartra_async.sync import KartraClient as SyncKartraClient

log = logging.getLogger("my_service")


def on_reply(event: HookEvent) -> None:
    if isinstance(event, ReplyDecoded) and not event.ok:
        log.warning("kartra %s failed: %s", event.cmd, event.error)


async def on_reply_async(event: HookEvent) -> None:
    log.debug("event %r", event)


async def with_credentials(strategy: UpsertStrategy = "edit-first") -> int | None:
    credentials = Credentials("app", "key", "password")
    async with KartraClient(
        credentials=credentials,
        timeout=10,
        retry=RetryPolicy(max_attempts=3),
        event_hooks={"reply_decoded": [on_reply], "retry": [on_reply_async]},
    ) as client:
        reply = await client.send(LeadRequest(email="ann@example.com").upsert(strategy))
        stats: PacerStats = client.pacer.snapshot()
        log.info("rate now %.1f/s, %d pauses", stats.rate, stats.pauses)
        return reply.lead_id


async def from_the_environment() -> tuple[str, ...]:
    async with KartraClient.from_env(timeout=5.0, pacer=LocalPacer(rate=10), log_emails=False) as c:
        return await c.retrieve_account_tags()


async def against_the_sandbox() -> list[Outcome]:
    async with Sandbox() as sb, KartraClient.for_sandbox(sb) as client:
        try:
            await client.get_lead(email="nobody@example.com")
        except LeadNotFound as error:
            log.info("absent: %s", error.email)
        calls = [LeadRequest(email=f"u{i}@example.com").create() for i in range(3)]
        return await client.send_many(calls)


def blocking(app_id: str, api_key: str, api_password: str) -> list[int | None]:
    with SyncKartraClient(app_id=app_id, api_key=api_key, api_password=api_password) as client:
        ids = [outcome.reply.lead_id for outcome in client.stream([]) if outcome.reply]
        ids.append(client.get_lead(email="ann@example.com").id)
        return ids


def receiver() -> object:
    def on_event(event: KartraEvent) -> None:
        if isinstance(event, TagEvent):
            log.info("tag %s on lead %s", event.tag.name, event.lead.id)

    return asgi_app(on_event, ipn_secret="from-settings", max_body=64 * 1024)


if __name__ == "__main__":
    asyncio.run(against_the_sandbox())
