"""SSRF: feeds, article pages, redirect hops and subscriber URLs reach global addresses only.

A real HTTP(S) server listens on two loopback addresses: 127.0.0.2 stands for "allowed" (named
in the guard's allow-list) and 127.0.0.1 for "internal". Every request it receives is recorded
with the local address it arrived on, so a test sees where a connection really went.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.records import DeadLetter
from monitor.alerts.subscriptions import Subscriptions
from monitor.ingest.fetch import Fetcher, FetchError, FetchLimits
from monitor.netguard import AddressGuard, guarded_client
from monitor.settings import AlertSettings
from monitor.stores.deliveries import MemoryDeliveryStore
from tests.alerts.conftest import make_alert

ALLOWED, INTERNAL = "127.0.0.2", "127.0.0.1"
GUARD = AddressGuard.allowing(f"{ALLOWED}/32")
LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, deadline=5, host_min_spacing=0)
REBIND_HOST = "rebind.example"

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@dataclass
class Seen:
    local_address: str
    path: str
    host_header: str


@dataclass
class TwoFacedServer:
    port: int = 0
    seen: list[Seen] = field(default_factory=list)

    def url(self, address: str, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{address}:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        self.seen.append(
            Seen(sockname[0] if sockname else "?", request.path, request.headers.get("Host", ""))
        )
        if request.path == "/redirect-inside":
            raise web.HTTPFound(self.url(INTERNAL, "/internal"))
        if request.path == "/redirect-allowed":
            raise web.HTTPFound(self.url(ALLOWED, "/feed.xml"))
        return web.Response(body=RSS, content_type="application/rss+xml")

    def reached(self, address: str) -> list[str]:
        return [seen.path for seen in self.seen if seen.local_address == address]


async def _serve(
    server: TwoFacedServer, ssl_context: ssl.SSLContext | None = None
) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    first = web.TCPSite(runner, INTERNAL, server.port, ssl_context=ssl_context)
    await first.start()
    server.port = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await web.TCPSite(runner, ALLOWED, server.port, ssl_context=ssl_context).start()
    return runner


@pytest.fixture
async def server() -> AsyncIterator[TwoFacedServer]:
    two_faced = TwoFacedServer()
    runner = await _serve(two_faced)
    yield two_faced
    await runner.cleanup()


@pytest.fixture
async def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``rebind.example`` answers the allowed address once, then the internal one (a DNS
    rebinding attacker with a TTL of 0). Returns the answers given, in order."""
    loop = asyncio.get_running_loop()
    real: Callable[..., Any] = loop.getaddrinfo
    answers: list[str] = []

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (REBIND_HOST, REBIND_HOST.encode()):
            return await real(host, port, *args, **kwargs)
        answers.append(ALLOWED if not answers else INTERNAL)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[-1], int(port)))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers


