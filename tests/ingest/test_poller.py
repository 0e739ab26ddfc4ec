"""The poller against the misbehaving news site, with the in-process seen store and queue sink.

(The same poller against the real Kafka and Redis: ``test_poller_kafka.py``.)
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from prometheus_client import REGISTRY

from monitor.core.records import RawArticle
from monitor.ingest.feeds import FeedConfig, FeedOptions, PollInterval
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller, next_interval
from monitor.ingest.sink import QueueSink
from monitor.netguard import AddressGuard
from monitor.settings import PollerSettings
from monitor.stores.seen import MemorySeenStore
from tests.ingest.conftest import LOOPBACK
from tests.ingest.newsite import NewsSite

FAST = PollInterval(min=0.1, max=0.4)
LIMITS = FetchLimits(
    connect_timeout=1,
    read_timeout=2,
    deadline=1.0,
    max_bytes=2_000_000,
    max_redirects=4,
    host_min_spacing=0.0,
)
SETTINGS = PollerSettings(
    max_backoff_seconds=1.0,
    conditional_verify_every=3,
    max_concurrent_fetches=8,
    fetch_deadline_seconds=1.0,
)


def feed(site: NewsSite, path: str, *, name: str | None = None, pages: bool = False) -> FeedConfig:
    stem = path.rsplit("/", 1)[-1].removesuffix(".xml")
    return FeedConfig(
        name=name or f"{stem}-{path.split('/')[1]}-{uuid.uuid4().hex[:6]}",
        outlet="newsite",
        url=site.url(path),
        interval=FAST,
        options=FeedOptions(fetch_pages=pages),
    )


def errors(feed_name: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "monitor_feed_errors_total", {"feed": feed_name, "kind": kind}
    )
    return value or 0.0


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(LIMITS, guard=LOOPBACK) as client:
        yield client


def make_poller(
    feeds: Sequence[FeedConfig], fetcher: Fetcher, sink: QueueSink | None = None, **kwargs: object
) -> Poller:
    return Poller(
        feeds,
        fetcher=fetcher,
        seen=MemorySeenStore(ttl_seconds=3600),
        sink=sink or QueueSink(),
        settings=SETTINGS,
        rng=random.Random(7),
        sink_retry_base=0.1,
        **kwargs,  # type: ignore[arg-type]
    )


async def drain_until(
    queue: asyncio.Queue[RawArticle],
    into: list[RawArticle],
    done: Callable[[list[RawArticle]], bool],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while not done(into):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; got {Counter(a.feed for a in into)}")
        try:
            into.append(await asyncio.wait_for(queue.get(), timeout=min(remaining, 0.5)))
        except TimeoutError:
            continue


def _each_feed_has(feeds: Sequence[FeedConfig], count: int) -> Callable[[list[RawArticle]], bool]:
    return lambda got: all(sum(a.feed == f.name for a in got) >= count for f in feeds)


async def test_every_seed_once_per_feed_while_other_feeds_misbehave(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    good_paths = [
        "/rss/main.xml",
        "/atom/main.xml",
        "/rdf/main.xml",
        "/rss/broken.xml",
        "/rss/cp1256-prolog.xml",
        "/rss/cp1256-header.xml",
        "/rss/flaky.xml",
        "/rss/limited.xml",
        "/rss/liar.xml",
    ]
    bad = {
        "/rss/endless.xml": "timeout",
        "/rss/huge.xml": "too_large",
        "/rss/huge-declared.xml": "too_large",
        "/rss/loop.xml": "redirect_loop",
    }
    good = [feed(news_site, path, pages=path == "/rss/main.xml") for path in good_paths]
    feeds = good + [feed(news_site, path) for path in bad]
    bad_feeds = {f.name: bad[f.url.path or ""] for f in feeds[len(good) :]}
    sink = QueueSink()
    poller = make_poller(feeds, fetcher, sink)
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run(stop, shutdown_grace=5))
    got: list[RawArticle] = []
    try:
        for published in range(1, len(news_site.stories) + 1):
            news_site.publish_next()
            await drain_until(
                sink.queue,
                got,
                _each_feed_has(good, published),
                timeout=30,
            )
        await asyncio.sleep(2.0)  # time for any duplicate to show up
        while not sink.queue.empty():
            got.append(sink.queue.get_nowait())
    finally:
        stop.set()
        await running

    titles = [s.title for s in news_site.stories]
    for good_feed in good:
        delivered = [a.title for a in got if a.feed == good_feed.name]
        assert delivered == titles, good_feed.name  # each once, in publication order
    assert not {a.feed for a in got} & set(bad_feeds)
    for name, kind in bad_feeds.items():
        assert errors(name, kind) >= 1, (name, kind)
        assert poller.states[name].errors >= 1  # still scheduled, never dropped
    # Article pages were fetched for the main feed: the HTML has the page's boilerplate.
    main_articles = [a for a in got if a.feed == good[0].name]
    assert all("<footer>" in (a.html or "") for a in main_articles)
    assert all("<footer>" not in (a.html or "") for a in got if a.feed != good[0].name)
    # The misbehaving feeds were caught misbehaving.
    by_path = {f.url.path: f.name for f in good}
    assert errors(by_path["/rss/flaky.xml"], "http_5xx") == news_site.flaky_failures
    assert errors(by_path["/rss/limited.xml"], "http_429") == 1
    assert errors(by_path["/rss/liar.xml"], "lying_validators") == 1
    assert not poller.states[by_path["/rss/liar.xml"]].conditional
    assert poller.states[by_path["/rss/main.xml"]].conditional


async def test_retry_after_is_honoured(news_site: NewsSite, fetcher: Fetcher) -> None:
    news_site.retry_after = 2
    limited = feed(news_site, "/rss/limited.xml")
    sink = QueueSink()
    poller = make_poller([limited], fetcher, sink)
    outcome = await poller.poll_once(poller.states[limited.name])
    assert (outcome.status, outcome.error) == ("error", "http_429")
    assert outcome.delay >= news_site.retry_after
    stop = asyncio.Event()
    news_site.publish_next()
    running = asyncio.create_task(poller.run(stop))
    got: list[RawArticle] = []
    await drain_until(sink.queue, got, lambda got: len(got) == 1, timeout=10)
    stop.set()
    await running
    first, second = news_site.requests_to("/rss/limited.xml")[:2]
    assert second.at - first.at >= news_site.retry_after


async def test_soft_errors_back_off_exponentially_then_recover(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    news_site.flaky_failures = 3
    flaky = feed(news_site, "/rss/flaky.xml")
    poller = make_poller([flaky], fetcher)
    state = poller.states[flaky.name]
    delays = []
    for attempt in range(1, 4):
        outcome = await poller.poll_once(state)
        assert (outcome.error, state.errors) == ("http_5xx", attempt)
        delays.append(outcome.delay)
    base = flaky.interval.min
    for attempt, delay in enumerate(delays, start=1):
        full = min(SETTINGS.max_backoff_seconds, base * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full
    news_site.publish_next()
    outcome = await poller.poll_once(state)
    assert (outcome.status, outcome.new, state.errors) == ("ok", 1, 0)


async def test_hard_errors_are_retried_at_the_capped_back_off(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    loop = feed(news_site, "/rss/loop.xml")
    poller = make_poller([loop], fetcher)
    outcomes = [await poller.poll_once(poller.states[loop.name]) for _ in range(5)]
    assert {o.error for o in outcomes} == {"redirect_loop"}
    # From the feed's slowest interval (not its fastest, as for soft errors), capped.
    cap = max(SETTINGS.max_backoff_seconds, loop.interval.max)
    for attempt, outcome in enumerate(outcomes, start=1):
        full = min(cap, loop.interval.max * 2 ** (attempt - 1))
        assert full / 2 <= outcome.delay <= full
    assert outcomes[-1].delay >= cap / 2


async def test_conditional_get_with_an_honest_server(news_site: NewsSite, fetcher: Fetcher) -> None:
    news_site.publish_next()
    main = feed(news_site, "/rss/main.xml")
    poller = make_poller([main], fetcher)
    state = poller.states[main.name]
    statuses = [(await poller.poll_once(state)).status for _ in range(4)]
    # Every 3rd poll is unconditional (verification); it finds the same body: still trusted.
    assert statuses == ["ok", "not_modified", "ok", "not_modified"]
    sent = [r.headers.get("If-None-Match") for r in news_site.requests_to("/rss/main.xml")]
    assert sent[0] is None and sent[1] is not None and sent[2] is None and sent[3] is not None
    assert state.conditional
    news_site.publish_next()
    outcome = await poller.poll_once(state)
    assert (outcome.status, outcome.new) == ("ok", 1)


async def test_a_server_answering_304_to_new_content_loses_conditional_get(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    news_site.publish_next()
    liar = feed(news_site, "/rss/liar.xml")
    poller = make_poller([liar], fetcher)
    state = poller.states[liar.name]
    assert (await poller.poll_once(state)).new == 1
    news_site.publish_next()
    hidden = await poller.poll_once(state)  # the server hides the new entry behind a 304
    assert (hidden.status, hidden.new) == ("not_modified", 0)
    caught = await poller.poll_once(state)  # verification poll: unconditional
    assert (caught.status, caught.new) == ("ok", 1)
    assert not state.conditional and state.etag is None
    news_site.publish_next()
    assert (await poller.poll_once(state)).new == 1  # found at once now
    assert news_site.requests_to("/rss/liar.xml")[-1].headers.get("If-None-Match") is None


async def test_interval_adapts_to_how_much_is_new(news_site: NewsSite, fetcher: Fetcher) -> None:
    bounds = PollInterval(min=10, max=100)
    assert next_interval(40, new=0, total=10, bounds=bounds) == 60
    assert next_interval(90, new=0, total=10, bounds=bounds) == 100
    assert next_interval(40, new=6, total=10, bounds=bounds) == 20
    assert next_interval(15, new=10, total=10, bounds=bounds) == 10
    assert next_interval(40, new=2, total=10, bounds=bounds) == 40
    news_site.publish_all()
    main = feed(news_site, "/rss/main.xml")
    poller = make_poller([main], fetcher)
    state = poller.states[main.name]
    state.interval = main.interval.max
    first = await poller.poll_once(state)
    assert first.new == 5 and state.interval == main.interval.max / 2
    for _ in range(5):
        await poller.poll_once(state)
    assert state.interval == main.interval.max


async def test_article_pages_on_private_addresses_are_refused(
    news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = news_site.publish_next()
    main = feed(news_site, "/rss/main.xml", pages=True)
    sink = QueueSink()
    # The feed's address is allowed; the links in it point at another loopback address.
    monkeypatch.setattr(news_site, "url", lambda path: f"http://127.0.0.2:{news_site.port}{path}")
    async with Fetcher(LIMITS, guard=AddressGuard.allowing("127.0.0.1/32")) as strict:
        poller = make_poller([main], strict, sink)
        outcome = await poller.poll_once(poller.states[main.name])
    assert (outcome.status, outcome.delivered) == ("ok", 1)
    article = sink.queue.get_nowait()
    # Delivered with the feed's summary instead of the page, and counted.
    assert article.title == story.title and "<footer>" not in (article.html or "")
    assert errors(main.name, "page_private_address") == 1
    assert news_site.requests_to(f"/articles/{story.slug}.html") == []


class DownSink(QueueSink):
    """An in-process sink that refuses everything while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def send(self, articles: Sequence[RawArticle]) -> list[bool]:
        if self.down:
            return [False] * len(articles)
        return await super().send(articles)


