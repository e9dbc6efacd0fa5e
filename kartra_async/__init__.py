"""kartra_async: a typed asyncio client for Kartra's inbound API.

Build a call with ``LeadRequest(...).create()...``, ``AccountCall()...`` or ``GetLead(...)``;
send it with ``KartraClient.send`` (one call) or ``KartraClient.stream`` (many, paced and
retried). Every failure is a ``KartraError``; see ``kartra_async._errors`` for the tree.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from ._actions import (
    COMMANDS,
    CUSTOM_FIELD_TYPES,
    RECURRING_PERIODS,
    SAFETY_TABLE,
    Action,
    Recurrence,
)
from ._builder import (
    AccountCall,
    Call,
    GetLead,
    LeadCall,
    LeadRequest,
    UpsertCall,
    UpsertStrategy,
    WireCall,
)
from ._bulk import OutcomeStream, Recover
from ._client import ClientOptions, CredentialsLike, KartraClient, SandboxLike
from ._errors import (
    AccountInactive,
    APIError,
    AppAccountInactive,
    AppError,
    AuthError,
    BillingError,
    CalendarDateError,
    CalendarError,
    CommandNotPermitted,
    ConfigurationError,
    CustomFieldError,
    CustomFieldFormatError,
    Failure,
    InsecureConnection,
    InvalidAPIKey,
    InvalidAPIPassword,
    InvalidAppId,
    InvalidDate,
    KartraError,
    LeadAlreadyExists,
    LeadDeleted,
    LeadError,
    LeadNotFound,
    ListError,
    MalformedReply,
    MissingAPIKey,
    MissingAppId,
    NetworkError,
    OutcomeInterrupted,
    OutcomeUnknown,
    PointsError,
    RateLimited,
    RequestShapeError,
    RequestTimeout,
    SequenceError,
    ServerError,
    SubscriptionDateError,
    SubscriptionNotFound,
    TagError,
    TransactionNotFound,
    TransportError,
    UnauthorizedIP,
    UsageError,
    ValidationError,
    error_class,
)
from ._hooks import (
    EventHook,
    EventHooks,
    HookEvent,
    Hooks,
    PacerPause,
    Reconcile,
    ReplyDecoded,
    RequestSent,
    Retry,
)
from ._model import TIME_ZONES, Credentials, CustomField, is_sandbox_credentials, test_mode_email
from ._outcome import Outcome, Progress
from ._pacing import LocalPacer, NoPacer, Pacer, PacerStats
from ._protocol import decode, encode
from ._replies import ActionResult, Reply
from ._retry import RetryBudget, RetryPolicy
from ._safety import Safety
from ._schema import AccountSchema, CustomFieldSchema
from ._transport import AiohttpTransport, RawResponse, Timeouts, Transport
from .records import RecordFormatError

try:
    __version__ = version("kartra-async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

# A library never configures logging; it only makes sure its logger is silent by default.
logging.getLogger("kartra_async").addHandler(logging.NullHandler())

__all__ = [
    "COMMANDS",
    "CUSTOM_FIELD_TYPES",
    "RECURRING_PERIODS",
    "SAFETY_TABLE",
    "TIME_ZONES",
    "APIError",
    "AccountCall",
    "AccountInactive",
    "AccountSchema",
    "Action",
    "ActionResult",
    "AiohttpTransport",
    "AppAccountInactive",
    "AppError",
    "AuthError",
    "BillingError",
    "CalendarDateError",
    "CalendarError",
    "Call",
    "ClientOptions",
    "CommandNotPermitted",
    "ConfigurationError",
    "Credentials",
    "CredentialsLike",
    "CustomField",
    "CustomFieldError",
    "CustomFieldFormatError",
    "CustomFieldSchema",
    "EventHook",
    "EventHooks",
    "Failure",
    "GetLead",
    "HookEvent",
    "Hooks",
    "InsecureConnection",
    "InvalidAPIKey",
    "InvalidAPIPassword",
    "InvalidAppId",
    "InvalidDate",
    "KartraClient",
    "KartraError",
    "LeadAlreadyExists",
    "LeadCall",
    "LeadDeleted",
    "LeadError",
    "LeadNotFound",
    "LeadRequest",
    "ListError",
    "LocalPacer",
    "MalformedReply",
    "MissingAPIKey",
    "MissingAppId",
    "NetworkError",
    "NoPacer",
    "Outcome",
    "OutcomeInterrupted",
    "OutcomeStream",
    "OutcomeUnknown",
    "Pacer",
    "PacerPause",
    "PacerStats",
    "PointsError",
    "Progress",
    "RateLimited",
    "RawResponse",
    "Reconcile",
    "RecordFormatError",
    "Recover",
    "Recurrence",
    "Reply",
    "ReplyDecoded",
    "RequestSent",
    "RequestShapeError",
    "RequestTimeout",
    "Retry",
    "RetryBudget",
    "RetryPolicy",
    "Safety",
    "SandboxLike",
    "SequenceError",
    "ServerError",
    "SubscriptionDateError",
    "SubscriptionNotFound",
    "TagError",
    "Timeouts",
    "TransactionNotFound",
    "Transport",
    "TransportError",
    "UnauthorizedIP",
    "UpsertCall",
    "UpsertStrategy",
    "UsageError",
    "ValidationError",
    "WireCall",
    "__version__",
    "decode",
    "encode",
    "error_class",
    "is_sandbox_credentials",
    "test_mode_email",
]
