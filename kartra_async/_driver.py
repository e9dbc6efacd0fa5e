"""The one small async driver of settling flows: it runs a ``_settle`` flow against a sender.

The flow decides everything (what to send next, how long to wait, what the outcome is); the
driver only performs its steps: it passes each ``Send`` to ``send`` (the client's paced
attempt), sleeps through each ``Sleep``, reports each ``Reconciling`` notice, and feeds the
answers back. Retries and reconciliations each log one line at INFO and reach the client's
event hooks; a lead is named by its id, by its email only when the client allows emails.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ._builder import Call, GetLead, WireCall
from ._errors import KartraError
from ._hooks import Hooks, reconcile_event, retry_event
from ._replies import Reply
from ._settle import Answer, Flow, Reconciling, Send

logger = logging.getLogger("kartra_async")

#: ``send(call, attempt)``: one paced attempt on the wire.
SendAttempt = Callable[[WireCall, int], Awaitable[Reply]]
SleepFn = Callable[[float], Awaitable[None]]


async def drive(flow: Flow, send: SendAttempt, sleep: SleepFn, hooks: Hooks | None = None) -> Reply:
    """Run ``flow`` to its end: its final ``Reply``, or the ``KartraError`` it raises."""
    answer: Answer | None = None
    while True:
        try:
            step = flow.send(answer)
        except StopIteration as done:
            reply: Reply = done.value
            return reply
        if isinstance(step, Send):
            try:
                answer = await send(step.call, step.attempt)
            except KartraError as exc:
                answer = exc
            continue
        answer = None
        if isinstance(step, Reconciling):
            logger.info(
                "reconciling %s for %s after %s: %s (%s)",
                _what(step.call),
                _who(step.call, hooks),
                type(step.error).__name__,
                step.error,
                step.reason,
            )
            if hooks is not None and hooks.wants("reconcile"):
                notice = reconcile_event(step.call, 1, step.error, step.reason, step.round, hooks)
                await hooks.emit(notice)
            continue
        logger.info(
            "retrying %s for %s after %s: %s (%s), in %.2f s",
            _what(step.call),
            _who(step.call, hooks),
            type(step.error).__name__,
            step.error,
            step.reason,
            step.seconds,
        )
        if hooks is not None and hooks.wants("retry"):
            event = retry_event(
                step.call, step.attempt, step.error, step.seconds, step.reason, hooks
            )
            await hooks.emit(event)
        await sleep(step.seconds)


def _who(call: Call, hooks: Hooks | None) -> str:
    """The lead, for a log line: its id, else its email if the client may show emails."""
    if isinstance(call, GetLead):
        lead_id, email = call.id, call.email
    else:
        lead = getattr(call, "lead", None)
        if lead is None:
            return "the account"
        lead_id, email = lead.id, lead.email
    if lead_id is not None:
        return f"lead {lead_id}"
    shown = hooks.email(email) if hooks is not None else None
    return shown if shown is not None else "a lead by email"


def _what(call: Call) -> str:
    if isinstance(call, GetLead):
        return "get_lead"
    return "+".join(action.wire_cmd for action in call.actions) or "upsert"
