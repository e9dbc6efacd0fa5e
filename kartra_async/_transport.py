"""The I/O seam: one method that posts a body and returns (status, body).

``AiohttpTransport`` is the only code in the library that imports aiohttp's client. It never
follows redirects (a redirect would carry the credentials in the body to wherever it points),
reads the body as bytes whatever its Content-Type, and turns every aiohttp failure into a
``NetworkError`` that says whether the request may have reached Kartra: the retry policy
depends on that distinction.

The body is read as a stream and capped (``max_reply_bytes``, after decompression): a hostile
or broken endpoint answering 200 MB, or a gzip bomb, costs at most about the cap in memory and
ends as ``MalformedReply``, which the retry policy treats like any other lost reply.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import attrs

from ._errors import MalformedReply, NetworkError, RequestTimeout, UsageError

DEFAULT_BASE_URL = "https://app.kartra.com/api"
#: Seconds to open a connection before reporting the host unreachable.
DEFAULT_CONNECT_TIMEOUT = 2.0
#: The largest reply body read, after decompression. Kartra's replies are a few KiB (an
#: account's whole inventory rarely reaches 1 MiB); 4 MiB leaves room and bounds memory.
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "application/json, text/html;q=0.9, */*;q=0.1",
}


@attrs.frozen
class Timeouts:
    """Seconds allowed to connect, to wait for the reply between reads, and for the whole call.

    ``connect`` bounds opening one TCP (and TLS) connection, not waiting for a free pooled one:
    a host that does not answer is reported after 2 s (Kartra connects in well under 1 s), not
    after a silent 10 s.
    """

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = 30.0
    total: float = 60.0

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise UsageError(f"timeouts.{name}: must be a positive number of seconds")


@attrs.frozen
class RawResponse:
    """What came back: the HTTP status and the body bytes."""

    status: int
    body: bytes


@runtime_checkable
class Transport(Protocol):
    """Posts one form body to Kartra. Implement it to run the client over anything."""

    async def post(self, body: bytes) -> RawResponse:
        """Send ``body``; raise ``NetworkError`` when no response could be read."""
        ...

    async def aclose(self) -> None:
        """Release connections (a borrowed session is left open)."""
        ...


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse a base URL that would send credentials in clear text (loopback excepted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"base_url: {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise UsageError("base_url: must not contain user:password (credentials go in the body)")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"base_url: {url!r} is plain http; Kartra requires https and the body carries your "
            "credentials (plain http is allowed only for loopback addresses such as the sandbox)"
        )
    return url


class AiohttpTransport:
    """Posts over one pooled ``aiohttp.ClientSession`` (its own, or one you lend it).

    ``max_reply_bytes`` caps a reply body after decompression (default
    ``DEFAULT_MAX_REPLY_BYTES``); a longer reply raises ``MalformedReply``. To change it,
    pass ``KartraClient(transport=AiohttpTransport(url, max_reply_bytes=...))``.
    """

    def __init__(
        self,
        url: str,
        *,
        timeouts: Timeouts | None = None,
        session: aiohttp.ClientSession | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connection_limit: int = 100,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self._url = check_base_url(url)
        if isinstance(max_reply_bytes, bool) or not isinstance(max_reply_bytes, int):
            raise UsageError("max_reply_bytes: must be a whole number of bytes")
        if max_reply_bytes < 1:
            raise UsageError("max_reply_bytes: must be at least 1")
        self._max_reply = max_reply_bytes
        self._timeouts = timeouts or Timeouts()
        self._timeout = aiohttp.ClientTimeout(
            total=self._timeouts.total,
            sock_connect=self._timeouts.connect,
            sock_read=self._timeouts.read,
        )
        self._borrowed = session is not None
        self._session = session
        # None means aiohttp's default: certificate verification on.
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._limit = connection_limit

    @property
    def url(self) -> str:
        """The endpoint every call is posted to."""
        return self._url

    def _own_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=True
            )
        return self._session

    async def post(self, body: bytes) -> RawResponse:
        """Post ``body`` to the endpoint; map every failure to ``NetworkError``."""
        session = self._own_session()
        try:
            async with session.post(
                self._url,
                data=body,
                headers=_HEADERS,
                allow_redirects=False,
                timeout=self._timeout,
                ssl=self._ssl,
            ) as response:
                return RawResponse(response.status, await self._read_capped(response))
        except aiohttp.ConnectionTimeoutError as exc:
            raise RequestTimeout(
                f"timed out connecting to {self._host()}", may_have_been_sent=False
            ) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(
                f"timed out waiting for {self._host()}'s reply", may_have_been_sent=True
            ) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise NetworkError(
                f"TLS certificate of {self._host()} rejected: {exc.certificate_error}",
                may_have_been_sent=False,
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(
                f"cannot connect to {self._host()}: {exc.os_error}", may_have_been_sent=False
            ) from exc
        except aiohttp.ClientError as exc:
            # Disconnects, resets and payload errors happen after the body may have left.
            raise NetworkError(
                f"connection to {self._host()} failed: {type(exc).__name__}: {exc}",
                may_have_been_sent=True,
            ) from exc
        except OSError as exc:
            raise NetworkError(
                f"connection to {self._host()} failed: {exc}", may_have_been_sent=True
            ) from exc

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, read chunk by chunk and refused as soon as it passes the cap.

        aiohttp decompresses incrementally with a bounded output per step (3.14+), so the
        chunks counted here are decompressed bytes and a gzip bomb stops at the cap too.
        """
        cap = self._max_reply
        declared = response.content_length
        headers = response.headers
        if declared is not None and not headers.get("Content-Encoding"):
            if declared > cap:
                response.close()
                raise self._too_large(response.status, b"")
            if "Transfer-Encoding" not in headers:
                # A declared, uncompressed, unchunked length within the cap: aiohttp reads
                # exactly that many bytes, so one read() is as safe as the chunked loop and
                # costs much less per reply.
                return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                head = b"".join(chunks)[:200] if chunks else chunk[:200]
                # Drop the connection: reading the rest would cost what the cap saves.
                response.close()
                raise self._too_large(response.status, head)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, status: int, head: bytes) -> MalformedReply:
        return MalformedReply(
            f"the reply body is over the {self._max_reply}-byte cap (max_reply_bytes)",
            head,
            status,
        )

    def _host(self) -> str:
        parts = urlsplit(self._url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    async def aclose(self) -> None:
        """Close the session unless it was lent by the caller."""
        if self._session is not None and not self._borrowed:
            await self._session.close()
        self._session = None
