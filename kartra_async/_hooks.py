"""Event hooks: typed, frozen records of what a client does, handed to the caller's callables.

In the style of httpx's ``event_hooks``: ``KartraClient(event_hooks={"reply_decoded": [f]})``
maps an event name to a list of callables, each taking the event and returning ``None`` or an
awaitable. Five events exist:

============== =================== ==========================================================
name           value               when
============== =================== ==========================================================
request_sent   :class:`RequestSent`  a call's body is about to be posted (its pacer slot won)
reply_decoded  :class:`ReplyDecoded` the attempt ended: a reply decoded, or an error raised
retry          :class:`Retry`        a failed attempt will be sent again after ``delay``
reconcile      :class:`Reconcile`    a lost write is checked by reading back (create, rename)
pacer_pause    :class:`PacerPause`   a 429 paused every caller of the pacer
============== =================== ==========================================================

Hooks observe; they never steer. An exception raised by a hook is logged and swallowed: once a
write was posted, turning a hook's failure into the call's failure would make a landed write
look lost and invite a duplicate. No event carries an email unless the client was built with
``log_emails=True``; lead ids are used instead.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final, TypeAlias

import attrs

from ._builder import Call, GetLead, lead_email
from ._errors import UsageError

__all__ = [
    "EVENT_NAMES",
    "EventHook",
    "EventHooks",
    "HookEvent",
    "Hooks",
    "PacerPause",
    "Reconcile",
    "ReplyDecoded",
    "RequestSent",
    "Retry",
    "call_cmds",
    "reconcile_event",
    "retry_event",
]

logger = logging.getLogger("kartra_async")


@attrs.frozen
class RequestSent:
    """A call's body is about to be posted (after the pacer let it through)."""

    #: The call's wire commands joined by ``+`` (``create_lead+assign_tag``, ``get_lead``).
    cmd: str
    #: 1 for the first attempt of a call, 2 for its first retry, and so on.
    attempt: int
    #: The lead's id when the call names one (``GetLead(id=...)``), else None.
    lead_id: int | None = None
    #: The lead's email, only when the client was built with ``log_emails=True``.
    email: str | None = None


@attrs.frozen
class ReplyDecoded:
    """One attempt ended: Kartra's reply was decoded, or the attempt failed on the way."""

    cmd: str
    attempt: int
    #: HTTP status of the reply; None when no reply arrived (a network error or timeout).
    status: int | None
    #: Kartra's numeric message ``type`` (None on a plain success and when no reply arrived).
    kartra_type: int | None
    #: Seconds from posting the body to the decoded reply (or the failure).
    elapsed: float
    #: The lead's id from the reply (or from the call), when known.
    lead_id: int | None = None
    #: The error's class name (``LeadNotFound``, ``RequestTimeout``…) when the attempt failed.
    error: str | None = None
    email: str | None = None

    @property
    def ok(self) -> bool:
        """True when the attempt produced a successful reply."""
        return self.error is None


@attrs.frozen
class Retry:
    """A failed attempt will be sent again after ``delay`` seconds."""

    cmd: str
    #: The attempt that failed (the retry will be ``attempt + 1``).
    attempt: int
    #: The error's class name.
    error: str
    #: Seconds the sender waits before the next attempt.
    delay: float
    #: Why the retry policy allowed it (``"read"``, ``"rate limited"``…).
    reason: str
    email: str | None = None


@attrs.frozen
class Reconcile:
    """A write whose reply was lost is checked by reading the lead (or the fields) back."""

    cmd: str
    attempt: int
    error: str
    reason: str
    #: Which reconciliation round this is (1 for the first).
    round: int
    email: str | None = None


@attrs.frozen
class PacerPause:
    """Kartra answered 429 and the pacer paused every caller."""

    cmd: str
    attempt: int
    #: Calls per second before and after the pacer lowered its rate.
    rate_before: float
    rate_after: float
    #: How many 429s the pacer has seen so far, and how many pauses they started.
    rate_limited: int
    pauses: int


HookEvent: TypeAlias = RequestSent | ReplyDecoded | Retry | Reconcile | PacerPause
EventHook: TypeAlias = Callable[[HookEvent], Awaitable[None] | None]
EventHooks: TypeAlias = Mapping[str, Sequence[EventHook]]

#: The event name each value type is delivered under.
EVENT_NAMES: Final[Mapping[type, str]] = {
    RequestSent: "request_sent",
    ReplyDecoded: "reply_decoded",
    Retry: "retry",
    Reconcile: "reconcile",
    PacerPause: "pacer_pause",
}
_KNOWN: Final = frozenset(EVENT_NAMES.values())


class Hooks:
    """A client's event hooks; ``emit`` is the one entry point every layer calls."""

    __slots__ = ("_by_name", "log_emails")

    def __init__(self, event_hooks: EventHooks | None = None, *, log_emails: bool = False) -> None:
        by_name: dict[str, tuple[EventHook, ...]] = {}
        if event_hooks is not None:
            if not isinstance(event_hooks, Mapping):
                raise UsageError("event_hooks: must be a mapping of event name to callables")
            for name, hooks in event_hooks.items():
                if name not in _KNOWN:
                    raise UsageError(
                        f"event_hooks: unknown event {name!r}; known: {', '.join(sorted(_KNOWN))}"
                    )
                if isinstance(hooks, (str, bytes)) or not isinstance(hooks, Sequence):
                    raise UsageError(f"event_hooks[{name!r}]: must be a list of callables")
                for hook in hooks:
                    if not callable(hook):
                        raise UsageError(f"event_hooks[{name!r}]: {hook!r} is not callable")
                if hooks:
                    by_name[name] = tuple(hooks)
        self._by_name = by_name
        self.log_emails = log_emails

    def __repr__(self) -> str:
        return f"Hooks({', '.join(sorted(self._by_name)) or 'none'})"

    @property
    def active(self) -> bool:
        """True when any hook is registered."""
        return bool(self._by_name)

    def wants(self, name: str) -> bool:
        """True when at least one hook listens to ``name`` (lets callers skip building events)."""
        return name in self._by_name

    def email(self, email: str | None) -> str | None:
        """``email`` when the client may show emails, else None."""
        return email if self.log_emails else None

    async def emit(self, event: HookEvent) -> None:
        """Deliver ``event`` to every hook listening to its name, in order."""
        for hook in self._by_name.get(EVENT_NAMES[type(event)], ()):
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("an event hook failed on %s", type(event).__name__)


def call_cmds(call: Call) -> str:
    """A call's wire commands joined by ``+``, as events, log lines and spans name it."""
    if isinstance(call, GetLead):
        return "get_lead"
    return "+".join(action.wire_cmd for action in call.actions)


def retry_event(
    call: Call, attempt: int, error: BaseException, delay: float, reason: str, hooks: Hooks
) -> Retry:
    """The ``retry`` event for ``call``'s failed ``attempt`` (built by the retry loop)."""
    return Retry(
        call_cmds(call), attempt, type(error).__name__, delay, reason, hooks.email(lead_email(call))
    )


def reconcile_event(
    call: Call, attempt: int, error: BaseException, reason: str, round: int, hooks: Hooks
) -> Reconcile:
    """The ``reconcile`` event for ``call`` once its lost write is to be checked."""
    return Reconcile(
        call_cmds(call),
        attempt,
        type(error).__name__,
        reason,
        round,
        hooks.email(lead_email(call)),
    )
