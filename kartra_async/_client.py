"""``KartraClient``: the object services await. encode → pace → post → decode, and its lifecycle.

The client holds the credentials (never shown in its repr), one transport (a pooled aiohttp
session by default) and one pacer shared by every call it sends. Retries, reconciliation and
bulk fan-out build on ``_send_once`` in ``_sending`` and ``_bulk``.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import AsyncIterable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypedDict, Unpack
from urllib.parse import urlsplit

import aiohttp

from ._builder import AccountCall, Call, GetLead, lead_email
from ._bulk import OutcomeStream, Recover
from ._errors import APIError, KartraError, RateLimited, UsageError
from ._hooks import EventHooks, Hooks, PacerPause, ReplyDecoded, RequestSent, call_cmds
from ._model import Credentials
from ._outcome import Outcome
from ._pacing import LocalPacer, Pacer
from ._protocol import Encoder, decode
from ._replies import Reply
from ._retry import RetryPolicy
from ._sending import Sender
from ._tracing import Tracer, active_tracer, attempt_span
from ._transport import DEFAULT_BASE_URL, AiohttpTransport, Timeouts, Transport

if TYPE_CHECKING:
    from .records import CustomFieldDefinition, LeadProfile

ENV_APP_ID = "KARTRA_APP_ID"
ENV_API_KEY = "KARTRA_API_KEY"
ENV_API_PASSWORD = "KARTRA_API_PASSWORD"
ENV_BASE_URL = "KARTRA_BASE_URL"

logger = logging.getLogger("kartra_async")


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of ``KartraClient`` besides the credentials (for ``from_env``)."""

    base_url: str
    timeout: float | Timeouts | None
    session: aiohttp.ClientSession | None
    transport: Transport | None
    pacer: Pacer | None
    retry: RetryPolicy | None
    ssl_context: ssl.SSLContext | None
    event_hooks: EventHooks | None
    log_emails: bool


class SandboxLike(Protocol):
    """What ``KartraClient.for_sandbox`` needs: an endpoint and the three secrets it accepts."""

    @property
    def url(self) -> str:
        """The endpoint, e.g. ``http://127.0.0.1:54321/api``."""
        ...

    @property
    def credentials(self) -> CredentialsLike:
        """The credentials the endpoint accepts."""
        ...


class CredentialsLike(Protocol):
    """Anything holding ``app_id``, ``api_key`` and ``api_password`` as strings."""

    @property
    def app_id(self) -> str:
        """The App's id."""
        ...

    @property
    def api_key(self) -> str:
        """The API key."""
        ...

    @property
    def api_password(self) -> str:
        """The API password."""
        ...


