"""Arabic feeds and pages whose declared charset is wrong: windows-1256 or ISO-8859-6 bytes
declared UTF-8 in the XML declaration, the HTTP header or both, and text already misread as
Latin (mojibake). Each is decoded as the Arabic it is; what cannot be is never taken for Arabic.
Real Arabic text throughout: the seed stories of tests/data/seeds."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from monitor.cli import main
from monitor.core.clean import clean_article
from monitor.core.records import CleanArticle, RawArticle
from monitor.ingest.feeds import FeedConfig, PollInterval
from monitor.ingest.fetch import Fetcher, FetchLimits, FetchResult
from monitor.ingest.parse import parse_feed
from monitor.ingest.poller import Poller
from monitor.ingest.sink import QueueSink
from monitor.pipeline import Pipeline
from monitor.settings import PollerSettings
from monitor.stores.seen import MemorySeenStore
from tests.ingest.conftest import LOOPBACK
from tests.ingest.newsite import NewsSite

FEED = FeedConfig(name="charset-feed", outlet="test", url="http://127.0.0.1/rss.xml", language="ar")
SITE = NewsSite()
SITE.publish_all()
ARABIC_CHARSETS = ["cp1256", "iso8859_6"]
DECLARED_IN = ["xml", "http", "both"]


def _as_read(text: str, charset: str) -> str:
    """``text`` as it survives ``charset`` (a character it lacks becomes '?')."""
    return text.encode(charset, "replace").decode(charset)


def _misdeclared_feed(charset: str, declared_in: str) -> tuple[bytes, dict[str, str]]:
    body = SITE.rss(SITE.live, encoding="utf-8" if declared_in != "http" else None)
    content_type = "application/rss+xml"
    if declared_in != "xml":
        content_type += "; charset=utf-8"
    return body.encode(charset, "replace"), {"Content-Type": content_type}


@pytest.mark.parametrize("declared_in", DECLARED_IN)
@pytest.mark.parametrize("charset", ARABIC_CHARSETS)
def test_an_arabic_feed_declared_utf8_is_read_in_its_real_charset(
    charset: str, declared_in: str
) -> None:
    body, headers = _misdeclared_feed(charset, declared_in)
    parsed = parse_feed(body, FEED, headers=headers)
    assert [a.title for a in parsed.articles] == [_as_read(s.title, charset) for s in SITE.live]
    first = SITE.live[0].paragraphs[0]
    assert _as_read(first, charset)[:40] in (parsed.articles[0].html or "")
    assert parsed.charset_problem == "wrong_charset"
    assert "found" in parsed.charset_detail
    cleaned = clean_article(parsed.articles[0])
    assert isinstance(cleaned, CleanArticle) and cleaned.language == "ar"


@pytest.mark.parametrize("misread_as", ["cp1252", "latin_1"])
@pytest.mark.parametrize("charset", ARABIC_CHARSETS)
def test_text_already_misread_as_latin_is_decoded_again_by_the_clean_stage(
    charset: str, misread_as: str
) -> None:
    """The site itself misread its windows-1256 (or ISO-8859-6) text and serves the Latin
    mojibake as valid UTF-8 («ÃÚáäÊ æÒÇÑÉ ÇáÕÍÉ»): only the text shows what happened."""
    story = SITE.live[0]
    text = "\n".join(story.paragraphs)

    def misread(value: str) -> str:
        return value.encode(charset, "replace").decode(misread_as, "replace")

    raw = RawArticle(
        id="m1", outlet="test", title=misread(story.title), text=misread(text), language="ar"
    )
    assert raw.title != story.title
    cleaned = clean_article(raw)
    assert isinstance(cleaned, CleanArticle)
    assert cleaned.language == "ar"
    assert cleaned.title == _as_read(story.title, charset)
    assert cleaned.sentences[0] in _as_read(text, charset)


async def test_the_clean_stage_counts_and_logs_each_mojibake_repair(
    caplog: pytest.LogCaptureFixture,
) -> None:
    story = SITE.live[0]
    text = "\n".join(story.paragraphs).encode("cp1256", "replace").decode("cp1252", "replace")
    title = story.title.encode("cp1256", "replace").decode("cp1252", "replace")
    raw = RawArticle(id="m2", outlet="t", feed="moji", title=title, text=text, language="ar")
    labels = {"feed": "moji", "kind": "mojibake"}
    before = REGISTRY.get_sample_value("monitor_feed_errors_total", labels) or 0.0
    async with Pipeline() as pipeline:
        decision, alert = await pipeline.process(raw)
    assert decision.decision == "new_story" and alert is not None
    assert decision.title == _as_read(story.title, "cp1256")
    assert REGISTRY.get_sample_value("monitor_feed_errors_total", labels) == before + 1
    assert "m2 from t was mojibake (Arabic cp1256 read as cp1252)" in caplog.text


def test_latin_text_is_not_taken_for_mojibake() -> None:
    text = (
        "Le ministère de la Santé égyptien a annoncé hier une hausse du nombre de cas à "
        "Assouan, où l'hôpital général a reçu des dizaines de patients pendant la journée."
    )
    cleaned = clean_article(RawArticle(id="f1", outlet="t", title="Santé", text=text))
    assert isinstance(cleaned, CleanArticle)
    assert cleaned.language == "fr" and cleaned.paragraphs == [text]


async def test_an_undetermined_language_never_passes_as_arabic() -> None:
    """Gibberish the detector cannot place, from a feed declared Arabic: before, the clean
    stage took the feed's word for it and a NEW STORY alert went out in gibberish."""
    gibberish = "Qxz vbnt wrpk kkl mnbv zzqt prrk vvnx tklm bbzq wqrt xxnm plkq zzrt vbnq."
    raw = RawArticle(id="g1", outlet="t", title="Xkq Zvb", text=gibberish * 3, language="ar")
    cleaned = clean_article(raw)
    assert isinstance(cleaned, CleanArticle) and cleaned.language != "ar"
    async with Pipeline() as pipeline:
        decision, alert = await pipeline.process(raw)
    assert decision.decision == "rejected" and decision.reasons["reason"] == "non_arabic"
    assert alert is None


