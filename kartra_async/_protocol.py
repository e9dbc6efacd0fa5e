"""Sans-I/O protocol: a call becomes bytes, and bytes become a ``Reply`` or an exception.

No asyncio, no aiohttp: every rule about what Kartra expects and answers is a plain function
here, so it is tested without a network and shared by every transport.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from ._actions import Action, EditLead
from ._builder import AccountCall, Call, GetLead, LeadCall, UpsertCall, WireCall, lead_email
from ._codes import ERROR_CODES, RATE_LIMIT_MESSAGE, RATE_LIMIT_STATUS
from ._converter import unstructure_action, unstructure_lead
from ._errors import (
    APIError,
    ConfigurationError,
    MalformedReply,
    RateLimited,
    ServerError,
    UsageError,
    error_class,
)
from ._form import build_query
from ._model import Credentials
from ._replies import ActionResult, Reply, as_int

#: Codes that concern the whole request, never one action of it.
_GLOBAL_FAMILIES: Final = frozenset({"transport", "auth", "app", "request"})
_RESULT_META: Final = frozenset({"status", "message", "type"})


#: HTTP statuses that no Kartra endpoint answers: a wrong URL, a proxy or a login page.
_NOT_KARTRA: Final = {
    301: "a redirect",
    302: "a redirect",
    303: "a redirect",
    307: "a redirect",
    308: "a redirect",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    407: "proxy authentication required",
    410: "gone",
}
_HTML_STARTS: Final = (b"<!doctype html", b"<html")


def _refuse_upsert() -> UsageError:
    return UsageError(
        "upsert() is resolved by KartraClient (Kartra has no upsert command); "
        "send it with client.send() or client.stream()"
    )


def to_request(call: WireCall) -> dict[str, Any]:
    """The nested array Kartra expects for ``call``, without credentials."""
    if isinstance(call, LeadCall):
        opener = call.opener
        new_email = opener.new_email if isinstance(opener, EditLead) else None
        return {
            "lead": unstructure_lead(call.lead, new_email),
            "actions": [unstructure_action(action) for action in call.actions],
        }
    if isinstance(call, AccountCall):
        if not call.actions:
            raise UsageError("an AccountCall needs at least one action")
        return {"actions": [unstructure_action(action) for action in call.actions]}
    if isinstance(call, GetLead):
        locator: dict[str, Any] = {"id": call.id} if call.id is not None else {"email": call.email}
        return {"get_lead": locator}
    if isinstance(call, UpsertCall):
        raise _refuse_upsert()
    raise UsageError(
        f"cannot send {type(call).__name__}; build a call with LeadRequest, AccountCall or GetLead"
    )


class FormBody(bytes):
    """An encoded request body. It holds the credentials, so its repr never shows the bytes.

    Tracebacks rendered with local variables (Sentry, rich, ``pytest --showlocals``) call
    ``repr`` on every frame's locals; the transport's ``body`` argument is one of them.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<FormBody: {len(self)} bytes, credentials hidden>"

    __str__ = __repr__


def encode(call: WireCall, credentials: Credentials) -> bytes:
    """The form body for ``call``: byte for byte what PHP's ``http_build_query`` would send.

    One-off use of an ``Encoder`` (the client keeps one, which reuses the repeated parts).
    """
    return Encoder(credentials).encode(call)


#: Distinct action chains an ``Encoder`` remembers: a bulk run repeats a handful of them.
ACTION_CACHE_SIZE: Final = 256