class KartraClient:
    """An async client for Kartra's inbound API.

    ::

        async with KartraClient(app_id=..., api_key=..., api_password=...) as client:
            reply = await client.send(LeadRequest(email="a@b.co").create().assign_tag("VIP"))

    The secrets come as the three strings or as ``credentials=Credentials(...)``.

    ``timeout`` is a number of seconds for the whole call or a ``Timeouts``. ``session`` lends
    an ``aiohttp.ClientSession`` (the client will not close it); ``transport`` replaces HTTP
    entirely (tests, in-process benchmarks). ``pacer`` spaces every call under Kartra's
    20 calls/s per App; the default ``LocalPacer`` is right for one process, share a
    ``RedisPacer`` between processes. ``retry`` is the retry policy (``RetryPolicy()`` by
    default; ``RetryPolicy.none()`` sends each call once). ``event_hooks`` maps event names
    (``request_sent``, ``reply_decoded``, ``retry``, ``reconcile``, ``pacer_pause``) to lists of
    callables, sync or async, like httpx's; ``log_emails=True`` lets emails into events and the
    DEBUG log line each call writes (lead ids only by default).
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        api_password: str | None = None,
        credentials: Credentials | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | Timeouts | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        event_hooks: EventHooks | None = None,
        log_emails: bool = False,
    ) -> None:
        if credentials is None:
            # Wrapped first: from here on no frame holds the three strings by themselves.
            credentials = Credentials(app_id, api_key, api_password)  # type: ignore[arg-type]
            app_id = api_key = api_password = None
        elif app_id is not None or api_key is not None or api_password is not None:
            app_id = api_key = api_password = None
            raise UsageError("pass either credentials= or app_id/api_key/api_password, not both")
        elif not isinstance(credentials, Credentials):
            raise UsageError(
                f"credentials: must be a Credentials, not {type(credentials).__name__}"
            )
        # The encoder is the only holder of the credentials (its repr hides them).
        self._encoder = Encoder(credentials)
        del credentials
        self._hooks = Hooks(event_hooks, log_emails=log_emails)
        timeouts = _timeouts(timeout)
        if transport is not None and (session is not None or ssl_context is not None):
            raise UsageError("pass either transport or session/ssl_context, not both")
        self._transport: Transport = transport or AiohttpTransport(
            base_url, timeouts=timeouts, session=session, ssl_context=ssl_context
        )
        self._base_url = base_url if transport is None else getattr(transport, "url", base_url)
        if pacer is None:
            pacer = LocalPacer()
        self._pacer: Pacer = pacer
        if retry is None:
            retry = RetryPolicy()
        self._retry = retry
        self._host = urlsplit(self._base_url).hostname
        self._closed = False
        self._sender = Sender(self)

    @classmethod
    def from_env(cls, **options: Unpack[ClientOptions]) -> KartraClient:
        """Build a client from ``KARTRA_APP_ID``, ``KARTRA_API_KEY``, ``KARTRA_API_PASSWORD``
        (and optional ``KARTRA_BASE_URL``); the other keyword arguments are ``KartraClient``'s
        (``ClientOptions``)."""
        credentials, base_url = _settings_from_env()
        options.setdefault("base_url", base_url)
        return cls(credentials=credentials, **options)

    @classmethod
    def for_sandbox(cls, sandbox: SandboxLike, **options: Unpack[ClientOptions]) -> KartraClient:
        """A client pointed at a started ``kartra_async.sandbox.Sandbox`` with its credentials.

        ::

            async with Sandbox() as sb, KartraClient.for_sandbox(sb) as client:
                ...
        """
        options.setdefault("base_url", sandbox.url)
        held = sandbox.credentials
        credentials = Credentials(held.app_id, held.api_key, held.api_password)
        return cls(credentials=credentials, **options)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<KartraClient {self._base_url} {state}>"

    @property
    def pacer(self) -> Pacer:
        """The pacer every call of this client passes."""
        return self._pacer

    @property
    def hooks(self) -> Hooks:
        """The client's event hooks (``emit`` delivers an event to them)."""
        return self._hooks

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy used by ``send`` and ``stream``."""
        return self._retry

    @property
    def closed(self) -> bool:
        """True once ``aclose`` ran; every further call raises ``UsageError``."""
        return self._closed

    async def __aenter__(self) -> KartraClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport (and the pacer); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._transport.aclose()
        finally:
            await self._pacer.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("this KartraClient is closed; create a new one")

    async def send_once(self, call: Call) -> Reply:
        """Send ``call`` exactly once: pace, post, decode. No retry, no reconciliation.

        A 429 is reported to the pacer (which pauses every caller) and raised as ``RateLimited``.
        """
        return await self._send_attempt(call, 1)

    async def _send_attempt(self, call: Call, attempt: int) -> Reply:
        # ``send_once`` with the attempt number the retry loop knows, for hooks, logs and spans.
        self._check_open()
        body = self._encoder.encode(call)
        await self._pacer.acquire()
        self._check_open()
        tracer = active_tracer()
        if tracer is not None or self._hooks.active or logger.isEnabledFor(logging.DEBUG):
            return await self._observed_attempt(call, attempt, body, tracer)
        # Nobody watches: no event, span or log line is built (the common, hot path).
        response = await self._transport.post(body)
        try:
            return decode(response.status, response.body, call)
        except RateLimited:
            await self._report_rate_limited(call, attempt)
            raise

    async def _observed_attempt(
        self, call: Call, attempt: int, body: bytes, tracer: Tracer | None
    ) -> Reply:
        hooks = self._hooks
        cmd = call_cmds(call)
        email = hooks.email(lead_email(call))
        if hooks.wants("request_sent"):
            call_lead_id = call.id if isinstance(call, GetLead) else None
            await hooks.emit(RequestSent(cmd, attempt, lead_id=call_lead_id, email=email))
        started = time.monotonic()
        if tracer is None:
            status, reply, failure = await self._post(body, call)
        else:
            with attempt_span(tracer, cmd, attempt, self._host) as span:
                status, reply, failure = await self._post(body, call)
                span.finish(status, _kartra_type(reply, failure), _lead_id(reply, call), failure)
        elapsed = time.monotonic() - started
        kartra_type = _kartra_type(reply, failure)
        lead_id = _lead_id(reply, call)
        error = type(failure).__name__ if failure is not None else None
        if logger.isEnabledFor(logging.DEBUG):
            _log_attempt(cmd, attempt, status, kartra_type, elapsed, lead_id, error, email)
        if hooks.wants("reply_decoded"):
            await hooks.emit(
                ReplyDecoded(cmd, attempt, status, kartra_type, elapsed, lead_id, error, email)
            )
        if isinstance(failure, RateLimited):
            await self._report_rate_limited(call, attempt)
        if failure is not None:
            raise failure
        assert reply is not None
        return reply

    async def _post(
        self, body: bytes, call: Call
    ) -> tuple[int | None, Reply | None, KartraError | None]:
        """Post and decode: the HTTP status, and the reply or the error (returned, not raised)."""
        try:
            response = await self._transport.post(body)
        except KartraError as exc:
            return None, None, exc
        try:
            return response.status, decode(response.status, response.body, call), None
        except KartraError as exc:
            return response.status, None, exc

    async def _report_rate_limited(self, call: Call, attempt: int) -> None:
        before = self._pacer.snapshot()
        await self._pacer.on_rate_limited()
        if self._hooks.wants("pacer_pause"):
            after = self._pacer.snapshot()
            if after.pauses > before.pauses:
                event = PacerPause(
                    call_cmds(call),
                    attempt,
                    before.rate,
                    after.rate,
                    after.rate_limited,
                    after.pauses,
                )
                await self._hooks.emit(event)

    async def send(self, call: Call) -> Reply:
        """Send one call, retrying and reconciling by the retry policy; return its ``Reply``.

        Raises the ``APIError`` subclass for Kartra's error code (carrying the whole reply),
        ``OutcomeUnknown`` when a never-replay write lost its reply, or ``TransportError``.
        """
        self._check_open()
        return await self._sender.send(call)

    async def recover(self, call: Call) -> Reply:
        """Settle a call that may already have been sent by a run that died mid-call.

        For resuming interrupted jobs: creates are looked up and resent only if absent,
        set-state actions re-applied, never-replay actions (points, money) left out and
        reported in ``OutcomeUnknown``, so nothing is applied twice.
        """
        self._check_open()
        return await self._sender.recover(call)

    def stream(
        self,
        calls: Iterable[Call | Recover] | AsyncIterable[Call | Recover],
        *,
        concurrency: int = 8,
        ordered: bool = False,
        buffer: int | None = None,
    ) -> OutcomeStream:
        """Send many calls on a fixed pool of workers; an async context manager of outcomes.

        ::

            async with client.stream(calls, concurrency=8) as outcomes:
                async for outcome in outcomes:
                    ...

        ``calls`` may be any iterable or async iterable (a generator over a huge file works:
        memory does not grow with its length). ``ordered=True`` yields in input order.
        """
        self._check_open()
        return OutcomeStream(self, calls, concurrency=concurrency, ordered=ordered, buffer=buffer)

    async def send_many(
        self, calls: Iterable[Call] | AsyncIterable[Call], *, concurrency: int = 8
    ) -> list[Outcome]:
        """Send a small batch and return every outcome, in input order."""
        async with self.stream(calls, concurrency=concurrency, ordered=True) as outcomes:
            return [outcome async for outcome in outcomes]

    # --- shortcuts ------------------------------------------------------------------------

    async def get_lead(self, *, email: str | None = None, id: int | None = None) -> LeadProfile:
        """A lead's full profile, by id (wins) or email. Raises ``LeadNotFound`` if absent."""
        return (await self.send(GetLead(email=email, id=id))).lead

    async def retrieve_account_tags(self) -> tuple[str, ...]:
        """The account's tag names."""
        return (await self.send(AccountCall().retrieve_account_tags())).account_tags

    async def retrieve_account_lists(self) -> tuple[str, ...]:
        """The account's list names."""
        return (await self.send(AccountCall().retrieve_account_lists())).account_lists

    async def retrieve_account_sequences(self) -> tuple[str, ...]:
        """The account's sequence names."""
        return (await self.send(AccountCall().retrieve_account_sequences())).account_sequences

    async def retrieve_account_pages(self) -> tuple[str, ...]:
        """The account's page names."""
        return (await self.send(AccountCall().retrieve_account_pages())).account_pages

    async def retrieve_custom_fields(self) -> tuple[CustomFieldDefinition, ...]:
        """The account's custom field definitions."""
        return (await self.send(AccountCall().retrieve_custom_fields())).custom_fields