async def test_unacknowledged_entries_are_kept_and_never_marked_seen(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    news_site.publish_next()
    main = feed(news_site, "/rss/main.xml")
    sink = DownSink()
    poller = make_poller([main], fetcher, sink)
    state = poller.states[main.name]
    outcome = await poller.poll_once(state)
    assert (outcome.new, outcome.delivered) == (1, 0)
    assert len(state.pending) == 1 and outcome.delay <= 0.1  # retried soon
    assert await poller.seen.unseen(main.name, list(state.pending)) == list(state.pending)
    assert errors(main.name, "sink") == 1
    news_site.published = 0  # the entry drops off the feed while the sink is down
    await poller.poll_once(state)
    sink.down = False
    outcome = await poller.poll_once(state)
    assert outcome.delivered == 1 and not state.pending
    assert sink.queue.get_nowait().title == news_site.stories[0].title
    news_site.published = 1
    assert (await poller.poll_once(state)).delivered == 0  # seen now: not sent again


async def test_an_unchanged_body_is_not_parsed_again(news_site: NewsSite, fetcher: Fetcher) -> None:
    news_site.publish_next()
    broken = feed(news_site, "/rss/broken.xml")  # no ETag, no Last-Modified
    poller = make_poller([broken], fetcher)
    state = poller.states[broken.name]
    first = await poller.poll_once(state)
    assert (first.new, first.seen) == (1, 0)
    again = await poller.poll_once(state)
    assert (again.status, again.new, again.seen) == ("ok", 0, 0)  # 1 seen if it were parsed
    news_site.publish_next()
    changed = await poller.poll_once(state)
    assert (changed.new, changed.seen) == (1, 1)


class FlakySeenStore(MemorySeenStore):
    """Fails its first ``unseen`` call, like a Redis that is briefly unreachable."""

    def __init__(self) -> None:
        super().__init__(ttl_seconds=3600)
        self.failures = 1

    async def unseen(self, feed: str, ids: Sequence[str]) -> list[str]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("seen store down")
        return await super().unseen(feed, ids)


async def test_a_seen_store_outage_delays_entries_but_loses_none(
    news_site: NewsSite, fetcher: Fetcher
) -> None:
    news_site.publish_next()
    broken = feed(news_site, "/rss/broken.xml")
    sink = QueueSink()
    poller = make_poller([broken], fetcher, sink)
    poller.seen = FlakySeenStore()
    state = poller.states[broken.name]
    failed = await poller.poll_once(state)
    assert (failed.status, failed.error, failed.delivered) == ("error", "store", 0)
    recovered = await poller.poll_once(state)  # same body: must be checked again, not skipped
    assert (recovered.status, recovered.delivered) == ("ok", 1)
    assert sink.queue.get_nowait().title == news_site.stories[0].title
