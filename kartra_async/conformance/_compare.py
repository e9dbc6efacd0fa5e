"""What an answer looks like, and where two answers differ. Pure: bytes in, differences out.

An answer is reduced to its *shape*: the HTTP status, the Content-Type, the top-level
``status``/``type``/``message``, each action's ``cmd``/``status``/``type``/``message``, the
place (and JSON type) of every piece of data, and for a lead profile its score and tags. Ids,
dates and other values that differ from account to account are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs


@attrs.frozen
class Answer:
    """One raw HTTP answer."""

    http_status: int
    content_type: str
    body: bytes


@attrs.frozen
class ActionShape:
    """One entry of ``actions``: its cmd and what it said."""

    cmd: str
    status: str
    type: str
    message: str


@attrs.frozen
class Shape:
    """The comparable parts of an answer (see the module docstring)."""

    http_status: int
    content_type: str
    json: bool
    status: str = ""
    type: str = ""
    message: str = ""
    actions: tuple[ActionShape, ...] = ()
    #: ``path: json-type`` of every value, list positions written ``[]``.
    paths: frozenset[str] = frozenset()
    #: A lead profile's ``score`` and tag names, when the answer holds one.
    lead: tuple[str, tuple[str, ...]] | None = None


@attrs.frozen
class Difference:
    """One way the endpoint's answer differs from the sandbox's."""

    step: str
    field: str
    sandbox: str
    endpoint: str

    def render(self) -> str:
        """One readable line."""
        return f"{self.step}: {self.field}: sandbox {self.sandbox}, endpoint {self.endpoint}"


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _paths(value: Any, prefix: str, found: set[str]) -> None:
    if isinstance(value, dict):
        if not value:
            found.add(f"{prefix}: object")
        for key, item in value.items():
            _paths(item, f"{prefix}.{key}" if prefix else str(key), found)
    elif isinstance(value, list):
        if not value:
            found.add(f"{prefix}: array")
        for item in value:
            _paths(item, f"{prefix}[]", found)
    else:
        found.add(f"{prefix}: {_json_type(value)}")


def _actions(raw: object) -> tuple[ActionShape, ...]:
    if not isinstance(raw, list):
        return ()
    shapes: list[ActionShape] = []
    for item in raw:
        if isinstance(item, dict) and len(item) == 1:
            ((cmd, entry),) = item.items()
            entry = entry if isinstance(entry, dict) else {}
            shapes.append(
                ActionShape(
                    str(cmd),
                    _text(entry.get("status")),
                    _text(entry.get("type")),
                    _text(entry.get("message")),
                )
            )
        else:
            shapes.append(ActionShape("?", "", "", ""))
    return tuple(shapes)


def _lead(payload: Mapping[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    details = payload.get("lead_details")
    if not isinstance(details, dict) or "score" not in details:
        return None
    tags = details.get("tags")
    names = (
        sorted(str(tag.get("tag_name")) for tag in tags or () if isinstance(tag, dict))
        if isinstance(tags, list)
        else []
    )
    return _text(details.get("score")), tuple(names)


def shape_of(answer: Answer) -> Shape:
    """The comparable parts of ``answer``."""
    http, content_type = answer.http_status, answer.content_type.strip()
    try:
        payload = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Shape(http, content_type, json=False)
    if not isinstance(payload, dict):
        return Shape(http, content_type, json=True, paths=frozenset({f": {_json_type(payload)}"}))
    found: set[str] = set()
    _paths(payload, "", found)
    return Shape(
        http,
        content_type,
        json=True,
        status=_text(payload.get("status")),
        type=_text(payload.get("type")),
        message=_text(payload.get("message")),
        actions=_actions(payload.get("actions")),
        paths=frozenset(found),
        lead=_lead(payload),
    )


def _show(value: object) -> str:
    return repr(value)


def compare(step: str, sandbox: Shape, endpoint: Shape) -> list[Difference]:
    """Every difference between the sandbox's and the endpoint's answer to one step."""
    found: list[Difference] = []

    def differ(field: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            found.append(Difference(step, field, _show(ours), _show(theirs)))

    differ("HTTP status", sandbox.http_status, endpoint.http_status)
    differ("content type", sandbox.content_type, endpoint.content_type)
    differ("body is JSON", sandbox.json, endpoint.json)
    differ("status", sandbox.status, endpoint.status)
    differ("type", sandbox.type, endpoint.type)
    differ("message", sandbox.message, endpoint.message)
    differ("actions", [a.cmd for a in sandbox.actions], [a.cmd for a in endpoint.actions])
    for index, (ours, theirs) in enumerate(zip(sandbox.actions, endpoint.actions, strict=False)):
        for name in ("status", "type", "message"):
            differ(f"actions[{index}].{name}", getattr(ours, name), getattr(theirs, name))
    only_sandbox = sorted(sandbox.paths - endpoint.paths)
    only_endpoint = sorted(endpoint.paths - sandbox.paths)
    if only_sandbox:
        found.append(Difference(step, "data only in the sandbox's reply", _list(only_sandbox), "-"))
    if only_endpoint:
        found.append(
            Difference(step, "data only in the endpoint's reply", "-", _list(only_endpoint))
        )
    differ("lead (score, tags)", sandbox.lead, endpoint.lead)
    return found


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(items) + "]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
