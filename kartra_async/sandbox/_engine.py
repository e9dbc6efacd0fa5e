"""One request, as Kartra processes it: credentials, shape, then the chain of actions.

Pure: a parsed form in, a reply dict out (plus the outbound events it caused). No I/O, so
most of the sandbox's behaviour is testable without a server and costs little per call.

Decisions where Kartra's docs are silent (also listed in the README):

* Credentials are checked in Kartra's order: ``app_id`` (238 empty, 239 unknown, 240 app
  account inactive), ``api_key`` (202, 203, 204), ``api_password`` (233), then the account's
  optional IP allowlist (242). 201 comes first, and only when TLS is required.
* Errors about the request as a whole are flat ``{"status","message","type"}`` replies and run
  nothing: 223/224/236 shapes, 254 for a missing ``cmd`` (or no actions at all), 262 for an
  unknown cmd, a cmd the App may not run, and an opener (create/edit/search_lead) anywhere but
  ``actions[0]`` — a misbuilt chain never half-runs.
* A chain stops at the first failing action (``chain_failure="stop"``, the default). Earlier
  effects stay (no rollback) and the reply is ``{"status":"Error","message","type","actions":
  [...]}`` with the results so far, the failed action included, so a created lead's id is never
  lost. With ``chain_failure="continue"`` every later action still runs (a lead-scoped one looks
  the lead up again when the opener failed) and ``actions`` holds every result; the top level
  names the first failure.
* Test Mode (``test_mode=True``): the address a lead is created with, or renamed to, is stored
  with the domain ``@kartra.com`` (``_model.test_mode_email``); lookups by email are not
  rewritten, so the original address finds nothing and a second local part collides (244).
* Without an opener, the lead is looked up (id wins over email) at the first lead-scoped action:
  206 when neither is sent, 243 when missing, 245 when deleted.
* A request with ``get_lead`` is a read: its ``actions`` (if any) are ignored.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

from .._codes import ERROR_CODES, SUCCESS_CODES
from .._form import PhpArray
from ._account_commands import ACCOUNT_COMMANDS, HOISTED_KEYS
from ._base import Command, Context, Event, Fail, text
from ._billing_commands import BILLING_COMMANDS
from ._credentials import SandboxCredentials
from ._lead_commands import LEAD_COMMANDS, LEAD_FOUND, OPENERS, find_lead
from ._state import SandboxAccount
from ._views import lead_profile

#: What a chain does after a failing action: end there (Kartra's documented behaviour) or go on.
ChainFailure: TypeAlias = Literal["stop", "continue"]

#: Every cmd the sandbox knows.
COMMANDS: dict[str, Command] = {
    **OPENERS,
    **LEAD_COMMANDS,
    **ACCOUNT_COMMANDS,
    **BILLING_COMMANDS,
}


@attrs.define(slots=True)
class Outcome:
    """What processing a request produced: the reply body and what the log needs."""

    body: dict[str, Any]
    cmds: tuple[str, ...]
    email: str
    events: list[Event] | None = None

    @property
    def status(self) -> str:
        """``Success`` or ``Error``."""
        return str(self.body.get("status", ""))

    @property
    def type(self) -> str:
        """The reply's type code, ``""`` when it has none."""
        return str(self.body.get("type", ""))


def error_body(code: int) -> dict[str, Any]:
    """Kartra's flat error reply for ``code``."""
    return {"status": "Error", "message": ERROR_CODES[code][0], "type": str(code)}


def command_names(form: PhpArray) -> tuple[str, ...]:
    """The cmd values of a request (``get_lead`` for a get_lead read), for logs and faults."""
    if isinstance(form.get("get_lead"), dict):
        return ("get_lead",)
    actions = form.get("actions")
    if not isinstance(actions, dict):
        return ()
    names: list[str] = []
    for action in actions.values():
        cmd = action.get("cmd") if isinstance(action, dict) else None
        if isinstance(cmd, str):
            names.append(cmd)
    return tuple(names)


def _credential_error(
    account: SandboxAccount, form: PhpArray, credentials: SandboxCredentials
) -> int | None:
    settings = account.settings
    app_id = text(form, "app_id")
    if not app_id:
        return 238
    if app_id != credentials.app_id:
        return 239
    if not settings.app_active:
        return 240
    api_key = text(form, "api_key")
    if not api_key:
        return 202
    if api_key != credentials.api_key:
        return 203
    if not settings.account_active:
        return 204
    if text(form, "api_password") != credentials.api_password:
        return 233
    return None


