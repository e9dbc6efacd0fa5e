"""A synchronous ``KartraClient`` for Django views, Celery tasks, scripts and notebooks.

::

    from kartra_async import LeadRequest
    from kartra_async.sync import KartraClient

    with KartraClient.from_env() as client:
        reply = client.send(LeadRequest(email="ann@example.com").create().assign_tag("VIP"))

It wraps the async client: one private event loop runs in a daemon thread the client owns, and
every method hands its coroutine to that loop and waits for the result. So one instance is safe
to share between threads (calls from several threads are paced together, as one process's
calls should be), works whether or not the calling thread runs an event loop of its own, and
raises exactly the exceptions the async client raises. Event hooks run on the private loop's
thread. Close it (``close()`` or ``with``) to close its connections and stop its thread.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ._builder import AccountCall, Call, GetLead, WireCall
from ._bulk import Recover
from ._client import ClientOptions, SandboxLike, _settings_from_env
from ._client import KartraClient as AsyncKartraClient
from ._errors import UsageError
from ._model import Credentials
from ._outcome import Outcome
from ._pacing import Pacer
from ._replies import Reply

if TYPE_CHECKING:
    from .records import CustomFieldDefinition, LeadProfile

__all__ = ["KartraClient"]

T = TypeVar("T")


class KartraClient:
    """A blocking client for Kartra's inbound API, safe to share between threads.

    Takes the same arguments as ``kartra_async.KartraClient`` (the three secrets or
    ``credentials=``, then ``ClientOptions``) and offers the same methods without ``await``;
    ``stream`` returns a plain iterator.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        api_password: str | None = None,
        credentials: Credentials | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        if credentials is None:
            # Wrapped first, as the async client does: no frame keeps the bare strings.
            credentials = Credentials(app_id, api_key, api_password)  # type: ignore[arg-type]
            app_id = api_key = api_password = None
        elif app_id is not None or api_key is not None or api_password is not None:
            app_id = api_key = api_password = None
            raise UsageError("pass either credentials= or app_id/api_key/api_password, not both")
        self._lock = threading.Lock()
        self._closed = False
        #: Streams still open, closed with the client if their loop was left early.
        self._streams: weakref.WeakSet[_SyncOutcomes] = weakref.WeakSet()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kartra-async-sync", daemon=True
        )
        self._thread.start()
        try:
            # Built on its own loop: the session, locks and pacer belong to that loop.
            self._client = self._run(_build(credentials, options))
        except BaseException:
            self._stop_loop()
            raise

    @classmethod
    def from_env(cls, **options: Unpack[ClientOptions]) -> KartraClient:
        """Like ``kartra_async.KartraClient.from_env``: secrets from ``KARTRA_*`` variables."""
        credentials, base_url = _settings_from_env()
        options.setdefault("base_url", base_url)
        return cls(credentials=credentials, **options)

    @classmethod
    def for_sandbox(cls, sandbox: SandboxLike, **options: Unpack[ClientOptions]) -> KartraClient:
        """A client pointed at a started sandbox (which may run in any thread's loop)."""
        options.setdefault("base_url", sandbox.url)
        held = sandbox.credentials
        return cls(credentials=Credentials(held.app_id, held.api_key, held.api_password), **options)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<sync KartraClient {self._client._base_url} {state}>"

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once ``close`` ran; every further call raises ``UsageError``."""
        return self._closed

    @property
    def pacer(self) -> Pacer:
        """The pacer every call passes; ``pacer.snapshot()`` is safe to read from any thread."""
        return self._client.pacer

    def __enter__(self) -> KartraClient:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and stop the private loop's thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            for stream in list(self._streams):
                stream.close()
            self._run(self._client.aclose(), closing=True)
            self._run(_settle_loop(), closing=True)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("this KartraClient is closed; create a new one")

    def _run(self, coro: Coroutine[Any, Any, T], *, closing: bool = False) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            # Waiting here would wait for ourselves forever (an event hook calling the client).
            raise UsageError("the sync KartraClient cannot be called from its own event hooks")
        if self._closed and not closing:
            coro.close()
            self._check_open()
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            # KeyboardInterrupt in the caller (or any exit): do not leave the call running.
            future.cancel()
            raise

    # --- calls -------------------------------------------------------------------------------

    def send(self, call: Call) -> Reply:
        """Send one call with retries and reconciliation; see ``kartra_async.KartraClient``."""
        return self._run(self._client.send(call))

    def send_once(self, call: WireCall) -> Reply:
        """Send ``call`` exactly once: pace, post, decode."""
        return self._run(self._client.send_once(call))

    def recover(self, call: Call, *, first_sent: datetime | None = None) -> Reply:
        """Settle a call an interrupted run may already have sent (see ``KartraClient.recover``)."""
        return self._run(self._client.recover(call, first_sent=first_sent))

    def send_many(self, calls: Iterable[Call], *, concurrency: int = 8) -> list[Outcome]:
        """Send a small batch and return every outcome, in input order."""
        return self._run(self._client.send_many(calls, concurrency=concurrency))

    def stream(
        self,
        calls: Iterable[Call | Recover],
        *,
        concurrency: int = 8,
        ordered: bool = False,
        buffer: int | None = None,
    ) -> Iterator[Outcome]:
        """Send many calls on a pool of workers; iterate their outcomes as they settle.

        ``calls`` is read on the client's loop thread, one item at a time, as workers free up.
        Leaving the loop early (``break``) stops the workers; calls in flight are settled.
        """
        self._check_open()
        outcomes = self._client.stream(
            calls, concurrency=concurrency, ordered=ordered, buffer=buffer
        )
        iterator = _SyncOutcomes(self, _drain(outcomes))
        self._streams.add(iterator)
        return iterator

    # --- shortcuts ---------------------------------------------------------------------------

    def get_lead(self, *, email: str | None = None, id: int | None = None) -> LeadProfile:
        """A lead's full profile, by id (wins) or email. Raises ``LeadNotFound`` if absent."""
        return self.send(GetLead(email=email, id=id)).lead

    def retrieve_account_tags(self) -> tuple[str, ...]:
        """The account's tag names."""
        return self.send(AccountCall().retrieve_account_tags()).account_tags

    def retrieve_account_lists(self) -> tuple[str, ...]:
        """The account's list names."""
        return self.send(AccountCall().retrieve_account_lists()).account_lists

    def retrieve_account_sequences(self) -> tuple[str, ...]:
        """The account's sequence names."""
        return self.send(AccountCall().retrieve_account_sequences()).account_sequences

    def retrieve_account_pages(self) -> tuple[str, ...]:
        """The account's page names."""
        return self.send(AccountCall().retrieve_account_pages()).account_pages

    def retrieve_custom_fields(self) -> tuple[CustomFieldDefinition, ...]:
        """The account's custom field definitions."""
        return self.send(AccountCall().retrieve_custom_fields()).custom_fields


