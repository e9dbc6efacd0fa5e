"""``KartraClient``: the object services await. encode → pace → post → decode, and its lifecycle.

The client holds the credentials (never shown in its repr), one transport (a pooled aiohttp
session by default) and one pacer shared by every call it sends. Retries, reconciliation and
bulk fan-out build on ``_send_once`` in ``_sending`` and ``_bulk``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp

from ._builder import AccountCall, Call, GetLead
from ._bulk import OutcomeStream, Recover
from ._errors import RateLimited, UsageError
from ._model import Credentials
from ._outcome import Outcome
from ._pacing import LocalPacer, Pacer
from ._protocol import Encoder, decode
from ._replies import Reply
from ._retry import RetryPolicy
from ._sending import Sender
from ._transport import DEFAULT_BASE_URL, AiohttpTransport, Timeouts, Transport

if TYPE_CHECKING:
    from .records import CustomFieldDefinition, LeadProfile

ENV_APP_ID = "KARTRA_APP_ID"
ENV_API_KEY = "KARTRA_API_KEY"
ENV_API_PASSWORD = "KARTRA_API_PASSWORD"
ENV_BASE_URL = "KARTRA_BASE_URL"


class KartraClient:
    """An async client for Kartra's inbound API.

    ::

        async with KartraClient(app_id=..., api_key=..., api_password=...) as client:
            reply = await client.send(LeadRequest(email="a@b.co").create().assign_tag("VIP"))

    ``timeout`` is a number of seconds for the whole call or a ``Timeouts``. ``session`` lends
    an ``aiohttp.ClientSession`` (the client will not close it); ``transport`` replaces HTTP
    entirely (tests, in-process benchmarks). ``pacer`` spaces every call under Kartra's
    20 calls/s per App; the default ``LocalPacer`` is right for one process, share a
    ``RedisPacer`` between processes. ``retry`` is the retry policy (``RetryPolicy()`` by
    default; ``RetryPolicy.none()`` sends each call once).
    """

    def __init__(
        self,
        *,
        app_id: str,
        api_key: str,
        api_password: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | Timeouts | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # Wrapped first and the raw parameters dropped before anything can raise: no frame of a
        # configuration error's traceback holds a credential (rendered with locals it shows
        # only the wrapper's hidden repr). The encoder is then their only holder.
        credentials = Credentials.unchecked(app_id, api_key, api_password)
        del app_id, api_key, api_password
        credentials.validate()
        self._encoder = Encoder(credentials)
        del credentials
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
        self._closed = False
        self._sender = Sender(self)

    @classmethod
    def from_env(cls, **kwargs: Any) -> KartraClient:
        """Build a client from ``KARTRA_APP_ID``, ``KARTRA_API_KEY``, ``KARTRA_API_PASSWORD``
        (and optional ``KARTRA_BASE_URL``); other keyword arguments pass through."""
        missing = [
            name for name in (ENV_APP_ID, ENV_API_KEY, ENV_API_PASSWORD) if not os.environ.get(name)
        ]
        if missing:
            raise UsageError(f"set the environment variable(s) {', '.join(missing)}")
        kwargs.setdefault("base_url", os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        return cls(
            app_id=os.environ[ENV_APP_ID],
            api_key=os.environ[ENV_API_KEY],
            api_password=os.environ[ENV_API_PASSWORD],
            **kwargs,
        )

    def __repr__(self) -> str:
        # getattr: a client whose __init__ raised is still shown (traceback rendering calls this).
        state = "closed" if getattr(self, "_closed", True) else "open"
        return f"<KartraClient {getattr(self, '_base_url', '(not configured)')} {state}>"

    @property
    def pacer(self) -> Pacer:
        """The pacer every call of this client passes."""
        return self._pacer

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
        self._check_open()
        body = self._encoder.encode(call)
        await self._pacer.acquire()
        self._check_open()
        response = await self._transport.post(body)
        try:
            return decode(response.status, response.body, call)
        except RateLimited:
            await self._pacer.on_rate_limited()
            raise

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


def _timeouts(timeout: float | Timeouts | None) -> Timeouts | None:
    if timeout is None or isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise UsageError("timeout: must be a positive number of seconds or a Timeouts")
    return Timeouts(connect=min(10.0, float(timeout)), read=float(timeout), total=float(timeout))
