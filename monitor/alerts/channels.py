"""Delivery channels: generic webhook, Slack- and Telegram-compatible webhooks, and email.

A channel sends one ``Notification`` and either returns (the receiver accepted it) or raises
``DeliveryError`` (``permanent=True`` when retrying cannot help, e.g. HTTP 400/401/404 or an SMTP
5xx reply). Retries, backoff and dead letters are the dispatcher's job.

Every channel carries the notification's idempotency key so receivers can drop the duplicate
that a crash between "sent" and "recorded as sent" can cause (see ``monitor.stores.deliveries``):

* webhook: JSON body = the notification (``key``, ``subscriber``, ``kind``, ``alerts``,
  ``suppressed``); headers ``Idempotency-Key`` and, with a secret,
  ``X-Monitor-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``;
* slack: ``{"text": ..., "blocks": [...]}`` plus the same headers;
* telegram: ``{"chat_id": ..., "text": ..., "parse_mode": "HTML"}`` to
  ``<api_url>/bot<token>/sendMessage``;
* email: ``Message-ID`` derived from the key, ``X-Monitor-Idempotency-Key``; a UTF-8
  plain-text part and an HTML part with ``dir="rtl"`` and ``lang="ar"``.

>>> sign(b"secret", b'{"a":1}')
'sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494'
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from monitor.alerts.records import Notification
from monitor.alerts.subscriptions import (
    ChannelConfig,
    EmailChannelConfig,
    SlackChannelConfig,
    TelegramChannelConfig,
    WebhookChannelConfig,
)
from monitor.core.records import Alert

__all__ = [
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "SlackChannel",
    "TelegramChannel",
    "WebhookChannel",
    "make_channel",
    "render_html",
    "render_text",
    "sign",
]

KIND_LABELS = {"new_story": "قصة جديدة", "development": "تطور جديد", "breaking": "عاجل"}
_TELEGRAM_LIMIT = 4096
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    kind: str

    async def send(self, notification: Notification) -> None: ...


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Monitor-Signature`` header value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------- rendering


def _subject(notification: Notification) -> str:
    alert = notification.alert
    if notification.kind == "digest":
        return f"ملخص: {len(notification.alerts)} تنبيهات — {alert.story_title}"
    return f"[{KIND_LABELS[alert.kind]}] {alert.story_title}"


def _more_line(notification: Notification) -> str | None:
    if notification.kind == "digest" or len(notification.alerts) < 2:
        return None
    return f"(+{len(notification.alerts) - 1} تطورات سابقة خلال فترة التهدئة)"


def _alert_text(alert: Alert) -> list[str]:
    lines = [f"{KIND_LABELS[alert.kind]}: {alert.title or alert.story_title} — {alert.outlet}"]
    lines += [f"• {sentence}" for sentence in alert.new_sentences]
    if alert.kind == "breaking":
        outlets = ", ".join(s.outlet for s in alert.sources)
        lines.append(f"تتناقلها {len(alert.sources)} وسائل إعلام: {outlets}")
    lines += alert.links
    if alert.story_url:
        lines.append(f"القصة كاملة: {alert.story_url}")
    return lines


def render_text(notification: Notification) -> str:
    """Plain-text body (original Arabic, newest alert first)."""
    lines = [_subject(notification), ""]
    if more := _more_line(notification):
        lines += [more, ""]
    for alert in reversed(notification.alerts):
        lines += [*_alert_text(alert), ""]
    return "\n".join(lines).strip() + "\n"


def _alert_html(alert: Alert) -> str:
    e = html.escape
    parts = [
        f"<h3>{e(KIND_LABELS[alert.kind])}: {e(alert.title or alert.story_title)}"
        f" <small>({e(alert.outlet)})</small></h3>"
    ]
    if alert.new_sentences:
        items = "".join(f"<li>{e(s)}</li>" for s in alert.new_sentences)
        parts.append(f"<ul>{items}</ul>")
    if alert.sources:
        items = "".join(
            f'<li><a href="{e(s.url)}">{e(s.outlet)}</a> {e(s.title)}</li>'
            if s.url
            else f"<li>{e(s.outlet)} {e(s.title)}</li>"
            for s in alert.sources
        )
        parts.append(f"<p>المصادر:</p><ul>{items}</ul>")
    links = [link for link in alert.links if not any(s.url == link for s in alert.sources)]
    parts += [f'<p><a href="{e(link)}">{e(link)}</a></p>' for link in links]
    if alert.story_url:
        parts.append(f'<p><a href="{e(alert.story_url)}">القصة كاملة</a></p>')
    return "\n".join(parts)


def render_html(notification: Notification) -> str:
    """A right-to-left HTML document of the notification."""
    e = html.escape
    body = [f"<h2>{e(_subject(notification))}</h2>"]
    if more := _more_line(notification):
        body.append(f"<p>{e(more)}</p>")
    body += [_alert_html(alert) for alert in reversed(notification.alerts)]
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head><meta charset="utf-8">'
        f"<title>{e(_subject(notification))}</title></head>\n"
        '<body dir="rtl" lang="ar" style="direction:rtl;text-align:right">\n'
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------- HTTP channels


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the receiver asked us to wait: ``Retry-After``, or the Telegram Bot API's
    ``{"parameters": {"retry_after": N}}``."""
    value: Any = response.headers.get("Retry-After")
    if value is None and response.headers.get("Content-Type", "").startswith("application/json"):
        with contextlib.suppress(ValueError, AttributeError):
            value = response.json().get("parameters", {}).get("retry_after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def _post_json(
    client: httpx.AsyncClient, url: str, payload: Any, headers: dict[str, str], secret: str | None
) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    if secret:
        headers["X-Monitor-Signature"] = sign(secret.encode(), body)
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.is_success:
        return response
    status = response.status_code
    permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
    raise DeliveryError(
        f"HTTP {status}: {response.text[:200]}",
        permanent=permanent,
        retry_after=_retry_after(response),
    )


