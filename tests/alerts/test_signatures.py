"""Webhook signatures cover a timestamp, so a captured request cannot be replayed later.

The receiver (``tests.alerts.conftest.WebhookReceiver``) makes the check README's "Security"
section describes: the timestamp within 300 s, then HMAC-SHA256 of ``timestamp.body``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import httpx
import pytest

from monitor.alerts.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SlackChannel,
    SlackChannelConfig,
    WebhookChannel,
    WebhookChannelConfig,
    verify,
)
from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.records import Notification
from monitor.alerts.subscriptions import Subscriptions
from monitor.settings import AlertSettings
from monitor.stores.deliveries import MemoryDeliveryStore
from tests.alerts.conftest import SECRET, WebhookReceiver, make_alert


async def _send_one(webhook: WebhookReceiver) -> tuple[Notification, float]:
    notification = Notification.build("desk", [make_alert(1)])
    config = WebhookChannelConfig(url=webhook.url, secret=SECRET)
    sent_at = time.time()
    async with httpx.AsyncClient() as client:
        await WebhookChannel(config, client).send(notification)
    return notification, sent_at


async def test_the_timestamp_is_sent_and_signed_with_the_body(webhook: WebhookReceiver) -> None:
    notification, sent_at = await _send_one(webhook)
    [request] = webhook.accepted
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert abs(int(timestamp) - sent_at) <= 2
    signed = timestamp.encode() + b"." + request.body
    expected = "v1=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == expected
    assert request.headers["Idempotency-Key"] == notification.key
    assert verify(SECRET.encode(), request.body, timestamp, expected)


async def test_a_captured_request_cannot_be_replayed_later(webhook: WebhookReceiver) -> None:
    await _send_one(webhook)
    [request] = webhook.accepted
    timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    secret, body = SECRET.encode(), request.body
    later = int(timestamp) + 301
    assert verify(secret, body, timestamp, signature, now=int(timestamp) + 299)
    assert not verify(secret, body, timestamp, signature, now=later)  # replayed too late
    # A fresh timestamp on the old signature, or a changed body, does not verify either.
    assert not verify(secret, body, str(later), signature, now=later)
    assert not verify(secret, body.replace(b"youm7", b"youm8"), timestamp, signature)
    assert not verify(secret, body, "", signature) and not verify(secret, body, "1e9", signature)
    # The receiver (its own clock) refuses the replay with the same headers.
    async with httpx.AsyncClient() as client:
        stale = {**request.headers, TIMESTAMP_HEADER: str(int(time.time()) - 400)}
        stale.pop("Content-Length", None)
        response = await client.post(webhook.url, content=body, headers=stale)
    assert response.status_code == 401 and webhook.bad_signatures == 1


async def test_a_retry_is_signed_afresh_under_the_same_key(webhook: WebhookReceiver) -> None:
    webhook.fail_first = 1
    settings = AlertSettings.model_validate(
        {"retry_base_seconds": 1.2, "retry_max_seconds": 1.2, "allowed_networks": ["127.0.0.0/8"]}
    )
    subscriptions = Subscriptions.model_validate(
        {"subscribers": [{"id": "desk",
                          "channel": {"type": "webhook", "url": webhook.url, "secret": SECRET}}]}
    )  # fmt: skip
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), settings, rng=lambda: 1.0)
    runner = asyncio.create_task(dispatcher.run())
    try:
        await dispatcher.handle_alert(make_alert(2))
        assert await dispatcher.drain(10.0)
    finally:
        await dispatcher.close()
        await runner
    first, second = webhook.requests
    assert (first.status, second.status) == (500, 200)
    assert first.key == second.key and first.body == second.body
    assert int(second.headers[TIMESTAMP_HEADER]) > int(first.headers[TIMESTAMP_HEADER])
    assert webhook.bad_signatures == 0


@pytest.mark.parametrize("secret", [SECRET, None])
async def test_slack_is_signed_the_same_way_when_it_has_a_secret(
    webhook: WebhookReceiver, secret: str | None
) -> None:
    webhook.secret = secret or ""
    config = SlackChannelConfig(url=webhook.url, secret=secret)
    async with httpx.AsyncClient() as client:
        await SlackChannel(config, client).send(Notification.build("desk", [make_alert(3)]))
    [request] = webhook.accepted
    assert (TIMESTAMP_HEADER in request.headers) == (secret is not None)
    assert request.headers["Idempotency-Key"] == "story-1:development:3:desk"
