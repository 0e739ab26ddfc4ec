"""Fetching feeds and article pages over HTTP without trusting the other side.

Every fetch has connect/read timeouts AND a wall-clock deadline (a server trickling one byte
a second never trips a read timeout, so the body is streamed under ``asyncio.timeout``); the
body is streamed and cut past ``max_bytes`` (a declared Content-Length above it is refused
before reading); redirects are limited; gzip/deflate are decoded by httpx. A ``HostGate``
lets at most one request at a time reach a host, with a minimum spacing between requests.
Feeds and article pages (links found in feed content) are fetched only from global addresses,
checked on every connection, redirect hops included, and connected to as checked
(``monitor.netguard``; ``guard`` names the networks allowed besides).

Failures raise ``FetchError`` with a ``kind`` used as the metrics label:
``timeout``, ``connect``, ``dns``, ``network``, ``http_429``, ``http_5xx``, ``http_4xx``,
``http_other``, ``too_large``, ``redirect_loop``, ``private_address``, ``decode``,
``invalid_url``. ``SOFT_ERROR_KINDS`` are the ones worth retrying soon.

>>> parse_retry_after("120", now=0.0)
120.0
>>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=0.0)
60.0
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Self

import httpx

from monitor import redaction
from monitor.core.charset import Decoded, decode_declared, header_charset, meta_charset
from monitor.netguard import AddressGuard, PrivateAddressError, guarded_client
from monitor.settings import PollerSettings

__all__ = [
    "SOFT_ERROR_KINDS",
    "FetchError",
    "FetchLimits",
    "FetchResult",
    "Fetcher",
    "HostGate",
    "parse_retry_after",
]

SOFT_ERROR_KINDS = frozenset({"timeout", "connect", "dns", "network", "http_429", "http_5xx"})

_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_DNS_MESSAGES = (
    "name or service not known",
    "nodename nor servname",
    "name resolution",
    "no address associated",
    "getaddrinfo failed",
)


class FetchError(Exception):
    """A fetch that produced no usable body; ``kind`` is the metrics label."""

    def __init__(
        self, kind: str, detail: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        detail = redaction.redact(detail)  # a feed URL may carry credentials
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after

    @property
    def soft(self) -> bool:
        return self.kind in SOFT_ERROR_KINDS


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    host_min_spacing: float = 1.0

    @classmethod
    def from_settings(cls, settings: PollerSettings) -> Self:
        return cls(
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            deadline=settings.fetch_deadline_seconds,
            max_bytes=settings.max_response_bytes,
            max_redirects=settings.max_redirects,
            host_min_spacing=settings.host_min_spacing_seconds,
        )


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    """Final URL, after redirects."""
    status: int
    headers: dict[str, str]
    """Response headers, lower-case names."""
    body: bytes
    seconds: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body as text (``decoded``)."""
        return self.decoded().text

    def decoded(self) -> Decoded:
        """The body decoded with the charset of the Content-Type, else of a ``<meta>``, else
        UTF-8; when none fits the bytes (an Arabic windows-1256 page declared UTF-8), with
        the charset detected (``Decoded.misdeclared``)."""
        declared = [header_charset(self.headers.get("content-type", "")), meta_charset(self.body)]
        return decode_declared(self.body, declared)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait per a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class HostGate:
    """At most one request at a time per host, ``min_spacing`` seconds between two of them."""

    min_spacing: float
    clock: Callable[[], float] = time.monotonic
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _last_end: dict[str, float] = field(default_factory=dict)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            last = self._last_end.get(host)
            if last is not None:
                wait = last + self.min_spacing - self.clock()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last_end[host] = self.clock()


