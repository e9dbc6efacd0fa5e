"""The sandbox's admin API and inspector page, under ``/_sandbox/`` (never on ``/api``).

Answered only to loopback clients unless ``allow_remote`` is set: the API can read every lead
and reset the account. It never shows a credential: ``app_id`` is masked in the journal and the
two secrets appear nowhere. JSON shapes are the TypedDicts of ``_admin_views``.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, Protocol

from aiohttp import web

from .. import __version__
from ._admin_views import (
    ErrorJSON,
    FaultsJSON,
    HealthJSON,
    LeadPageJSON,
    ResetJSON,
    StatsJSON,
    WindowUseJSON,
    event_json,
    find_leads,
    lead_record,
    lead_summary,
    request_json,
)
from ._defaults import default_account
from ._fault_config import rule_from_json, rule_to_json
from ._faults import FaultKind, Faults
from ._journal import Journal, RequestLog, journal_middleware, mask_app_id
from ._ratelimit import WINDOW, SlidingWindow
from ._records import SandboxStats
from ._snapshot import export_account, load_account
from ._state import Lead, SandboxAccount


class Sandbox(Protocol):
    """What the admin side reads and resets of the sandbox it serves (``_server.Sandbox``).

    A protocol, so that this module never imports the server, which installs it.
    """

    account: SandboxAccount
    faults: Faults
    stats: SandboxStats
    limiter: SlidingWindow | None
    log: RequestLog

    @property
    def url(self) -> str:
        """The Kartra endpoint."""
        ...

    @property
    def admin_url(self) -> str:
        """The inspector's URL."""
        ...

    @property
    def webhook_url(self) -> str | None:
        """Where outbound events are posted, if anywhere."""
        ...

    @property
    def events_sent(self) -> int:
        """Outbound events delivered so far."""
        ...


#: Where the admin API and the inspector live.
PREFIX = "/_sandbox"
_API_PATHS = frozenset({"/api", "/api/"})
_MAX_PAGE = 1_000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda obj: json.dumps(obj))


def _error(message: str, status: int = 400) -> web.Response:
    body: ErrorJSON = {"error": message}
    return _json(body, status)


