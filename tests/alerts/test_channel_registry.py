"""Channels are found by their registered type; an unknown type is a configuration error."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import httpx
import pytest

from monitor.alerts.channels import (
    CHANNEL_TYPES,
    ChannelContext,
    ChannelSettings,
    ConsoleChannel,
    EmailChannel,
    SlackChannel,
    TelegramChannel,
    UnknownChannelType,
    WebhookChannel,
    make_channel,
    register_channel,
)
from monitor.alerts.records import Notification
from monitor.alerts.subscriptions import Subscriber, load_subscriptions
from monitor.cli import main
from monitor.settings import ConfigError
from tests.alerts.conftest import make_alert

CHANNELS = {
    "webhook": ({"url": "http://127.0.0.1:9/hook"}, WebhookChannel),
    "slack": ({"url": "http://127.0.0.1:9/services/T/B/x"}, SlackChannel),
    "telegram": ({"chat_id": 5, "token": "42:TEST"}, TelegramChannel),
    "email": ({"to": ["desk@example.org"]}, EmailChannel),
    "console": ({}, ConsoleChannel),
}


class _SmsConfig(ChannelSettings):
    type: Literal["sms"] = "sms"


def test_every_built_in_channel_type_is_registered() -> None:
    assert set(CHANNEL_TYPES) == set(CHANNELS)


@pytest.mark.parametrize("kind", sorted(CHANNELS))
async def test_a_subscribers_channel_is_built_by_its_type(kind: str) -> None:
    options, channel_class = CHANNELS[kind]
    subscriber = Subscriber.model_validate({"id": "s", "channel": {"type": kind, **options}})
    async with httpx.AsyncClient() as client:
        channel = make_channel(subscriber.channel, ChannelContext(client))
    assert isinstance(channel, channel_class) and channel.kind == kind


async def test_the_console_channel_prints_on_the_contexts_output() -> None:
    out = io.StringIO()
    subscriber = Subscriber.model_validate({"id": "s", "channel": {"type": "console"}})
    async with httpx.AsyncClient() as client:
        channel = make_channel(subscriber.channel, ChannelContext(client, out=out))
    await channel.send(Notification.build("s", [make_alert(story_title="زيارة بوتين")]))
    assert "زيارة بوتين" in out.getvalue()


def test_an_unknown_type_in_a_subscriptions_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yaml"
    path.write_text("subscribers:\n  - id: desk\n    channel: {type: sms, number: '+20100'}\n")
    with pytest.raises(ConfigError) as raised:
        load_subscriptions(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: subscribers.0.channel: ")
    assert "'sms'" in message and all(f"'{kind}'" in message for kind in CHANNELS)


def test_a_command_given_an_unknown_channel_type_exits_with_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "subscriptions.yaml"
    path.write_text("subscribers:\n  - id: desk\n    channel: {type: sms}\n")
    assert main(["run", "--once", "--subscriptions", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"monitor run: {path}: subscribers.0.channel")


async def test_a_configuration_of_no_registered_type_is_never_sent_elsewhere() -> None:
    # What the old isinstance chain did: any configuration it did not know became e-mail.
    async with httpx.AsyncClient() as client:
        with pytest.raises(UnknownChannelType, match="unknown channel type 'sms'"):
            make_channel(_SmsConfig(), ChannelContext(client))


def test_a_channel_type_is_registered_once() -> None:
    config = CHANNEL_TYPES["webhook"].config
    with pytest.raises(ValueError, match="registered twice"):
        register_channel(config, CHANNEL_TYPES["webhook"].build)