def test_a_utf8_feed_with_one_bad_byte_keeps_its_arabic() -> None:
    """feedparser falls back to windows-1252 for the whole feed when one byte is not UTF-8."""
    body = SITE.rss(SITE.live).encode("utf-8").replace(b"</description>", b"\xff</description>", 1)
    parsed = parse_feed(body, FEED, headers={"Content-Type": "application/rss+xml"})
    assert [a.title for a in parsed.articles] == [s.title for s in SITE.live]
    assert parsed.charset_problem == "bad_bytes"


def test_correctly_declared_feeds_are_left_to_feedparser() -> None:
    for charset, body in (
        ("utf-8", SITE.rss(SITE.live).encode()),
        ("windows-1256", SITE.rss(SITE.live, encoding="windows-1256").encode("cp1256", "replace")),
    ):
        parsed = parse_feed(body, FEED, headers={"Content-Type": "application/rss+xml"})
        assert parsed.charset_problem is None, charset
        assert [a.title for a in parsed.articles] == [
            _as_read(s.title, "cp1256" if charset != "utf-8" else "utf-8") for s in SITE.live
        ]


@pytest.mark.parametrize("charset", ARABIC_CHARSETS)
@pytest.mark.parametrize("declared_in", DECLARED_IN)
def test_an_article_page_declared_utf8_is_read_in_its_real_charset(
    charset: str, declared_in: str
) -> None:
    story = SITE.live[1]
    page = SITE.page(story)  # declares <meta charset="utf-8">
    assert '<meta charset="utf-8">' in page
    if declared_in == "http":
        page = page.replace('<meta charset="utf-8">', "")
    content_type = "text/html" + ("; charset=utf-8" if declared_in != "xml" else "")
    result = FetchResult(
        url="http://x/a",
        status=200,
        headers={"content-type": content_type},
        body=page.encode(charset, "replace"),
        seconds=0.0,
    )
    decoded = result.decoded()
    assert decoded.misdeclared and decoded.charset == charset.replace("_", "-")
    assert _as_read(story.paragraphs[0], charset) in decoded.text


