"""No secret reaches a log line, a metric, a dead letter, Redis or an exception message.

A delivery run against hostile receivers on loopback that fail and echo what they were sent
(the request path with the Telegram bot token, the Slack webhook path, the webhook's
``Authorization`` header and query token), an SMTP server refusing the login, and a Redis URL
with a password; then everything the run left behind is searched for the secrets.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from prometheus_client import REGISTRY, generate_latest

from monitor.alerts.channels import DeliveryError, TelegramChannel, TelegramChannelConfig
from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.records import DeadLetter, Notification
from monitor.alerts.subscriptions import Subscriptions, SubscriptionsFile
from monitor.ingest.feeds import parse_feeds
from monitor.ingest.fetch import Fetcher, FetchError, FetchLimits
from monitor.settings import AlertSettings, Settings
from monitor.stores.deliveries import RedisDeliveryStore
from tests.alerts.conftest import make_alert
from tests.ingest.conftest import LOOPBACK

pytestmark = pytest.mark.integration

BOT_TOKEN = "7310042517:AAHt0k3n-Only-The-Bot-Knows_x9"
SLACK_PATH = "/services/T0SECRET/B0SECRET/slackSecretPart42"
WEBHOOK_SECRET = "hmac-signing-secret-77"
BEARER = "Bearer webhook-bearer-token-55"
QUERY_TOKEN = "query-token-in-url-31"
SMTP_PASSWORD = "smtp-password-13"
REDIS_PASSWORD = "redis-password-11"
SECRETS = [
    BOT_TOKEN,
    SLACK_PATH,
    WEBHOOK_SECRET,
    BEARER,
    QUERY_TOKEN,
    SMTP_PASSWORD,
    REDIS_PASSWORD,
]

SETTINGS = AlertSettings.model_validate(
    {"retry_base_seconds": 0.02, "retry_max_seconds": 0.05, "max_attempts": 2,
     "http_timeout_seconds": 2.0, "lease_seconds": 5.0, "allowed_networks": ["127.0.0.0/8"]}
)  # fmt: skip


@dataclass
class EchoingReceiver:
    """Fails every request and quotes the request back (path, query and headers) in the error
    body, as careless servers and proxies do."""

    url: str = ""
    seen: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.path_qs)
        echo = f"cannot handle {request.method} {request.path_qs} {dict(request.headers)}"
        status = 500 if request.path.startswith("/services/") else 404
        return web.Response(status=status, text=echo)


@pytest.fixture
async def receiver() -> AsyncIterator[EchoingReceiver]:
    echo = EchoingReceiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", echo.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    echo.url = f"http://127.0.0.1:{port}"
    yield echo
    await runner.cleanup()


class _RefuseLogin:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def smtp_refusing_login() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])

    def authenticator(*args: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    controller = Controller(
        _RefuseLogin(), hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield port
    controller.stop()


def _subscribers(base_url: str, smtp_port: int) -> Subscriptions:
    channels: list[dict[str, Any]] = [
        {"type": "telegram", "chat_id": "-100", "token_env": "TEST_BOT_TOKEN", "api_url": base_url},
        {"type": "slack", "url": base_url + SLACK_PATH},
        {"type": "webhook", "url": f"{base_url}/hook?token={QUERY_TOKEN}&v=1",
         "secret": WEBHOOK_SECRET, "headers": {"Authorization": BEARER}},
        {"type": "email", "to": ["desk@example.org"], "host": "127.0.0.1", "port": smtp_port,
         "username": "monitor", "password_env": "TEST_SMTP_PASSWORD"},
    ]  # fmt: skip
    return Subscriptions.model_validate(
        {"subscribers": [{"id": f"sub-{index}", "channel": channel}
                         for index, channel in enumerate(channels)]}
    )  # fmt: skip


def _assert_clean(where: str, text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"{where} shows {leaked}"


async def test_a_failing_delivery_run_leaks_no_secret(
    receiver: EchoingReceiver,
    smtp_refusing_login: int,
    redis_client: aioredis.Redis,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # `monitor run` quiets httpx in-process
    monkeypatch.setenv("TEST_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    Settings(redis={"url": f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"})
    logging.getLogger("test").warning("connecting to redis://:%s@127.0.0.1:1/0", REDIS_PASSWORD)

    dead_letters: list[DeadLetter] = []

    async def keep(dead: DeadLetter) -> None:
        dead_letters.append(dead)

    store = RedisDeliveryStore(redis_client, key_prefix=topic_prefix)
    dispatcher = Dispatcher(
        _subscribers(receiver.url, smtp_refusing_login), store, SETTINGS, dead_letters=keep
    )
    runner = asyncio.create_task(dispatcher.run())
    try:
        await dispatcher.handle_alert(make_alert(1))
        assert await dispatcher.drain(20.0)
    finally:
        await dispatcher.close()
        await runner

    # The run did what it should: each receiver was reached and each delivery dead-lettered.
    assert any(BOT_TOKEN in path for path in receiver.seen)
    assert sorted(dead.subscriber for dead in dead_letters) == [f"sub-{i}" for i in range(4)]
    assert "HTTP Request: POST" in caplog.text  # httpx's own line, with the URL, was captured
    assert "[REDACTED]" in caplog.text

    _assert_clean("the log", caplog.text)
    for dead in dead_letters:
        _assert_clean(f"dead letter of {dead.subscriber}", dead.model_dump_json())
    _assert_clean("the metrics", generate_latest(REGISTRY).decode())
    stored = []
    async for key in redis_client.scan_iter(match=f"{topic_prefix}*"):
        kind = await redis_client.type(key)
        if kind == b"hash":
            stored.append(repr(await redis_client.hgetall(key)))
        elif kind == b"zset":
            stored.append(repr(await redis_client.zrange(key, 0, -1)))
        elif kind == b"string":
            stored.append(repr(await redis_client.get(key)))
    assert stored
    _assert_clean("Redis", "\n".join(stored))


async def test_exception_messages_leak_no_token() -> None:
    config = TelegramChannelConfig(chat_id=1, token=BOT_TOKEN, api_url="http://[::1")
    async with httpx.AsyncClient() as client:
        with pytest.raises(DeliveryError) as failure:
            await TelegramChannel(config, client).send(Notification.build("x", [make_alert(2)]))
    assert failure.value.permanent  # a misconfigured channel, not a crash of the channel
    _assert_clean("the exception", f"{failure.value} {failure.value.reason!r}")
    assert BOT_TOKEN not in repr(config) and BOT_TOKEN not in str(config.model_dump())


def test_an_invalid_subscriptions_file_is_logged_without_its_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unloaded = "999111:Never-Registered-Token-Q"
    path = tmp_path / "subscriptions.yaml"
    channel = f"{{type: telegram, chat_id: 1, token: '{unloaded}', colour: red}}"
    path.write_text(f"subscribers:\n  - id: tg\n    channel: {channel}\n")
    caplog.set_level(logging.INFO)
    SubscriptionsFile(path)
    path.write_text(f"subscribers:\n  - id: tg\n    channel: {{token: '{unloaded}\n")
    SubscriptionsFile(path)
    assert caplog.text.count("keeping the previous subscriptions") == 2
    assert unloaded not in caplog.text


async def test_feed_credentials_stay_out_of_fetch_errors(caplog: pytest.LogCaptureFixture) -> None:
    password, api_key = "feed-password-21", "feed-api-key-34"
    [feed] = parse_feeds(
        {"feeds": [{"name": "paid", "outlet": "x",
                    "url": f"http://reader:{password}@127.0.0.1:1/rss?apikey={api_key}"}]}
    )  # fmt: skip
    async with Fetcher(FetchLimits(connect_timeout=1.0), guard=LOOPBACK) as fetcher:
        with pytest.raises(FetchError) as failure:
            await fetcher.fetch(feed.url_text)
    logging.getLogger("test").warning("feed %s failed: %s", feed.url_text, failure.value)
    for text in (str(failure.value), failure.value.detail, caplog.text):
        assert password not in text and api_key not in text