class Encoder:
    """``encode`` for one client's credentials, reusing the parts that repeat between calls.

    Byte for byte the same output as ``encode(call, credentials)``: PHP's query string of a
    nested array is the ``&``-join of its top-level keys' parts, so the credentials part is
    encoded once and the ``actions`` part once per distinct chain (a bulk import sends the same
    "create + tag + list" chain for every lead). Holds the credentials; its repr hides them.
    """

    __slots__ = ("_actions", "_prefix")

    def __init__(self, credentials: Credentials) -> None:
        self._prefix = build_query(_SecretForm(credentials.form_fields()))
        self._actions: dict[tuple[Action, ...], str] = {}

    def __repr__(self) -> str:
        return "<Encoder: credentials hidden>"

    def encode(self, call: WireCall) -> bytes:
        """The form body for ``call``: PHP's ``http_build_query`` of the credentials and call.

        PHP's query string of a nested array is the ``&``-join of its top-level keys' parts
        (credentials first, then ``lead``/``actions``/``get_lead``, as ``tests/golden`` shows).
        """
        if isinstance(call, LeadCall):
            opener = call.opener
            new_email = opener.new_email if isinstance(opener, EditLead) else None
            lead = build_query({"lead": unstructure_lead(call.lead, new_email)})
            text = f"{self._prefix}&{lead}&{self._actions_part(call.actions)}"
        elif isinstance(call, AccountCall) and call.actions:
            text = f"{self._prefix}&{self._actions_part(call.actions)}"
        else:
            text = f"{self._prefix}&{build_query(to_request(call))}"
        return FormBody(text.encode("ascii"))

    def _actions_part(self, actions: tuple[Action, ...]) -> str:
        try:
            cached = self._actions.get(actions)
        except TypeError:  # a Custom action's parameters are not hashable: no caching
            return _actions_query(actions)
        if cached is None:
            cached = _actions_query(actions)
            if len(self._actions) < ACTION_CACHE_SIZE:
                self._actions[actions] = cached
        return cached


def _actions_query(actions: tuple[Action, ...]) -> str:
    return build_query({"actions": [unstructure_action(action) for action in actions]})