class Fetcher:
    """Fetches feeds (``fetch``) and article pages (``fetch_page``) with all the protections.

    Use as ``async with Fetcher(...) as fetcher:`` or call ``aclose()``.
    """

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        user_agent: str = "arabic-news-monitor",
        guard: AddressGuard | None = None,
        gate: HostGate | None = None,
        max_connections: int = 64,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.guard = guard or AddressGuard()
        self.gate = gate or HostGate(self.limits.host_min_spacing)
        timeout = httpx.Timeout(
            connect=self.limits.connect_timeout,
            read=self.limits.read_timeout,
            write=self.limits.read_timeout,
            pool=self.limits.deadline,
        )
        common: dict[str, Any] = {
            "timeout": timeout,
            "follow_redirects": True,
            "max_redirects": self.limits.max_redirects,
        }
        pool = httpx.Limits(max_connections=max_connections, max_keepalive_connections=32)
        self._feeds = guarded_client(
            self.guard,
            limits=pool,
            headers={"User-Agent": user_agent, "Accept": _FEED_ACCEPT},
            **common,
        )
        self._pages = guarded_client(
            self.guard,
            limits=pool,
            headers={"User-Agent": user_agent, "Accept": _PAGE_ACCEPT},
            **common,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._feeds.aclose()
        await self._pages.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed; with ``etag``/``last_modified`` the request is conditional (304 possible)."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return await self._fetch(self._feeds, url, headers)

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an article page."""
        return await self._fetch(self._pages, url, {})

    async def _fetch(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str]
    ) -> FetchResult:
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL as exc:
            raise FetchError("invalid_url", str(exc)) from exc
        if not host:
            raise FetchError("invalid_url", f"no host in {url!r}")
        async with self.gate.slot(host):
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await self._get(client, url, headers, started)
            except TimeoutError as exc:
                raise FetchError(
                    "timeout", f"{url}: no complete response within {self.limits.deadline:g}s"
                ) from exc
            except FetchError:
                raise
            except Exception as exc:
                raise _classify(url, exc) from exc

    async def _get(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], started: float
    ) -> FetchResult:
        async with client.stream("GET", url, headers=headers) as response:
            response_headers = {name.lower(): value for name, value in response.headers.items()}
            status = response.status_code
            if status >= 300 and status != 304:
                raise _status_error(url, status, response_headers)
            declared = response_headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.limits.max_bytes:
                raise FetchError(
                    "too_large", f"{url}: Content-Length {declared} > {self.limits.max_bytes}"
                )
            chunks: list[bytes] = []
            size = 0
            if status != 304:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise FetchError(
                            "too_large", f"{url}: body above {self.limits.max_bytes} bytes"
                        )
                    chunks.append(chunk)
            return FetchResult(
                url=str(response.url),
                status=status,
                headers=response_headers,
                body=b"".join(chunks),
                seconds=time.monotonic() - started,
            )


def _status_error(url: str, status: int, headers: dict[str, str]) -> FetchError:
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429:
        kind = "http_429"
    elif status >= 500:
        kind = "http_5xx"
    elif status >= 400:
        kind = "http_4xx"
    else:
        kind = "http_other"
    return FetchError(kind, f"{url}: HTTP {status}", status=status, retry_after=retry_after)


def _is_dns_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        if any(message in str(seen).lower() for message in _DNS_MESSAGES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _classify(url: str, exc: Exception) -> FetchError:
    kind = "network"
    if isinstance(exc, httpx.TooManyRedirects):
        kind = "redirect_loop"
    elif isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, PrivateAddressError):
        kind = "private_address"
    elif isinstance(exc, socket.gaierror) or (
        isinstance(exc, httpx.ConnectError) and _is_dns_failure(exc)
    ):
        kind = "dns"
    elif isinstance(exc, httpx.ConnectError | ConnectionError):
        kind = "connect"
    elif isinstance(exc, httpx.DecodingError):
        kind = "decode"
    elif isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        kind = "invalid_url"
    elif not isinstance(exc, httpx.HTTPError | OSError):
        raise exc  # a bug, not a network condition: let it surface
    return FetchError(kind, f"{url}: {type(exc).__name__}: {exc}")
