"""Real receivers on loopback for the delivery tests: a webhook server and an SMTP server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from monitor.core.records import Alert

SECRET = "s3cret-ключ"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def key(self) -> str:
        return self.headers.get("Idempotency-Key", "")


@dataclass
class WebhookReceiver:
    """Answers ``fail_first`` requests with 500 (or all with ``always_fail``) and requests with
    a wrong signature with 401 (no check when ``secret`` is empty); sleeps ``delay`` seconds
    before answering; records every request."""

    url: str = ""
    secret: str = SECRET
    fail_first: int = 0
    always_fail: bool = False
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    processed: Counter[str] = field(default_factory=Counter)
    """Acknowledged (200) requests per idempotency key; no deduplication by the receiver."""
    bad_signatures: int = 0

    def signature_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        """The check README's "Security" section tells receivers to make, written out."""
        timestamp = headers.get("X-Monitor-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        signed = timestamp.encode() + b"." + body
        expected = "v1=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(headers.get("X-Monitor-Signature", ""), expected)

    slow_keys: dict[str, float] = field(default_factory=dict)
    """Idempotency key -> delay of the first request with that key only."""
    started: list[str] = field(default_factory=list)
    """Keys of requests as they arrive (before any delay)."""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        first = key not in self.started
        self.started.append(key)
        delay = self.slow_keys.get(key, 0.0) if first else 0.0
        if self.delay or delay:
            await asyncio.sleep(self.delay or delay)
        transport = request.transport
        if transport is None or transport.is_closing():
            # The sender died while we worked: it never got our answer, so (like a receiver
            # that commits only what it acknowledges) this is not a successful receipt.
            self.requests.append(Request(request.path, dict(request.headers), body, 0))
            return web.Response(status=499)
        signature_ok = not self.secret or self.signature_ok(request.headers, body)
        failing = self.always_fail or len(self.requests) < self.fail_first
        status = 401 if not signature_ok else 500 if failing else 200
        self.bad_signatures += not signature_ok
        self.requests.append(Request(request.path, dict(request.headers), body, status))
        if status == 200:
            self.processed[key] += 1
        return web.Response(status=status, text="ok" if status == 200 else "nope")

    @property
    def accepted(self) -> list[Request]:
        return [r for r in self.requests if r.status == 200]


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    # Bodies up to 16 MiB (aiohttp's default refuses over 1 MiB): tests of large messages.
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    yield receiver
    await runner.cleanup()


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    receiver = SmtpReceiver("127.0.0.1", port)
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    yield receiver
    controller.stop()


def make_alert(
    index: int = 0,
    *,
    story: str = "story-1",
    kind: str = "development",
    sentences: list[str] | None = None,
    **extra: Any,
) -> Alert:
    return Alert.model_validate(
        {
            "id": f"{story}:{kind}:{index}",
            "kind": kind,
            "story": story,
            "story_title": "بوتين يزور كوريا الشمالية",
            "article": f"art-{index}",
            "outlet": "youm7",
            "title": f"بوتين يصل إلى بيونغ يانغ {index}",
            "new_sentences": sentences
            if sentences is not None
            else [f"وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ ({index})."],
            "links": [f"https://example.org/{index}"],
            "names": ["فلاديمير بوتين", "كيم جونغ اون"],
            "score": 0.8,
            **extra,
        }
    )


AlertFactory = Callable[..., Alert]


@pytest.fixture
def alert_factory() -> AlertFactory:
    return make_alert
