"""``KartraClient``: the object services await. encode → pace → post → decode, and its lifecycle.

The client holds the credentials (never shown in its repr), one transport (a pooled aiohttp
session by default) and one pacer shared by every call it sends. ``send_once`` is the only
path to the wire; retries, reconciliation and upserts are sans-I/O flows (``_settle``) run by
one small driver (``_driver``) over it, and ``stream`` runs them on a bounded pool (``_bulk``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import AsyncIterable, Callable, Hashable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack
from urllib.parse import urlsplit

import aiohttp
import attrs

from ._actions import CreateLead
from ._builder import (
    CALL_TYPES,
    AccountCall,
    Call,
    GetLead,
    LeadCall,
    UpsertCall,
    WireCall,
    lead_email,
)
from ._bulk import OutcomeStream, Recover, StreamInput, lead_identity
from ._driver import drive
from ._errors import APIError, KartraError, RateLimited, UsageError
from ._hooks import EventHooks, Hooks, PacerPause, ReplyDecoded, RequestSent, call_cmds
from ._model import Credentials, is_sandbox_credentials, test_mode_email
from ._outcome import Outcome
from ._pacing import LocalPacer, Pacer
from ._protocol import Encoder, decode
from ._replies import Reply
from ._retry import RetryPolicy
from ._schema import AccountSchema
from ._settle import Settler, Trace
from ._tracing import Tracer, active_tracer, attempt_span
from ._transport import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    AiohttpTransport,
    Timeouts,
    Transport,
    is_loopback,
)

if TYPE_CHECKING:
    from .records import CustomFieldDefinition, LeadProfile

ENV_APP_ID = "KARTRA_APP_ID"
ENV_API_KEY = "KARTRA_API_KEY"
ENV_API_PASSWORD = "KARTRA_API_PASSWORD"
ENV_BASE_URL = "KARTRA_BASE_URL"
#: Set to 1/true/yes/on when the App is in Test Mode (``KartraClient(test_mode=None)`` reads it).
ENV_TEST_MODE = "KARTRA_TEST_MODE"
_TRUE = frozenset({"1", "true", "yes", "on"})

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
    default; ``RetryPolicy.none()`` sends each call once).

    ``schema`` (an ``AccountSchema``, e.g. loaded from a saved file) makes every lead call be
    checked against it before it is sent: unknown custom fields, options, tags, lists and
    sequences raise ``ValidationError`` and nothing is sent. ``check_schema=True`` does the same
    with the account's own schema, loaded (four inventory calls) before the first lead call.

    Credentials a sandbox generated (``sandbox-...``) are refused with ``UsageError`` unless the
    endpoint is a loopback address: they must never reach the real Kartra.
    ``test_mode``: the App is in Kartra's Test Mode, which stores every lead it creates under
    ``@kartra.com`` (``jo@gmail.com`` becomes ``jo@kartra.com``). Every lookup by email (edits,
    searches, ``get_lead``, chains without an opener, and the client's own reconciliation and
    upsert lookups) then uses the stored address, so code written for live mode works unchanged.
    None (the default) reads ``KARTRA_TEST_MODE``.
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
        schema: AccountSchema | None = None,
        check_schema: bool = False,
        test_mode: bool | None = None,
        event_hooks: EventHooks | None = None,
        log_emails: bool = False,
    ) -> None:
        # Wrapped first and the raw parameters dropped before anything can raise: no frame of a
        # configuration error's traceback holds a credential (rendered with locals it shows
        # only the wrapper's hidden repr). The encoder is then their only holder.
        if credentials is None:
            credentials = Credentials.unchecked(app_id, api_key, api_password)  # type: ignore[arg-type]
            del app_id, api_key, api_password
            credentials.validate()
        elif app_id is not None or api_key is not None or api_password is not None:
            del app_id, api_key, api_password
            raise UsageError("pass either credentials= or app_id/api_key/api_password, not both")
        elif not isinstance(credentials, Credentials):
            raise UsageError(
                f"credentials: must be a Credentials, not {type(credentials).__name__}"
            )
        self._encoder = Encoder(credentials)
        self._hooks = Hooks(event_hooks, log_emails=log_emails)
        timeouts = _timeouts(timeout)
        if transport is not None and (session is not None or ssl_context is not None):
            raise UsageError("pass either transport or session/ssl_context, not both")
        self._transport: Transport = transport or AiohttpTransport(
            base_url, timeouts=timeouts, session=session, ssl_context=ssl_context
        )
        self._base_url = base_url if transport is None else getattr(transport, "url", base_url)
        _refuse_sandbox_credentials_off_loopback(credentials, self._base_url)
        if schema is not None and not isinstance(schema, AccountSchema):
            raise UsageError(f"schema: must be an AccountSchema, not {type(schema).__name__}")
        self._schema = schema
        self._check_schema = check_schema or schema is not None
        self._schema_lock: asyncio.Lock | None = None
        self._custom_field_schema: AccountSchema | None = None
        self._account_schema: AccountSchema | None = schema
        if pacer is None:
            pacer = LocalPacer()
        self._pacer: Pacer = pacer
        if retry is None:
            retry = RetryPolicy()
        self._retry = retry
        self._host = urlsplit(self._base_url).hostname
        self._closed = False
        self._test_mode = _env_test_mode() if test_mode is None else bool(test_mode)
        self._settler = Settler(retry, stored_email=self._lookup_email)

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
        # getattr: a client whose __init__ raised is still shown (traceback rendering calls this).
        state = "closed" if getattr(self, "_closed", True) else "open"
        return f"<KartraClient {getattr(self, '_base_url', '(not configured)')} {state}>"

    @property
    def pacer(self) -> Pacer:
        """The pacer every call of this client passes."""
        return self._pacer

    @property
    def test_mode(self) -> bool:
        """Whether lookups by email use the address Kartra's Test Mode stores."""
        return self._test_mode

    def _lookup_email(self, email: str) -> str:
        """The address to look a lead up by: the Test Mode one when the App is in Test Mode."""
        return test_mode_email(email) if self._test_mode else email

    def _wire_call(self, call: WireCall) -> WireCall:
        """``call`` as sent: in Test Mode, a lookup by email names the stored address.

        A create keeps the address as given (Kartra rewrites it itself), so the same call
        works in live mode and nothing but a lookup depends on the setting.
        """
        if not self._test_mode:
            return call
        if isinstance(call, GetLead):
            if call.email is None:
                return call
            return attrs.evolve(call, email=self._lookup_email(call.email))
        if isinstance(call, LeadCall) and call.lead.email is not None:
            if isinstance(call.opener, CreateLead):
                return call
            lead = attrs.evolve(call.lead, email=self._lookup_email(call.lead.email))
            return attrs.evolve(call, lead=lead)
        return call

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

    async def send_once(self, call: WireCall) -> Reply:
        """Send ``call`` exactly once: pace, post, decode. No retry, no reconciliation.

        A 429 is reported to the pacer (which pauses every caller) and raised as ``RateLimited``.
        """
        self._check_open()
        if self._check_schema:
            await self._check_against_schema(call)
        return await self._send_attempt(call, 1)

    async def _send_attempt(self, call: WireCall, attempt: int) -> Reply:
        # The one path to the wire; the settling driver calls it for every attempt (its number
        # goes to hooks, logs and spans). In Test Mode a lookup by email names the stored
        # address.
        self._check_open()
        body = self._encoder.encode(self._wire_call(call))
        await self._pacer.acquire()
        self._check_open()
        tracer = active_tracer()
        if tracer is not None or self._hooks.active or logger.isEnabledFor(logging.DEBUG):
            return await self._observed_attempt(call, attempt, body, tracer)
        # Nobody watches: no event, span or log line is built (the common, hot path).
        response = await self._transport.post(body)
        try:
            return decode(response.status, response.body, call, url=self._base_url)
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
        Every error's ``failure`` says how far the call got.
        """
        self._check_open()
        return await self._settle(_checked(call), Trace())

    async def recover(self, call: Call, *, first_sent: datetime | None = None) -> Reply:
        """Settle a call that may already have been sent by a run that died mid-call.

        For resuming interrupted jobs: creates and upserts are looked up and sent whole only
        if absent, set-state actions re-applied, never-replay actions (points, money) left out
        and reported in ``OutcomeUnknown`` unless the read-back proves they never landed.
        ``first_sent`` (when the dead run sent it) tells a lead it created from an older one.
        """
        self._check_open()
        return await self._recover(_checked(call), Trace(), first_sent)

    async def _settle(self, call: Call, trace: Trace) -> Reply:
        if self._check_schema:
            await self._check_against_schema(call)
        settler = self._settler
        if settler.direct(call):
            # The common case without a generator: the flow's first attempt is sent here and
            # the flow is built only if it fails, to carry on exactly as it would have.
            times = settler.first_attempt(trace)
            try:
                return await self._send_attempt(call, 1)
            except KartraError as exc:
                flow = settler.after_first(call, trace, times, exc)
        else:
            flow = settler.flow(call, trace)
        return await drive(flow, self._send_attempt, asyncio.sleep, self._hooks)

    async def _recover(self, call: Call, trace: Trace, first_sent: datetime | None) -> Reply:
        if self._check_schema:
            await self._check_against_schema(call)
        flow = self._settler.recover_flow(call, trace, first_sent)
        return await drive(flow, self._send_attempt, asyncio.sleep, self._hooks)

    def _lead_identity(self, call: Call | Recover) -> Hashable | None:
        # In Test Mode two addresses with one local part are one stored lead: one lane.
        return lead_identity(call, self._lookup_email)

    def stream(
        self,
        calls: Iterable[StreamInput] | AsyncIterable[StreamInput],
        *,
        concurrency: int = 8,
        ordered: bool = False,
        buffer: int | None = None,
        key: Callable[[Call], Any] | None = None,
        order_key: Callable[[Call | Recover], Hashable | None] | None = None,
    ) -> OutcomeStream:
        """Send many calls on a fixed pool of workers; an async context manager of outcomes.

        ::

            async with client.stream(rows, concurrency=8) as outcomes:
                async for outcome in outcomes:
                    print(outcome.key, outcome.ok, outcome.failure)

        ``calls`` may be any iterable or async iterable of calls, ``Recover`` s or
        ``(key, call)`` pairs (a generator over a huge file works: memory does not grow with
        its length). Each ``Outcome`` carries its input's key (from the pair, or ``key(call)``).
        Calls for the same lead (``order_key``, by default its id, else its email in any case)
        never overlap and settle in input order, so the last one wins; ``ordered=True`` also
        yields the outcomes in input order.
        """
        self._check_open()
        return OutcomeStream(
            self._settle,
            self._recover,
            calls,
            order_key=order_key or self._lead_identity,
            concurrency=concurrency,
            ordered=ordered,
            buffer=buffer,
            key=key,
        )

    async def send_many(
        self, calls: Iterable[StreamInput] | AsyncIterable[StreamInput], *, concurrency: int = 8
    ) -> list[Outcome]:
        """Send a small batch and return every outcome, in input order."""
        async with self.stream(calls, concurrency=concurrency, ordered=True) as outcomes:
            return [outcome async for outcome in outcomes]

    # --- account schema -------------------------------------------------------------------

    async def _check_against_schema(self, call: Call) -> None:
        # Only lead calls name fields, tags, lists or sequences; the inventory reads that load
        # the schema are account calls, so loading never recurses into this check.
        if isinstance(call, UpsertCall):
            call = call.as_create()
        if isinstance(call, LeadCall):
            schema = self._schema if self._schema is not None else await self.account_schema()
            schema.check(call)

    async def custom_field_schema(self) -> AccountSchema:
        """The account's custom fields as an ``AccountSchema`` (one ``retrieve_custom_fields``
        call, then cached on this client); tags, lists and sequences are left unchecked."""
        if self._account_schema is not None:
            return self._account_schema
        if self._custom_field_schema is None:
            fields = await self.retrieve_custom_fields()
            self._custom_field_schema = AccountSchema.from_inventory(fields)
        return self._custom_field_schema

    async def account_schema(self) -> AccountSchema:
        """The account's custom fields, tags, lists and sequences as an ``AccountSchema``.

        One call per inventory (four reads, never a lead call), made once and cached on this
        client; save it with ``to_json`` to check calls offline later.
        """
        if self._account_schema is not None:
            return self._account_schema
        if self._schema_lock is None:
            self._schema_lock = asyncio.Lock()
        async with self._schema_lock:
            if self._account_schema is None:
                fields = (await self.custom_field_schema()).custom_fields.values()
                tags, lists, sequences = await asyncio.gather(
                    self.retrieve_account_tags(),
                    self.retrieve_account_lists(),
                    self.retrieve_account_sequences(),
                )
                self._account_schema = AccountSchema(
                    fields, tags=tags, lists=lists, sequences=sequences
                )
        return self._account_schema

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


def _checked(call: object) -> Call:
    # Before any policy looks at it: a wrong object must fail as misuse, not as a crash inside.
    if not isinstance(call, CALL_TYPES):
        raise UsageError(
            f"cannot send a {type(call).__name__}; build a call with LeadRequest, AccountCall "
            "or GetLead"
        )
    return call


def _refuse_sandbox_credentials_off_loopback(credentials: Credentials, url: str) -> None:
    host = urlsplit(url).hostname if isinstance(url, str) else None
    if is_sandbox_credentials(credentials) and not (host and is_loopback(host)):
        raise UsageError(
            f"these credentials were generated by a kartra-async sandbox and may only be sent to "
            f"a loopback address, not to {url!r}: set the base URL to the sandbox's URL "
            "(KARTRA_BASE_URL, or the line its --credentials-file wrote)"
        )


def _env_test_mode(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``KARTRA_TEST_MODE`` says the App is in Test Mode (1, true, yes or on)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_TEST_MODE, "").strip().lower() in _TRUE


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
    return Timeouts(
        connect=min(DEFAULT_CONNECT_TIMEOUT, float(timeout)),
        read=float(timeout),
        total=float(timeout),
    )
