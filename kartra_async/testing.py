"""Test your own code that uses ``KartraClient`` without a network: a scripted transport.

::

    from kartra_async import KartraClient, LeadRequest, NoPacer
    from kartra_async.testing import ScriptedTransport, error_reply, success_reply

    transport = ScriptedTransport()
    transport.reply(success_reply("create_lead", "assign_tag", lead_id=42))
    transport.lose_reply()                        # the next call's reply is lost
    transport.reply(error_reply(244))             # then Kartra says "Lead already exists"

    async with KartraClient(app_id="a", api_key="k", api_password="p",
                            transport=transport, pacer=NoPacer()) as client:
        reply = await client.send(LeadRequest(email="jo@example.com").create().assign_tag("VIP"))
    assert reply.lead_id == 42
    assert transport.sent[0].cmds == ("create_lead", "assign_tag")
    assert transport.sent[0].form["lead"]["email"] == "jo@example.com"

Answers are used in order, one per HTTP call (retries and read-backs included); a call with
no answer left fails the test with a message naming it. ``sent`` records every request as the
nested form Kartra would parse, with the three credentials removed.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

import attrs

from ._base_errors import NetworkError, UsageError
from ._codes import ERROR_CODES
from ._form import parse_query
from ._transport import RawResponse

__all__ = ["ScriptedTransport", "SentRequest", "error_reply", "success_reply"]

_CREDENTIALS = frozenset({"app_id", "api_key", "api_password"})
#: An answer: a reply to return, an exception to raise, or a function of the sent request.
Answer = RawResponse | BaseException | Callable[["SentRequest"], "RawResponse | BaseException"]


@attrs.frozen
class SentRequest:
    """One request the client sent: its form (credentials removed) and its cmds."""

    form: Mapping[str, Any]

    @property
    def cmds(self) -> tuple[str, ...]:
        """The ``cmd`` of each action, or ``("get_lead",)``."""
        if "get_lead" in self.form:
            return ("get_lead",)
        actions = self.form.get("actions")
        values = actions.values() if isinstance(actions, Mapping) else actions or ()
        return tuple(str(action.get("cmd", "")) for action in values if isinstance(action, dict))


class ScriptedTransport:
    """A ``Transport`` that answers from a queue and records what was sent."""

    url = "https://scripted.invalid/api"

    def __init__(self, *answers: Answer) -> None:
        self._answers: deque[Answer] = deque(answers)
        #: Every request sent so far, oldest first.
        self.sent: list[SentRequest] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<ScriptedTransport sent={len(self.sent)} queued={len(self._answers)}>"

    # --- building the script -----------------------------------------------------------------

    def reply(self, body: Mapping[str, Any] | str | bytes, status: int = 200) -> Self:
        """Queue an HTTP answer: a JSON object (encoded for you), or raw text or bytes."""
        if isinstance(body, Mapping):
            raw = json.dumps(body).encode()
        else:
            raw = body.encode() if isinstance(body, str) else bytes(body)
        self._answers.append(RawResponse(status, raw))
        return self

    def lose_reply(self) -> Self:
        """Queue a reply lost after the request left (a reset): the call may have run."""
        self._answers.append(NetworkError("connection reset (scripted)", may_have_been_sent=True))
        return self

    def refuse(self) -> Self:
        """Queue a refused connection: the request never left."""
        self._answers.append(
            NetworkError("connection refused (scripted)", may_have_been_sent=False)
        )
        return self

    def rate_limit(self, count: int = 1) -> Self:
        """Queue ``count`` HTTP 429 answers."""
        for _ in range(count):
            self.reply({"status": "Error", "message": "Too many requests"}, status=429)
        return self

    def then(self, answer: Answer) -> Self:
        """Queue any answer, e.g. a function of the ``SentRequest`` for a dynamic reply."""
        self._answers.append(answer)
        return self

    @property
    def pending(self) -> int:
        """Answers not used yet (assert 0 at the end of a test to check nothing was skipped)."""
        return len(self._answers)

    # --- the Transport protocol ------------------------------------------------------------

    async def post(self, body: bytes) -> RawResponse:
        """Record the request and return (or raise) the next scripted answer."""
        if self.closed:
            raise UsageError("the ScriptedTransport is closed")
        form = {str(k): v for k, v in parse_query(body).items() if k not in _CREDENTIALS}
        request = SentRequest(form)
        self.sent.append(request)
        if not self._answers:
            raise AssertionError(
                f"no scripted answer left for call {len(self.sent)} ({'+'.join(request.cmds)})"
            )
        answer = self._answers.popleft()
        if callable(answer) and not isinstance(answer, BaseException):
            answer = answer(request)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True


def success_reply(*cmds: str, lead_id: int | None = None, **data: Any) -> dict[str, Any]:
    """Kartra's success reply for a chain of ``cmds``: per-action results, the opener carrying
    ``lead_details`` when ``lead_id`` is given; ``data`` keys are added to the top level."""
    actions: list[dict[str, Any]] = []
    for index, cmd in enumerate(cmds):
        result: dict[str, Any] = {"status": "Success"}
        if index == 0 and lead_id is not None:
            result["lead_details"] = {"id": str(lead_id)}
        actions.append({cmd: result})
    return {"status": "Success", "actions": actions, **data}


def error_reply(
    code: int, message: str | None = None, *, cmds: Sequence[str] = ()
) -> dict[str, Any]:
    """Kartra's error reply for ``code`` (its documented message unless given); with ``cmds``,
    the failing chain's per-action results, the last one failing."""
    text = message or ERROR_CODES.get(code, ("Error", ""))[0]
    body: dict[str, Any] = {"status": "Error", "message": text, "type": str(code)}
    if cmds:
        body["actions"] = [{cmd: {"status": "Success"}} for cmd in cmds[:-1]]
        body["actions"].append({cmds[-1]: {"status": "Error", "message": text, "type": str(code)}})
    return body
