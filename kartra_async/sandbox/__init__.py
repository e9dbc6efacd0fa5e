"""A faithful Kartra you can run anywhere: ``async with Sandbox() as sb`` then point a client at
``sb.url`` with ``sb.credentials``.

The sandbox implements every documented command and ``get_lead`` over an in-memory account,
Kartra's credential checks and codes, its 20 calls/s sliding-window limit, seeded fault
injection, outbound events to a webhook, counters, a credential-free request log, and a
deterministic JSON export/import of the whole account. Under ``/_sandbox/`` on the same port: an
admin API (leads, the request journal, events, counters, reset, fault rules; loopback only) and
the inspector page over it; ``SandboxAdminClient`` reads it from tests.

Decisions where Kartra's documentation is silent (the README has the same table):

* Replies: success is ``{"status":"Success","actions":[{cmd:{"status","message","type",...}}]}``
  (message/type only where ``_codes`` documents a success code); the data of
  ``retrieve_account_*``/``retrieve_custom_fields`` is also copied to the top level; the openers
  answer ``lead_details: {"id": "<id>"}`` and ``search_lead`` also puts ``"message": "Lead
  found"`` and ``lead_details`` at the top level. Request-level errors are flat and run nothing.
* Order of checks: 201 (only with ``require_tls``), 238/239/240, 202/203/204, 233, 242, then the
  shape (223, 236, 224, 254) and 262 (unknown cmd, cmd not permitted, opener not at
  ``actions[0]``: a misbuilt chain never half-runs).
* A chain stops at its first failing action (``chain_failure="stop"``, the default), keeps
  earlier effects and answers ``{"status":"Error","message","type","actions":[...so far, the
  failed one included]}``. ``chain_failure="continue"`` runs every later action (a lead-scoped
  one looks the lead up again when the opener failed); ``actions`` then holds every result and
  the top level names the first failure.
* Without an opener the lead is looked up at the first lead-scoped action (id wins; 206, 243,
  245). ``get_lead`` answers 234/245/206 and ignores any ``actions``.
* Emails match case-insensitively; a deleted lead's email stays reserved (create -> 245).
* Test Mode (``test_mode=True``): created and renamed leads are stored under ``@kartra.com``
  (``kartra_async.test_mode_email``), so a second address with the same local part -> 244;
  lookups are not rewritten (the original address finds nothing).
* Bodies are read as PHP fills ``$_REQUEST`` (``request_order="GP"``): urlencoded (also without
  a Content-Type), multipart (fields only) and JSON bodies become the same PHP array, with the
  same limits, checks and codes; the query string is merged under them (a top-level body key
  wins). An unreadable body counts as empty.
* Replies are labelled ``text/html; charset=UTF-8`` as Kartra's are (``content_type=`` changes
  it, e.g. to ``JSON_CONTENT_TYPE``).
* Custom field values: unknown identifiers ignored; any malformed entry -> 271, nothing applied.
* Tag/list/sequence no-ops succeed without an event; calendar date and hour are optional
  together; refunds name the original transaction; PayPal subscriptions can only be cancelled.
* Rate limit: sliding one-second window per raw ``app_id``, checked before credentials; only
  accepted calls occupy it; 429 ``{"status":"Error","message":"Too many requests"}``.
* Outbound events: posted after the reply, in order, only on a state change, each with the lead
  as it was at that action (values as strings); ``reaches_score`` is not emitted.
"""

from __future__ import annotations

from ._admin import SandboxAdmin
from ._admin_client import AdminAPIError, SandboxAdminClient
from ._credentials import SandboxCredentials
from ._defaults import default_account
from ._engine import COMMANDS, ChainFailure, process
from ._faults import FaultKind, FaultRule, Faults
from ._records import RequestRecord, SandboxStats
from ._server import JSON_CONTENT_TYPE, KARTRA_CONTENT_TYPE, Sandbox
from ._snapshot import export_account, load_account
from ._state import SandboxAccount

__all__ = [
    "COMMANDS",
    "JSON_CONTENT_TYPE",
    "KARTRA_CONTENT_TYPE",
    "AdminAPIError",
    "ChainFailure",
    "FaultKind",
    "FaultRule",
    "Faults",
    "RequestRecord",
    "Sandbox",
    "SandboxAccount",
    "SandboxAdmin",
    "SandboxAdminClient",
    "SandboxCredentials",
    "SandboxStats",
    "default_account",
    "export_account",
    "load_account",
    "process",
]