class _SyncOutcomes(Iterator[Outcome]):
    """A plain iterator over an async stream's outcomes; also a context manager."""

    def __init__(self, client: KartraClient, outcomes: AsyncIterator[Outcome]) -> None:
        self._client = client
        self._outcomes = outcomes
        self._done = False

    def __iter__(self) -> _SyncOutcomes:
        return self

    def __next__(self) -> Outcome:
        if self._done:
            raise StopIteration
        try:
            return self._client._run(_next(self._outcomes))
        except StopAsyncIteration:
            self._done = True
            raise StopIteration from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the stream's workers (idempotent); called when iteration ends or breaks."""
        if self._done:
            return
        self._done = True
        aclose = getattr(self._outcomes, "aclose", None)
        if aclose is not None and not self._client._loop.is_closed():
            self._client._run(aclose(), closing=True)

    def __enter__(self) -> _SyncOutcomes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _settle_loop() -> None:
    # Whatever is still running on the private loop is cancelled before the loop stops, so
    # nothing is destroyed while pending.
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


async def _build(credentials: Credentials, options: ClientOptions) -> AsyncKartraClient:
    return AsyncKartraClient(credentials=credentials, **options)


async def _drain(stream: Any) -> AsyncIterator[Outcome]:
    async with stream as outcomes:
        async for outcome in outcomes:
            yield outcome


async def _next(outcomes: AsyncIterator[Outcome]) -> Outcome:
    return await outcomes.__anext__()
