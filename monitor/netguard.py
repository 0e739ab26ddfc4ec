"""Outbound HTTP only to global addresses, checked on the connection actually made (SSRF).

Feed URLs, article links found in feed content, every redirect hop, and the webhook, Slack and
Telegram URLs of subscribers may point into our own network (``http://10.0.0.5/admin``, cloud
metadata at ``169.254.169.254``, a Redis on loopback). An address is allowed only if it is
globally reachable (``ipaddress``'s ``is_global``, not multicast) and so is any IPv4 address it
embeds (IPv4-mapped, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``); the deprecated IPv4-compatible
``::/96`` and the local-use NAT64 ``64:ff9b:1::/48`` are refused. Networks named in an explicit
allow-list (settings ``poller.allowed_networks`` and ``alerts.allowed_networks``; tests use
``127.0.0.0/8``) are allowed too.

The check runs inside the connection: ``GuardedTransport`` is an httpx transport whose network
backend resolves the host once, refuses it if *any* of its addresses is not allowed, and then
connects to the checked address itself. There is no second DNS resolution between check and
connect, so a name that answers a public address to the check and a private one to the connect
(DNS rebinding) cannot slip through. TLS still uses the host name (SNI and certificate check),
and the ``Host`` header is the URL's. Every new connection is checked, so every redirect hop
is; a kept-alive connection is reused only for the origin it was checked for. Proxies from the
environment are not used by these clients (the check would apply to the proxy).

>>> AddressGuard().permits("127.0.0.1"), AddressGuard().permits("100.64.0.1")
(False, False)
>>> AddressGuard().permits("2002:7f00:1::"), AddressGuard().permits("2606:4700::1111")
(False, True)
>>> AddressGuard.allowing("127.0.0.0/8").permits("::ffff:127.0.0.1")
True
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

import httpcore
import httpx

__all__ = [
    "AddressGuard",
    "GuardedTransport",
    "PrivateAddressError",
    "guarded_client",
    "is_global_address",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


class PrivateAddressError(Exception):
    """The URL's host is (or resolves to) an address that is not globally reachable."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_global_address(ip: Address) -> bool:
    """Globally reachable unicast, and so is the IPv4 address it embeds, if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_COMPATIBLE or ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_global_address(embedded):
            return False
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Which addresses outbound requests may reach: global ones, plus ``allowed`` networks."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def allowing(cls, *networks: str | Network) -> Self:
        return cls(tuple(ipaddress.ip_network(network) for network in networks))

    @classmethod
    def from_settings(cls, networks: Iterable[str | Network], *, allow_all: bool = False) -> Self:
        if allow_all:
            return cls.allowing("0.0.0.0/0", "::/0")
        return cls.allowing(*networks)

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        candidates: list[Address] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(c in network for c in candidates for network in self.allowed):
            return True
        return is_global_address(ip)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` (resolved once), all of them allowed, in resolver order.

        Raises ``PrivateAddressError`` if any is not, and ``socket.gaierror`` if the name does
        not resolve.
        """
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            if not self.permits(address):
                raise PrivateAddressError(f"{host} resolves to non-public address {address}")
        return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host, then connects to the checked addresses only."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._guard.resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:  # socket.gaierror: httpx reports it as a ConnectError
            raise httpcore.ConnectError(str(exc)) from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next address, as a resolver-ordered connect would
        assert failure is not None  # resolve() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressError(f"unix socket {path} refused")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request mapping, errors, pooling, TLS) over ``_GuardedBackend``."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(limits=limits)
        # httpx offers no parameter for the network backend: its pool is replaced by the same
        # pool built on the guarded backend (``_pool`` is what handle_async_request uses).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(guard),
        )


def guarded_client(
    guard: AddressGuard,
    *,
    limits: httpx.Limits | None = None,
    ssl_context: ssl.SSLContext | None = None,
    **options: Any,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every connection goes through ``guard``."""
    transport = GuardedTransport(guard, limits=limits, ssl_context=ssl_context)
    return httpx.AsyncClient(transport=transport, **options)
