"""The console channel: prints each alert of a notification as a short block on a terminal.

What ``monitor run`` shows (its ``console`` subscriber), and a channel any subscriber may use
(``type: console``) to watch alerts in a process's standard output. Labels come first, left
to right, then each Arabic line on its own, marked right-to-left, so terminals with and
without bidi support show it readably.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TextIO

from monitor.alerts.channels.base import ChannelContext, ChannelSettings, register_channel
from monitor.alerts.channels.render import KIND_LABELS
from monitor.alerts.records import Notification
from monitor.core.records import Alert

__all__ = ["ConsoleChannel", "ConsoleChannelConfig", "format_alert"]

RTL_MARK = "\u200f"
_KIND_NAMES = {"new_story": "NEW STORY", "development": "DEVELOPMENT", "breaking": "BREAKING"}
_SENTENCE_CHARS = 300


class ConsoleChannelConfig(ChannelSettings):
    """Print alerts on the process's standard output."""

    type: Literal["console"] = "console"


def format_alert(alert: Alert, *, now: datetime | None = None) -> str:
    """The alert as a few plain-text lines for a terminal.

    >>> alert = Alert(id="a", kind="development", story="s", story_title="زيارة بوتين",
    ...               article="x", outlet="youm7", new_sentences=["وصل بوتين."])
    >>> print(format_alert(alert, now=datetime(2024, 6, 19, 10, 31, 2)))
    [10:31:02] DEVELOPMENT (تطور جديد) | youm7
      ‏القصة: زيارة بوتين
      ‏• وصل بوتين.
    """
    stamp = (now or datetime.now()).strftime("%H:%M:%S")
    head = f"[{stamp}] {_KIND_NAMES[alert.kind]} ({KIND_LABELS[alert.kind]}) | {alert.outlet}"
    if alert.published is not None:
        head += f" | {alert.published:%Y-%m-%d %H:%M %Z}".rstrip()
    lines = [head, f"  {RTL_MARK}القصة: {alert.story_title}"]
    if alert.title and alert.title != alert.story_title:
        lines.append(f"  {RTL_MARK}الخبر: {alert.title}")
    for sentence in alert.new_sentences:
        short = sentence if len(sentence) <= _SENTENCE_CHARS else sentence[:_SENTENCE_CHARS] + "…"
        lines.append(f"  {RTL_MARK}• {short}")
    if alert.kind == "breaking" and alert.sources:
        outlets = ", ".join(source.outlet for source in alert.sources)
        lines.append(f"  sources: {outlets}")
    return "\n".join(lines)


class ConsoleChannel:
    """A delivery channel that prints each alert of a notification on ``out``."""

    kind = "console"

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.printed: list[Alert] = []

    async def send(self, notification: Notification) -> None:
        for alert in notification.alerts:
            self.out.write(format_alert(alert) + "\n\n")
            self.printed.append(alert)
        self.out.flush()


def _build(config: ConsoleChannelConfig, context: ChannelContext) -> ConsoleChannel:
    return ConsoleChannel(context.out)


register_channel(ConsoleChannelConfig, _build)
