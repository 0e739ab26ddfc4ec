"""The Telegram channel: the Bot API's ``sendMessage`` in Telegram's HTML, within its limits.

Sends ``{"chat_id": ..., "text": ..., "parse_mode": "HTML"}`` to
``<api_url>/bot<token>/sendMessage`` (``api_url`` may point at a compatible server) with the
notification's ``Idempotency-Key``; the text never passes Telegram's 4,096 characters.
"""

from __future__ import annotations

import html
import os
from typing import Literal

from pydantic import SecretStr

from monitor import redaction
from monitor.alerts.channels.base import ChannelSettings, register_channel
from monitor.alerts.channels.http import HttpChannel, post_json
from monitor.alerts.channels.render import alert_text, more_line, shorten, subject
from monitor.alerts.records import Notification

__all__ = ["TelegramChannel", "TelegramChannelConfig", "telegram_text"]

_TELEGRAM_LIMIT = 4096
_TELEGRAM_TITLE_MAX = 256
_TELEGRAM_LINE_MAX = 1000
_TELEGRAM_MIN_CUT = 40  # less room than this: leave the line out rather than show a stub


class TelegramChannelConfig(ChannelSettings):
    """Telegram Bot API ``sendMessage`` (``api_url`` may point at a compatible server)."""

    type: Literal["telegram"] = "telegram"
    chat_id: str | int
    token: SecretStr | None = None
    token_env: str | None = None
    api_url: str = "https://api.telegram.org"

    def resolved_token(self) -> str:
        if self.token_env:
            token = os.environ.get(self.token_env) or ""
            redaction.register(token)
            return token
        return self.token.get_secret_value() if self.token else ""

    def secrets(self) -> list[str]:
        return [self.resolved_token(), *redaction.url_secrets(self.api_url)]


def _utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it (never less than ``len``)."""
    return len(text.encode("utf-16-le")) // 2


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
    lines: list[tuple[str, str, str]] = [("<b>", subject(notification), "</b>")]
    if more := more_line(notification):
        lines.append(("<i>", more, "</i>"))
    for alert in reversed(notification.alerts):
        lines.append(("", "", ""))
        lines += [("", line, "") for line in alert_text(alert) if line not in alert.links]
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
            line = opening + shorten(text, min(cap, room), e, units) + closing
        else:
            left_out = True
            break
        kept.append(line)
        used += units(line) + 1
    return "\n".join(kept) + ("\n…" if left_out else "")


class TelegramChannel(HttpChannel[TelegramChannelConfig]):
    kind = "telegram"

    async def send(self, notification: Notification) -> None:
        url = f"{self.config.api_url.rstrip('/')}/bot{self.config.resolved_token()}/sendMessage"
        payload = {
            "chat_id": self.config.chat_id,
            "text": telegram_text(notification),
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        await post_json(self.client, url, payload, {"Idempotency-Key": notification.key}, None)


register_channel(TelegramChannelConfig, TelegramChannel.build)
