"""The poller: polls every feed forever, hands new entries to a sink, never loses or repeats one.

One asyncio task per feed. A poll: fetch (conditional when the feed can be trusted with it),
parse, ask the seen store which entries are new (one round trip), optionally fetch their
article pages, send the new entries to the sink, and mark them seen ONLY once the sink
acknowledged them. Entries the sink did not acknowledge stay pending in memory and are sent
again on the next poll, even if they dropped off the feed meanwhile; entries acknowledged but
not yet marked (Redis down) are kept apart and never re-sent by this process.

Scheduling, per feed:

* success: the interval adapts between the feed's bounds: nothing new -> x1.5 (slower),
  half or more of the entries new -> /2 (faster); +-10% jitter so feeds do not synchronise;
* error: exponential back-off with jitter from the feed's minimum interval (soft errors:
  timeouts, connect/DNS errors, 429, 5xx) or its maximum interval (others: 4xx, too large,
  redirect loop, unparsable), capped at ``max_backoff_seconds``; a ``Retry-After`` is
  honoured (capped at ``max_retry_after_seconds``). A feed is never dropped.

Conditional GET (ETag / If-Modified-Since) is used until the feed is caught lying: every
``conditional_verify_every``-th poll is unconditional, and a body whose hash changed while its
validators (ETag, Last-Modified) did not means the server's validators cannot be trusted
(it would have answered 304 to new content); conditional GET is then off for that feed.

Every error: one log line and ``FEED_ERRORS{feed,kind}``; every fetch: ``FEED_FETCHES`` and
``FEED_FETCH_SECONDS``; entries: ``FEED_ENTRIES{state=new|seen}``; ``FEED_LAST_SUCCESS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.core.records import RawArticle
from monitor.ingest.feeds import FeedConfig, PollInterval
from monitor.ingest.fetch import Fetcher, FetchError, FetchResult
from monitor.ingest.parse import FeedParseError, parse_feed
from monitor.ingest.sink import ArticleSink
from monitor.metrics import (
    FEED_ENTRIES,
    FEED_ERRORS,
    FEED_FETCH_SECONDS,
    FEED_FETCHES,
    FEED_LAST_SUCCESS,
    REDIS_ERRORS,
)
from monitor.retry import Backoff
from monitor.settings import PollerSettings
from monitor.stores.seen import SeenStore

__all__ = ["FeedState", "PollOutcome", "Poller", "next_interval"]

log = logging.getLogger(__name__)

_SLOWER = 1.5
_FASTER = 0.5
_MAX_PENDING = 10_000


def next_interval(current: float, *, new: int, total: int, bounds: PollInterval) -> float:
    """Adaptive poll interval after a successful poll.

    >>> b = PollInterval(min=60, max=600)
    >>> next_interval(100, new=0, total=20, bounds=b), next_interval(100, new=15, total=20, bounds=b)
    (150.0, 60.0)
    """
    if new == 0:
        current *= _SLOWER
    elif total and new / total >= 0.5:
        current *= _FASTER
    return min(bounds.max, max(bounds.min, current))


@dataclass
class FeedState:
    """What the poller remembers about one feed between polls (in memory only)."""

    feed: FeedConfig
    interval: float
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    """Hash of the last body fetched."""
    processed_hash: str | None = None
    """Hash of the last body whose every entry was checked (and, if new, kept or sent)."""
    conditional: bool = True
    polls_since_verify: int = 0
    errors: int = 0
    sink_failures: int = 0
    pending: dict[str, RawArticle] = field(default_factory=dict)
    """Fetched, new, not yet acknowledged by the sink (sent again next poll)."""
    unmarked: list[str] = field(default_factory=list)
    """Acknowledged by the sink, not yet marked seen (the store failed)."""
    last_error: str | None = None
    next_poll_at: float = 0.0
    """time.monotonic() before which the feed is not fetched again (interval, back-off,
    Retry-After)."""


@dataclass(frozen=True, slots=True)
class PollOutcome:
    status: str
    """'ok', 'not_modified' or 'error'."""
    new: int = 0
    seen: int = 0
    delivered: int = 0
    error: str | None = None
    delay: float = 0.0


class Poller:
    """Polls ``feeds`` with ``fetcher``, checks ``seen``, delivers to ``sink``.

    ``await poller.run(stop_event)`` runs until the event is set; ``poll_once(state)`` is one
    poll of one feed (tests drive it directly).
    """

    def __init__(
        self,
        feeds: Iterable[FeedConfig],
        *,
        fetcher: Fetcher,
        seen: SeenStore,
        sink: ArticleSink,
        settings: PollerSettings | None = None,
        rng: random.Random | None = None,
        sink_retry_base: float = 1.0,
    ) -> None:
        self.settings = settings or PollerSettings()
        self.fetcher = fetcher
        self.seen = seen
        self.sink = sink
        self.rng = rng or random.Random()
        self.sink_retry_base = sink_retry_base
        self.states: dict[str, FeedState] = {
            feed.name: FeedState(feed=feed, interval=feed.interval.min) for feed in feeds
        }

    # ------------------------------------------------------------------ service loop

    async def run(self, stop: asyncio.Event, *, shutdown_grace: float | None = None) -> None:
        """Poll every feed until ``stop`` is set; a poll under way is allowed to finish."""
        semaphore = asyncio.Semaphore(max(1, self.settings.max_concurrent_fetches))
        tasks = [
            asyncio.create_task(self._feed_loop(state, stop, semaphore), name=f"poll:{name}")
            for name, state in self.states.items()
        ]
        try:
            await stop.wait()
        finally:
            grace = (
                shutdown_grace
                if shutdown_grace is not None
                else (self.settings.fetch_deadline_seconds + 15.0)
            )
            _, still_running = await asyncio.wait(tasks, timeout=grace)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _feed_loop(
        self, state: FeedState, stop: asyncio.Event, semaphore: asyncio.Semaphore
    ) -> None:
        # Spread the first polls so a restart does not hit every site at the same instant.
        delay = max(
            self.rng.uniform(0, min(state.feed.interval.min, 5.0)),
            state.next_poll_at - time.monotonic(),
        )
        while not await _stopped_within(stop, delay):
            async with semaphore:
                outcome = await self.poll_once(state)
            delay = outcome.delay

    # ------------------------------------------------------------------ one poll

    async def poll_once(self, state: FeedState) -> PollOutcome:
        """Poll one feed once; never raises (except on cancellation)."""
        try:
            outcome = await self._poll(state)
        except Exception as exc:  # a bug must not kill the feed's loop: log, count, back off
            log.exception("feed %s: unexpected error", state.feed.name)
            outcome = self._failed(state, "internal", repr(exc), retry_after=None, soft=False)
        state.next_poll_at = time.monotonic() + outcome.delay
        return outcome

    async def _poll(self, state: FeedState) -> PollOutcome:
        feed = state.feed
        await self._mark_unmarked(state)
        fetch_error: FetchError | None = None
        parse_failure: str | None = None
        result: FetchResult | None = None
        articles: list[RawArticle] = []
        new: list[RawArticle] = []
        seen_count = 0
        try:
            result = await self._fetch(state)
        except FetchError as exc:
            fetch_error = exc
        # A body identical to the last one fully processed cannot hold new entries: skip
        # parsing it (most polls of feeds without working conditional GET).
        fresh_body = (
            result is not None
            and not result.not_modified
            and state.body_hash != state.processed_hash
        )
        if fresh_body:
            assert result is not None
            try:
                parsed = parse_feed(
                    result.body, feed, headers=result.headers, fetched=datetime.now(UTC)
                )
                articles = parsed.articles
                if parsed.charset_problem:
                    # Recovered, but the site's declaration is wrong: worth an operator's look.
                    FEED_ERRORS.labels(feed=feed.name, kind=parsed.charset_problem).inc()
                    log.warning("feed %s: %s", feed.name, parsed.charset_detail)
                if parsed.bozo:
                    log.info(
                        "feed %s: not well-formed XML (%s); %d entries recovered",
                        feed.name,
                        parsed.bozo,
                        len(articles),
                    )
            except FeedParseError as exc:
                parse_failure = str(exc)
        store_failed = False
        if articles:
            try:
                new, seen_count = await self._new_articles(state, articles)
            except Exception as exc:
                REDIS_ERRORS.labels(operation="seen_check").inc()
                log.warning("feed %s: seen store unavailable: %s", feed.name, exc)
                store_failed = True
        overflow = False
        if new:
            if feed.options.fetch_pages:
                await self._attach_pages(feed, new)
            for article in new:
                if len(state.pending) < _MAX_PENDING:
                    state.pending[article.id] = article
                else:
                    overflow = True  # not marked seen: taken again from a later poll
        if fresh_body and parse_failure is None and not store_failed and not overflow:
            state.processed_hash = state.body_hash
        delivered = await self._deliver(state)

        if fetch_error is not None:
            return self._failed(
                state,
                fetch_error.kind,
                fetch_error.detail,
                retry_after=fetch_error.retry_after,
                soft=fetch_error.soft,
                delivered=delivered,
            )
        if parse_failure is not None:
            return self._failed(
                state, "parse", parse_failure, retry_after=None, soft=False, delivered=delivered
            )
        if store_failed:
            return self._failed(
                state,
                "store",
                "seen store unavailable",
                retry_after=None,
                soft=True,
                delivered=delivered,
            )
        assert result is not None
        FEED_LAST_SUCCESS.labels(feed=feed.name).set(time.time())
        state.errors = 0
        state.last_error = None
        state.interval = next_interval(
            state.interval, new=len(new), total=len(articles), bounds=feed.interval
        )
        delay = state.interval * self.rng.uniform(0.9, 1.1)
        if state.pending:
            delay = min(delay, self._sink_backoff(state))
        return PollOutcome(
            status="not_modified" if result.not_modified else "ok",
            new=len(new),
            seen=seen_count,
            delivered=delivered,
            delay=delay,
        )

    async def _fetch(self, state: FeedState) -> FetchResult:
        feed = state.feed
        verify = state.polls_since_verify + 1 >= self.settings.conditional_verify_every
        conditional = state.conditional and not verify
        started = time.monotonic()
        try:
            result = await self.fetcher.fetch(
                feed.url_text,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
            )
        except FetchError:
            FEED_FETCHES.labels(feed=feed.name, outcome="error").inc()
            FEED_FETCH_SECONDS.labels(feed=feed.name).observe(time.monotonic() - started)
            raise
        FEED_FETCH_SECONDS.labels(feed=feed.name).observe(result.seconds)
        state.polls_since_verify = 0 if not conditional else state.polls_since_verify + 1
        if result.not_modified:
            FEED_FETCHES.labels(feed=feed.name, outcome="not_modified").inc()
            return result
        FEED_FETCHES.labels(feed=feed.name, outcome="ok").inc()
        self._check_validators(state, result)
        return result

    def _check_validators(self, state: FeedState, result: FetchResult) -> None:
        """Turn conditional GET off for a feed whose ETag/Last-Modified lag behind its body."""
        body_hash = hashlib.blake2b(result.body, digest_size=16).hexdigest()
        etag = result.headers.get("etag")
        last_modified = result.headers.get("last-modified")
        if state.conditional and state.body_hash is not None and body_hash != state.body_hash:
            same_etag = etag is not None and etag == state.etag
            same_date = (
                etag is None
                and last_modified is not None
                and (last_modified == state.last_modified)
            )
            if same_etag or same_date:
                state.conditional = False
                validator = f"ETag {etag}" if same_etag else f"Last-Modified {last_modified}"
                log.warning(
                    "feed %s: content changed under the same %s; conditional GET off",
                    state.feed.name,
                    validator,
                )
                FEED_ERRORS.labels(feed=state.feed.name, kind="lying_validators").inc()
        state.body_hash = body_hash
        if state.conditional:
            state.etag = etag
            state.last_modified = last_modified
        else:
            state.etag = state.last_modified = None

    async def _new_articles(
        self, state: FeedState, articles: Sequence[RawArticle]
    ) -> tuple[list[RawArticle], int]:
        by_id: dict[str, RawArticle] = {}
        for article in articles:
            by_id.setdefault(article.id, article)
        waiting = state.pending.keys() | set(state.unmarked)
        candidates = [i for i in by_id if i not in waiting]
        unseen = set(await self.seen.unseen(state.feed.name, candidates))
        new = [by_id[i] for i in candidates if i in unseen]
        seen_count = len(by_id) - len(new)
        FEED_ENTRIES.labels(feed=state.feed.name, state="new").inc(len(new))
        FEED_ENTRIES.labels(feed=state.feed.name, state="seen").inc(seen_count)
        # Oldest first, so downstream sees the feed's own publication order.
        new.sort(key=lambda a: a.published or datetime.min.replace(tzinfo=UTC))
        return new, seen_count

    async def _attach_pages(self, feed: FeedConfig, articles: Sequence[RawArticle]) -> None:
        for article in articles:
            if not article.url:
                continue
            try:
                page = await self.fetcher.fetch_page(article.url)
            except FetchError as exc:
                FEED_ERRORS.labels(feed=feed.name, kind=f"page_{exc.kind}").inc()
                log.warning(
                    "feed %s: article page not fetched, keeping the feed summary: %s",
                    feed.name,
                    exc,
                )
                continue
            decoded = page.decoded()
            if decoded.misdeclared:
                FEED_ERRORS.labels(feed=feed.name, kind="page_wrong_charset").inc()
                log.warning(
                    "feed %s: page %s does not fit its declared charset; read as %s",
                    feed.name,
                    article.url,
                    decoded.charset,
                )
            article.html = decoded.text

    async def _deliver(self, state: FeedState) -> int:
        if not state.pending:
            return 0
        batch = list(state.pending.values())
        try:
            acknowledged = await self.sink.send(batch)
        except Exception as exc:
            log.warning("feed %s: sink failed: %s", state.feed.name, exc)
            acknowledged = [False] * len(batch)
        done = [a.id for a, ok in zip(batch, acknowledged, strict=True) if ok]
        for article_id in done:
            del state.pending[article_id]
        state.unmarked.extend(done)
        await self._mark_unmarked(state)
        if state.pending:
            state.sink_failures += 1
            FEED_ERRORS.labels(feed=state.feed.name, kind="sink").inc()
            log.warning(
                "feed %s: %d entries not acknowledged by the sink; kept for retry",
                state.feed.name,
                len(state.pending),
            )
        else:
            state.sink_failures = 0
        return len(done)

    async def _mark_unmarked(self, state: FeedState) -> None:
        if not state.unmarked:
            return
        try:
            await self.seen.mark(state.feed.name, state.unmarked)
        except Exception as exc:
            REDIS_ERRORS.labels(operation="seen_mark").inc()
            log.warning(
                "feed %s: could not mark %d entries seen: %s",
                state.feed.name,
                len(state.unmarked),
                exc,
            )
            return
        state.unmarked = []

    def _sink_backoff(self, state: FeedState) -> float:
        backoff = Backoff(self.sink_retry_base, self.settings.max_backoff_seconds, jitter=True)
        return backoff.delay(state.sink_failures, self.rng.random)

    def _failed(
        self,
        state: FeedState,
        kind: str,
        detail: str,
        *,
        retry_after: float | None,
        soft: bool,
        delivered: int = 0,
    ) -> PollOutcome:
        feed = state.feed
        state.errors += 1
        state.last_error = kind
        FEED_ERRORS.labels(feed=feed.name, kind=kind).inc()
        cap = max(self.settings.max_backoff_seconds, feed.interval.max)
        base = feed.interval.min if soft else feed.interval.max
        delay = Backoff(base, cap, jitter=True).delay(state.errors, self.rng.random)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.max_retry_after_seconds))
        if state.pending and retry_after is None:
            # Unacknowledged entries are retried sooner than a failing feed is fetched.
            delay = min(delay, self._sink_backoff(state))
        log.warning(
            "feed %s: %s: %s (attempt %d, next poll in %.1fs)",
            feed.name,
            kind,
            detail,
            state.errors,
            delay,
        )
        return PollOutcome(status="error", error=kind, delivered=delivered, delay=delay)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True as soon as ``stop`` is set."""
    if stop.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    return stop.is_set()
