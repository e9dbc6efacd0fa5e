"""An ASGI application that receives Kartra's outbound events and IPNs, for any ASGI framework.

Mount it in FastAPI or Starlette (``app.mount("/kartra", asgi_app(on_event))``), route to it
from Django's ASGI application, or serve it alone with any ASGI server. It speaks raw ASGI 3.0:
no framework is imported. The checks and replies are the aiohttp handler's (``webhook_handler``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

from ._dedupe import PurchaseDeduplicator
from ._receiving import DEFAULT_MAX_BODY, EventCallback, answer_payload

logger = logging.getLogger("kartra_async.events")

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


def asgi_app(
    on_event: EventCallback,
    *,
    ipn_secret: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    deduplicator: PurchaseDeduplicator | None = None,
) -> ASGIApp:
    """Build an ASGI 3.0 application that passes each POSTed event to ``on_event``.

    ``on_event`` (sync or async) gets the typed event. Replies, as ``webhook_handler``'s: 405
    for anything but POST; 413 when the body exceeds ``max_body`` bytes (a larger
    ``Content-Length`` is refused before reading); 400 when it is neither a readable outbound
    event nor an IPN; 403 for an IPN whose ``secret_key`` does not match ``ipn_secret`` (only
    when one is configured); 500 when ``on_event`` raises (logged with a traceback); 200
    otherwise, also for purchases ``deduplicator`` has already seen (``on_event`` is skipped).
    Kartra waits for the reply: keep ``on_event`` quick (hand slow work to a queue). Outbound
    events carry no signature: serve them under a hard-to-guess path. Lifespan messages are
    acknowledged, so the app can also be served on its own.
    """
    if ipn_secret is not None and not ipn_secret:
        raise ValueError("ipn_secret must not be empty (pass None to accept unsigned IPNs)")
    if max_body < 1:
        raise ValueError("max_body must be positive")

    async def respond(send: Send, status: int, text: str, allow: bool = False) -> None:
        body = text.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        if allow:
            headers.append((b"allow", b"POST"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the Kartra webhook app serves HTTP, not {scope['type']!r}")
        if scope["method"] != "POST":
            await respond(send, 405, "POST only", allow=True)
            return
        headers = _headers(scope)
        try:
            declared = int(headers.get("content-length", "0") or "0")
        except ValueError:
            await respond(send, 400, "bad Content-Length")
            return
        if declared > max_body:
            logger.warning("rejected a webhook body larger than %d bytes", max_body)
            await respond(send, 413, "payload too large")
            return
        try:
            body = await _read_body(receive, max_body)
        except _TooLarge:
            logger.warning("rejected a webhook body larger than %d bytes", max_body)
            await respond(send, 413, "payload too large")
            return
        except _Disconnected:
            return
        status, text = await answer_payload(
            body, headers.get("content-type"), on_event, ipn_secret, deduplicator
        )
        await respond(send, status, text)

    return app


def _headers(scope: Scope) -> dict[str, str]:
    # Header names arrive lower-cased (ASGI spec); a repeated header keeps its last value.
    return {
        name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", ())
    }


async def _read_body(receive: Receive, max_body: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