# ---------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1",  # carrier-grade NAT: private, not global
        "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:7f00:1::", "2002:a00:1::1",  # 6to4 of 127.0.0.1 and 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "::7f00:1",  # IPv4-compatible (deprecated) 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)  # fmt: skip
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not AddressGuard().permits(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"],
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert AddressGuard().permits(address)


def test_the_allow_list_admits_its_networks_only() -> None:
    guard = AddressGuard.allowing("127.0.0.0/8", "fd00::/8")
    assert guard.permits("127.9.9.9") and guard.permits("::ffff:127.0.0.1")
    assert guard.permits("fd12::1") and not guard.permits("10.0.0.1")
    everything = AddressGuard.from_settings([], allow_all=True)
    assert everything.permits("10.0.0.1") and everything.permits("::1")


# ---------------------------------------------------------------------------- feeds and pages


async def test_feeds_and_pages_refuse_a_redirect_into_the_network(server: TwoFacedServer) -> None:
    async with Fetcher(LIMITS, guard=GUARD) as fetcher:
        for fetch in (fetcher.fetch, fetcher.fetch_page):
            with pytest.raises(FetchError) as refused:
                await fetch(server.url(ALLOWED, "/redirect-inside"))
            assert refused.value.kind == "private_address"
        followed = await fetcher.fetch(server.url(ALLOWED, "/redirect-allowed"))
    assert followed.url == server.url(ALLOWED, "/feed.xml") and b"<rss" in followed.body
    assert server.reached(INTERNAL) == []


async def test_a_feed_on_an_internal_address_is_refused(server: TwoFacedServer) -> None:
    async with Fetcher(LIMITS, guard=GUARD) as fetcher:
        with pytest.raises(FetchError) as refused:
            await fetcher.fetch(server.url(INTERNAL, "/feed.xml"))
    assert refused.value.kind == "private_address" and server.seen == []


@pytest.mark.parametrize("what", ["feed", "page"])
async def test_the_connection_goes_to_the_address_that_was_checked(
    server: TwoFacedServer, rebinding_dns: list[str], what: str
) -> None:
    async with Fetcher(LIMITS, guard=GUARD) as fetcher:
        fetch = fetcher.fetch if what == "feed" else fetcher.fetch_page
        await fetch(f"http://{REBIND_HOST}:{server.port}/feed.xml")
    # Resolved once (a second resolution would have said 127.0.0.1) ...
    assert rebinding_dns == [ALLOWED]
    assert server.reached(INTERNAL) == [] and server.reached(ALLOWED) == ["/feed.xml"]
    # ... and the server saw the name, not the address.
    assert [seen.host_header for seen in server.seen] == [f"{REBIND_HOST}:{server.port}"]


async def test_tls_keeps_the_host_name_for_sni_and_the_certificate(
    tmp_path: Path, rebinding_dns: list[str]
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={REBIND_HOST}", "-addext", f"subjectAltName=DNS:{REBIND_HOST}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_names: list[str | None] = []
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server_tls.sni_callback = lambda _sock, name, _ctx: server_names.append(name)  # type: ignore[assignment,misc]
    https = TwoFacedServer()
    runner = await _serve(https, server_tls)
    client_tls = ssl.create_default_context(cafile=str(cert))  # verifies name and chain
    try:
        async with guarded_client(GUARD, ssl_context=client_tls) as client:
            response = await client.get(f"https://{REBIND_HOST}:{https.port}/feed.xml")
    finally:
        await runner.cleanup()
    assert response.status_code == 200 and server_names == [REBIND_HOST]
    assert https.reached(ALLOWED) == ["/feed.xml"]


# ---------------------------------------------------------------------------- subscribers


def _subscriptions(base_url: str) -> Subscriptions:
    channels: list[dict[str, Any]] = [
        {"type": "webhook", "url": base_url + "/hook"},
        {"type": "slack", "url": base_url + "/services/T/B/X"},
        {"type": "telegram", "chat_id": 1, "token": "1:T", "api_url": base_url},
        {"type": "telegram", "chat_id": 1, "token": "1:T", "api_url": "http://169.254.169.254"},
    ]
    return Subscriptions.model_validate(
        {"subscribers": [{"id": f"s{i}", "channel": c} for i, c in enumerate(channels)]}
    )


async def _deliver(settings: AlertSettings, subscriptions: Subscriptions) -> list[DeadLetter]:
    dead: list[DeadLetter] = []

    async def keep(letter: DeadLetter) -> None:
        dead.append(letter)

    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), settings, dead_letters=keep)
    runner = asyncio.create_task(dispatcher.run())
    try:
        await dispatcher.handle_alert(make_alert(1))
        assert await dispatcher.drain(10.0)
    finally:
        await dispatcher.close()
        await runner
    return dead


async def test_subscriber_urls_into_the_network_are_refused_unless_allowed(
    server: TwoFacedServer,
) -> None:
    quick = {"retry_base_seconds": 0.01, "max_attempts": 2, "http_timeout_seconds": 2.0}
    dead = await _deliver(
        AlertSettings.model_validate(quick), _subscriptions(server.url(INTERNAL, ""))
    )
    assert sorted(letter.subscriber for letter in dead) == ["s0", "s1", "s2", "s3"]
    assert all(letter.reason.startswith("refused") for letter in dead)
    assert all(letter.attempts == 1 for letter in dead)  # permanent: never retried
    assert server.seen == []

    allowed = AlertSettings.model_validate({**quick, "allowed_networks": [f"{INTERNAL}/32"]})
    dead = await _deliver(allowed, _subscriptions(server.url(INTERNAL, "")))
    assert [letter.subscriber for letter in dead] == ["s3"]  # metadata stays refused
    assert sorted(server.reached(INTERNAL)) == ["/bot1:T/sendMessage", "/hook", "/services/T/B/X"]
