"""What a webhook receiver answers, whatever serves it: check, parse, deduplicate, deliver."""

from __future__ import annotations

import inspect
import logging

from ..records import RecordFormatError
from ._dedupe import PurchaseDeduplicator
from ._handler import EventCallback, describe
from ._ipn import ipn_secret_matches
from ._payload import decode_payload, parse_payload

logger = logging.getLogger("kartra_async.events")


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
    if deduplicator is not None and deduplicator.is_duplicate(event):
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
