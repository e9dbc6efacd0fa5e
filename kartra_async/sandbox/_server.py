"""The sandbox server: an ``aiohttp.web`` app over a ``SandboxAccount``, and its lifecycle.

Per call: parse the body as PHP would, count it, choose faults, apply Kartra's rate limit,
process it (``_engine``), post its outbound events, log it without credentials, reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl as ssl_module
import struct
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .._codes import RATE_LIMIT_MESSAGE, RATE_LIMIT_STATUS
from ._admin import SandboxAdmin
from ._base import text
from ._credentials import SandboxCredentials
from ._defaults import default_account
from ._engine import ChainFailure, Outcome, command_names, process
from ._faults import FaultKind, FaultRule, Faults
from ._journal import RequestLog
from ._ratelimit import SlidingWindow
from ._records import RequestRecord, SandboxStats
from ._request_body import read_form
from ._snapshot import export_account, load_account
from ._state import SandboxAccount
from ._webhook import WebhookEmitter

#: The label a JSON API would use: ``Sandbox(content_type=JSON_CONTENT_TYPE)``.
JSON_CONTENT_TYPE = "application/json"
#: What Kartra labels its JSON replies with (docs/kartra-api.md#endpoint-and-transport).
KARTRA_CONTENT_TYPE = "text/html; charset=UTF-8"
_RATE_LIMITED_BODY = json.dumps({"status": "Error", "message": RATE_LIMIT_MESSAGE}).encode()
# What a PHP notice printed ahead of the JSON looks like: the body is no longer JSON.
_PHP_WARNING = (
    b'<br />\n<b>Warning</b>:  Undefined array key "lead" in <b>/var/www/api/index.php</b>'
    b" on line <b>42</b><br />\n"
)
_HTTP_FAULTS = {FaultKind.HTTP_500: 500, FaultKind.HTTP_502: 502, FaultKind.HTTP_503: 503}


class Sandbox:
    """A faithful fake Kartra, served on loopback; use as ``async with Sandbox() as sb``.

    ``account``: a ``SandboxAccount``, a path to an export, or None for the default account.
    ``rate_limit``: accepted calls per sliding second per ``app_id`` (None: no limit).
    ``faults``: fault rules (reseeded from ``seed`` unless it was given its own seed).
    ``require_tls``: answer 201 to plain-http calls. ``ssl``: serve https with this context.
    ``webhook_url``: post outbound events there. ``clock``: monotonic seconds for the limiter.
    ``allow_remote_admin``: answer the admin API (``/_sandbox/``) off loopback too.
    ``record_events``: journal outbound events for the admin API even without a webhook.
    ``content_type``: the replies' Content-Type (Kartra's ``text/html; charset=UTF-8``; pass
    ``"application/json"`` for the label a JSON API would use).
    ``test_mode``: answer as an App in Test Mode (created leads' emails become ``@kartra.com``).
    ``chain_failure``: ``"stop"`` (a chain ends at its first failing action) or ``"continue"``
    (later actions still run).
    """

    def __init__(
        self,
        account: SandboxAccount | str | Path | None = None,
        *,
        credentials: SandboxCredentials | None = None,
        rate_limit: int | None = 20,
        faults: Faults | None = None,
        seed: int = 0,
        require_tls: bool = False,
        ssl: ssl_module.SSLContext | None = None,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        log_size: int = 10_000,
        allow_remote_admin: bool = False,
        record_events: bool = False,
        content_type: str = KARTRA_CONTENT_TYPE,
        test_mode: bool = False,
        chain_failure: ChainFailure = "stop",
    ) -> None:
        if chain_failure not in ("stop", "continue"):
            raise ValueError(f"chain_failure: must be 'stop' or 'continue', not {chain_failure!r}")
        if account is None:
            account = default_account()
        elif isinstance(account, (str, Path)):
            account = load_account(Path(account))
        self.account: SandboxAccount = account
        self.credentials = credentials or SandboxCredentials.generate()
        self.faults = faults if faults is not None else Faults(seed=seed)
        if faults is not None and faults.seed is None:
            faults.reseed(seed)
        self.limiter = SlidingWindow(rate_limit, clock) if rate_limit is not None else None
        self.require_tls = require_tls
        self.content_type = content_type
        self.test_mode = test_mode
        self.chain_failure: ChainFailure = chain_failure
        self.stats = SandboxStats(faults=self.faults.injected)
        #: The admin API (``/_sandbox/``) and its journal of calls and events.
        self.admin = SandboxAdmin(
            self, allow_remote=allow_remote_admin, record_events=record_events
        )
        #: The most recent calls, oldest first (bounded by ``log_size``).
        self.log: RequestLog = RequestLog(self.admin.journal, maxlen=log_size)
        self._ssl = ssl
        self._host = host
        self._port = port
        self._webhook = WebhookEmitter(webhook_url) if webhook_url else None
        self._closing = asyncio.Event()
        self._late_commits: set[asyncio.Task[Outcome]] = set()
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_post("/api", self._handle)
        self.app.router.add_post("/api/", self._handle)
        self.admin.install(self.app)
        self.app.on_startup.append(self._on_startup)
        self.app.on_shutdown.append(self._on_shutdown)

    def __repr__(self) -> str:
        if not hasattr(self, "account"):  # __init__ raised before setting it
            return "<Sandbox not configured>"
        running = getattr(self, "_runner", None)
        return f"<Sandbox url={self.url if running else None!r} {self.account!r}>"

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The endpoint to give a client, e.g. ``http://127.0.0.1:54321/api``."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the sandbox is not started")
        host, port = self._runner.addresses[0][:2]
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{host}:{port}/api"

    @property
    def admin_url(self) -> str:
        """The admin API's root, which serves the inspector page, e.g. ``.../_sandbox/``."""
        return self.url.removesuffix("/api") + "/_sandbox/"

    @property
    def webhook_url(self) -> str | None:
        """Where outbound events are posted (None: nowhere)."""
        return self._webhook.url if self._webhook is not None else None

    async def start(self) -> None:
        """Start serving (on a free port unless one was given)."""
        self._closing.clear()
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()

    async def close(self) -> None:
        """Stop serving; stalled calls are released, late commits land, webhook posts drain."""
        self._closing.set()
        await self.wait_late_commits()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _on_startup(self, app: web.Application) -> None:
        if self._webhook is not None:
            await self._webhook.start()

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing.set()
        if self._webhook is not None:
            await self._webhook.close()
            self.stats.events_sent = self._webhook.sent
            self.stats.events_failed = self._webhook.failed

    # --- state -------------------------------------------------------------------------------

    def export(self, *, stable: bool = False) -> str:
        """The whole account as deterministic JSON (see ``export_account``)."""
        return export_account(self.account, stable=stable)

    def seed(self, **inventory: Any) -> SandboxAccount:
        """Add tags, lists, sequences, ... by name (see ``SandboxAccount.seed``)."""
        return self.account.seed(**inventory)

    @property
    def events_sent(self) -> int:
        """Outbound events delivered so far (2xx/3xx answers)."""
        return self._webhook.sent if self._webhook is not None else 0

    async def wait_events(self) -> None:
        """Wait until every queued outbound event was posted (or failed)."""
        if self._webhook is not None:
            await self._webhook.drain()

    # --- one call ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        form = await read_form(request)
        cmds = command_names(form)
        stats = self.stats
        stats.calls += 1
        stats.cmds.update(cmds)
        decision = self.faults.decide(cmds)
        if decision.latency > 0:
            await self._pause(decision.latency)
        before = decision.before
        if before is not None and before.kind is FaultKind.RATE_LIMITED:
            return self._too_many(cmds, form, before.kind.value)
        if self.limiter is not None and not self.limiter.admit(text(form, "app_id")):
            stats.rate_limited += 1
            return self._too_many(cmds, form, "")
        if before is not None and before.kind is FaultKind.LATE_COMMIT:
            return await self._commit_late(request, before, cmds, form)
        if before is not None:
            return await self._inject(request, before, cmds, form, None)
        outcome = self._run(form, request.remote, insecure=self.require_tls and not request.secure)
        after = decision.after
        if after is not None:
            return await self._inject(request, after, cmds, form, outcome)
        self.log.append(RequestRecord(cmds, outcome.email, 200, outcome.status, outcome.type))
        return self._reply(_dumps(outcome.body))

    def _reply(self, body: bytes, status: int = 200) -> web.Response:
        return web.Response(status=status, body=body, headers={"Content-Type": self.content_type})

    def _run(self, form: dict[Any, Any], remote: str | None, *, insecure: bool) -> Outcome:
        """Run one call's commands against the account: the commit."""
        outcome = process(
            self.account,
            form,
            credentials=self.credentials,
            now=self.account.now(),
            remote=remote,
            insecure=insecure,
            emit=self._webhook is not None or self.admin.record_events,
            test_mode=self.test_mode,
            chain_failure=self.chain_failure,
        )
        self.stats.replies[outcome.status] += 1
        if outcome.events:
            self.admin.journal.add_events(outcome.events, posted=self._webhook is not None)
            if self._webhook is not None:
                self._post_events(outcome)
        return outcome

    async def _commit_late(
        self, request: web.Request, rule: FaultRule, cmds: tuple[str, ...], form: dict[Any, Any]
    ) -> web.StreamResponse:
        # The commit runs in its own task: it lands even when the client's disconnect
        # cancels this handler, as a PHP request outlives the client that sent it.
        insecure = self.require_tls and not request.secure
        task = asyncio.create_task(
            self._late(form, request.remote, insecure, self.faults.late_commit_seconds(rule))
        )
        self._late_commits.add(task)
        task.add_done_callback(self._late_commits.discard)
        outcome = await asyncio.shield(task)
        self.log.append(
            RequestRecord(cmds, outcome.email, 0, outcome.status, outcome.type, rule.kind.value)
        )
        _reset(request)
        raise asyncio.CancelledError

    async def _late(
        self, form: dict[Any, Any], remote: str | None, insecure: bool, seconds: float
    ) -> Outcome:
        await self._pause(seconds)  # cut short on shutdown: the commit still lands
        return self._run(form, remote, insecure=insecure)

    async def wait_late_commits(self) -> None:
        """Wait until every call held by a ``late_commit`` fault has committed."""
        while self._late_commits:
            await asyncio.gather(*self._late_commits, return_exceptions=True)

    def _too_many(self, cmds: tuple[str, ...], form: dict[Any, Any], fault: str) -> web.Response:
        self.log.append(RequestRecord(cmds, _email(form), RATE_LIMIT_STATUS, "Error", "", fault))
        return self._reply(_RATE_LIMITED_BODY, RATE_LIMIT_STATUS)

    def _post_events(self, outcome: Outcome) -> None:
        assert self._webhook is not None
        assert outcome.events is not None
        for event in outcome.events:
            self._webhook.emit(event.payload())

    async def _pause(self, seconds: float) -> bool:
        """Sleep, cut short when the sandbox closes; True when it was cut short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
            return True
        return False

    async def _inject(
        self,
        request: web.Request,
        rule: FaultRule,
        cmds: tuple[str, ...],
        form: dict[Any, Any],
        outcome: Outcome | None,
    ) -> web.StreamResponse:
        kind = rule.kind
        status = outcome.status if outcome is not None else ""
        code = outcome.type if outcome is not None else ""
        email = outcome.email if outcome is not None else _email(form)
        if kind is FaultKind.STALL:
            await self._pause(self.faults.stall_seconds(rule))
            kind = FaultKind.RESET_BEFORE
        if kind in _HTTP_FAULTS:
            http = _HTTP_FAULTS[kind]
            self.log.append(RequestRecord(cmds, email, http, status, code, rule.kind.value))
            return web.Response(status=http, body=_error_page(http), content_type="text/html")
        if kind in (FaultKind.RESET_BEFORE, FaultKind.RESET_AFTER):
            self.log.append(RequestRecord(cmds, email, 0, status, code, rule.kind.value))
            _reset(request)
            # Nothing can be written any more; aiohttp drops the answer of a closed transport.
            raise asyncio.CancelledError
        assert outcome is not None
        body = _dumps(outcome.body)
        content_type = self.content_type
        if kind is FaultKind.MALFORMED_JSON:
            body = _PHP_WARNING + body
        elif kind is FaultKind.TRUNCATED_JSON:
            body = body[: max(1, len(body) // 2)]
        elif kind is FaultKind.HTML_CONTENT_TYPE:
            content_type = "text/html"
        self.log.append(RequestRecord(cmds, email, 200, status, code, rule.kind.value))
        return web.Response(body=body, headers={"Content-Type": content_type})


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _email(form: dict[Any, Any]) -> str:
    for key in ("lead", "get_lead"):
        value = form.get(key)
        if isinstance(value, dict):
            return text(value, "email")
    return ""


def _error_page(status: int) -> bytes:
    title = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    return (
        f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} {title}"
        "</h1></center><hr><center>nginx</center></body></html>"
    ).encode()


def _reset(request: web.Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed backend would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
