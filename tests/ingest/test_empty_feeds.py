"""A feed with no items yet is a feed, even when its XML has recoverable errors: a good fetch
(success recorded, normal interval, no back-off, no "feed silent"); only a body that is no
feed at all (HTML, JSON, foreign XML) is a parse error."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from monitor.ingest.feeds import FeedConfig, PollInterval
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.parse import FeedParseError, parse_feed
from monitor.ingest.poller import Poller
from monitor.ingest.sink import QueueSink
from monitor.settings import PollerSettings
from monitor.stores.seen import MemorySeenStore
from tests.ingest.conftest import LOOPBACK

FEED = FeedConfig(name="empty-feed", outlet="test", url="http://127.0.0.1/rss.xml", language="ar")
CHANNEL = "<title>أخبار مصر &nbsp; العاجلة</title><link>http://x.example/</link>"
ITEM = (
    "<item><title>وزير الصحة يفتتح مستشفى جديدا في أسوان</title>"
    "<link>http://x.example/a/1</link><guid>a-1</guid>"
    "<description>افتتح وزير الصحة اليوم مستشفى جديدا في محافظة أسوان.</description></item>"
)

# Feeds without items whose XML is not well formed, in each format feedparser knows.
EMPTY_FEEDS = {
    "rss, undefined entity": f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
    f"<channel>{CHANNEL}</channel></rss>",
    "rss, channel never closed": f'<?xml version="1.0"?><rss version="2.0"><channel>{CHANNEL}',
    "rss without a version attribute": f"<rss><channel>{CHANNEL} & co</channel></rss>",
    "atom, undefined entity": '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>أخبار &copy; مصر</title><updated>2013-07-03T20:00:00Z</updated></feed>",
    "rdf, unclosed": '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-'
    'rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://x.example/">'
    f"{CHANNEL}</channel>",
    "bare channel, no root": f"<channel>{CHANNEL}</channel>",
}

NOT_FEEDS = {
    "html page": "<!DOCTYPE html><html><head><title>أخبار</title></head><body><p>مرحبا</p>"
    "</body></html>",
    "html error page": "<html><body><h1>503 Service Unavailable</h1></body></html>",
    "html with a feed link": '<html><head><link rel="alternate" href="/rss"></head>'
    "<body>x</body></html>",
    "json": '{"items": []}',
    "plain text": "just some text",
    "empty body": "",
    "cut off before its channel": "<rss><chan",
    "foreign xml": '<?xml version="1.0"?><root><a>1 & 2</a></root>',
}


@pytest.mark.parametrize("body", EMPTY_FEEDS.values(), ids=EMPTY_FEEDS.keys())
def test_a_feed_without_items_is_a_feed_even_when_broken(body: str) -> None:
    parsed = parse_feed(body.encode(), FEED)
    assert parsed.articles == []


@pytest.mark.parametrize("body", NOT_FEEDS.values(), ids=NOT_FEEDS.keys())
def test_what_is_no_feed_at_all_is_still_a_parse_error(body: str) -> None:
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(body.encode(), FEED)


class _Server:
    """Serves ``body`` at /feed.xml, changeable between polls."""

    def __init__(self) -> None:
        self.body = ""
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.body.encode(), content_type="application/rss+xml")


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    served = _Server()
    app = web.Application()
    app.add_routes([web.get("/feed.xml", served.handle)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.port = runner.addresses[0][1]
    try:
        yield served
    finally:
        await runner.cleanup()


def _last_success(name: str) -> float | None:
    return REGISTRY.get_sample_value("monitor_feed_last_success_timestamp_seconds", {"feed": name})


async def test_polling_an_empty_broken_feed_is_a_success_at_the_normal_interval(
    server: _Server,
) -> None:
    interval = PollInterval(min=60, max=600)
    feed = FeedConfig(
        name="empty-broken",
        outlet="test",
        url=f"http://127.0.0.1:{server.port}/feed.xml",
        language="ar",
        interval=interval,
    )
    settings = PollerSettings(max_backoff_seconds=3600, host_min_spacing_seconds=0)
    limits = FetchLimits.from_settings(settings)
    async with Fetcher(limits, guard=LOOPBACK) as fetcher:
        poller = Poller(
            [feed],
            fetcher=fetcher,
            seen=MemorySeenStore(ttl_seconds=3600),
            sink=QueueSink(),
            settings=settings,
            rng=random.Random(7),
        )
        state = poller.states[feed.name]
        server.body = EMPTY_FEEDS["rss, undefined entity"]
        for _ in range(3):
            outcome = await poller.poll_once(state)
            assert (outcome.status, outcome.error, state.errors) == ("ok", None, 0)
            assert outcome.delay <= interval.max * 1.1  # not the back-off cap (3600 s)
            assert _last_success(feed.name) is not None
        # Its first item arrives: taken as usual.
        server.body = EMPTY_FEEDS["rss, undefined entity"].replace(
            "</channel>", ITEM + "</channel>"
        )
        outcome = await poller.poll_once(state)
        assert (outcome.status, outcome.new) == ("ok", 1)
        # An HTML page where the feed was is still an error.
        server.body = NOT_FEEDS["html error page"]
        outcome = await poller.poll_once(state)
        assert (outcome.status, outcome.error, state.errors) == ("error", "parse", 1)


def test_a_body_feedparser_itself_fails_on_is_a_parse_error() -> None:
    """feedparser 6.0 raises TypeError on a stray </height> in a channel image (its own
    test feed illformed/rss_image_height_stray_end_tag.xml); a later feedparser may read it."""
    body = (
        '<rss version="2.0"><channel><title>أخبار</title><image><url>http://x.example/i</url>'
        "<title>شعار</title><link>http://x.example/</link></height></image></channel></rss>"
    ).encode()
    try:
        parsed = parse_feed(body, FEED)
    except FeedParseError as exc:
        assert "feedparser failed" in str(exc)
    else:
        assert parsed.articles == []
