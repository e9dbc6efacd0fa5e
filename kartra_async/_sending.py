"""Settling one call: retries by idempotency, reconciliation of lost writes, and upsert.

Kartra has no idempotency keys, so a lost reply to a write is a question, not a failure: did
it happen? The answers (docs: "Retries by idempotency"):

- reads and set-state commands are resent;
- ``create_lead`` is *reconciled*: the lead is looked up by email; absent → the call never ran,
  so it is resent whole; present → it ran, so only the chain's safe actions are re-applied on a
  ``search`` chain;
- points and money moves are never resent: the caller gets ``OutcomeUnknown`` naming them
  (after the chain's safe actions were re-applied, so the lead id is still known).

The decisions themselves are pure (``_retry.decide``); this module only carries them out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from ._actions import Action, CreateCustomField, CreateLead, EditLead, SearchLead, UpsertLead
from ._builder import AccountCall, Call, GetLead, LeadCall, LeadRequest, lead_email
from ._errors import (
    KartraError,
    LeadAlreadyExists,
    LeadNotFound,
    MalformedReply,
    NetworkError,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    UsageError,
)
from ._hooks import reconcile_event, retry_event
from ._outcome import Trace
from ._replies import Reply
from ._retry import FailureKind, RetryBudget, Verdict, decide, strictest
from ._safety import Safety

if TYPE_CHECKING:
    from ._client import KartraClient

logger = logging.getLogger("kartra_async")

#: How many times a reconciliation may find "never ran" and resend before giving up.
MAX_RECONCILE_ROUNDS: Final = 3
#: Weight of the newest observation in the adaptive upsert's "lead already exists" rate.
UPSERT_SMOOTHING: Final = 0.1
_SAFE: Final = frozenset({Safety.READ, Safety.REPEATABLE})


def decision_safety(call: Call) -> Safety:
    """The safety the retry policy should treat ``call`` with.

    A lead chain whose writes can be checked (a create, a rename) or that carries safe actions
    besides never-replay ones is reconciled: the safe part is re-applied and only the
    never-replay actions are reported unknown.
    """
    if isinstance(call, GetLead):
        return Safety.READ
    safety = strictest(action.action_safety for action in call.actions)
    if isinstance(call, LeadCall) and safety is Safety.NEVER:
        opener = call.opener
        checkable = isinstance(opener, CreateLead) or (
            isinstance(opener, EditLead) and opener.new_email is not None
        )
        has_safe = any(action.action_safety in _SAFE for action in call.actions[1:])
        if checkable or has_safe:
            return Safety.RECONCILE
    renames = isinstance(call, LeadCall) and getattr(call.opener, "new_email", None) is not None
    if renames and safety is not Safety.NEVER:
        # Resending a rename after it landed finds no lead under the old email.
        return Safety.RECONCILE
    return safety


def _failure_kind(error: KartraError) -> FailureKind:
    if isinstance(error, RateLimited):
        return FailureKind.RATE_LIMITED
    if isinstance(error, NetworkError):
        return FailureKind.AMBIGUOUS if error.may_have_been_sent else FailureKind.NOT_SENT
    if isinstance(error, (ServerError, MalformedReply)):
        return FailureKind.AMBIGUOUS
    return FailureKind.API


class Sender:
    """Carries out the retry policy for one client. Shared by ``send`` and every stream worker."""

    def __init__(
        self,
        client: KartraClient,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self.budget = RetryBudget()
        self._rng = rng or random.Random()
        self._clock = clock
        self._sleep = sleep
        #: Smoothed share of upserts that found the lead already there.
        self.existing_rate = 0.0
        self._upserts_seen = 0

    async def send(self, call: Call, trace: Trace | None = None) -> Reply:
        """Settle ``call``: a ``Reply``, or the error that ends it."""
        _check_call(call)
        trace = trace if trace is not None else Trace()
        if isinstance(call, LeadCall) and isinstance(call.opener, UpsertLead):
            return await self._upsert(call, call.opener, trace)
        return await self._settle(call, trace, refresh_fields=False, rounds=0)

    async def recover(self, call: Call, trace: Trace | None = None) -> Reply:
        """Settle a call that may already have been sent by an earlier run that died mid-call.

        Reads and set-state chains are simply sent; creates and renames are reconciled first
        (looked up, resent only if absent); upserts run again with their safe actions; any
        never-replay action is left out and reported in ``OutcomeUnknown``.
        """
        _check_call(call)
        trace = trace if trace is not None else Trace()
        if isinstance(call, GetLead):
            return await self._settle(call, trace, refresh_fields=False, rounds=0)
        cause = OutcomeInterrupted()
        if isinstance(call, LeadCall) and isinstance(call.opener, UpsertLead):
            never = tuple(a.wire_cmd for a in call.actions[1:] if a.action_safety not in _SAFE)
            safe = tuple(a for a in call.actions[1:] if a.action_safety in _SAFE)
            reply = await self._upsert(
                LeadCall(lead=call.lead, actions=(call.opener, *safe)), call.opener, trace
            )
            if never:
                raise OutcomeUnknown(never, cause, email=call.lead.email, reply=reply)
            return reply
        safety = decision_safety(call)
        if safety in _SAFE:
            return await self._settle(call, trace, refresh_fields=False, rounds=0)
        if safety is Safety.NEVER:
            raise OutcomeUnknown(_unsafe_cmds(call), cause, email=lead_email(call))
        trace.reconciled = True
        return await self._reconcile(call, cause, trace, refresh_fields=False, rounds=1)

    async def _settle(
        self, call: Call, trace: Trace, *, refresh_fields: bool, rounds: int
    ) -> Reply:
        # Computed on the first failure only: most calls succeed at once and never need it.
        safety: Safety | None = None
        policy = self._client.retry_policy
        hooks = self._client.hooks
        started = self._clock()
        attempt = 0
        self.budget.record_first_attempt()
        while True:
            attempt += 1
            trace.calls += 1
            try:
                return await self._client._send_attempt(call, attempt)
            except (RateLimited, NetworkError, ServerError, MalformedReply) as exc:
                error: KartraError = exc
            if safety is None:
                safety = decision_safety(call)
            kind = _failure_kind(error)
            if kind is FailureKind.RATE_LIMITED:
                trace.rate_limited += 1
            decision = decide(
                kind, safety, attempt, self._clock() - started, policy, self.budget, self._rng
            )
            if decision.verdict is Verdict.RETRY:
                trace.retries += 1
                await hooks.emit(
                    retry_event(call, attempt, error, decision.delay, decision.reason, hooks)
                )
                logger.info(
                    "retrying %s for %s after %s (%s), in %.2f s",
                    _cmds(call),
                    lead_email(call) or "account",
                    type(error).__name__,
                    decision.reason,
                    decision.delay,
                )
                await self._sleep(decision.delay)
                continue
            if decision.verdict is Verdict.RECONCILE and rounds < MAX_RECONCILE_ROUNDS:
                trace.reconciled = True
                await hooks.emit(
                    reconcile_event(call, attempt, error, decision.reason, rounds + 1, hooks)
                )
                logger.info(
                    "reconciling %s for %s after %s: %s",
                    _cmds(call),
                    lead_email(call) or "account",
                    type(error).__name__,
                    decision.reason,
                )
                return await self._reconcile(
                    call, error, trace, refresh_fields=refresh_fields, rounds=rounds + 1
                )
            if decision.verdict in (Verdict.OUTCOME_UNKNOWN, Verdict.RECONCILE):
                raise OutcomeUnknown(_unsafe_cmds(call), error, email=lead_email(call)) from error
            raise error

    async def _reconcile(
        self, call: Call, cause: KartraError, trace: Trace, *, refresh_fields: bool, rounds: int
    ) -> Reply:
        if isinstance(call, AccountCall):
            return await self._reconcile_account(call, cause, trace, rounds)
        if not isinstance(call, LeadCall):  # GetLead is a read; it never gets here
            raise cause
        opener = call.opener
        never = tuple(a.wire_cmd for a in call.actions[1:] if a.action_safety not in _SAFE)
        safe = tuple(a for a in call.actions[1:] if a.action_safety in _SAFE)
        probe = None
        if isinstance(opener, CreateLead):
            probe = call.lead.email
        elif isinstance(opener, EditLead) and opener.new_email is not None:
            probe = opener.new_email
        try:
            reply = await self._reconcile_lead(
                call, probe, safe, trace, refresh_fields=refresh_fields, rounds=rounds
            )
        except (RateLimited, NetworkError, ServerError, MalformedReply, OutcomeUnknown) as exc:
            # The read-back (or the re-application) failed too: the first attempt may still
            # have landed, so this is not a plain failure of the call.
            logger.debug("reconciling %s failed: %s", _cmds(call), type(exc).__name__)
            raise OutcomeUnknown(_unsafe_cmds(call), cause, email=lead_email(call)) from exc
        if reply is None:
            # It never ran: the whole call was sent again and settled.
            return await self._settle(call, trace, refresh_fields=refresh_fields, rounds=rounds)
        if never:
            raise OutcomeUnknown(never, cause, email=lead_email(call), reply=reply) from cause
        return reply

    async def _reconcile_lead(
        self,
        call: LeadCall,
        probe: str | None,
        safe: tuple[Action, ...],
        trace: Trace,
        *,
        refresh_fields: bool,
        rounds: int,
    ) -> Reply | None:
        """Re-apply the safe part of ``call`` once its opener is known to have run.

        None when the lookup shows the opener never ran (the caller resends it whole).
        """
        if probe is None:
            logger.debug("reconciled %s: re-applying its safe actions", _cmds(call))
            follow = LeadCall(lead=call.lead, actions=(call.opener, *safe))
            return await self._settle(follow, trace, refresh_fields=False, rounds=rounds)
        found = await self._lookup(probe, trace)
        if found is None:
            logger.debug("reconciled %s: it never ran; sending it again", _cmds(call))
            return None
        logger.debug("reconciled %s: it ran; re-applying its safe actions", _cmds(call))
        if refresh_fields:
            # An upsert wants the fields set whether the lead is new or old: edit is repeatable.
            follow = LeadCall(lead=call.lead, actions=(EditLead(), *safe))
        elif safe:
            follow = LeadCall(lead=LeadRequest(email=probe), actions=(SearchLead(), *safe))
        else:
            # The lookup's reply already carries the lead's id: nothing is left to send.
            return found
        return await self._settle(follow, trace, refresh_fields=False, rounds=rounds)

    async def _reconcile_account(
        self, call: AccountCall, cause: KartraError, trace: Trace, rounds: int
    ) -> Reply:
        listing = AccountCall().retrieve_custom_fields()
        try:
            existing_reply = await self._settle(listing, trace, refresh_fields=False, rounds=rounds)
        except (RateLimited, NetworkError, ServerError, MalformedReply) as exc:
            logger.debug("reconciling %s failed: %s", _cmds(call), type(exc).__name__)
            raise OutcomeUnknown(_unsafe_cmds(call), cause) from exc
        existing = {definition.identifier for definition in existing_reply.custom_fields}
        remaining = tuple(
            action
            for action in call.actions
            if not (
                isinstance(action, CreateCustomField) and action.custom_field_identifier in existing
            )
        )
        if not remaining:
            logger.debug("reconciled %s: it had been applied", _cmds(call))
            return existing_reply
        logger.debug("reconciled %s: sending what is missing", _cmds(call))
        return await self._settle(
            AccountCall(actions=remaining), trace, refresh_fields=False, rounds=rounds
        )

    async def _lookup(self, email: str, trace: Trace) -> Reply | None:
        """``search_lead`` for ``email``: its reply, or None when no such lead exists."""
        try:
            return await self._settle(
                LeadRequest(email=email).search(), trace, refresh_fields=False, rounds=0
            )
        except LeadNotFound:
            return None

    # --- upsert ------------------------------------------------------------------------------

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

    async def _upsert(self, call: LeadCall, opener: UpsertLead, trace: Trace) -> Reply:
        rest = call.actions[1:]
        create = LeadCall(lead=call.lead, actions=(CreateLead(), *rest))
        edit = LeadCall(lead=call.lead, actions=(EditLead(), *rest))
        strategy = self.choose_strategy(opener.strategy)
        if strategy == "create-first":
            try:
                reply = await self._settle(create, trace, refresh_fields=True, rounds=0)
                existed = False
            except LeadAlreadyExists as exc:
                if exc.action_index not in (0, None):
                    raise
                reply = await self._settle(edit, trace, refresh_fields=False, rounds=0)
                existed = True
        else:
            try:
                reply = await self._settle(edit, trace, refresh_fields=False, rounds=0)
                existed = True
            except LeadNotFound as exc:
                if exc.action_index not in (0, None):
                    raise
                try:
                    reply = await self._settle(create, trace, refresh_fields=True, rounds=0)
                    existed = False
                except LeadAlreadyExists:
                    # Created by someone else between our two calls: edit after all.
                    reply = await self._settle(edit, trace, refresh_fields=False, rounds=0)
                    existed = True
        self._observe(existed)
        trace.upsert = "updated" if existed else "created"
        return reply


class OutcomeInterrupted(KartraError):
    """The cause recorded when a call was in flight in a run that was interrupted."""

    def __init__(self) -> None:
        super().__init__("the call was in flight when an earlier run was interrupted")


def _check_call(call: object) -> None:
    # Before any policy looks at it: a wrong object must fail as misuse, not as a crash inside.
    if not isinstance(call, (LeadCall, AccountCall, GetLead)):
        raise UsageError(
            f"cannot send a {type(call).__name__}; build a call with LeadRequest, AccountCall "
            "or GetLead"
        )


def _cmds(call: Call) -> str:
    if isinstance(call, GetLead):
        return "get_lead"
    return "+".join(action.wire_cmd for action in call.actions)


def _unsafe_cmds(call: Call) -> tuple[str, ...]:
    if isinstance(call, GetLead):
        return ("get_lead",)
    unsafe = tuple(a.wire_cmd for a in call.actions if a.action_safety not in _SAFE)
    return unsafe or tuple(a.wire_cmd for a in call.actions)
