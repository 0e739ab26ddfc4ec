"""The generic webhook channel: POSTs the notification as JSON (signed when a secret is set).

The body is the notification itself (``key``, ``subscriber``, ``kind``, ``alerts``,
``suppressed``); headers: ``Idempotency-Key``, the subscriber's own ``headers`` and, with a
secret, the signature headers of ``monitor.alerts.channels.http``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitor import redaction
from monitor.alerts.channels.base import register_channel
from monitor.alerts.channels.http import HttpChannel, SignedChannelSettings, post_json
from monitor.alerts.records import Notification

__all__ = ["WebhookChannel", "WebhookChannelConfig"]


class WebhookChannelConfig(SignedChannelSettings):
    """POST the notification as JSON; signed with HMAC-SHA256 when a secret is set."""

    type: Literal["webhook"] = "webhook"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    def secrets(self) -> list[str]:
        return [
            *filter(None, [self.resolved_secret()]),
            *redaction.url_secrets(self.url),
            *redaction.header_secrets(self.headers),
        ]


class WebhookChannel(HttpChannel[WebhookChannelConfig]):
    kind = "webhook"

    async def send(self, notification: Notification) -> None:
        headers = {**self.config.headers, "Idempotency-Key": notification.key}
        await post_json(
            self.client,
            self.config.url,
            notification.model_dump(mode="json"),
            headers,
            self.config.resolved_secret(),
        )


register_channel(WebhookChannelConfig, WebhookChannel.build)