class WebhookChannel:
    kind = "webhook"

    def __init__(self, config: WebhookChannelConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    async def send(self, notification: Notification) -> None:
        headers = {**self.config.headers, "Idempotency-Key": notification.key}
        await _post_json(
            self.client,
            self.config.url,
            notification.model_dump(mode="json"),
            headers,
            self.config.resolved_secret(),
        )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _subject(notification)[:150]}}
    ]
    if more := _more_line(notification):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    for alert in reversed(notification.alerts):
        text = "\n".join(_slack_escape(line) for line in _alert_text(alert))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    return {"text": render_text(notification)[:3000], "blocks": blocks[:50]}


class SlackChannel:
    kind = "slack"

    def __init__(self, config: SlackChannelConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    async def send(self, notification: Notification) -> None:
        await _post_json(
            self.client,
            self.config.url,
            slack_payload(notification),
            {"Idempotency-Key": notification.key},
            self.config.resolved_secret(),
        )


def telegram_text(notification: Notification) -> str:
    e = html.escape
    lines = [f"<b>{e(_subject(notification))}</b>"]
    if more := _more_line(notification):
        lines.append(f"<i>{e(more)}</i>")
    for alert in reversed(notification.alerts):
        lines.append("")
        lines += [e(line) for line in _alert_text(alert) if line not in alert.links]
        lines += [f'<a href="{e(link)}">{e(link)}</a>' for link in alert.links]
    text = "\n".join(lines)
    if len(text) > _TELEGRAM_LIMIT:
        # Cut at a line break so no HTML tag is left open.
        text = text[: text.rfind("\n", 0, _TELEGRAM_LIMIT - 1)] + "\n…"
    return text


class TelegramChannel:
    kind = "telegram"

    def __init__(self, config: TelegramChannelConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    async def send(self, notification: Notification) -> None:
        url = f"{self.config.api_url.rstrip('/')}/bot{self.config.resolved_token()}/sendMessage"
        payload = {
            "chat_id": self.config.chat_id,
            "text": telegram_text(notification),
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        await _post_json(self.client, url, payload, {"Idempotency-Key": notification.key}, None)


# ---------------------------------------------------------------------------- email


def email_message(notification: Notification, config: EmailChannelConfig) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _subject(notification)
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(notification.key.encode()).hexdigest()[:32]
    # Derived from the key alone, so a resend after a crash carries the same Message-ID.
    message["Message-ID"] = f"<{digest}@arabic-news-monitor>"
    message["X-Monitor-Idempotency-Key"] = notification.key
    message["Content-Language"] = "ar"
    message.set_content(render_text(notification), charset="utf-8")
    message.add_alternative(render_html(notification), subtype="html", charset="utf-8")
    return message


class EmailChannel:
    kind = "email"

    def __init__(self, config: EmailChannelConfig, timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout

    def _send_blocking(self, message: EmailMessage) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.ssl:
            smtp = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
        with smtp:
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.username:
                smtp.login(cfg.username, cfg.resolved_password() or "")
            smtp.send_message(message)

    async def send(self, notification: Notification) -> None:
        message = email_message(notification, self.config)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=500 <= exc.smtp_code < 600
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipients refused: {exc.recipients}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def make_channel(
    config: ChannelConfig, client: httpx.AsyncClient, timeout: float = 10.0
) -> Channel:
    if isinstance(config, WebhookChannelConfig):
        return WebhookChannel(config, client)
    if isinstance(config, SlackChannelConfig):
        return SlackChannel(config, client)
    if isinstance(config, TelegramChannelConfig):
        return TelegramChannel(config, client)
    return EmailChannel(config, timeout)
