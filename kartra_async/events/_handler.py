"""An aiohttp.web request handler that receives Kartra's outbound events and IPNs."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..records import RecordFormatError
from ._dedupe import PurchaseDeduplicator
from ._ipn import IpnNotification, ipn_secret_matches
from ._outbound import UnknownEvent
from ._payload import KartraEvent, decode_payload, parse_payload

logger = logging.getLogger("kartra_async.events")

#: Kartra's payloads are a lead profile plus a few details: 1 MiB is generous.
DEFAULT_MAX_BODY = 1 << 20

EventCallback = Callable[[KartraEvent], Awaitable[None] | None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def describe(event: KartraEvent) -> str:
    """A log-safe one-line description: kind and ids only, never personal data or secrets."""
    if isinstance(event, IpnNotification):
        return f"IPN {event.transaction_type} transaction {event.transaction_id}"
    lead = f" lead {event.lead.id}" if event.lead is not None else ""
    kind = "unknown action" if isinstance(event, UnknownEvent) else "action"
    return f"outbound {kind} {str(event.action)[:64]!r}{lead}"


async def _read_limited(request: web.Request, max_body: int) -> bytes | None:
    if request.content_length is not None and request.content_length > max_body:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_body:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_handler(
    on_event: EventCallback,
    *,
    ipn_secret: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    deduplicator: PurchaseDeduplicator | None = None,
) -> Handler:
    """Build a handler to mount with ``app.router.add_post(path, handler)``.

    Each POST is parsed into a typed event and passed to ``on_event`` (sync or async). Replies:
    413 when the body exceeds ``max_body`` bytes; 400 when it is neither a readable outbound
    event nor an IPN; 403 for an IPN whose ``secret_key`` does not match ``ipn_secret`` (only
    when one is configured); 500 when ``on_event`` raises (logged with a traceback); 200
    otherwise, also for purchases ``deduplicator`` has already seen (``on_event`` is skipped;
    only IPNs authenticated by ``ipn_secret`` mark a purchase as seen for every source).
    Outbound events carry no signature: protect their URL with a hard-to-guess path.
    """
    if ipn_secret is not None and not ipn_secret:
        raise ValueError("ipn_secret must not be empty (pass None to accept unsigned IPNs)")
    if max_body < 1:
        raise ValueError("max_body must be positive")

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405, text="POST only", headers={"Allow": "POST"})
        body = await _read_limited(request, max_body)
        if body is None:
            logger.warning("rejected a webhook body larger than %d bytes", max_body)
            return web.Response(status=413, text="payload too large")
        try:
            kind, data = decode_payload(body, request.content_type)
            if (
                kind == "ipn"
                and ipn_secret is not None
                and not ipn_secret_matches(data, ipn_secret)
            ):
                logger.warning("rejected an IPN with a missing or wrong secret_key")
                return web.Response(status=403, text="forbidden")
            event = parse_payload(kind, data)
        except RecordFormatError as error:
            # The error names the field, never its value: safe to log and to answer with.
            logger.warning("rejected an unreadable webhook: %s", error)
            return web.Response(status=400, text=f"bad payload: {error}")
        # Only an IPN whose secret was checked may mark a purchase as seen: an outbound event
        # is unsigned, and a forged one must not hide the genuine IPN (see _dedupe).
        authenticated = kind == "ipn" and ipn_secret is not None
        if deduplicator is not None and deduplicator.is_duplicate(
            event, authenticated=authenticated
        ):
            logger.info("ignored a duplicate %s", describe(event))
            return web.Response(text="duplicate")
        try:
            result = on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("the event callback failed for %s", describe(event))
            return web.Response(status=500, text="handler failed")
        return web.Response(text="ok")

    return handle
