"""Event hooks, the DEBUG line per call, pacer figures and OpenTelemetry spans, on the sandbox."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kartra_async import (
    EventHook,
    GetLead,
    HookEvent,
    KartraClient,
    LeadNotFound,
    LeadRequest,
    LocalPacer,
    NoPacer,
    PacerPause,
    RateLimited,
    Reconcile,
    ReplyDecoded,
    RequestSent,
    Retry,
    RetryPolicy,
    UsageError,
)
from kartra_async._tracing import SPAN_ATTRIBUTES, active_tracer
from kartra_async.sandbox import FaultKind, Sandbox

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.005)


def recorder() -> tuple[list[HookEvent], dict[str, list[EventHook]]]:
    """A list the hooks append to, and hooks for every event (sync and async mixed)."""
    seen: list[HookEvent] = []

    def sync_hook(event: HookEvent) -> None:
        seen.append(event)

    async def async_hook(event: HookEvent) -> None:
        seen.append(event)

    hooks: dict[str, list[EventHook]] = {
        "request_sent": [sync_hook],
        "reply_decoded": [async_hook],
        "retry": [sync_hook],
        "reconcile": [async_hook],
        "pacer_pause": [sync_hook],
    }
    return seen, hooks


async def test_a_call_reports_request_sent_then_reply_decoded_without_email() -> None:
    seen, hooks = recorder()
    async with Sandbox(rate_limit=None) as sb:
        client = KartraClient.for_sandbox(sb, pacer=NoPacer(), event_hooks=hooks)
        async with client:
            reply = await client.send(LeadRequest(email="hook@example.com").create())
    assert [type(event) for event in seen] == [RequestSent, ReplyDecoded]
    sent, decoded = seen
    assert isinstance(sent, RequestSent) and isinstance(decoded, ReplyDecoded)
    assert (sent.cmd, sent.attempt, sent.email) == ("create_lead", 1, None)
    assert decoded.ok and decoded.status == 200 and decoded.error is None
    assert decoded.lead_id == reply.lead_id is not None
    assert decoded.elapsed > 0 and decoded.email is None
    assert "hook@example.com" not in repr(seen)


async def test_log_emails_lets_the_email_into_events() -> None:
    seen, hooks = recorder()
    async with (
        Sandbox(rate_limit=None) as sb,
        KartraClient.for_sandbox(
            sb,
            pacer=NoPacer(),
            event_hooks=hooks,
            log_emails=True,
        ) as client,
    ):
        await client.send(LeadRequest(email="shown@example.com").create())
    assert {event.email for event in seen if isinstance(event, (RequestSent, ReplyDecoded))} == {
        "shown@example.com"
    }


async def test_an_error_reply_carries_kartra_type_and_error_class() -> None:
    seen, hooks = recorder()
    async with Sandbox(rate_limit=None) as sb:
        client = KartraClient.for_sandbox(sb, pacer=NoPacer(), event_hooks=hooks)
        async with client:
            with pytest.raises(LeadNotFound):
                await client.send(GetLead(email="nobody@example.com"))
    decoded = [event for event in seen if isinstance(event, ReplyDecoded)]
    assert len(decoded) == 1
    assert decoded[0].status == 200 and decoded[0].error == "LeadNotFound"
    assert decoded[0].kartra_type is not None and not decoded[0].ok


async def test_a_retry_is_announced_and_the_next_attempt_numbered() -> None:
    seen, hooks = recorder()
    async with Sandbox(rate_limit=None) as sb:
        sb.faults.force(FaultKind.HTTP_503, count=1)
        async with KartraClient.for_sandbox(
            sb,
            pacer=NoPacer(),
            retry=FAST_RETRY,
            event_hooks=hooks,
        ) as client:
            await client.retrieve_account_tags()
    kinds = [type(event).__name__ for event in seen]
    assert kinds == ["RequestSent", "ReplyDecoded", "Retry", "RequestSent", "ReplyDecoded"]
    failed, retry, second = seen[1], seen[2], seen[4]
    assert isinstance(failed, ReplyDecoded) and failed.status == 503
    assert failed.error == "ServerError"
    assert isinstance(retry, Retry) and retry.attempt == 1 and retry.error == "ServerError"
    assert retry.delay >= 0 and retry.reason
    assert isinstance(second, ReplyDecoded) and second.attempt == 2 and second.ok


async def test_a_lost_create_is_reconciled_and_announced() -> None:
    seen, hooks = recorder()
    async with Sandbox(rate_limit=None) as sb:
        sb.faults.force(FaultKind.RESET_AFTER, count=1, cmds="create_lead")
        async with KartraClient.for_sandbox(
            sb,
            pacer=NoPacer(),
            retry=FAST_RETRY,
            event_hooks=hooks,
        ) as client:
            reply = await client.send(LeadRequest(email="lost@example.com").create())
    reconciles = [event for event in seen if isinstance(event, Reconcile)]
    assert len(reconciles) == 1
    assert reconciles[0].cmd == "create_lead" and reconciles[0].round == 1
    assert reconciles[0].error == "NetworkError"
    lookups = [e for e in seen if isinstance(e, RequestSent) and e.cmd == "get_lead"]
    assert len(lookups) == 1
    assert reply.lead_id is not None


class FakeTime:
    """A clock that sleeping advances, so a pacer's pause costs no real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_429_pauses_the_pacer_and_the_figures_show_it() -> None:
    seen, hooks = recorder()
    fake = FakeTime()
    pacer = LocalPacer(clock=fake.clock, sleep=fake.sleep)
    async with Sandbox(rate_limit=None) as sb:
        sb.faults.force(FaultKind.RATE_LIMITED, count=1)
        async with KartraClient.for_sandbox(
            sb,
            pacer=pacer,
            retry=RetryPolicy.none(),
            event_hooks=hooks,
        ) as client:
            with pytest.raises(RateLimited):
                await client.retrieve_account_tags()
            await client.retrieve_account_tags()
            stats = client.pacer.snapshot()
    pauses = [event for event in seen if isinstance(event, PacerPause)]
    assert len(pauses) == 1
    assert pauses[0].rate_after < pauses[0].rate_before
    assert (pauses[0].rate_limited, pauses[0].pauses) == (1, 1)
    assert (stats.rate_limited, stats.pauses, stats.granted) == (1, 1, 2)
    assert stats.rate == pauses[0].rate_after


