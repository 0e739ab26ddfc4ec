"""The Slack channel: a Slack-compatible incoming webhook (``{"text": ..., "blocks": [...]}``).

Every text Slack reads as mrkdwn is escaped (an article's ``<!channel>`` or ``<http://x|y>``
stays visible text) and cut to Slack's limits; requests carry ``Idempotency-Key`` and, with a
secret, the signature headers of ``monitor.alerts.channels.http``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from monitor import redaction
from monitor.alerts.channels.base import register_channel
from monitor.alerts.channels.http import HttpChannel, SignedChannelSettings, post_json
from monitor.alerts.channels.render import alert_text, more_line, render_text, shorten, subject
from monitor.alerts.records import Notification

__all__ = ["SlackChannel", "SlackChannelConfig", "slack_payload"]

_SLACK_TEXT_LIMIT = 3000


class SlackChannelConfig(SignedChannelSettings):
    """A Slack-compatible incoming webhook (``{"text": ..., "blocks": [...]}``).

    The URL itself is the credential (anyone who has it can post): it is never logged.
    """

    type: Literal["slack"] = "slack"
    url: str

    def secrets(self) -> list[str]:
        path = urlsplit(self.url).path
        return [
            self.url,
            *([path] if path.count("/") > 1 else []),
            *filter(None, [self.resolved_secret()]),
            *redaction.url_secrets(self.url),
        ]


def _slack_escape(text: str) -> str:
    """Slack's three control characters as entities: ``<!channel>``, ``<@U123>`` and
    ``<http://evil|bbc.com>`` in an article become visible text, not a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """Every text Slack reads as mrkdwn is escaped, the top-level ``text`` (notifications and
    clients that cannot show blocks) included; cuts keep Slack's limits without splitting an
    entity."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject(notification)[:150]}}
    ]
    if more := more_line(notification):
        text = shorten(more, _SLACK_TEXT_LIMIT, _slack_escape)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    for alert in reversed(notification.alerts):
        text = shorten("\n".join(alert_text(alert)), _SLACK_TEXT_LIMIT, _slack_escape)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    text = shorten(render_text(notification), _SLACK_TEXT_LIMIT, _slack_escape)
    return {"text": text, "blocks": blocks[:50]}


class SlackChannel(HttpChannel[SlackChannelConfig]):
    kind = "slack"

    async def send(self, notification: Notification) -> None:
        await post_json(
            self.client,
            self.config.url,
            slack_payload(notification),
            {"Idempotency-Key": notification.key},
            self.config.resolved_secret(),
        )


register_channel(SlackChannelConfig, SlackChannel.build)