def _settings_from_env() -> tuple[Credentials, str]:
    """The credentials and endpoint ``from_env`` reads (``KARTRA_*`` variables)."""
    missing = [
        name for name in (ENV_APP_ID, ENV_API_KEY, ENV_API_PASSWORD) if not os.environ.get(name)
    ]
    if missing:
        raise UsageError(f"set the environment variable(s) {', '.join(missing)}")
    credentials = Credentials(
        os.environ[ENV_APP_ID], os.environ[ENV_API_KEY], os.environ[ENV_API_PASSWORD]
    )
    return credentials, os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL


def _kartra_type(reply: Reply | None, error: KartraError | None) -> int | None:
    if reply is not None:
        return reply.type
    return error.type if isinstance(error, APIError) else None


def _lead_id(reply: Reply | None, call: Call) -> int | None:
    lead_id = reply.lead_id if reply is not None else None
    if lead_id is None and isinstance(call, GetLead):
        lead_id = call.id
    return lead_id


def _log_attempt(
    cmd: str,
    attempt: int,
    status: int | None,
    kartra_type: int | None,
    elapsed: float,
    lead_id: int | None,
    error: str | None,
    email: str | None,
) -> None:
    extra: dict[str, object] = {
        "kartra_cmd": cmd,
        "kartra_attempt": attempt,
        "kartra_status": status,
        "kartra_type": kartra_type,
        "kartra_elapsed": round(elapsed, 6),
        "kartra_lead_id": lead_id,
        "kartra_error": error,
    }
    if email is not None:
        extra["kartra_email"] = email
    logger.debug(
        "kartra %s attempt %d: %s in %.3f s%s",
        cmd,
        attempt,
        f"HTTP {status}" if status is not None else "no reply",
        elapsed,
        f" ({error})" if error else "",
        extra=extra,
    )


def _timeouts(timeout: float | Timeouts | None) -> Timeouts | None:
    if timeout is None or isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise UsageError("timeout: must be a positive number of seconds or a Timeouts")
    return Timeouts(connect=min(10.0, float(timeout)), read=float(timeout), total=float(timeout))
