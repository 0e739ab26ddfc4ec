"""Delivery channels, one module each, registered by type: webhook, slack, telegram, email, console.

A subscriber's ``channel.type`` names a registered channel type (``base.register_channel``);
``ChannelConfig`` is the validated union of their configurations (an unknown type is a
configuration error) and ``make_channel`` builds the channel of one. To add a channel, write
``monitor/alerts/channels/<name>.py`` with its configuration model, its channel class and a
``register_channel`` call, and import it below.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from monitor.alerts.channels import console, email, slack, telegram, webhook
from monitor.alerts.channels.base import (
    CHANNEL_TYPES,
    Channel,
    ChannelContext,
    ChannelSettings,
    DeliveryError,
    UnknownChannelType,
    make_channel,
    register_channel,
)
from monitor.alerts.channels.console import ConsoleChannel, ConsoleChannelConfig, format_alert
from monitor.alerts.channels.email import EmailChannel, EmailChannelConfig, email_message
from monitor.alerts.channels.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from monitor.alerts.channels.render import KIND_LABELS, render_html, render_text
from monitor.alerts.channels.slack import SlackChannel, SlackChannelConfig, slack_payload
from monitor.alerts.channels.telegram import TelegramChannel, TelegramChannelConfig, telegram_text
from monitor.alerts.channels.webhook import WebhookChannel, WebhookChannelConfig

__all__ = [
    "CHANNEL_TYPES",
    "KIND_LABELS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "ChannelConfig",
    "ChannelContext",
    "ChannelSettings",
    "ConsoleChannel",
    "ConsoleChannelConfig",
    "DeliveryError",
    "EmailChannel",
    "EmailChannelConfig",
    "SlackChannel",
    "SlackChannelConfig",
    "TelegramChannel",
    "TelegramChannelConfig",
    "UnknownChannelType",
    "WebhookChannel",
    "WebhookChannelConfig",
    "email_message",
    "format_alert",
    "make_channel",
    "register_channel",
    "render_html",
    "render_text",
    "sign",
    "slack_payload",
    "telegram_text",
    "verify",
]

BUILT_IN = (webhook, slack, telegram, email, console)
"""The channel modules; importing one registers its type."""

if TYPE_CHECKING:
    ChannelConfig = ChannelSettings
else:
    # Pydantic picks the configuration model by ``type`` among the registered ones.
    ChannelConfig = Annotated[
        functools.reduce(operator.or_, (spec.config for spec in CHANNEL_TYPES.values())),
        Field(discriminator="type"),
    ]
