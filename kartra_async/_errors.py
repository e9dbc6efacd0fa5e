"""The exception tree, documented in one place, and the Kartra ``type`` code -> class table.

::

    KartraError
    ├── UsageError (also ValueError)         misuse: bad input, closed client, bad config
    │   └── ValidationError                  a field failed validation before anything was sent
    │   └── ConfigurationError               the endpoint is not Kartra (404, 401, HTML, redirect)
    ├── TransportError                       no usable reply from Kartra
    │   ├── NetworkError                     connection failed; .may_have_been_sent says if it left
    │   │   └── RequestTimeout               connect or read timeout
    │   ├── ServerError                      HTTP 5xx or another unexpected status
    │   └── MalformedReply                   a 200 whose body is not the JSON we expect (.body)
    ├── OutcomeUnknown                       a write may or may not have happened; not replayed
    ├── OutcomeInterrupted                   the cause of a call in flight when a run died
    ├── RecordFormatError (also ValueError)  a record in a reply is not the expected shape
    └── APIError                             Kartra answered with an error (.type, .message, .reply)
        ├── RateLimited                      HTTP 429 "Too many requests"
        ├── InsecureConnection               201
        ├── AuthError                        202 203 204 233 (one leaf each)
        ├── AppError                         238 239 240 242 262 (one leaf each)
        ├── RequestShapeError                206 223 224 236 254
        ├── LeadError                        LeadNotFound (234, 243), LeadAlreadyExists (244),
        │                                    LeadDeleted (245)
        ├── TagError  ListError  PointsError  SequenceError
        ├── CalendarError                    CalendarDateError (260, 261 from calendar_subscribe)
        ├── CustomFieldError                 CustomFieldFormatError (271), 263-273
        ├── BillingError                     TransactionNotFound (247),
        │                                    SubscriptionNotFound (248),
        │                                    SubscriptionDateError (260, 261 from
        │                                    edit_subscription), ...
        └── InvalidDate                      260/261 from either family: CalendarDateError and
                                             SubscriptionDateError are both InvalidDate

Every error says how far its call got (``error.failure``, a :class:`Failure`): ``not_sent``
(nothing reached Kartra's command processing: safe to send again), ``rejected`` (Kartra answered
with an error: nothing applied, or the named partial chain) or ``unknown`` (may have been
applied).

Messages carry the code, Kartra's message, the cmd and the lead's email where known; never a
credential (the request body is not kept on any exception).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._base_errors import (
    ConfigurationError,
    Failure,
    KartraError,
    MalformedReply,
    NetworkError,
    RequestTimeout,
    ServerError,
    TransportError,
    UsageError,
    ValidationError,
)
from ._codes import ERROR_CODES, RATE_LIMIT_STATUS, Family

if TYPE_CHECKING:
    from ._replies import Reply

__all__ = [
    "ConfigurationError",
    "Failure",
    "KartraError",
    "MalformedReply",
    "NetworkError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "UsageError",
    "ValidationError",
]


class OutcomeUnknown(KartraError):
    """A write was sent, its reply was lost, and it cannot be safely checked or replayed.

    Raised for commands that must never be replayed (points, refunds, cancellations,
    subscription edits) when the transport failed after the request may have left. ``cmds``
    lists the actions whose effect is in doubt; ``cause`` is the transport error; ``reply`` is
    the reply of the reconciliation that re-applied the chain's safe actions, when there was
    one (so the lead's id is still known).
    """

    def __init__(
        self,
        cmds: tuple[str, ...],
        cause: KartraError,
        *,
        email: str | None = None,
        reply: Reply | None = None,
    ) -> None:
        who = f" for lead {email}" if email else ""
        super().__init__(
            f"outcome unknown{who}: {', '.join(cmds)} may or may not have been applied ({cause})"
        )
        self.cmds = cmds
        self.cause = cause
        self.email = email
        self.reply = reply


class OutcomeInterrupted(KartraError):
    """The cause recorded when a call was in flight in a run that was interrupted (``Recover``)."""

    def __init__(self) -> None:
        super().__init__("the call was in flight when an earlier run was interrupted")


class APIError(KartraError):
    """Kartra answered with an error message type.

    ``type`` is Kartra's numeric code, ``message`` its text, ``reply`` the whole decoded reply
    (so the id of a lead created by an earlier action of the same call is never lost), ``cmd``
    and ``action_index`` the failing action when the error belongs to one.
    """

    def __init__(
        self,
        type: int,
        message: str,
        *,
        reply: Reply | None = None,
        cmd: str | None = None,
        action_index: int | None = None,
        email: str | None = None,
    ) -> None:
        where = f" in actions[{action_index}] {cmd}" if cmd is not None else ""
        who = f" (lead {email})" if email else ""
        super().__init__(f"Kartra error {type}: {message}{where}{who}")
        self.type = type
        self.message = message
        self.reply = reply
        self.cmd = cmd
        self.action_index = action_index
        self.email = email

    @property
    def failure(self) -> Failure:
        """Kartra said no: nothing applied, or only the actions before ``action_index``."""
        return Failure.REJECTED


class RateLimited(APIError):
    """HTTP 429 "Too many requests": more than 20 calls in a second for this App."""

    @property
    def failure(self) -> Failure:
        """A 429 is answered before any command runs: as good as never sent."""
        return Failure.NOT_SENT


class InsecureConnection(APIError):
    """201: the call was not made over HTTPS."""


class AuthError(APIError):
    """The App user's API key or password was refused (202, 203, 204, 233)."""


class MissingAPIKey(AuthError):
    """202: ``api_key`` is empty."""


class InvalidAPIKey(AuthError):
    """203: ``api_key`` is not valid."""


class AccountInactive(AuthError):
    """204: the App user's Kartra account is inactive."""


class InvalidAPIPassword(AuthError):
    """233: ``api_password`` is not valid."""


class AppError(APIError):
    """The App itself was refused (238, 239, 240, 242, 262)."""


class MissingAppId(AppError):
    """238: ``app_id`` is empty."""


class InvalidAppId(AppError):
    """239: the App does not exist or is inactive."""


class AppAccountInactive(AppError):
    """240: the App owner's account is inactive."""


class UnauthorizedIP(AppError):
    """242: the call came from an IP address outside the App's allowlist."""


class CommandNotPermitted(AppError):
    """262: the App has no permission to run this cmd."""


class RequestShapeError(APIError):
    """The request body had the wrong shape (206, 223, 224, 236, 254)."""


class LeadError(APIError):
    """A lead-level failure."""


class LeadNotFound(LeadError):
    """234 (get_lead) or 243 (lead commands): no lead with this id or email."""


class LeadAlreadyExists(LeadError):
    """244: the email (or ``new_email``) already belongs to a lead."""


class LeadDeleted(LeadError):
    """245: the lead was deleted; its email stays reserved."""


class TagError(APIError):
    """A tag command failed (211-214)."""


class ListError(APIError):
    """A list command failed (207-209, 231)."""


class PointsError(APIError):
    """A points command failed (215, 217, 227, 228)."""


class SequenceError(APIError):
    """A sequence command failed (219, 220, 225, 226, 229, 230)."""


class CalendarError(APIError):
    """A calendar command failed (255-261)."""


class InvalidDate(APIError):
    """260 "Invalid date format" or 261 "Date is in the past", whichever command sent the date.

    Catch this to handle a rejected date of ``calendar_subscribe`` (a ``CalendarDateError``) and
    of ``edit_subscription`` (a ``SubscriptionDateError``) alike.
    """


class CalendarDateError(CalendarError, InvalidDate):
    """260/261 from ``calendar_subscribe``: the booking's date or hour was bad or past."""


class CustomFieldError(APIError):
    """A custom field command or value failed (263-273)."""


class CustomFieldFormatError(CustomFieldError):
    """271: ``custom_fields`` was malformed for create_lead or edit_lead."""


class BillingError(APIError):
    """A transaction or subscription command failed (247-253, 266-290)."""


class TransactionNotFound(BillingError):
    """247: no such transaction."""


class SubscriptionNotFound(BillingError):
    """248: no such subscription."""


class SubscriptionDateError(BillingError, InvalidDate):
    """260/261 from ``edit_subscription``: the new payment date was bad or past."""


FAMILY_CLASSES: Final[dict[Family, type[APIError]]] = {
    "transport": InsecureConnection,
    "auth": AuthError,
    "app": AppError,
    "request": RequestShapeError,
    "lead": LeadError,
    "tag": TagError,
    "list": ListError,
    "points": PointsError,
    "sequence": SequenceError,
    "calendar": CalendarError,
    "custom_field": CustomFieldError,
    "billing": BillingError,
}

LEAF_CLASSES: Final[dict[int, type[APIError]]] = {
    201: InsecureConnection,
    202: MissingAPIKey,
    203: InvalidAPIKey,
    204: AccountInactive,
    233: InvalidAPIPassword,
    238: MissingAppId,
    239: InvalidAppId,
    240: AppAccountInactive,
    242: UnauthorizedIP,
    262: CommandNotPermitted,
    234: LeadNotFound,
    243: LeadNotFound,
    244: LeadAlreadyExists,
    245: LeadDeleted,
    271: CustomFieldFormatError,
    260: CalendarDateError,
    261: CalendarDateError,
    247: TransactionNotFound,
    248: SubscriptionNotFound,
    RATE_LIMIT_STATUS: RateLimited,
}

#: Every documented code -> the most specific class; built from the two tables above.
ERROR_CLASSES: Final[dict[int, type[APIError]]] = {
    code: LEAF_CLASSES.get(code, FAMILY_CLASSES[family])
    for code, (_message, family) in ERROR_CODES.items()
}
ERROR_CLASSES[RATE_LIMIT_STATUS] = RateLimited

#: (code, cmd) -> class, where one code belongs to another family for that cmd: Kartra reuses
#: the calendar's date codes for a subscription's next payment date.
CMD_ERROR_CLASSES: Final[dict[tuple[int, str], type[APIError]]] = {
    (260, "edit_subscription"): SubscriptionDateError,
    (261, "edit_subscription"): SubscriptionDateError,
}


def error_class(code: int, cmd: str | None = None) -> type[APIError]:
    """The exception class for a Kartra message type (answered to ``cmd``, when known); plain
    ``APIError`` for unknown codes."""
    if cmd is not None:
        by_cmd = CMD_ERROR_CLASSES.get((code, cmd))
        if by_cmd is not None:
            return by_cmd
    return ERROR_CLASSES.get(code, APIError)