class _SecretForm(dict[str, Any]):
    """The nested request with the credentials in it; hidden from reprs like ``FormBody``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<request form: {len(self)} keys, credentials hidden>"


def decode(status: int, body: bytes, call: Call, *, url: str = "the endpoint") -> Reply:
    """Read Kartra's answer to ``call``: a ``Reply``, or the exception it means.

    The body is read as JSON whatever its Content-Type (Kartra labels JSON ``text/html``),
    ``type`` may be a string or an int, ``status`` any case. An answer no Kartra endpoint gives
    (a redirect, 401/403/404/405, a whole HTML page with status 200) raises
    ``ConfigurationError`` naming ``url``: the request never reached Kartra's API.
    """
    if status == RATE_LIMIT_STATUS:
        payload = _loads(body)
        message = payload.get("message") if isinstance(payload, dict) else None
        raise RateLimited(
            RATE_LIMIT_STATUS,
            message if isinstance(message, str) else RATE_LIMIT_MESSAGE,
            email=lead_email(call),
        )
    if status != 200:
        if status in _NOT_KARTRA:
            raise ConfigurationError(url, status, _NOT_KARTRA[status])
        raise ServerError(status, body)
    payload = _loads(body)
    if payload is None:
        if body.lstrip()[:14].lower().startswith(_HTML_STARTS):
            raise ConfigurationError(url, status, "an HTML page instead of Kartra's JSON")
        raise MalformedReply("the body is not JSON" if body.strip() else "the body is empty", body)
    if not isinstance(payload, dict):
        raise MalformedReply("the JSON is not an object", body)
    if "actions" in payload:
        results = _action_results(payload["actions"], body)
    else:
        results = _keyed_results(payload, call, body)
    top_status = payload.get("status")
    if top_status == "Success":  # what Kartra sends; the general rule below costs more
        ok = True
    else:
        if top_status is None and results:
            # Some documented replies are only ``{cmd: {...}}``
            # (docs/kartra-api.md#reply-shapes): no top status.
            top_status = "Success" if all(result.ok for result in results) else "Error"
        if not isinstance(top_status, str) or top_status.strip().lower() not in (
            "success",
            "error",
        ):
            raise MalformedReply("no 'status' of Success or Error", body)
        ok = top_status.strip().lower() == "success"
    message = payload.get("message")
    code = payload.get("type")
    # Positional (ok, message, type, actions, raw), and no call for what is absent: this runs
    # for every reply.
    reply = Reply(
        ok,
        None if message is None else _text(message),
        None if code is None else as_int(code),
        results,
        payload,
    )
    failed = None
    for result in results:  # a plain loop: a generator per reply costs more than it reads
        if not result.ok:
            failed = result
            break
    if failed is not None:
        raise _error(
            failed.type if failed.type is not None else reply.type,
            failed.message or reply.message,
            reply,
            call,
            failed.cmd,
            failed.index,
        )
    if not reply.ok:
        code = reply.type
        cmd, index = _flat_error_action(call, code)
        raise _error(code, reply.message, reply, call, cmd, index)
    if isinstance(call, GetLead) and not isinstance(payload.get("lead_details"), dict):
        raise MalformedReply("get_lead succeeded without a 'lead_details' object", body)
    return reply


#: ``json.loads``'s own default decoder, held here to call it without ``loads``' detour.
_JSON: Final = json.JSONDecoder()


def _loads(body: bytes) -> Any:
    try:
        if body[:1] == b"{" and len(body) > 1 and body[1]:
            # What ``json.loads(body)`` does for a body starting ``{`` then a non-zero byte
            # (its encoding detection answers UTF-8 there), without detecting the encoding:
            # every Kartra reply takes this path.
            return _JSON.decode(body.decode("utf-8", "surrogatepass"))
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _keyed_results(payload: Mapping[str, Any], call: Call, body: bytes) -> tuple[ActionResult, ...]:
    """Results of a reply keyed by cmd at the top level, without ``actions``
    (docs/kartra-api.md#reply-shapes).

    e.g. ``{"refund_transaction": {"status": "Success", "transaction_refunded": "792354"}}``.
    Each is matched to the first action of the call with that cmd, so indexes stay aligned.
    """
    if isinstance(call, GetLead):
        return ()
    results = []
    seen: set[str] = set()
    for index, action in enumerate(call.actions):
        cmd = action.wire_cmd
        if cmd in seen or not isinstance(payload.get(cmd), dict):
            continue
        seen.add(cmd)
        results.append(_result(index, cmd, payload[cmd]))
    return tuple(results)


def _action_results(raw: object, body: bytes) -> tuple[ActionResult, ...]:
    if raw is None:
        return ()
    if isinstance(raw, dict):
        # A PHP array with non-sequential keys arrives as a JSON object: keep its order.
        raw = list(raw.values())
    if not isinstance(raw, list):
        raise MalformedReply("'actions' is neither a list nor an object", body)
    results = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise MalformedReply(f"actions[{index}] is not a single-key object", body)
        ((cmd, inner),) = entry.items()
        if type(inner) is dict and inner.get("status") == "Success":
            # What Kartra sends for an applied action: the same result as ``_result`` gives,
            # without its general checks (JSON keys are already strings).
            if inner.keys() <= _RESULT_META:
                data = {}
            else:
                # Copy and drop the meta keys: cheaper than filtering every key, same order.
                data = inner.copy()
                del data["status"]
                data.pop("message", None)
                data.pop("type", None)
            message = inner.get("message")
            code = inner.get("type")
            results.append(
                ActionResult(
                    index,
                    cmd,
                    True,
                    None if code is None else as_int(code),
                    message if message is None or type(message) is str else str(message),
                    data,
                )
            )
            continue
        results.append(_result(index, str(cmd), inner))
    return tuple(results)


def _result(index: int, cmd: str, inner: object) -> ActionResult:
    if isinstance(inner, dict):
        status = inner.get("status")
        code = as_int(inner.get("type"))
        if status == "Success":  # what Kartra sends; the general rule below costs more
            ok = True
        elif isinstance(status, str):
            ok = status.strip().lower() == "success"
        else:
            # No status: only an error-range type makes it a failure.
            ok = code is None or code < 200
        data = {key: value for key, value in inner.items() if key not in _RESULT_META}
        return ActionResult(index, cmd, ok, code, _text(inner.get("message")), data)
    if isinstance(inner, str):
        return ActionResult(index, cmd, inner.strip().lower() != "error", None, None, {})
    return ActionResult(index, cmd, True, None, None, {"value": inner})


def _flat_error_action(call: Call, code: int | None) -> tuple[str | None, int | None]:
    """Which action a flat error (no ``actions`` key) belongs to, when that can be known."""
    if code is not None and ERROR_CODES.get(code, ("", ""))[1] in _GLOBAL_FAMILIES:
        return None, None
    if isinstance(call, (LeadCall, AccountCall)) and len(call.actions) == 1:
        return call.actions[0].wire_cmd, 0
    return None, None


def _error(
    code: int | None,
    message: str | None,
    reply: Reply,
    call: Call,
    cmd: str | None,
    index: int | None,
) -> APIError:
    # Kartra always sends a type with its errors; 0 stands for "none given" so code is an int.
    number = code if code is not None else 0
    text = message or ERROR_CODES.get(number, ("Unknown error", ""))[0]
    return error_class(number, cmd)(
        number, text, reply=reply, cmd=cmd, action_index=index, email=lead_email(call)
    )
