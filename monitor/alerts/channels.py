"""Delivery channels: generic webhook, Slack- and Telegram-compatible webhooks, and email.

A channel sends one ``Notification`` and either returns (the receiver accepted it) or raises
``DeliveryError`` (``permanent=True`` when retrying cannot help, e.g. HTTP 400/401/404 or an SMTP
5xx reply). Retries, backoff and dead letters are the dispatcher's job.

Every channel carries the notification's idempotency key so receivers can drop the duplicate
that a crash between "sent" and "recorded as sent" can cause (see ``monitor.stores.deliveries``):

* webhook: JSON body = the notification (``key``, ``subscriber``, ``kind``, ``alerts``,
  ``suppressed``); headers ``Idempotency-Key`` and, with a secret,
  ``X-Monitor-Timestamp: <unix seconds>`` and
  ``X-Monitor-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`` (the
  convention of Stripe and Slack: the timestamp is signed, so a captured request cannot be
  replayed once the receiver's tolerance has passed; each attempt is signed afresh, with the
  same body and key; ``verify`` is the receiver's check);
* slack: ``{"text": ..., "blocks": [...]}`` plus the same headers;
* telegram: ``{"chat_id": ..., "text": ..., "parse_mode": "HTML"}`` to
  ``<api_url>/bot<token>/sendMessage``;
* email: ``Message-ID`` derived from the key, ``X-Monitor-Idempotency-Key``; a UTF-8
  plain-text part and an HTML part with ``dir="rtl"`` and ``lang="ar"``.

>>> signature = sign(b"secret", b'{"a":1}', 1700000000)
>>> signature
'v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686'
>>> verify(b"secret", b'{"a":1}', "1700000000", signature, now=1700000100)
True
>>> verify(b"secret", b'{"a":1}', "1700000000", signature, now=1700000400)  # too old
False
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
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from monitor import redaction
from monitor.alerts.records import Notification
from monitor.alerts.subscriptions import (
    ChannelConfig,
    EmailChannelConfig,
    SlackChannelConfig,
    TelegramChannelConfig,
    WebhookChannelConfig,
)
from monitor.core.records import Alert
from monitor.netguard import PrivateAddressError

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
    "verify",
]

KIND_LABELS = {"new_story": "قصة جديدة", "development": "تطور جديد", "breaking": "عاجل"}
_TELEGRAM_LIMIT = 4096
_TELEGRAM_TITLE_MAX = 256
_TELEGRAM_LINE_MAX = 1000
_TELEGRAM_MIN_CUT = 40  # less room than this: leave the line out rather than show a stub
_SLACK_TEXT_LIMIT = 3000
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})
TIMESTAMP_HEADER = "X-Monitor-Timestamp"
SIGNATURE_HEADER = "X-Monitor-Signature"
SIGNATURE_VERSION = "v1="
SIGNATURE_TOLERANCE_SECONDS = 300.0
"""What receivers should accept (README, "Security"); a retry is signed afresh, so a
tolerance shorter than the longest retry delay loses nothing."""


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        # The reason is logged, kept in Redis with the retry and copied into the dead letter.
        reason = redaction.redact(reason)
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    kind: str

    async def send(self, notification: Notification) -> None: ...


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Monitor-Signature`` header value of ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_VERSION + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check of the ``X-Monitor-Timestamp`` and ``X-Monitor-Signature``
    headers: the timestamp is within ``tolerance`` seconds of ``now`` and the signature is
    that of ``timestamp.body`` (compared in constant time)."""
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, int(timestamp)), signature)


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
        # Signed per attempt: a retry carries a fresh timestamp (and the same key and body).
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(secret.encode(), body, timestamp)
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout: {type(exc).__name__}") from exc
    except httpx.InvalidURL as exc:  # not an HTTPError: a misconfigured channel
        raise DeliveryError(f"invalid URL: {exc}", permanent=True) from exc
    except PrivateAddressError as exc:  # alerts.allowed_networks can allow it
        raise DeliveryError(f"refused: {exc}", permanent=True) from exc
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
    """Slack's three control characters as entities: ``<!channel>``, ``<@U123>`` and
    ``<http://evil|bbc.com>`` in an article become visible text, not a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it (never less than ``len``)."""
    return len(text.encode("utf-16-le")) // 2


