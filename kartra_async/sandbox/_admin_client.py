"""A small async client for the sandbox's admin API, for tests: read leads, the request journal,
events and counters, switch faults and reset, without spending a single Kartra call.

Works against an in-process ``Sandbox`` (``SandboxAdminClient(sb.admin_url)``) and against a
standalone ``kartra-async sandbox`` alike, since it speaks HTTP to ``/_sandbox/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import aiohttp

from ._admin_views import (
    EventJSON,
    FaultsJSON,
    HealthJSON,
    LeadJSON,
    LeadPageJSON,
    RequestJSON,
    ResetJSON,
    StatsJSON,
)
from ._fault_config import FaultRuleJSON, parse_fault_spec, rule_to_json
from ._faults import FaultRule


class AdminAPIError(Exception):
    """The admin API refused a call; ``status`` is its HTTP status, the message its reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox admin API answered {status}: {message}")
        self.status = status


class SandboxAdminClient:
    """``async with SandboxAdminClient(sb.admin_url) as admin: lead = await admin.lead(email)``.

    Every method returns the admin API's JSON shape (the TypedDicts of the README's table).
    """

    def __init__(self, admin_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.admin_url = admin_url if admin_url.endswith("/") else admin_url + "/"
        self._session = session
        self._owned = session is None

    def __repr__(self) -> str:
        return f"<SandboxAdminClient {self.admin_url}>"

    async def __aenter__(self) -> SandboxAdminClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._session is not None and self._owned:
            await self._session.close()
        self._session = None

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owned = True
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        query = {key: str(value) for key, value in (params or {}).items() if value is not None}
        async with self._session.request(
            method, self.admin_url + path, params=query, data=data, headers=headers
        ) as response:
            text = await response.text()
            if response.status >= 400:
                try:
                    message = str(json.loads(text).get("error", text))
                except (ValueError, AttributeError):
                    message = text[:200]
                raise AdminAPIError(response.status, message)
            return json.loads(text)

    async def health(self) -> HealthJSON:
        """``GET health``."""
        return cast(HealthJSON, await self._call("GET", "health"))

    async def leads(
        self,
        *,
        q: str | None = None,
        email: str | None = None,
        tag: str | None = None,
        list_name: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> LeadPageJSON:
        """``GET leads``: newest first, filtered (all filters must hold), one page.

        ``q``: email or name contains; ``email``: email contains; ``tag``/``list_name``: exact.
        """
        params: dict[str, Any] = {"q": q, "email": email, "tag": tag, "list": list_name}
        params.update(offset=offset, limit=limit)
        return cast(LeadPageJSON, await self._call("GET", "leads", params=params))

    async def lead(self, id_or_email: int | str) -> LeadJSON:
        """``GET leads/{id or email}``: one lead whole (``AdminAPIError`` 404 when absent)."""
        return cast(LeadJSON, await self._call("GET", "leads/" + quote(str(id_or_email), safe="")))

    async def requests(self, *, since: int = 0, limit: int = 1_000) -> list[RequestJSON]:
        """``GET requests``: the journal of Kartra calls after ``since``, oldest first."""
        page = await self._call("GET", "requests", params={"since": since, "limit": limit})
        return cast(list[RequestJSON], page["requests"])

    async def events(self, *, since: int = 0, limit: int = 1_000) -> list[EventJSON]:
        """``GET events``: the outbound events after ``since``, oldest first."""
        page = await self._call("GET", "events", params={"since": since, "limit": limit})
        return cast(list[EventJSON], page["events"])

    async def stats(self) -> StatsJSON:
        """``GET stats``: counters and the rate-limit window now."""
        return cast(StatsJSON, await self._call("GET", "stats"))

    async def export(self, *, stable: bool = False) -> dict[str, Any]:
        """``GET export``: the whole account."""
        data = await self._call("GET", "export", params={"stable": "1" if stable else None})
        return cast(dict[str, Any], data)

    async def reset(self, to: str | Mapping[str, Any] = "default") -> ResetJSON:
        """``POST reset``: to ``"default"``, ``"empty"`` or a whole account export."""
        body: Any = {"to": to} if isinstance(to, str) else dict(to)
        return cast(ResetJSON, await self._call("POST", "reset", body=body))

    async def faults(self) -> FaultsJSON:
        """``GET faults``."""
        return cast(FaultsJSON, await self._call("GET", "faults"))

    async def set_faults(
        self, rules: Iterable[FaultRule | FaultRuleJSON | str], *, seed: int | None = None
    ) -> FaultsJSON:
        """``PUT faults``: replace every rule (``FaultRule``, its JSON, or ``KIND:RATE[:cmd]``)."""
        shapes: list[FaultRuleJSON | Mapping[str, Any]] = []
        for rule in rules:
            if isinstance(rule, str):
                rule = parse_fault_spec(rule)
            shapes.append(rule_to_json(rule) if isinstance(rule, FaultRule) else rule)
        body: dict[str, Any] = {"rules": shapes}
        if seed is not None:
            body["seed"] = seed
        return cast(FaultsJSON, await self._call("PUT", "faults", body=body))