def process(
    account: SandboxAccount,
    form: PhpArray,
    *,
    credentials: SandboxCredentials,
    now: float,
    remote: str | None = None,
    insecure: bool = False,
    emit: bool = False,
    test_mode: bool = False,
    chain_failure: ChainFailure = "stop",
) -> Outcome:
    """Process one parsed request body against ``account``.

    ``insecure`` means TLS is required and the call came over plain http (-> 201).
    ``emit`` asks for outbound events to be collected. ``test_mode`` stores created and renamed
    leads under ``@kartra.com``; ``chain_failure`` says whether a chain goes on after a failure.
    """
    cmds = command_names(form)
    lead_form = form.get("lead")
    source = form.get("get_lead") if cmds == ("get_lead",) else lead_form
    email = text(source, "email") if isinstance(source, dict) else ""
    outcome = Outcome({}, cmds, email)
    if insecure:
        outcome.body = error_body(201)
        return outcome
    code = _credential_error(account, form, credentials)
    allowed_ips = account.settings.allowed_ips
    if code is None and allowed_ips is not None and remote not in allowed_ips:
        code = 242
    if code is None:
        code = _shape_error(account, form)
    if code is not None:
        outcome.body = error_body(code)
        return outcome
    get_lead = form.get("get_lead")
    if isinstance(get_lead, dict):
        try:
            lead = find_lead(account, get_lead, missing=234)
        except Fail as failure:
            outcome.body = error_body(failure.code)
        else:
            outcome.body = {"status": "Success", "lead_details": lead_profile(account, lead, now)}
        return outcome
    ctx = Context(
        account,
        now,
        lead_form if isinstance(lead_form, dict) else {},
        emit=emit,
        test_mode=test_mode,
    )
    outcome.body = _run_chain(ctx, form, go_on=chain_failure == "continue")
    outcome.events = ctx.events
    return outcome


def _shape_error(account: SandboxAccount, form: PhpArray) -> int | None:
    if "lead" in form and not isinstance(form["lead"], dict):
        return 223
    if "get_lead" in form:
        if not isinstance(form["get_lead"], dict):
            return 236
        return _permission_error(account, ["get_lead"])
    if "actions" in form and not isinstance(form["actions"], dict):
        return 224
    actions = form.get("actions")
    if not isinstance(actions, dict) or not actions:
        return 254
    cmds: list[str] = []
    for action in actions.values():
        cmd = action.get("cmd") if isinstance(action, dict) else None
        if not isinstance(cmd, str) or not cmd.strip():
            return 254
        cmds.append(cmd.strip())
    for index, cmd in enumerate(cmds):
        if cmd not in COMMANDS or (index > 0 and cmd in OPENERS):
            return 262
    return _permission_error(account, cmds)


def _permission_error(account: SandboxAccount, cmds: list[str]) -> int | None:
    allowed = account.settings.allowed_cmds
    if allowed is not None and any(cmd not in allowed for cmd in cmds):
        return 262
    return None


def _run_chain(ctx: Context, form: PhpArray, *, go_on: bool) -> dict[str, Any]:
    actions = form["actions"]
    assert isinstance(actions, dict)
    results: list[dict[str, Any]] = []
    reply: dict[str, Any] = {"status": "Success", "actions": results}
    first_failure: dict[str, Any] | None = None
    for action in actions.values():
        assert isinstance(action, dict)
        cmd = str(action["cmd"]).strip()
        command = COMMANDS[cmd]
        try:
            if command.lead_scoped and ctx.lead is None:
                ctx.lead = find_lead(ctx.account, ctx.lead_form)
            data = command.run(ctx, action)
        except Fail as failure:
            failed = error_body(failure.code)
            results.append({cmd: dict(failed)})
            if not go_on:
                failed["actions"] = results
                return failed
            if first_failure is None:
                first_failure = failed
            continue
        entry: dict[str, Any] = {"status": "Success"}
        known = SUCCESS_CODES.get(cmd)
        if known is not None:
            code, message = known
            entry["message"] = message
            if code is not None:
                entry["type"] = str(code)
        entry.update(data)
        results.append({cmd: entry})
        for key in HOISTED_KEYS.intersection(data):
            reply[key] = data[key]
        if cmd == "search_lead":
            # The lead article shows search_lead's reply flat; clients may read either place.
            reply["message"] = LEAD_FOUND
            reply["lead_details"] = data["lead_details"]
    if first_failure is not None:
        return {**first_failure, "actions": results}
    return reply
