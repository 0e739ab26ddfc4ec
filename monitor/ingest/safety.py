"""Refuse to fetch article links that point into our own network.

Article links come from feed content, i.e. from strangers: a link to ``http://10.0.0.5/admin``
or ``http://169.254.169.254/`` (cloud metadata) must not be fetched (SSRF). The host is
resolved and every address it resolves to must be public. The check runs on every request,
redirect hops included (see ``monitor.ingest.fetch``).

>>> import asyncio
>>> asyncio.run(check_public_url("http://127.0.0.1/x", allow_private=True))
>>> asyncio.run(check_public_url("http://127.0.0.1/x"))  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
monitor.ingest.safety.PrivateAddressError: 127.0.0.1 resolves to non-public address 127.0.0.1
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["PrivateAddressError", "check_public_url", "is_public_address"]


class PrivateAddressError(Exception):
    """The URL's host is (or resolves to) a private, loopback, link-local or reserved address."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_public_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``PrivateAddressError`` unless every address of the URL's host is public.

    DNS errors propagate as ``socket.gaierror`` (the fetcher classifies them as ``dns``).
    """
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise PrivateAddressError(f"{url!r} has no host")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not is_public_address(address):
            raise PrivateAddressError(f"{host} resolves to non-public address {address}")