def _int_param(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name}: a whole number, got {raw!r}"}),
            content_type="application/json",
        ) from None
    if not 0 <= value <= high:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name}: between 0 and {high}, got {value}"}),
            content_type="application/json",
        )
    return value


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this machine (127.0.0.0/8, ::1, or a Unix socket)."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class SandboxAdmin:
    """The admin side of one ``Sandbox``: its journal, and the ``/_sandbox/`` routes.

    ``allow_remote``: answer clients that are not on loopback too (the API shows every lead
    and can reset the account). ``record_events``: build and journal outbound events even with
    no webhook set (the inspector's events feed), at some cost per state-changing call.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        allow_remote: bool = False,
        record_events: bool = False,
        journal_size: int = 10_000,
    ) -> None:
        self._sandbox = sandbox
        self.allow_remote = allow_remote
        self.record_events = record_events
        self.journal = Journal(journal_size)
        self.started = time.monotonic()

    def __repr__(self) -> str:
        return f"<SandboxAdmin allow_remote={self.allow_remote} {self.journal!r}>"

    def install(self, app: web.Application) -> None:
        """Add the journal middleware and the ``/_sandbox/`` routes to the sandbox's app."""
        app.middlewares.append(journal_middleware(_API_PATHS))
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "", self._redirect),
            ("GET", "/", self._inspector),
            ("GET", "/health", self._health),
            ("GET", "/leads", self._leads),
            ("GET", "/leads/{key}", self._lead),
            ("GET", "/requests", self._requests),
            ("GET", "/events", self._events),
            ("GET", "/stats", self._stats),
            ("GET", "/export", self._export),
            ("POST", "/reset", self._reset),
            ("GET", "/faults", self._faults),
            ("PUT", "/faults", self._set_faults),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, self._guarded(handler))

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self.allow_remote and not is_loopback(request.remote):
                return _error(
                    "the sandbox admin API answers loopback clients only "
                    "(start the sandbox with allow_remote_admin / --allow-remote-admin)",
                    403,
                )
            return await handler(request)

        return guarded

    # --- state -------------------------------------------------------------------------------

    def reset(self, account: SandboxAccount | None = None) -> None:
        """Replace the account (default: a fresh default account) and forget the journal,
        counters and rate-limit windows; fault rules stay."""
        sandbox = self._sandbox
        clock = sandbox.account.now
        sandbox.account = account if account is not None else default_account(now=clock)
        sandbox.log.clear()
        self.journal.clear()
        sandbox.faults.injected.clear()
        stats = sandbox.stats
        stats.calls = stats.rate_limited = 0
        stats.cmds.clear()
        stats.replies.clear()
        if sandbox.limiter is not None:
            sandbox.limiter.clear()

    # --- handlers ----------------------------------------------------------------------------

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def _inspector(self, request: web.Request) -> web.StreamResponse:
        page = resources.files(__package__).joinpath("inspector.html").read_bytes()
        return web.Response(
            body=page,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def _health(self, request: web.Request) -> web.StreamResponse:
        sandbox = self._sandbox
        limiter = sandbox.limiter
        body: HealthJSON = {
            "status": "ok",
            "version": __version__,
            "url": sandbox.url,
            "inspector_url": sandbox.admin_url,
            "uptime_seconds": round(time.monotonic() - self.started, 3),
            "leads": len(sandbox.account.leads),
            "calls": sandbox.stats.calls,
            "rate_limit": limiter.limit if limiter is not None else None,
            "webhook": sandbox.webhook_url is not None,
            "record_events": self.record_events,
        }
        return _json(body)

    async def _leads(self, request: web.Request) -> web.StreamResponse:
        account = self._sandbox.account
        query = request.query
        found = find_leads(
            account,
            q=query.get("q", ""),
            email=query.get("email", ""),
            tag=query.get("tag", ""),
            list_name=query.get("list", ""),
        )
        offset = _int_param(request, "offset", 0, 10**9)
        limit = _int_param(request, "limit", 50, _MAX_PAGE)
        body: LeadPageJSON = {
            "total": len(found),
            "offset": offset,
            "limit": limit,
            "leads": [lead_summary(account, lead) for lead in found[offset : offset + limit]],
        }
        return _json(body)

    async def _lead(self, request: web.Request) -> web.StreamResponse:
        account = self._sandbox.account
        key = request.match_info["key"]
        lead: Lead | None = (
            account.lead_by_id(int(key)) if key.isdigit() else account.lead_by_email(key)
        )
        if lead is None:
            return _error(f"lead: no lead with id or email {key!r}", 404)
        return _json(lead_record(account, lead))

    async def _requests(self, request: web.Request) -> web.StreamResponse:
        since = _int_param(request, "since", 0, 2**62)
        limit = _int_param(request, "limit", 200, 10_000)
        entries = self.journal.calls_since(since, limit)
        return _json(
            {
                "requests": [request_json(entry) for entry in entries],
                "next": max(self.journal.last_seq, since),
            }
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        since = _int_param(request, "since", 0, 2**62)
        limit = _int_param(request, "limit", 200, 10_000)
        entries = self.journal.events_since(since, limit)
        return _json(
            {
                "events": [event_json(entry) for entry in entries],
                "next": max(self.journal.last_event_seq, since),
            }
        )

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        sandbox = self._sandbox
        stats = sandbox.stats
        limiter = sandbox.limiter
        window: list[WindowUseJSON] = (
            [
                {"app_id": mask_app_id(key), "calls": calls}
                for key, calls in sorted(limiter.occupancy().items())
            ]
            if limiter is not None
            else []
        )
        body: StatsJSON = {
            "calls": stats.calls,
            "cmds": dict(stats.cmds),
            "replies": dict(stats.replies),
            "rate_limited": stats.rate_limited,
            "faults": dict(sandbox.faults.injected),
            "events_sent": sandbox.events_sent,
            "events_recorded": self.journal.last_event_seq,
            "rate": {
                "limit": limiter.limit if limiter is not None else None,
                "window_seconds": WINDOW,
                "window": window,
                "per_second": [
                    {"t": second, "calls": calls, "rate_limited": limited}
                    for second, calls, limited in self.journal.per_second(
                        _int_param(request, "seconds", 60, 120)
                    )
                ],
            },
        }
        return _json(body)

    async def _export(self, request: web.Request) -> web.StreamResponse:
        stable = request.query.get("stable", "") in ("1", "true", "yes")
        return web.Response(
            text=export_account(self._sandbox.account, stable=stable),
            content_type="application/json",
        )

    async def _reset(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        target = "default"
        account: SandboxAccount | None = None
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError as exc:
                return _error(f"body: not JSON ({exc})")
            if not isinstance(data, dict):
                return _error("body: an object: {} / {'to': 'empty'} / an account export")
            if "leads" in data or "format" in data:
                try:
                    account = load_account(data, now=self._sandbox.account.now)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    return _error(f"body: not a sandbox account export ({exc})")
                target = "posted"
            else:
                target = str(data.get("to", "default"))
                if target not in ("default", "empty") or set(data) - {"to"}:
                    return _error(
                        "to: 'default' (the seeded default account) or 'empty'; "
                        "or post a whole account export"
                    )
                if target == "empty":
                    account = SandboxAccount(now=self._sandbox.account.now)
        self.reset(account)
        body: ResetJSON = {
            "status": "reset",
            "account": target,
            "leads": len(self._sandbox.account.leads),
        }
        return _json(body)

    def _faults_body(self) -> FaultsJSON:
        faults = self._sandbox.faults
        return {
            "seed": faults.seed,
            "rules": [rule_to_json(rule) for rule in faults.rules],
            "injected": dict(faults.injected),
            "kinds": [kind.value for kind in FaultKind],
        }

    async def _faults(self, request: web.Request) -> web.StreamResponse:
        return _json(self._faults_body())

    async def _set_faults(self, request: web.Request) -> web.StreamResponse:
        try:
            data = json.loads(await request.read())
        except ValueError as exc:
            return _error(f"body: not JSON ({exc})")
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            return _error("rules: required, a list of fault rules (may be empty)")
        unknown = sorted(set(data) - {"rules", "seed"})
        if unknown:
            return _error(f"body: unknown field(s) {', '.join(unknown)}")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            return _error("seed: null or a whole number")
        try:
            rules = [rule_from_json(item, f"rules[{i}]") for i, item in enumerate(data["rules"])]
        except ValueError as exc:
            return _error(str(exc))
        faults = self._sandbox.faults
        faults.clear()
        for rule in rules:
            faults.add(rule)
        if seed is not None:
            faults.reseed(seed)
        return _json(self._faults_body())
