"""The e-mail channel: SMTP, a UTF-8 plain-text part and a right-to-left HTML part.

The ``Message-ID`` is derived from the notification's idempotency key (a resend after a crash
carries the same one) and ``X-Monitor-Idempotency-Key`` carries the key itself; an SMTP 5xx
reply or refused recipients are permanent failures, anything else is retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from pydantic import ConfigDict, Field

from monitor import redaction
from monitor.alerts.channels.base import (
    ChannelContext,
    ChannelSettings,
    DeliveryError,
    register_channel,
)
from monitor.alerts.channels.render import render_html, render_text, subject
from monitor.alerts.records import Notification

__all__ = ["EmailChannel", "EmailChannelConfig", "email_message"]


class EmailChannelConfig(ChannelSettings):
    """Email over SMTP (UTF-8, right-to-left HTML part plus plain text)."""

    type: Literal["email"] = "email"
    to: list[str] = Field(min_length=1)
    sender: str = Field("monitor@localhost", alias="from")
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    def resolved_password(self) -> str | None:
        if not self.password_env:
            return None
        password = os.environ.get(self.password_env)
        redaction.register(password)
        return password

    def secrets(self) -> list[str]:
        return [*filter(None, [self.resolved_password()])]


def email_message(notification: Notification, config: EmailChannelConfig) -> EmailMessage:
    message = EmailMessage()
    # A line break from a feed's title would make the header invalid (a crash on every retry).
    message["Subject"] = " ".join(subject(notification).split())
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


def _build(config: EmailChannelConfig, context: ChannelContext) -> EmailChannel:
    return EmailChannel(config, context.timeout)


register_channel(EmailChannelConfig, _build)
