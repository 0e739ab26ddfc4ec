"""What hostile article text can do to a chat message: Slack control sequences, and Telegram's
4,096-character limit at both ends (a huge title, one huge sentence).

The Telegram side runs against a loopback Bot API stand-in that, like the real one, counts the
text after parsing the HTML and answers 400 above 4,096 characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from aiohttp import web

from monitor.alerts.channels import (
    EmailChannelConfig,
    TelegramChannel,
    TelegramChannelConfig,
    email_message,
    slack_payload,
    telegram_text,
)
from monitor.alerts.records import DEAD_LETTER_MAX_BYTES, DeadLetter, Notification
from tests.alerts.conftest import make_alert

TELEGRAM_LIMIT = 4096
HOSTILE = "عاجل <!channel> <!here> <@U0123> انظر <http://evil.example/x|bbc.co.uk> & <b>"


class _Visible(HTMLParser):
    """Telegram's view of an HTML message: its text, and whether every tag was closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(message: str) -> str:
    parser = _Visible()
    parser.feed(message)
    parser.close()
    assert parser.open == [], f"unclosed tags {parser.open}"
    return "".join(parser.text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class BotApi:
    url: str = ""
    texts: list[str] = field(default_factory=list)

    async def send_message(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        if utf16_len(visible(text)) > TELEGRAM_LIMIT:
            body = {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message is too long",
            }
            return web.json_response(body, status=400)
        self.texts.append(text)
        return web.json_response({"ok": True, "result": {}})


@pytest.fixture
async def bot_api() -> AsyncIterator[BotApi]:
    api = BotApi()
    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", api.send_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield api
    await runner.cleanup()


# ---------------------------------------------------------------------------- Slack


def _mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return texts


def test_slack_text_cannot_mention_or_disguise_a_link() -> None:
    alert = make_alert(1, story_title=HOSTILE, title=HOSTILE, sentences=[HOSTILE])
    payload = slack_payload(Notification.build("desk", [make_alert(0), alert], suppressed=1))
    texts = _mrkdwn_texts(payload)
    assert len(texts) >= 3  # the top-level text, the context line and the sections
    for text in texts:
        assert "<" not in text and ">" not in text, text
    assert "&lt;!channel&gt;" in payload["text"]
    assert "&lt;http://evil.example/x|bbc.co.uk&gt;" in payload["text"]
    json.dumps(payload)


def test_slack_cuts_never_split_an_entity_and_keep_the_limit() -> None:
    alert = make_alert(2, sentences=["& < > " * 2000])
    for text in _mrkdwn_texts(slack_payload(Notification.build("desk", [alert]))):
        assert len(text) <= 3000
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", text), text[-12:]  # no half entity
        assert "<" not in text and ">" not in text


# ---------------------------------------------------------------------------- Telegram


def _check_message(message: str) -> str:
    text = visible(message)
    assert utf16_len(text) <= TELEGRAM_LIMIT
    assert utf16_len(message) <= TELEGRAM_LIMIT  # even counted on the HTML
    return text


def test_a_huge_title_is_cut_and_the_body_still_goes_out() -> None:
    sentence = "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء."
    alert = make_alert(3, story_title="عنوان طويل جدا " * 600, title="عنوان " * 900,
                       sentences=[sentence])  # fmt: skip
    text = _check_message(telegram_text(Notification.build("desk", [alert])))
    assert sentence in text and alert.links[0] in text


def test_one_huge_sentence_is_cut_not_dropped() -> None:
    first = "جملة أولى قصيرة عن الزيارة."
    huge = "بدأت المحادثات الثنائية بين الجانبين " * 400
    alert = make_alert(4, sentences=[first, huge, "جملة أخيرة."])
    message = telegram_text(Notification.build("desk", [alert]))
    text = _check_message(message)
    assert first in text and huge[:500] in text and "…" in text


def test_escaped_text_near_the_limit_keeps_entities_and_tags_whole() -> None:
    alert = make_alert(5, title="<&>" * 2000, sentences=["\"'&<>" * 1500] * 5)
    message = telegram_text(Notification.build("desk", [alert]))
    _check_message(message)  # also: every tag closed
    assert "&am…" not in message and "&l…" not in message


def test_a_long_digest_stays_within_the_limit() -> None:
    alerts = [make_alert(i, sentences=["خبر " * 150] * 3) for i in range(60)]
    text = _check_message(telegram_text(Notification.build("desk", alerts, digest=True)))
    assert text.endswith("…")


async def test_the_bot_api_accepts_what_used_to_be_dead_lettered(bot_api: BotApi) -> None:
    config = TelegramChannelConfig(chat_id=1, token="42:TEST", api_url=bot_api.url)
    long_title = make_alert(6, title="عنوان " * 900)
    long_sentence = make_alert(7, sentences=["كلمة " * 3000])
    async with httpx.AsyncClient() as client:
        channel = TelegramChannel(config, client)
        for alert in (long_title, long_sentence):
            await channel.send(Notification.build("desk", [alert]))
    assert len(bot_api.texts) == 2
    assert "كلمة كلمة" in visible(bot_api.texts[1])


# ---------------------------------------------------------------------------- email


def test_a_line_break_in_a_title_cannot_break_the_email_headers() -> None:
    alert = make_alert(8, story_title="عنوان\r\nBcc: victim@example.org")
    message = email_message(Notification.build("desk", [alert]), EmailChannelConfig(to=["a@b.c"]))
    assert message["Subject"] == "[تطور جديد] عنوان Bcc: victim@example.org"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    "big",
    ["sentences", "folded", "id", "reason"],
)
def test_a_dead_letter_always_fits_a_kafka_record(big: str) -> None:
    """Whatever is huge in it (texts, many folded alerts, an id or reason of megabytes), a
    dead letter's record value stays under the producer's 1 MiB and says it was cut."""
    megabytes = "\u0644\x01" * 600_000  # Arabic and a control character (escaped in JSON)
    alert = make_alert(1, sentences=[megabytes] if big == "sentences" else None)
    if big == "id":
        alert = alert.model_copy(update={"id": megabytes, "story_title": megabytes})
    folded = [make_alert(i, sentences=["ب" * 30_000]) for i in range(99)] if big == "folded" else []
    dead = DeadLetter(
        alert=alert, subscriber="desk", channel="webhook", attempts=6,
        reason=megabytes if big == "reason" else "HTTP 500", idempotency_key=f"{alert.id}:desk",
        folded=folded,
    )  # fmt: skip
    value, cut = dead.record_value()
    assert cut and len(value) <= DEAD_LETTER_MAX_BYTES < 1024 * 1024
    sent = DeadLetter.model_validate_json(value)
    assert sent.truncated and sent.original_bytes == len(dead.model_dump_json().encode())
    assert sent.folded == [] and sent.folded_ids == [a.id for a in folded]
    assert alert.id.startswith(sent.alert.id) and sent.alert.kind == alert.kind
    small = DeadLetter(alert=make_alert(2), subscriber="desk", channel="webhook", attempts=1,
                       reason="HTTP 404")  # fmt: skip
    assert small.record_value() == (small.model_dump_json().encode(), False)
