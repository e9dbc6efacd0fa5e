"""Settling one call, sans I/O: retries, reconciliation of lost writes, upserts and recovery.

A *flow* is a generator in the style of httpx's ``auth_flow``: it yields the next step (a
:class:`Send` of one wire call, or a :class:`Sleep`) and receives, for each ``Send``, the
``Reply`` or the ``KartraError`` that the attempt produced. It returns the final ``Reply`` or
raises the error that ends the call. It never touches the network or the event loop, so every
rule below is a unit test over a scripted sequence of answers (``tests/engine/``); the driver
that runs flows against a real client is ``_driver.drive``.

Kartra has no idempotency keys and runs on PHP: a request whose reply we lost keeps running
and may commit *later*, after we have looked and found nothing. So the one invariant
(docs/kartra-api.md, "Retries by idempotency"):

* A never-replay action (points, money, bookings, an undeclared ``.then()``) is put on the wire
  at most once per call, across every path. Once an attempt carrying it *may have been sent*,
  it is *spent*: later attempts carry only the safe actions, and the outcome names the spent
  ones (``OutcomeUnknown.cmds``). Nothing a read-back finds can un-spend it, because a late
  commit can still land after the read-back.
* Reconciliation re-applies the safe actions only to a lead it can tell is this call's own:
  for a create, a lead whose ``date_joined`` is before the first attempt (less the clock
  skew allowed by the policy) existed all along, so the call ends as the 244 Kartra would have
  given, changing nothing; a rename never touches a lead that is not the one renamed. Where
  the evidence cannot tell, the outcome says so (``OutcomeUnknown``) and nothing is written.
* A 244 on the resend of a create after a read-back found nothing means the first attempt
  landed in between: settled as landed (safe actions re-applied by id, spent actions unknown).

How far a failed call got is its error's ``failure`` (``_errors.Failure``): after any attempt
that may have been applied, every way the call can still fail is reported as ``unknown``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from typing import Final, Literal, TypeGuard, cast

import attrs

from ._actions import Action, CreateCustomField, CreateLead, EditLead, SearchLead
from ._builder import (
    AccountCall,
    Call,
    GetLead,
    LeadCall,
    LeadRequest,
    UpsertCall,
    WireCall,
    lead_email,
)
from ._errors import (
    ConfigurationError,
    Failure,
    KartraError,
    LeadAlreadyExists,
    LeadNotFound,
    MalformedReply,
    NetworkError,
    OutcomeInterrupted,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    UsageError,
)
from ._replies import Reply
from ._retry import FailureKind, RetryBudget, RetryPolicy, Verdict, decide
from ._safety import Safety

__all__ = [
    "Answer",
    "Flow",
    "Reconciling",
    "Send",
    "Settler",
    "Sleep",
    "Trace",
]

#: How many read-back rounds one call may go through before its outcome is reported unknown.
MAX_RECONCILE_ROUNDS: Final = 3
#: Weight of the newest observation in the adaptive upsert's "lead already exists" rate.
UPSERT_SMOOTHING: Final = 0.1
#: ``date_joined`` has a resolution of one second.
_JOINED_RESOLUTION: Final = 1.0
_SAFE: Final = frozenset({Safety.READ, Safety.REPEATABLE})

Purpose = Literal["attempt", "retry", "lookup", "resend", "reapply", "fallback"]


@attrs.frozen
class Send:
    """Send ``call`` once (paced) and answer with its ``Reply`` or ``KartraError``."""

    call: WireCall
    #: Why: the first ``attempt``, a ``retry`` of the same call, a ``lookup`` (read-back), a
    #: ``resend`` after a read-back, a ``reapply`` of safe actions, an upsert ``fallback``.
    purpose: Purpose
    #: Which attempt at this call it is (1 = the first), for hooks, logs and spans.
    attempt: int = 1


@attrs.frozen
class Sleep:
    """Wait ``seconds`` before the next step (a backoff); ``error`` is what caused it."""

    seconds: float
    reason: str
    error: KartraError
    #: The call that will be sent again.
    call: WireCall
    #: The attempt that failed.
    attempt: int = 1


@attrs.frozen
class Reconciling:
    """A notice (answered with None): ``call`` may have been applied, so it is checked now.

    ``error`` is what left it in doubt; ``round`` counts read-back rounds from 1.
    """

    call: Call
    error: KartraError
    reason: str
    round: int = 1


Step = Send | Sleep | Reconciling
#: What the driver sends back into the flow after a ``Send``.
Answer = Reply | KartraError
Flow = Generator[Step, Answer | None, Reply]


@attrs.define
class Trace:
    """What it took to settle one call: HTTP calls made, retries, reconciliation, upsert path.

    Mutable and private to the one flow settling the call; frozen into the ``Outcome``.
    """

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    reconciled: bool = False
    #: For upserts: "created" or "updated" once known.
    upsert: str | None = None


def _is_safe(action: Action) -> bool:
    return action.action_safety in _SAFE


def _cmds(actions: Sequence[Action]) -> tuple[str, ...]:
    return tuple(action.wire_cmd for action in actions)


def _may_have_landed(answer: Answer) -> bool:
    return isinstance(answer, KartraError) and answer.failure is Failure.UNKNOWN


def _kind(error: KartraError) -> FailureKind:
    if isinstance(error, RateLimited):
        return FailureKind.RATE_LIMITED
    if isinstance(error, NetworkError):
        return FailureKind.AMBIGUOUS if error.may_have_been_sent else FailureKind.NOT_SENT
    if isinstance(error, (ServerError, MalformedReply)):
        return FailureKind.AMBIGUOUS
    return FailureKind.API


def _at_opener(error: Answer, kind: type[KartraError]) -> bool:
    """``error`` is ``kind`` raised by ``actions[0]`` (or by the call as a whole)."""
    return isinstance(error, kind) and getattr(error, "action_index", None) in (0, None)


def _ran_in(error: KartraError, actions: Sequence[Action], offset: int) -> set[int]:
    """Indexes (into ``actions``) of the actions a rejected chain's reply shows as applied.

    Kartra stops a chain at its first failure, but a chain that carries on past it has been
    reported by one integration: whatever the reply shows succeeded has been applied.
    """
    reply = getattr(error, "reply", None)
    if not isinstance(reply, Reply):
        return set()
    return {
        result.index - offset
        for result in reply.actions
        if result.ok and 0 <= result.index - offset < len(actions)
    }


@attrs.define
class _Call:
    """The bookkeeping of one call being settled."""

    trace: Trace
    started: float
    #: Unix time just before the first attempt (or when the interrupted run sent it).
    first_sent: float | None
    #: The first error after which the call may have been applied.
    cause: KartraError | None = None
    #: Never-replay actions that may have been sent.
    spent: tuple[Action, ...] = ()
    #: The lead's email, for messages.
    email: str | None = None


class Settler:
    """Builds the flows of one client: its retry policy, run-wide budget and upsert statistics.

    Pure apart from the injected clocks and random numbers: ``clock`` (monotonic, for
    deadlines), ``now`` (Unix time, compared with Kartra's ``date_joined``) and ``rng``
    (backoff jitter). ``stored_email`` maps an email to the address Kartra stores (identity in
    live mode; Test Mode rewrites domains), to compare a lead read back with a rename's
    addresses; the lookups themselves are mapped once, on the wire, by the client.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        budget: RetryBudget | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        stored_email: Callable[[str], str] = lambda email: email,
    ) -> None:
        self.policy = policy
        self.budget = budget if budget is not None else RetryBudget()
        self._rng = rng or random.Random()
        self._clock = clock
        self._now = now
        self._stored = stored_email
        #: Smoothed share of upserts that found the lead already there.
        self.existing_rate = 0.0
        self._upserts_seen = 0

    # --- entry points --------------------------------------------------------------------------

    def flow(self, call: Call, trace: Trace) -> Flow:
        """The flow settling a fresh ``call``."""
        self.budget.record_first_attempt()
        state = _Call(trace, self._clock(), self._now(), email=lead_email(call))
        if isinstance(call, UpsertCall):
            return self._upsert(call, state)
        return self._plain(call, state, None)

    # A fast path for the common case. Every fresh call but an upsert starts its flow with
    # ``Send(call, "attempt", 1)``, and a ``Reply`` to that first attempt is its final reply.
    # So a driver may make that first attempt itself (``first_attempt``) and build the flow
    # only when it fails (``after_first``): the same bookkeeping in the same order, the same
    # steps after the failure, and no generator or ``Send`` on the success path.

    @staticmethod
    def direct(call: Call) -> TypeGuard[WireCall]:
        """Whether ``call`` may take the ``first_attempt`` / ``after_first`` fast path."""
        return not isinstance(call, UpsertCall)

    def first_attempt(self, trace: Trace) -> tuple[float, float]:
        """What ``flow`` does up to its first ``Send`` (budget, clocks, the call counted).

        Returns the start and first-sent times ``after_first`` needs; the caller then sends
        the call as attempt 1 of purpose "attempt".
        """
        self.budget.record_first_attempt()
        started = self._clock()
        first_sent = self._now()
        trace.calls += 1
        return started, first_sent

    def after_first(
        self, call: Call, trace: Trace, times: tuple[float, float], answer: KartraError
    ) -> Flow:
        """The rest of a ``direct`` call's flow once its first attempt failed with ``answer``."""
        state = _Call(trace, times[0], times[1], email=lead_email(call))
        return self._plain(call, state, answer)

    def _plain(self, call: Call, state: _Call, first: KartraError | None) -> Flow:
        if isinstance(call, LeadCall):
            return self._lead(call, state, first)
        if isinstance(call, AccountCall):
            return self._account(call, state, first)
        return self._read(cast(WireCall, call), state, first)  # a GetLead

    def recover_flow(self, call: Call, trace: Trace, first_sent: datetime | None = None) -> Flow:
        """The flow settling a call that was in flight when an earlier run died.

        ``first_sent`` is when that run sent it (from its journal), the evidence that tells a
        lead it created from one that existed before. The dead run's request is assumed to have
        finished long ago: a lead that is still absent means it never landed, so the call is
        sent whole. Never-replay actions of a call that did land are reported unknown.
        """
        self.budget.record_first_attempt()
        sent = first_sent.timestamp() if first_sent is not None else None
        state = _Call(
            trace, self._clock(), sent, cause=OutcomeInterrupted(), email=lead_email(call)
        )
        if isinstance(call, GetLead):
            return self._read(call, state)
        if isinstance(call, AccountCall):
            return self._recover_account(call, state)
        if isinstance(call, UpsertCall):
            return self._recover_upsert(call, state)
        return self._recover_lead(call, state)

    # --- sending with retries ---------------------------------------------------------------

    def _attempts(
        self,
        call: WireCall,
        state: _Call,
        purpose: Purpose,
        *,
        repeatable: bool,
        first: KartraError | None = None,
    ) -> Generator[Step, Answer | None, Answer]:
        """Send ``call`` until it is answered or may have been applied; return the last answer.

        Failures before anything ran (a 429, a refused connection) are retried by the policy.
        A failure after the request may have left is retried only when ``repeatable`` (the
        call is safe to send again); otherwise it is returned for the caller to settle.
        ``first``: the answer to attempt 1, already sent and counted by the driver
        (``Settler.after_first``).
        """
        attempt = 0
        while True:
            attempt += 1
            answer: Answer | None
            if first is not None:
                answer, first = first, None
            else:
                state.trace.calls += 1
                answer = yield Send(call, purpose if attempt == 1 else "retry", attempt)
            if not isinstance(answer, KartraError):
                if answer is None:
                    raise UsageError("a flow's Send must be answered with a Reply or an error")
                return answer
            if isinstance(answer, ConfigurationError):
                raise answer
            kind = _kind(answer)
            if kind is FailureKind.RATE_LIMITED:
                state.trace.rate_limited += 1
            if kind is FailureKind.API or isinstance(answer, UsageError):
                return answer
            if kind is FailureKind.AMBIGUOUS and not repeatable:
                return answer
            decision = decide(
                kind,
                Safety.REPEATABLE,
                attempt,
                self._clock() - state.started,
                self.policy,
                self.budget,
                self._rng,
            )
            if decision.verdict is not Verdict.RETRY:
                return answer
            state.trace.retries += 1
            yield Sleep(decision.delay, decision.reason, answer, call, attempt)

    def _safe_send(
        self, call: WireCall, state: _Call, purpose: Purpose, first: KartraError | None = None
    ) -> Generator[Step, Answer | None, Reply]:
        """Send a read or set-state call (resent freely); raise its final error."""
        answer = yield from self._attempts(call, state, purpose, repeatable=True, first=first)
        if isinstance(answer, KartraError):
            raise self._final(answer, state, _writes_of(call))
        return answer

    def _final(
        self,
        error: KartraError,
        state: _Call,
        in_doubt: Sequence[str],
        reply: Reply | None = None,
    ) -> KartraError:
        """The error that ends a call: ``OutcomeUnknown`` once something may have been applied."""
        if not in_doubt or (state.cause is None and error.failure is not Failure.UNKNOWN):
            return error
        cause = state.cause if state.cause is not None else error
        return OutcomeUnknown(tuple(in_doubt), cause, email=state.email, reply=reply)

    # --- reads and account calls -----------------------------------------------------------

    def _read(self, call: WireCall, state: _Call, first: KartraError | None = None) -> Flow:
        return (yield from self._safe_send(call, state, "attempt", first))

    def _account(self, call: AccountCall, state: _Call, first: KartraError | None = None) -> Flow:
        actions = call.actions
        if all(_is_safe(action) for action in actions):
            return (yield from self._safe_send(call, state, "attempt", first))
        answer = yield from self._attempts(call, state, "attempt", repeatable=False, first=first)
        if isinstance(answer, Reply):
            return answer
        if not _may_have_landed(answer):
            raise answer
        state.cause = answer
        return (yield from self._reconcile_account(call, state))

    def _recover_account(self, call: AccountCall, state: _Call) -> Flow:
        if all(_is_safe(action) for action in call.actions):
            return (yield from self._safe_send(call, state, "attempt"))
        return (yield from self._reconcile_account(call, state))

    def _reconcile_account(self, call: AccountCall, state: _Call) -> Flow:
        never = [action for action in call.actions if action.action_safety is Safety.NEVER]
        if never:
            raise _unknown(state, _cmds(never))
        state.trace.reconciled = True
        creates = [a for a in call.actions if isinstance(a, CreateCustomField)]
        for round_ in range(1, MAX_RECONCILE_ROUNDS + 1):
            yield from _announce(call, state, "created custom fields are listed", round_)
            listing = yield from self._attempts(
                AccountCall().retrieve_custom_fields(), state, "lookup", repeatable=True
            )
            if isinstance(listing, KartraError):
                raise _unknown(state, _cmds(creates))
            existing = {definition.identifier for definition in listing.custom_fields}
            remaining = tuple(
                action
                for action in call.actions
                if not (
                    isinstance(action, CreateCustomField)
                    and action.custom_field_identifier in existing
                )
            )
            if not remaining:
                return listing
            answer = yield from self._attempts(
                AccountCall(actions=remaining), state, "resend", repeatable=False
            )
            if isinstance(answer, Reply):
                return answer
            if not _may_have_landed(answer):
                raise self._final(answer, state, _cmds(creates))
        raise _unknown(state, _cmds(creates))

    # --- lead calls ----------------------------------------------------------------------------

    def _lead(self, call: LeadCall, state: _Call, first: KartraError | None = None) -> Flow:
        rest = call.actions[1:]
        checkable = _creates(call) or _renames(call)
        repeatable = not checkable and all(_is_safe(action) for action in rest)
        if repeatable:
            return (yield from self._safe_send(call, state, "attempt", first))
        answer = yield from self._attempts(call, state, "attempt", repeatable=False, first=first)
        if isinstance(answer, Reply):
            return answer
        if not _may_have_landed(answer):
            raise answer
        state.cause = answer
        state.spent = tuple(action for action in rest if not _is_safe(action))
        return (yield from self._reconcile_lead(call, state, late=True))

    def _recover_lead(self, call: LeadCall, state: _Call) -> Flow:
        return (yield from self._reconcile_lead(call, state, late=False))

    def _reconcile_lead(self, call: LeadCall, state: _Call, *, late: bool) -> Flow:
        """Settle a lead call whose attempt may have been applied (or was in flight at a crash).

        ``late``: the lost attempt may still commit later (a live run), so a read-back that
        finds nothing proves nothing about never-replay actions. After a crash it has long
        finished: such a call is simply sent again, whole.
        """
        state.trace.reconciled = True
        if not late:
            # Everything of the dead run's request is in doubt until a read-back says otherwise.
            state.spent = tuple(action for action in call.actions[1:] if not _is_safe(action))
        if _creates(call):
            return (yield from self._reconcile_create(call, state, late=late))
        if _renames(call):
            return (yield from self._reconcile_rename(call, state, late=late))
        # search/edit by id or email: the opener is safe, only never-replay actions are spent.
        return (yield from self._resend(call, state))

    def _resend(self, call: LeadCall, state: _Call, *, announced: bool = False) -> Flow:
        """Send the call again without its spent actions, as long as attempts stay ambiguous."""
        never = tuple(action for action in call.actions[1:] if not _is_safe(action))
        for round_ in range(1, MAX_RECONCILE_ROUNDS + 1):
            actions = _without(call.actions, state.spent)
            if len(actions) == 1 and isinstance(actions[0], SearchLead):
                # Nothing left to apply: a bare search would only cost a call.
                raise _unknown(state, _cmds(state.spent))
            if round_ > 1 or not announced:
                yield from _announce(call, state, "sent again without its spent actions", round_)
            resend = LeadCall(lead=call.lead, actions=actions)
            answer = yield from self._attempts(resend, state, "resend", repeatable=False)
            if isinstance(answer, Reply):
                return self._finish(answer, state)
            if not _may_have_landed(answer):
                raise self._final(answer, state, _cmds(state.spent))
            state.spent = never
        raise _unknown(state, _cmds(call.actions))

    def _reconcile_create(self, call: LeadCall, state: _Call, *, late: bool) -> Flow:
        email = call.lead.email
        assert email is not None  # LeadCall guarantees it for create_lead
        safe = tuple(action for action in call.actions[1:] if _is_safe(action))
        for round_ in range(1, MAX_RECONCILE_ROUNDS + 1):
            yield from _announce(call, state, "the lead is read back", round_)
            found = yield from self._lookup(GetLead(email=email), state, _cmds(call.actions))
            if found is None:
                # Absent now. Live: the lost attempt may still land, so spent stays spent.
                # After a crash: it never landed, so the call goes out whole.
                actions = call.actions if not late else (call.actions[0], *_not_spent(call, state))
                if not late:
                    state.spent = ()
                answer = yield from self._attempts(
                    LeadCall(lead=call.lead, actions=actions), state, "resend", repeatable=False
                )
                if isinstance(answer, Reply):
                    return self._finish(answer, state)
                if _at_opener(answer, LeadAlreadyExists):
                    # Absent at the read-back, present now: the lost attempt landed meanwhile.
                    if not late:
                        state.spent = tuple(a for a in call.actions[1:] if not _is_safe(a))
                    return (yield from self._reapply(call.lead, safe, state, by_email=email))
                if _may_have_landed(answer):
                    if not late:
                        state.spent = tuple(a for a in call.actions[1:] if not _is_safe(a))
                        late = True
                    continue
                raise self._final(answer, state, _cmds(state.spent))
            whose = self._whose(found, state)
            if whose == "before":
                # Existed before our first attempt: Kartra answered (or would answer) 244.
                raise LeadAlreadyExists(
                    244,
                    "Lead already exists",
                    cmd="create_lead",
                    action_index=0,
                    email=email,
                    reply=None,
                )
            if whose == "unclear":
                raise _unknown(state, _cmds(call.actions), found)
            return (yield from self._reapply(call.lead, safe, state, found=found))
        raise _unknown(state, _cmds(call.actions))

    def _reconcile_rename(self, call: LeadCall, state: _Call, *, late: bool) -> Flow:
        opener = call.opener
        assert isinstance(opener, EditLead)
        assert opener.new_email is not None
        yield from _announce(call, state, "the lead is read back", 1)
        new = self._stored(opener.new_email).casefold()
        safe = tuple(action for action in call.actions[1:] if _is_safe(action))
        lead = call.lead
        doubt = _cmds(call.actions)
        if lead.id is not None:
            found = yield from self._lookup(GetLead(id=lead.id), state, doubt)
            current = _profile_email(found)
            if found is not None and current == new:
                return (yield from self._reapply(lead, safe, state, found=found))
            was = self._stored(lead.email).casefold() if lead.email is not None else None
            if found is None or (was is not None and current == was):
                return (
                    yield from self._resend(call, self._not_landed(state, late), announced=True)
                )
            raise _unknown(state, doubt, found)
        assert lead.email is not None
        old = yield from self._lookup(GetLead(email=lead.email), state, doubt)
        if old is not None:
            # The old address still names a lead: the rename has not landed.
            return (yield from self._resend(call, self._not_landed(state, late), announced=True))
        renamed = yield from self._lookup(GetLead(email=opener.new_email), state, doubt)
        if renamed is None:
            # Neither address exists: the rename cannot have landed; Kartra will say 243.
            return (yield from self._resend(call, self._not_landed(state, late), announced=True))
        # The new address belongs to a lead, which may not be ours: never touch it.
        raise _unknown(state, doubt, renamed)

    @staticmethod
    def _not_landed(state: _Call, late: bool) -> _Call:
        """A read-back shows the lost attempt has not landed. Live, it still may (spent stays
        spent); after a crash it never will, so nothing is spent."""
        if not late:
            state.spent = ()
        return state

    def _lookup(
        self, call: GetLead, state: _Call, doubt: Sequence[str]
    ) -> Generator[Step, Answer | None, Reply | None]:
        """Read a lead back: its reply, None when absent. A read-back that fails ends the
        call with ``doubt`` (what may have been applied) reported unknown."""
        answer = yield from self._attempts(call, state, "lookup", repeatable=True)
        if isinstance(answer, Reply):
            return answer
        if isinstance(answer, LeadNotFound):
            return None
        raise _unknown(state, doubt)

    def _whose(self, found: Reply, state: _Call) -> Literal["ours", "before", "unclear"]:
        """Whether a lead found after a lost create is this call's own, by its join date."""
        try:
            joined = found.lead.date_joined
        except KartraError:
            return "unclear"
        first = state.first_sent
        if joined is None or first is None:
            return "unclear"
        when = joined.timestamp()
        if when < first - self.policy.clock_skew:
            return "before"
        if when >= first - _JOINED_RESOLUTION:
            return "ours"
        return "unclear"

    def _reapply(
        self,
        lead: LeadRequest,
        safe: tuple[Action, ...],
        state: _Call,
        *,
        found: Reply | None = None,
        by_email: str | None = None,
    ) -> Flow:
        """The opener landed: put the safe actions on again, by the lead's id when known."""
        lead_id = found.lead_id if found is not None else None
        if not safe and found is not None:
            return self._finish(found, state)
        # By id when known (it wins over the email at Kartra); the email keeps logs readable.
        target = LeadRequest(id=lead_id, email=by_email or lead.email)
        answer = yield from self._attempts(
            LeadCall(lead=target, actions=(SearchLead(), *safe)), state, "reapply", repeatable=True
        )
        if isinstance(answer, Reply):
            return self._finish(answer, state)
        raise _unknown(state, (*_cmds(state.spent), *_cmds(safe)), found)

    def _finish(self, reply: Reply, state: _Call) -> Reply:
        """The call is settled; spent actions, if any, are reported in doubt with the reply."""
        if state.spent:
            raise _unknown(state, _cmds(state.spent), reply)
        return reply

    # --- upsert --------------------------------------------------------------------------------

    def choose_strategy(self, requested: str) -> str:
        """The strategy an upsert will use: the requested one, or the cheaper one by hit rate."""
        if requested != "adaptive":
            return requested
        return "edit-first" if self.existing_rate > 0.5 else "create-first"

    def _observe(self, existed: bool) -> None:
        # A plain mean until there are enough observations for the moving average, so the
        # first few upserts already steer the choice instead of pulling it from 0 slowly.
        self._upserts_seen += 1
        weight = max(UPSERT_SMOOTHING, 1.0 / self._upserts_seen)
        self.existing_rate += weight * (float(existed) - self.existing_rate)

    def _label(self, state: _Call, label: Literal["created", "updated"] | None) -> None:
        state.trace.upsert = label
        if label is not None:
            self._observe(label == "updated")

    def _upsert(self, call: UpsertCall, state: _Call) -> Flow:
        email = call.lead.email
        assert email is not None
        order = ["create", "edit"]
        if self.choose_strategy(call.strategy) == "edit-first":
            order.reverse()
        actions = call.actions
        tried: list[str] = []
        last: KartraError = UsageError("an upsert needs at least one attempt")
        # create then edit (or edit then create), and once more if a concurrent writer raced us.
        for step in (*order, order[0]):
            first_try = not tried
            wire = (
                LeadCall(lead=call.lead, actions=(CreateLead(), *actions))
                if step == "create"
                else LeadCall(lead=call.lead, actions=(EditLead(), *actions))
            )
            answer = yield from self._attempts(
                wire, state, "attempt" if first_try else "fallback", repeatable=False
            )
            tried.append(step)
            if isinstance(answer, Reply):
                self._label(state, "created" if step == "create" else "updated")
                return answer
            if _may_have_landed(answer):
                state.cause = answer
                state.spent = tuple(a for a in actions if not _is_safe(a))
                return (yield from self._reconcile_upsert(call, state, late=True))
            fell_through = (step == "create" and _at_opener(answer, LeadAlreadyExists)) or (
                step == "edit" and _at_opener(answer, LeadNotFound)
            )
            if not fell_through:
                raise answer
            # The opener failed, so nothing of the chain should have run; if a reply shows
            # a never-replay action applied anyway, it must not be sent again.
            ran = _ran_in(answer, wire.actions[1:], 1)
            actions = tuple(a for i, a in enumerate(actions) if _is_safe(a) or i not in ran)
            last = answer
        raise last

    def _recover_upsert(self, call: UpsertCall, state: _Call) -> Flow:
        state.spent = tuple(a for a in call.actions if not _is_safe(a))
        return (yield from self._reconcile_upsert(call, state, late=False))

    def _reconcile_upsert(self, call: UpsertCall, state: _Call, *, late: bool) -> Flow:
        """An upsert's attempt may have landed: find the lead, then edit it or create it."""
        state.trace.reconciled = True
        email = call.lead.email
        assert email is not None
        safe = tuple(a for a in call.actions if _is_safe(a))
        for round_ in range(1, MAX_RECONCILE_ROUNDS + 1):
            yield from _announce(call, state, "the lead is read back", round_)
            found = yield from self._lookup(
                GetLead(email=email), state, ("edit_lead", *_cmds(call.actions))
            )
            if found is None:
                # After a crash the dead attempt never landed: the whole upsert goes out again.
                actions = call.actions if not late else safe
                if not late:
                    state.spent = ()
                answer = yield from self._attempts(
                    LeadCall(lead=call.lead, actions=(CreateLead(), *actions)),
                    state,
                    "resend",
                    repeatable=False,
                )
                if isinstance(answer, Reply):
                    self._label(state, "created")
                    return self._finish(answer, state)
                if _may_have_landed(answer) or _at_opener(answer, LeadAlreadyExists):
                    if not late:
                        state.spent = tuple(a for a in call.actions if not _is_safe(a))
                        late = True
                    continue
                raise self._final(answer, state, _cmds(state.spent))
            whose = self._whose(found, state)
            self._label(state, {"ours": "created", "before": "updated", "unclear": None}[whose])
            edit = LeadCall(lead=call.lead, actions=(EditLead(), *safe))
            answer = yield from self._attempts(edit, state, "reapply", repeatable=True)
            if isinstance(answer, Reply):
                return self._finish(answer, state)
            raise self._final(answer, state, (*_cmds(state.spent), "edit_lead", *_cmds(safe)))
        raise _unknown(state, ("edit_lead", *_cmds(call.actions)))