async def test_a_failing_hook_is_logged_and_never_fails_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: HookEvent) -> None:
        raise RuntimeError("hook bug")

    async with (
        Sandbox(rate_limit=None) as sb,
        KartraClient.for_sandbox(
            sb, pacer=NoPacer(), event_hooks={"reply_decoded": [broken]}
        ) as client,
    ):
        with caplog.at_level(logging.ERROR, logger="kartra_async"):
            tags = await client.retrieve_account_tags()
    assert tags
    assert any("event hook failed" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"request": []}, "unknown event 'request'"),
        ({"retry": "f"}, r"event_hooks\['retry'\]: must be a list"),
        ({"retry": [42]}, "is not callable"),
        ([("retry", [])], "must be a mapping"),
    ],
)
def test_bad_event_hooks_are_refused_before_any_call(hooks: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        KartraClient(app_id="a", api_key="k", api_password="p", event_hooks=hooks)


async def test_one_debug_line_per_call_with_structured_fields_and_no_email(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Sandbox(rate_limit=None) as sb:
        client = KartraClient.for_sandbox(sb, pacer=NoPacer())
        async with client:
            with caplog.at_level(logging.DEBUG, logger="kartra_async"):
                reply = await client.send(LeadRequest(email="quiet@example.com").create())
    lines = [r for r in caplog.records if getattr(r, "kartra_cmd", None) is not None]
    assert len(lines) == 1
    line = lines[0]
    assert line.levelno == logging.DEBUG
    assert (line.kartra_cmd, line.kartra_attempt, line.kartra_status) == ("create_lead", 1, 200)  # type: ignore[attr-defined]
    assert line.kartra_lead_id == reply.lead_id  # type: ignore[attr-defined]
    assert line.kartra_error is None and line.kartra_elapsed > 0  # type: ignore[attr-defined]
    assert not hasattr(line, "kartra_email")
    assert all("quiet@example.com" not in r.getMessage() for r in caplog.records)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """An SDK provider with an in-memory exporter, as the application's for this test only.

    ``trace.set_tracer_provider`` can run once per process and would leave tracing on for
    every later test; the provider lookup is swapped for the test's duration instead.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    yield exporter
    provider.shutdown()


async def test_no_span_work_without_a_configured_sdk() -> None:
    # Only the API is "installed" as far as the client can tell: every span would be a no-op.
    assert active_tracer() is None


async def test_each_attempt_is_a_client_span(spans: InMemorySpanExporter) -> None:
    async with Sandbox(rate_limit=None) as sb:
        sb.faults.force(FaultKind.HTTP_503, count=1)
        async with KartraClient.for_sandbox(sb, pacer=NoPacer(), retry=FAST_RETRY) as client:
            reply = await client.send(LeadRequest(email="span@example.com").create())
    finished = spans.get_finished_spans()
    # The 503 left the create in doubt: it was reconciled (looked up, then sent again).
    names = [span.name for span in finished]
    assert names == ["kartra create_lead", "kartra get_lead", "kartra create_lead"]
    first, lookup, second = finished
    assert lookup.attributes is not None and lookup.attributes["error.type"] == "LeadNotFound"
    assert first.kind is trace.SpanKind.CLIENT
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["kartra.attempt"] == 1
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "ServerError"
    assert first.status.status_code is trace.StatusCode.ERROR
    assert second.attributes["kartra.attempt"] == 1
    assert second.status.status_code is trace.StatusCode.UNSET
    assert second.attributes["kartra.lead_id"] == reply.lead_id
    assert second.attributes["server.address"] == "127.0.0.1"
    for span in finished:
        assert set(span.attributes or {}) <= set(SPAN_ATTRIBUTES)
        assert "span@example.com" not in repr(dict(span.attributes or {}))
