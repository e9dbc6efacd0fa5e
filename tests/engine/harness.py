"""Drive settling flows without I/O: scripted answers, or the sandbox's own engine in memory.

``Kartra`` runs each sent call through the sandbox's pure ``process`` (the same code the HTTP
sandbox serves) against an in-memory account, with a fate per call: answered, lost before
the commit, lost after it, or committed *later* (after some more calls), as a PHP request that
outlived its client would. The account it ends with is the independent judge of a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Literal

import attrs

from kartra_async import Credentials, KartraError, NetworkError, RateLimited, RetryPolicy, decode
from kartra_async._builder import WireCall
from kartra_async._form import parse_query
from kartra_async._protocol import Encoder
from kartra_async._replies import Reply
from kartra_async._settle import Answer, Flow, Reconciling, Send, Settler, Sleep, Trace
from kartra_async.sandbox import SandboxAccount, SandboxCredentials, default_account, process

Fate = Literal["ok", "lost_before", "lost_after", "late", "rate_limited", "refused"]
FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)
CREDENTIALS = SandboxCredentials("app-test", "key-test", "pw-test")


@attrs.define
class Clock:
    """One fake clock for both sides: Kartra's ``date_joined`` and the client's wall time."""

    seconds: float = 1_900_000_000.0

    def tick(self, by: float = 1.0) -> None:
        self.seconds += by

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.seconds, UTC)


class Kartra:
    """The sandbox engine in memory, with fates for each call and late commits."""

    def __init__(self, account: SandboxAccount | None = None, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.account = account or default_account(now=lambda: self.clock.seconds)
        self.account.now = lambda: self.clock.seconds
        self._encoder = Encoder(
            Credentials(CREDENTIALS.app_id, CREDENTIALS.api_key, CREDENTIALS.api_password)
        )
        #: Every call put on the wire, in order.
        self.sent: list[WireCall] = []
        #: Late commits waiting: [calls left before it lands, form].
        self._late: list[list[object]] = []

    def settler(self, policy: RetryPolicy = FAST) -> Settler:
        return Settler(policy, now=lambda: self.clock.seconds, clock=lambda: 0.0)

    def commit(self, call: WireCall) -> bytes:
        """Run ``call`` now; the body Kartra would answer."""
        return self._run(parse_query(self._encoder.encode(call)))

    def _run(self, form: object) -> bytes:
        outcome = process(self.account, form, credentials=CREDENTIALS, now=self.clock.seconds)  # type: ignore[arg-type]
        return json.dumps(outcome.body).encode()

    def answer(self, call: WireCall, fate: Fate = "ok", late_after: int = 1) -> Answer:
        """What the client gets for ``call`` under ``fate``."""
        self.sent.append(call)
        self.clock.tick()
        self._land_due()
        lost = NetworkError("connection reset by the test", may_have_been_sent=True)
        if fate == "refused":
            return NetworkError("connection refused by the test", may_have_been_sent=False)
        if fate == "rate_limited":
            return RateLimited(429, "Too many requests")
        if fate == "lost_before":
            return lost
        if fate == "late":
            self._late.append([late_after, parse_query(self._encoder.encode(call))])
            return lost
        body = self.commit(call)
        if fate == "lost_after":
            return lost
        try:
            return decode(200, body, call)
        except KartraError as exc:
            return exc

    def _land_due(self) -> None:
        for entry in list(self._late):
            entry[0] = int(entry[0]) - 1  # type: ignore[call-overload]
            if int(entry[0]) < 0:  # type: ignore[call-overload]
                self._late.remove(entry)
                self._run(entry[1])

    def land_all(self) -> None:
        """Every late commit still held lands now (the PHP requests finish)."""
        for _calls_left, form in self._late:
            self._run(form)
        self._late.clear()


Script = Callable[[WireCall, int], Answer]


def run(flow: Flow, script: Script | Iterable[Answer | Callable[[WireCall], Answer]]) -> tuple[Reply | KartraError, list[Send], list[Sleep]]:
    """Run ``flow`` to its end, answering each ``Send`` from ``script``.

    ``script`` is a function of (call, n) or a sequence whose items are answers or functions
    of the call. Returns the outcome (reply or raised error), the sends and the sleeps.
    """
    sends: list[Send] = []
    sleeps: list[Sleep] = []
    if callable(script):
        answer_for = script
    else:
        items = list(script)

        def answer_for(call: WireCall, n: int) -> Answer:
            item = items[n]
            return item(call) if callable(item) else item

    answer: Answer | None = None
    while True:
        try:
            step = flow.send(answer)
        except StopIteration as done:
            return done.value, sends, sleeps
        except KartraError as error:
            return error, sends, sleeps
        if isinstance(step, Sleep):
            sleeps.append(step)
            answer = None
        elif isinstance(step, Reconciling):
            answer = None  # a notice for logs and hooks
        else:
            sends.append(step)
            answer = answer_for(step.call, len(sends) - 1)


def cmds(send: Send) -> tuple[str, ...]:
    """The cmds of one send (``get_lead`` for a read-back)."""
    call = send.call
    actions = getattr(call, "actions", None)
    return ("get_lead",) if actions is None else tuple(a.wire_cmd for a in actions)


def new_trace() -> Trace:
    return Trace()
