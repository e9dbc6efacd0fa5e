"""The blocking client: same methods and errors, shared by threads, its own loop and thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from kartra_async import (
    Credentials,
    GetLead,
    HookEvent,
    LeadNotFound,
    LeadRequest,
    NoPacer,
    UsageError,
    ValidationError,
)
from kartra_async.sandbox import Sandbox
from kartra_async.sync import KartraClient

from .support import threaded_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with threaded_sandbox(rate_limit=None) as sb:
        yield sb


def test_the_same_methods_without_await(sandbox: Sandbox) -> None:
    with KartraClient.for_sandbox(sandbox, pacer=NoPacer()) as client:
        created = client.send(LeadRequest(email="sync@example.com").create().assign_tag("VIP"))
        once = client.send_once(GetLead(email="sync@example.com"))
        lead = client.get_lead(email="sync@example.com")
        tags = client.retrieve_account_tags()
        lists = client.retrieve_account_lists()
        fields = client.retrieve_custom_fields()
    assert created.lead_id is not None and once.lead.id == created.lead_id == lead.id
    assert "VIP" in tags and [tag.name for tag in lead.tags] == ["VIP"]
    assert lists == tuple(sandbox.account.lists)
    assert len(fields) == len(sandbox.account.custom_fields)


def test_the_same_errors_as_the_async_client(sandbox: Sandbox) -> None:
    with KartraClient.for_sandbox(sandbox, pacer=NoPacer()) as client:
        with pytest.raises(LeadNotFound) as caught:
            client.get_lead(email="absent@example.com")
        with pytest.raises(UsageError, match="cannot send a str"):
            client.send("create_lead")  # type: ignore[arg-type]
    assert caught.value.email == "absent@example.com"


def test_stream_is_a_plain_iterator_and_send_many_keeps_order(sandbox: Sandbox) -> None:
    emails = [f"s{i}@example.com" for i in range(12)]
    with KartraClient.for_sandbox(sandbox, pacer=NoPacer()) as client:
        outcomes = list(
            client.stream((LeadRequest(email=e).create() for e in emails), concurrency=4)
        )
        again = client.send_many([GetLead(email=e) for e in emails], concurrency=3)
        first_two = []
        with client.stream([GetLead(email=e) for e in emails], concurrency=2) as stream:
            for outcome in stream:
                first_two.append(outcome)
                if len(first_two) == 2:
                    break
        after_break = client.get_lead(email=emails[0])
    assert all(outcome.ok for outcome in outcomes) and len(outcomes) == 12
    assert [o.reply.lead.email for o in again if o.reply is not None] == emails
    assert len(first_two) == 2 and after_break.email == emails[0]


def test_one_client_shared_by_eight_threads(sandbox: Sandbox) -> None:
    with KartraClient.for_sandbox(sandbox, pacer=NoPacer()) as client:

        def work(worker: int) -> list[int | None]:
            return [
                client.send(LeadRequest(email=f"t{worker}-{i}@example.com").create()).lead_id
                for i in range(5)
            ]

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = [lead_id for batch in pool.map(work, range(8)) for lead_id in batch]
        granted = client.pacer.snapshot().granted
    assert len(set(ids)) == 40 and None not in ids
    assert granted == 40
    assert all(
        sandbox.account.lead_by_email(f"t{w}-{i}@example.com") is not None
        for w in range(8)
        for i in range(5)
    )


def test_works_from_inside_a_running_event_loop(sandbox: Sandbox) -> None:
    # The calling thread runs a loop of its own, and the sandbox's loop runs in another thread.
    async def main() -> int | None:
        with KartraClient.for_sandbox(sandbox, pacer=NoPacer()) as client:
            return client.send(LeadRequest(email="inloop@example.com").create()).lead_id

    lead_id = asyncio.run(main())
    assert lead_id is not None
    assert sandbox.account.lead_by_email("inloop@example.com") is not None


def test_close_is_idempotent_stops_the_thread_and_refuses_later_calls(sandbox: Sandbox) -> None:
    client = KartraClient.for_sandbox(sandbox, pacer=NoPacer())
    thread = client._thread
    assert thread.is_alive()
    client.close()
    client.close()
    assert client.closed and not thread.is_alive()
    with pytest.raises(UsageError, match="closed"):
        client.retrieve_account_tags()


def test_a_bad_argument_fails_at_once_and_leaves_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(ValidationError, match="app_id"):
        KartraClient(app_id="", api_key="k", api_password="p")
    with pytest.raises(UsageError, match="timeout"):
        KartraClient(credentials=Credentials("a", "k", "p"), timeout=-1)
    assert threading.active_count() == before


def test_a_hook_calling_the_client_back_is_refused_not_deadlocked(sandbox: Sandbox) -> None:
    refused: list[str] = []
    holder: list[KartraClient] = []

    def hook(event: HookEvent) -> None:
        try:
            holder[0].retrieve_account_tags()
        except UsageError as error:
            refused.append(str(error))

    client = KartraClient.for_sandbox(
        sandbox, pacer=NoPacer(), event_hooks={"reply_decoded": [hook]}
    )
    holder.append(client)
    with client:
        client.retrieve_account_lists()
    assert refused == ["the sync KartraClient cannot be called from its own event hooks"]


def test_from_env_reads_the_same_variables(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.credentials.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KARTRA_BASE_URL", sandbox.url)
    with KartraClient.from_env(pacer=NoPacer()) as client:
        assert client.retrieve_account_tags() == tuple(sandbox.account.tags)
    monkeypatch.delenv("KARTRA_APP_ID")
    with pytest.raises(UsageError, match="KARTRA_APP_ID"):
        KartraClient.from_env()


def test_closing_the_client_closes_a_stream_left_half_read(sandbox: Sandbox) -> None:
    client = KartraClient.for_sandbox(sandbox, pacer=NoPacer())
    stream = client.stream(
        (LeadRequest(email=f"half{i}@example.com").create() for i in range(50)), concurrency=2
    )
    first = next(stream)
    client.close()
    assert first.ok and client.closed and not client._thread.is_alive()
    assert list(stream) == []
