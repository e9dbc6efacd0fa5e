"""The one small async driver of settling flows: it runs a ``_settle`` flow against a sender.

The flow decides everything (what to send next, how long to wait, what the outcome is); the
driver only performs its steps: it passes each ``Send`` to ``send`` (the client's paced
``send_once``), sleeps through each ``Sleep``, and feeds the answers back. One log line per
retry and per read-back, at INFO, names the lead by id or email only when the caller allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ._builder import GetLead, WireCall
from ._errors import KartraError
from ._replies import Reply
from ._settle import Answer, Flow, Send

logger = logging.getLogger("kartra_async")

SendOnce = Callable[[WireCall], Awaitable[Reply]]
SleepFn = Callable[[float], Awaitable[None]]


async def drive(flow: Flow, send: SendOnce, sleep: SleepFn) -> Reply:
    """Run ``flow`` to its end: its final ``Reply``, or the ``KartraError`` it raises."""
    answer: Answer | None = None
    while True:
        try:
            step = flow.send(answer)
        except StopIteration as done:
            reply: Reply = done.value
            return reply
        if isinstance(step, Send):
            if step.purpose == "lookup":
                logger.info("reconciling: reading back %s", _who(step.call))
            try:
                answer = await send(step.call)
            except KartraError as exc:
                answer = exc
        else:
            logger.info(
                "retrying %s for %s after %s: %s (%s), in %.2f s",
                _what(step.call),
                _who(step.call),
                type(step.error).__name__,
                step.error,
                step.reason,
                step.seconds,
            )
            await sleep(step.seconds)
            answer = None


def _who(call: WireCall) -> str:
    if isinstance(call, GetLead):
        return f"id {call.id}" if call.id is not None else str(call.email)
    lead = getattr(call, "lead", None)
    return lead.key if lead is not None else "account"


def _what(call: WireCall) -> str:
    if isinstance(call, GetLead):
        return f"lead id {call.id}" if call.id is not None else "the lead by email"
    return "+".join(action.wire_cmd for action in call.actions)
