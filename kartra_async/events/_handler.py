"""An aiohttp.web request handler that receives Kartra's outbound events and IPNs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ._dedupe import PurchaseDeduplicator
from ._receiving import DEFAULT_MAX_BODY, EventCallback, answer_payload

__all__ = ["DEFAULT_MAX_BODY", "EventCallback", "Handler", "webhook_handler"]

logger = logging.getLogger("kartra_async.events")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
        status, text = await answer_payload(
            body, request.content_type, on_event, ipn_secret, deduplicator
        )
        return web.Response(status=status, text=text)

    return handle