def _announce(
    call: Call, state: _Call, reason: str, round_: int
) -> Generator[Step, Answer | None, None]:
    """Tell the driver (logs, hooks) that ``call`` is being reconciled, and why."""
    cause = state.cause if state.cause is not None else OutcomeInterrupted()
    yield Reconciling(call, cause, reason, round_)


def _unknown(state: _Call, cmds: Sequence[str], reply: Reply | None = None) -> OutcomeUnknown:
    cause = state.cause if state.cause is not None else OutcomeInterrupted()
    return OutcomeUnknown(tuple(cmds), cause, email=state.email, reply=reply)


def _creates(call: LeadCall) -> bool:
    return isinstance(call.opener, CreateLead)


def _renames(call: LeadCall) -> bool:
    opener = call.opener
    return isinstance(opener, EditLead) and opener.new_email is not None


def _without(actions: tuple[Action, ...], spent: tuple[Action, ...]) -> tuple[Action, ...]:
    """``actions`` minus the spent ones (by identity: a chain may repeat an equal action)."""
    spent_ids = {id(action) for action in spent}
    return tuple(action for action in actions if id(action) not in spent_ids)


def _not_spent(call: LeadCall, state: _Call) -> tuple[Action, ...]:
    return _without(call.actions[1:], state.spent)


def _writes_of(call: WireCall) -> tuple[str, ...]:
    """The cmds of a call that change something (what a lost reply leaves in doubt)."""
    if isinstance(call, GetLead):
        return ()
    return tuple(a.wire_cmd for a in call.actions if a.action_safety is not Safety.READ)


def _profile_email(found: Reply | None) -> str | None:
    if found is None:
        return None
    try:
        email = found.lead.email
    except KartraError:
        return None
    return email.casefold() if email else None