def _shorten(
    text: str,
    limit: int,
    escape: Callable[[str], str],
    measure: Callable[[str], int] = len,
) -> str:
    """``escape(text)``, cut to at most ``limit`` (as ``measure`` counts) with a final "…".

    The text is cut *before* escaping, so no entity is split; at a space when one is near.

    >>> _shorten("a & b & c & d", 9, _slack_escape)
    'a &amp;…'
    """
    escaped = escape(text)
    if measure(escaped) <= limit:
        return escaped
    cut = text[: max(0, limit - 1)]
    while cut and measure(escape(cut)) + 1 > limit:
        # An escaped character is at most 6 long: drop enough at once, at least one.
        cut = cut[: len(cut) - max(1, (measure(escape(cut)) + 1 - limit) // 6)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return escape(cut.rstrip()) + "…"


def slack_payload(notification: Notification) -> dict[str, Any]:
    """Every text Slack reads as mrkdwn is escaped, the top-level ``text`` (notifications and
    clients that cannot show blocks) included; cuts keep Slack's limits without splitting an
    entity."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _subject(notification)[:150]}}
    ]
    if more := _more_line(notification):
        text = _shorten(more, _SLACK_TEXT_LIMIT, _slack_escape)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    for alert in reversed(notification.alerts):
        text = _shorten("\n".join(_alert_text(alert)), _SLACK_TEXT_LIMIT, _slack_escape)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    text = _shorten(render_text(notification), _SLACK_TEXT_LIMIT, _slack_escape)
    return {"text": text, "blocks": blocks[:50]}


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
    """The message in Telegram's HTML, never above its 4,096 characters.

    The title and every line are capped on their own (a long title cannot crowd out the body,
    one long sentence is cut, not dropped); then whole lines are kept while they fit, the first
    one that does not is cut (a link that does not fit is left out: it cannot be cut) and "…"
    says something was left out. Lengths are measured on the HTML itself, which is never
    shorter than the text Telegram counts, in UTF-16 units; a cut never splits a tag or entity.
    """
    e = html.escape
    units = _utf16_units
    lines: list[tuple[str, str, str]] = [("<b>", _subject(notification), "</b>")]
    if more := _more_line(notification):
        lines.append(("<i>", more, "</i>"))
    for alert in reversed(notification.alerts):
        lines.append(("", "", ""))
        lines += [("", line, "") for line in _alert_text(alert) if line not in alert.links]
        lines += [(f'<a href="{e(link)}">', link, "</a>") for link in alert.links]
    budget = _TELEGRAM_LIMIT - len("\n…")
    kept: list[str] = []
    used = 0  # units of the kept lines, a line break each
    left_out = False
    for index, (opening, text, closing) in enumerate(lines):
        cap = _TELEGRAM_TITLE_MAX if index == 0 else _TELEGRAM_LINE_MAX
        is_link = opening.startswith("<a ")
        whole = opening + e(text) + closing
        room = budget - used - 1 - units(opening + closing)
        if units(whole) + 1 <= budget - used and (is_link or units(e(text)) <= cap):
            line = whole
        elif is_link:
            left_out = True  # a URL cannot be cut; a shorter one after it may still fit
            continue
        elif min(cap, room) >= _TELEGRAM_MIN_CUT:
            line = opening + _shorten(text, min(cap, room), e, units) + closing
        else:
            left_out = True
            break
        kept.append(line)
        used += units(line) + 1
    return "\n".join(kept) + ("\n…" if left_out else "")


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
    # A line break from a feed's title would make the header invalid (a crash on every retry).
    message["Subject"] = " ".join(_subject(notification).split())
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