class _Server:
    def __init__(self) -> None:
        self.feed = b""
        self.content_type = ""
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.feed, headers={"Content-Type": self.content_type})


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    served = _Server()
    app = web.Application()
    app.add_routes([web.get("/feed.xml", served.handle)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    served.port = runner.addresses[0][1]
    try:
        yield served
    finally:
        await runner.cleanup()


async def test_a_polled_windows_1256_feed_declared_utf8_gives_arabic_alerts(
    server: _Server,
) -> None:
    server.feed, headers = _misdeclared_feed("cp1256", "both")
    server.content_type = headers["Content-Type"]
    feed = FeedConfig(
        name="cp1256-as-utf8",
        outlet="masrawy",
        url=f"http://127.0.0.1:{server.port}/feed.xml",
        language="ar",
        interval=PollInterval(min=60, max=600),
    )
    labels = {"feed": feed.name, "kind": "wrong_charset"}
    before = REGISTRY.get_sample_value("monitor_feed_errors_total", labels) or 0.0
    settings = PollerSettings(host_min_spacing_seconds=0)
    sink = QueueSink()
    async with Fetcher(FetchLimits.from_settings(settings), guard=LOOPBACK) as fetcher:
        poller = Poller(
            [feed],
            fetcher=fetcher,
            seen=MemorySeenStore(ttl_seconds=3600),
            sink=sink,
            settings=settings,
            rng=random.Random(3),
        )
        outcome = await poller.poll_once(poller.states[feed.name])
    assert outcome.status == "ok" and outcome.new == len(SITE.live)
    assert REGISTRY.get_sample_value("monitor_feed_errors_total", labels) == before + 1
    polled = [sink.queue.get_nowait() for _ in range(sink.queue.qsize())]
    # The same feed declared right (windows-1256 in its XML declaration) is the reference.
    right = SITE.rss(SITE.live, encoding="windows-1256").encode("cp1256", "replace")
    reference = parse_feed(right, feed, headers={"Content-Type": "application/rss+xml"})
    order = {article.id: index for index, article in enumerate(reference.articles)}
    assert sorted(order[a.id] for a in polled) == list(range(len(SITE.live)))
    outcomes = []
    for articles in (sorted(polled, key=lambda a: order[a.id]), reference.articles):
        async with Pipeline() as pipeline:
            outcomes.append([await pipeline.process(article) for article in articles])
    got, expected = outcomes
    assert [(d.decision, d.title) for d, _ in got] == [(d.decision, d.title) for d, _ in expected]
    alerts = [alert for _, alert in got if alert is not None]
    assert alerts and all(alert.title in TITLES_1256 for alert in alerts)


_ARABIC_WORD = "بوتين"
SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
TITLES_1256 = {_as_read(story.title, "cp1256") for story in SITE.live}


def test_a_utf8_feed_declared_windows_1256_is_read_as_utf8() -> None:
    """The mirror case: read as windows-1256, UTF-8 Arabic is Arabic-looking gibberish
    («ط§ظ„») that no language check would catch."""
    body = SITE.rss(SITE.live, encoding="windows-1256").encode("utf-8")
    parsed = parse_feed(body, FEED, headers={"Content-Type": "text/xml; charset=windows-1256"})
    assert [a.title for a in parsed.articles] == [s.title for s in SITE.live]
    assert parsed.charset_problem == "wrong_charset"


@pytest.mark.parametrize(
    ("suffix", "charset", "meta"),
    [
        (".txt", "cp1256", None),
        (".txt", "iso8859_6", None),
        (".html", "cp1256", "utf-8"),
        (".html", "utf-8", "windows-1256"),
        (".html", "cp1256", "windows-1256"),
    ],
)
def test_replayed_files_are_read_in_their_real_charset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, charset: str, meta: str | None
) -> None:
    story = SITE.live[2]
    if suffix == ".txt":  # the scraped seed page itself
        (seed,) = SEEDS.glob(f"{story.slug}.txt")
        content = seed.read_text(encoding="utf-8")
    else:
        content = SITE.page(story).replace('<meta charset="utf-8">', f'<meta charset="{meta}">')
    reference = tmp_path / "reference" / f"article{suffix}"
    reference.parent.mkdir()
    reference.write_text(_as_read(content, charset), encoding="utf-8")
    path = tmp_path / f"article{suffix}"
    path.write_bytes(content.encode(charset, "replace"))
    decisions = []
    for replayed in (reference, path):  # each in a replay of its own
        assert main(["replay", str(replayed)]) == 0
        (line,) = capsys.readouterr().out.splitlines()
        decisions.append(json.loads(line))
    expected, got = decisions
    assert expected["decision"] == "new_story"
    assert got["title"] == expected["title"] and _ARABIC_WORD in " ".join(got["new_sentences"])
    assert got["new_sentences"] == expected["new_sentences"]
