"""The fetcher against a real HTTP server on loopback that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from email.utils import formatdate

import pytest

from monitor.ingest.fetch import (
    SOFT_ERROR_KINDS,
    Fetcher,
    FetchError,
    FetchLimits,
    FetchResult,
    HostGate,
    parse_retry_after,
)
from monitor.settings import PollerSettings
from tests.ingest.conftest import LOOPBACK
from tests.ingest.newsite import NewsSite

LIMITS = FetchLimits(
    connect_timeout=2,
    read_timeout=5,
    deadline=1.5,
    max_bytes=10_000_000,
    max_redirects=5,
    host_min_spacing=0.0,
)


async def _error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    return caught.value


async def test_gzip_feed_is_decoded_and_conditional_get_gives_304(news_site: NewsSite) -> None:
    news_site.publish_next()
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        first = await fetcher.fetch(news_site.url("/rss/main.xml"))
        assert first.status == 200
        assert first.headers["content-encoding"] == "gzip"
        assert b"<rss" in first.body and news_site.stories[0].slug.encode() in first.body
        again = await fetcher.fetch(news_site.url("/rss/main.xml"), etag=first.headers["etag"])
        assert again.not_modified and again.body == b""
        news_site.publish_next()
        changed = await fetcher.fetch(news_site.url("/rss/main.xml"), etag=first.headers["etag"])
        assert changed.status == 200 and changed.headers["etag"] != first.headers["etag"]


async def test_http_errors_are_classified(news_site: NewsSite) -> None:
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        error = await _error(fetcher, news_site.url("/rss/flaky.xml"))
        assert (error.kind, error.status, error.soft) == ("http_5xx", 500, True)
        error = await _error(fetcher, news_site.url("/no/such/feed.xml"))
        assert (error.kind, error.status, error.soft) == ("http_4xx", 404, False)
        error = await _error(fetcher, news_site.url("/rss/limited.xml"))
        assert (error.kind, error.retry_after) == ("http_429", float(news_site.retry_after))
        assert (await fetcher.fetch(news_site.url("/rss/limited.xml"))).status == 200


async def test_a_response_that_never_ends_is_cut_at_the_deadline(news_site: NewsSite) -> None:
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        started = time.monotonic()
        error = await _error(fetcher, news_site.url("/rss/endless.xml"))
        elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    # The server kept sending (never silent for read_timeout): only the deadline can end it.
    assert LIMITS.deadline <= elapsed < LIMITS.deadline + 3.0


@pytest.mark.parametrize("path", ["/rss/huge.xml", "/rss/huge-declared.xml"])
async def test_a_body_above_the_cap_is_refused(news_site: NewsSite, path: str) -> None:
    limits = FetchLimits(deadline=20, max_bytes=1_000_000, host_min_spacing=0)
    async with Fetcher(limits, guard=LOOPBACK) as fetcher:
        error = await _error(fetcher, news_site.url(path))
    assert error.kind == "too_large"
    assert ("Content-Length" in error.detail) == path.endswith("declared.xml")


async def test_redirect_loop(news_site: NewsSite) -> None:
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        error = await _error(fetcher, news_site.url("/rss/loop.xml"))
    assert error.kind == "redirect_loop" and not error.soft
    assert len(news_site.requests_to("/rss/loop.xml")) == LIMITS.max_redirects // 2 + 1


async def test_connection_refused_and_unknown_host() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        assert (await _error(fetcher, f"http://127.0.0.1:{port}/rss.xml")).kind == "connect"
        # RFC 2606 reserves .invalid: it never resolves.
        assert (await _error(fetcher, "http://feeds.example.invalid/rss.xml")).kind == "dns"
        assert (await _error(fetcher, "ftp://127.0.0.1/rss.xml")).kind == "invalid_url"


async def test_feeds_and_pages_on_private_addresses_are_refused_by_default(
    news_site: NewsSite,
) -> None:
    story = news_site.publish_next()
    page = news_site.url(f"/articles/{story.slug}.html")
    async with Fetcher(LIMITS) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch_page(page)
        assert caught.value.kind == "private_address"
        assert (await _error(fetcher, news_site.url("/rss/main.xml"))).kind == "private_address"
    assert news_site.requests == []
    async with Fetcher(LIMITS, guard=LOOPBACK) as fetcher:
        result = await fetcher.fetch_page(page)
    assert story.title in result.text() and "<footer>" in result.text()


async def test_host_gate_serialises_requests_and_spaces_them(news_site: NewsSite) -> None:
    spacing = 0.2
    gate = HostGate(min_spacing=spacing)
    async with Fetcher(LIMITS, guard=LOOPBACK, gate=gate) as fetcher:
        await asyncio.gather(*(fetcher.fetch(news_site.url("/rss/main.xml")) for _ in range(4)))
    arrivals = [r.at for r in news_site.requests_to("/rss/main.xml")]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) >= spacing * 0.95


def test_retry_after_seconds_and_http_date() -> None:
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(formatdate(now + 90, usegmt=True), now=now) == pytest.approx(90, abs=1)
    assert parse_retry_after(formatdate(now - 90, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_limits_from_settings_and_soft_kinds() -> None:
    limits = FetchLimits.from_settings(PollerSettings(max_response_bytes=123, max_redirects=2))
    assert (limits.max_bytes, limits.max_redirects) == (123, 2)
    assert {"timeout", "dns", "connect", "http_429", "http_5xx"} <= SOFT_ERROR_KINDS
    assert not {"http_4xx", "too_large", "redirect_loop", "parse"} & SOFT_ERROR_KINDS


def test_page_text_uses_header_then_meta_charset() -> None:
    arabic = "خبر عاجل"
    body = f'<html><head><meta charset="windows-1256"></head><p>{arabic}</p></html>'
    encoded = body.encode("windows-1256")
    result = FetchResult("http://x/", 200, {"content-type": "text/html"}, encoded, 0.0)
    assert arabic in result.text()
    result = FetchResult(
        "http://x/",
        200,
        {"content-type": "text/html; charset=cp1256"},
        f"<p>{arabic}</p>".encode("cp1256"),
        0.0,
    )
    assert arabic in result.text()
