"""Channels against real receivers: email through an SMTP server on loopback, rendering."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from monitor.alerts.channels import (
    DeliveryError,
    EmailChannel,
    EmailChannelConfig,
    WebhookChannel,
    WebhookChannelConfig,
    render_text,
    sign,
)
from monitor.alerts.records import Notification
from tests.alerts.conftest import SECRET, WebhookReceiver, make_alert


async def test_email_is_readable_rtl_utf8_arabic(smtp_server: Any) -> None:
    config = EmailChannelConfig.model_validate(
        {"to": ["editor@example.org"], "from": "monitor@example.org",
         "host": smtp_server.host, "port": smtp_server.port}
    )  # fmt: skip
    alert = make_alert(
        1, sentences=["وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء."]
    )
    notification = Notification.build("editor", [alert])
    await EmailChannel(config).send(notification)
    await EmailChannel(config).send(notification)  # a retry after a lost reply

    first, second = smtp_server.messages
    assert smtp_server.envelopes[0] == ("monitor@example.org", ["editor@example.org"])
    assert first["Subject"] == f"[تطور جديد] {alert.story_title}"
    assert first["X-Monitor-Idempotency-Key"] == notification.key
    assert first["Message-ID"] == second["Message-ID"]  # receivers can drop the repeat
    plain = first.get_body(preferencelist=("plain",))
    html = first.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    plain_text, html_text = plain.get_content(), html.get_content()
    assert alert.new_sentences[0] in plain_text
    assert alert.new_sentences[0] in html_text
    assert '<html lang="ar" dir="rtl">' in html_text and 'dir="rtl"' in html_text
    assert alert.links[0] in plain_text and f'href="{alert.links[0]}"' in html_text


async def test_smtp_rejection_is_a_permanent_error(smtp_server: Any) -> None:
    async def reject(server: Any, session: Any, envelope: Any) -> str:
        return "550 mailbox unavailable"

    smtp_server.handle_DATA = reject
    config = EmailChannelConfig(to=["x@example.org"], host=smtp_server.host, port=smtp_server.port)
    with pytest.raises(DeliveryError) as failure:
        await EmailChannel(config).send(Notification.build("x", [make_alert()]))
    assert failure.value.permanent and "550" in failure.value.reason


async def test_unreachable_smtp_is_a_transient_error() -> None:
    config = EmailChannelConfig(to=["x@example.org"], host="127.0.0.1", port=1)
    with pytest.raises(DeliveryError) as failure:
        await EmailChannel(config).send(Notification.build("x", [make_alert()]))
    assert not failure.value.permanent


async def test_webhook_signature_covers_the_exact_body(webhook: WebhookReceiver) -> None:
    config = WebhookChannelConfig(url=webhook.url, secret=SECRET, headers={"X-Team": "desk"})
    notification = Notification.build("desk", [make_alert()])
    async with httpx.AsyncClient() as client:
        await WebhookChannel(config, client).send(notification)
    [request] = webhook.requests
    timestamp = request.headers["X-Monitor-Timestamp"]
    assert request.headers["X-Monitor-Signature"] == sign(
        SECRET.encode(), request.body, int(timestamp)
    )
    assert request.headers["X-Team"] == "desk"
    assert request.headers["Idempotency-Key"] == notification.key
    assert "بوتين" in request.body.decode("utf-8")


async def test_webhook_timeouts_and_refusals_are_transient(webhook: WebhookReceiver) -> None:
    webhook.delay = 1.0
    config = WebhookChannelConfig(url=webhook.url, secret=SECRET)
    async with httpx.AsyncClient(timeout=0.2) as client:
        with pytest.raises(DeliveryError) as slow:
            await WebhookChannel(config, client).send(Notification.build("d", [make_alert()]))
        refused = WebhookChannelConfig(url="http://127.0.0.1:1/hook")
        with pytest.raises(DeliveryError) as closed:
            await WebhookChannel(refused, client).send(Notification.build("d", [make_alert()]))
    assert slow.value.reason.startswith("timeout") and not slow.value.permanent
    assert not closed.value.permanent


def test_folded_message_says_how_many_were_held() -> None:
    alerts = [make_alert(i) for i in range(3)]
    text = render_text(Notification.build("d", alerts, suppressed=2))
    assert "+2" in text
    # newest first
    assert text.index(alerts[2].new_sentences[0]) < text.index(alerts[0].new_sentences[0])
