"""From a webhook body to a typed event: JSON outbound events, form IPNs, JSON for output."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TypeAlias

import attrs
import cattrs

from .._form import parse_query
from ..records import RecordFormatError
from ._ipn import IpnNotification, parse_ipn
from ._outbound import TypedEvent, UnknownEvent, parse_outbound_event

#: Everything a Kartra webhook can deliver.
KartraEvent: TypeAlias = TypedEvent | UnknownEvent | IpnNotification
PayloadKind: TypeAlias = Literal["outbound", "ipn"]


def decode_payload(
    body: bytes, content_type: str | None = None
) -> tuple[PayloadKind, Mapping[Any, Any]]:
    """Decode a webhook body and say what it is.

    JSON objects are outbound events (Kartra posts them as a raw JSON body). Form bodies are
    IPNs, unless they carry an ``action`` (an outbound event posted as a form, which some
    integrations report). Raises :class:`RecordFormatError` (field ``"body"``) otherwise.
    """
    stripped = body.lstrip()
    if (content_type and "json" in content_type.lower()) or stripped.startswith(b"{"):
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise RecordFormatError("body", "not valid JSON") from None
        if not isinstance(data, dict):
            raise RecordFormatError("body", "JSON body is not an object")
        return "outbound", data
    try:
        form = parse_query(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RecordFormatError("body", "not a form body") from None
    if "action" in form:
        return "outbound", form
    if "transaction_id" in form or "transaction_type" in form:
        return "ipn", form
    raise RecordFormatError("body", "neither an outbound event nor an IPN")


def parse_payload(kind: PayloadKind, data: Mapping[Any, Any]) -> KartraEvent:
    """Turn a decoded payload into its typed event (see :func:`decode_payload`)."""
    if kind == "ipn":
        return parse_ipn(data)
    return parse_outbound_event(data)


def parse_webhook(body: bytes, content_type: str | None = None) -> KartraEvent:
    """Parse any Kartra webhook body (outbound event or IPN) into a typed event.

    Does not check an IPN's secret; :func:`webhook_handler` does, or call
    :func:`ipn_secret_matches` on the decoded form yourself.
    """
    return parse_payload(*decode_payload(body, content_type))


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Decimal, str)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(Enum, lambda member: member.value)
    converter.register_unstructure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, Mapping) and not attrs.has(cls),
        lambda mapping: {str(k): _jsonable(v) for k, v in mapping.items()},
    )
    return converter


def _jsonable(value: Any) -> Any:
    # Extra and raw payloads hold plain JSON (or parse_query dicts with int keys).
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return _CONVERTER.unstructure(value)


_CONVERTER = _make_converter()


def event_to_json(event: KartraEvent) -> dict[str, Any]:
    """A JSON-ready dict of ``event``: its class as ``"event"``, then its fields.

    Decimals become strings (exact), datetimes ISO 8601 with their offset, enums their value.
    """
    fields = _CONVERTER.unstructure(event, unstructure_as=type(event))
    return {"event": type(event).__name__, **fields}
