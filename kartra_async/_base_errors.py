"""The root of the exception tree and the errors raised below the reply layer.

``KartraError``, how far a failed call got (``Failure``), misuse and transport failures live
here, beneath ``_replies`` and ``records`` which raise them; the rest of the tree (Kartra's
own answers, ``OutcomeUnknown``) is in ``_errors``, which re-exports all of these. The whole
tree is documented in ``_errors``.
"""

from __future__ import annotations

import enum


class Failure(enum.StrEnum):
    """How far a failed call got: the one question an operator needs answered after a failure."""

    #: Nothing reached Kartra's command processing (connection refused, DNS, TLS, a 429, the
    #: pacer or the retry budget exhausted, bad input, a misconfigured endpoint): nothing was
    #: applied, and sending the call again is safe.
    NOT_SENT = "not_sent"
    #: Kartra answered with an error: nothing was applied, or only the chain's actions before
    #: the failing one (named by the error); an endpoint that goes on after a failing action
    #: reports each later action's result in the error's ``reply``.
    REJECTED = "rejected"
    #: The call may have been applied: its reply was lost after the request may have left.
    UNKNOWN = "unknown"


class KartraError(Exception):
    """Base class of every exception this library raises on purpose."""

    @property
    def failure(self) -> Failure:
        """How far the call got when this error ended it (see :class:`Failure`)."""
        return Failure.UNKNOWN


class UsageError(KartraError, ValueError):
    """The library was used in a way that cannot work (bad input, closed client, bad config)."""

    @property
    def failure(self) -> Failure:
        """Misuse is caught before anything is sent."""
        return Failure.NOT_SENT


class ValidationError(UsageError):
    """A value failed validation at build time, before any call could be sent.

    ``field`` names the offending field (dotted path, e.g. ``custom_fields[2].field_value``) and
    ``reason`` says what is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConfigurationError(UsageError):
    """The endpoint answered, but not as Kartra does: HTTP 404, 401, 403, 405, a redirect or an
    HTML page. The base URL (or a proxy in front of it) is wrong; retrying cannot help.

    ``url`` is the endpoint called and ``status`` its HTTP status.
    """

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(
            f"{url} answered HTTP {status} ({reason}): this is not Kartra's API endpoint; "
            "check the base URL"
        )
        self.url = url
        self.status = status
        self.reason = reason


class TransportError(KartraError):
    """No usable reply came back from Kartra."""


class NetworkError(TransportError):
    """The connection failed.

    ``may_have_been_sent`` is False only when the request certainly never reached the server
    (DNS failure, connection refused, connect timeout): then resending it is always safe.
    """

    def __init__(self, message: str, *, may_have_been_sent: bool) -> None:
        super().__init__(message)
        self.may_have_been_sent = may_have_been_sent

    @property
    def failure(self) -> Failure:
        """``not_sent`` when the request certainly never left, else ``unknown``."""
        return Failure.UNKNOWN if self.may_have_been_sent else Failure.NOT_SENT


class RequestTimeout(NetworkError):
    """A connect, read or total timeout expired."""


class ServerError(TransportError):
    """Kartra answered with HTTP 5xx or another status it never documents (not 200, not 429)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"unexpected HTTP status {status} from Kartra")
        self.status = status
        self.body = body


class MalformedReply(TransportError):
    """Kartra answered 200 but the body is empty, not JSON, or not the expected shape."""

    def __init__(self, reason: str, body: bytes, status: int = 200) -> None:
        preview = body[:200].decode("utf-8", "replace")
        super().__init__(f"malformed reply from Kartra ({reason}): {preview!r}")
        self.reason = reason
        self.body = body
        self.status = status
