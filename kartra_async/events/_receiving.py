"""What a webhook receiver answers, whatever serves it: check, parse, deduplicate, deliver."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from ..records import RecordFormatError
from ._dedupe import PurchaseDeduplicator
from ._ipn import IpnNotification, ipn_secret_matches
from ._outbound import UnknownEvent
from ._payload import KartraEvent, decode_payload, parse_payload

logger = logging.getLogger("kartra_async.events")

#: Kartra's payloads are a lead profile plus a few details: 1 MiB is generous.
DEFAULT_MAX_BODY = 1 << 20

EventCallback = Callable[[KartraEvent], Awaitable[None] | None]


def describe(event: KartraEvent) -> str:
    """A log-safe one-line description: kind and ids only, never personal data or secrets."""
    if isinstance(event, IpnNotification):
        return f"IPN {event.transaction_type} transaction {event.transaction_id}"
    lead = f" lead {event.lead.id}" if event.lead is not None else ""
    kind = "unknown action" if isinstance(event, UnknownEvent) else "action"
    return f"outbound {kind} {str(event.action)[:64]!r}{lead}"


async def answer_payload(
    body: bytes,
    content_type: str | None,
    on_event: EventCallback,
    ipn_secret: str | None,
    deduplicator: PurchaseDeduplicator | None,
) -> tuple[int, str]:
    """Check, parse and deliver one webhook body; the HTTP status and text to answer with."""
    try:
        kind, data = decode_payload(body, content_type)
        if kind == "ipn" and ipn_secret is not None and not ipn_secret_matches(data, ipn_secret):
            logger.warning("rejected an IPN with a missing or wrong secret_key")
            return 403, "forbidden"
        event = parse_payload(kind, data)
    except RecordFormatError as error:
        # The error names the field, never its value: safe to log and to answer with.
        logger.warning("rejected an unreadable webhook: %s", error)
        return 400, f"bad payload: {error}"
    # Only an IPN whose secret was checked may mark a purchase as seen: an outbound event is
    # unsigned, and a forged one must not hide the genuine IPN (see _dedupe).
    authenticated = kind == "ipn" and ipn_secret is not None
    if deduplicator is not None and deduplicator.is_duplicate(event, authenticated=authenticated):
        logger.info("ignored a duplicate %s", describe(event))
        return 200, "duplicate"
    try:
        result = on_event(event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("the event callback failed for %s", describe(event))
        return 500, "handler failed"
    return 200, "ok"
