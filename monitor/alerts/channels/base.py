"""What every delivery channel is and how channel types are registered.

A channel sends one ``Notification`` and either returns (the receiver accepted it) or raises
``DeliveryError`` (``permanent=True`` when retrying cannot help); retries, backoff and dead
letters are the dispatcher's job. A channel type is a configuration model (a subclass of
``ChannelSettings`` whose ``type`` field is a literal, the name subscribers give) and a
function that builds the channel from it, registered with :func:`register_channel`;
:func:`make_channel` builds the channel of any registered configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TextIO, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from monitor import redaction
from monitor.alerts.records import Notification
from monitor.settings import ConfigError

__all__ = [
    "CHANNEL_TYPES",
    "Channel",
    "ChannelContext",
    "ChannelSettings",
    "ChannelType",
    "DeliveryError",
    "UnknownChannelType",
    "make_channel",
    "register_channel",
]


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


class ChannelSettings(BaseModel):
    """The configuration of a subscriber's channel; each channel type narrows ``type``."""

    # A validation error must not quote the input: it may hold a token or a password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: str

    def secrets(self) -> list[str]:
        """Every secret this channel's configuration holds (resolved from the environment)."""
        return []

    @model_validator(mode="after")
    def _register_secrets(self) -> ChannelSettings:
        # Known from the moment the configuration is loaded, before any request or log line.
        redaction.register(*self.secrets())
        return self


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What channels share, given by whoever builds them (the dispatcher)."""

    client: httpx.AsyncClient
    """For the HTTP channels (guarded against private addresses by the dispatcher)."""
    timeout: float = 10.0
    """Seconds a channel without the client (SMTP) may take per attempt."""
    out: TextIO = field(default_factory=lambda: sys.stdout)
    """Where the console channel prints."""


Config = TypeVar("Config", bound=ChannelSettings)


@dataclass(frozen=True, slots=True)
class ChannelType(Generic[Config]):
    config: type[Config]
    build: Callable[[Config, ChannelContext], Channel]


CHANNEL_TYPES: dict[str, ChannelType[Any]] = {}
"""Registered channel types by name (the ``type`` of a subscriber's channel)."""


class UnknownChannelType(ConfigError):
    """A channel configuration whose type no channel module registered."""


def register_channel(
    config: type[Config], build: Callable[[Config, ChannelContext], Channel]
) -> None:
    """Make ``config`` (named by the default of its ``type`` field) a channel type built
    by ``build``."""
    name = config.model_fields["type"].default
    if not isinstance(name, str) or not name:
        raise TypeError(f"{config.__name__}.type needs a default: the channel type's name")
    if name in CHANNEL_TYPES:
        raise ValueError(f"channel type {name!r} is registered twice")
    CHANNEL_TYPES[name] = ChannelType(config, build)


def make_channel(config: ChannelSettings, context: ChannelContext) -> Channel:
    """The channel of ``config``, by its registered type."""
    registered = CHANNEL_TYPES.get(config.type)
    if registered is None or not isinstance(config, registered.config):
        known = ", ".join(sorted(CHANNEL_TYPES))
        raise UnknownChannelType(f"unknown channel type {config.type!r} (known: {known})")
    return registered.build(config, context)
