"""Bundled sample feeds for the embedded demo (``monitor run`` without ``--feeds``).

``monitor/data/samples/articles.jsonl`` holds real articles, in release order: 32 from a
2013 Egyptian news stream (with reprints across outlets and a few developments) followed by
the five seed articles on Putin's 2024 visit to North Korea (publication order 002, 001, 000,
004, 003; 000 and 004 are the same wire copy). Each line: ``id``, ``outlet``, ``title`` (may be
empty: the clean stage then finds it in the text), ``text`` (as scraped, boilerplate included)
and ``published`` (ISO 8601 with offset).

:class:`SampleSite` serves them on a loopback port as RSS 2.0 feeds, one per outlet
(``/feeds/<feed name>.xml``), releasing one more article every ``interval`` seconds, so the
real poller finds them over time as it would on live sites. Its :meth:`SampleSite.feeds` is
the feed list to give the poller.

>>> articles = load_samples()
>>> len(articles) >= 30, articles[-1].outlet
(True, 'seed003')
>>> feed_name("El.Dostor.News")
'el.dostor.news'
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from monitor.ingest.feeds import FeedConfig, parse_feeds

__all__ = ["SAMPLES_FILE", "SampleArticle", "SampleSite", "feed_name", "load_samples"]

SAMPLES_FILE = Path(__file__).resolve().parent / "data" / "samples" / "articles.jsonl"
FEED_ITEMS = 30
"""Most recent articles listed per feed (as real feeds list only their latest entries)."""


@dataclass(frozen=True, slots=True)
class SampleArticle:
    id: str
    outlet: str
    title: str
    text: str
    published: datetime


def load_samples(path: Path = SAMPLES_FILE) -> list[SampleArticle]:
    """The sample articles of ``path``, in release order."""
    articles: list[SampleArticle] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                articles.append(
                    SampleArticle(
                        id=str(row["id"]),
                        outlet=str(row["outlet"]),
                        title=str(row.get("title") or ""),
                        text=str(row["text"]),
                        published=datetime.fromisoformat(row["published"]),
                    )
                )
    return articles


def feed_name(outlet: str) -> str:
    """A valid feed name (lower case, digits, ``._-``) for an outlet code."""
    name = re.sub(r"[^a-z0-9._-]+", "-", outlet.lower()).strip("-._")
    return name or "outlet"


def _item(article: SampleArticle, base_url: str) -> str:
    # The body goes out as HTML paragraphs, as feeds with full content do; the clean stage
    # extracts the text again.
    paragraphs = "".join(
        f"<p>{html_escape(line)}</p>" for line in article.text.splitlines() if line.strip()
    )
    title = f"<title>{xml_escape(article.title)}</title>" if article.title else ""
    return (
        f"<item>{title}"
        f"<link>{base_url}/articles/{xml_escape(article.id)}.html</link>"
        f'<guid isPermaLink="false">{xml_escape(article.id)}</guid>'
        f"<pubDate>{format_datetime(article.published)}</pubDate>"
        f"<description>{xml_escape(paragraphs)}</description></item>"
    )


class SampleSite:
    """Serves ``articles`` as per-outlet RSS feeds on ``host``, releasing them over time.

    The first article is out at :meth:`start`; then one more every ``interval`` seconds.

    ::

        site = SampleSite(load_samples(), interval=0.4)
        await site.start()
        feeds = site.feeds()          # FeedConfig per outlet, polled every ~0.5 s
        ...
        await site.stop()
    """

    def __init__(
        self,
        articles: list[SampleArticle],
        *,
        interval: float = 0.4,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.articles = articles
        self.interval = interval
        self.host = host
        self.port = port
        self._started: float | None = None
        self._runner: web.AppRunner | None = None
        self._outlets = {feed_name(a.outlet): a.outlet for a in articles}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def released(self) -> int:
        """How many articles are out by now."""
        if self._started is None:
            return 0
        if self.interval <= 0:
            return len(self.articles)
        out = 1 + int((time.monotonic() - self._started) / self.interval)
        return min(len(self.articles), out)

    def all_released(self) -> bool:
        return self.released() >= len(self.articles)

    def feeds(self, *, poll_min: float = 0.5, poll_max: float = 1.0) -> list[FeedConfig]:
        """One feed per outlet, polled every ``poll_min``..``poll_max`` seconds."""
        return parse_feeds(
            {
                "feeds": [
                    {
                        "name": name,
                        "outlet": outlet,
                        "url": f"{self.base_url}/feeds/{name}.xml",
                        "interval": {"min": poll_min, "max": poll_max},
                    }
                    for name, outlet in self._outlets.items()
                ]
            }
        )

    def feed_xml(self, name: str) -> str:
        outlet = self._outlets[name]
        out = self.articles[: self.released()]
        items = [a for a in out if a.outlet == outlet][-FEED_ITEMS:]
        body = "".join(_item(a, self.base_url) for a in reversed(items))  # newest first
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{xml_escape(outlet)}</title><link>{self.base_url}/</link>"
            "<description>monitor sample feed</description><language>ar</language>"
            f"{body}</channel></rss>"
        )

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._outlets:
            raise web.HTTPNotFound()
        outlet = self._outlets[name]
        out = sum(1 for a in self.articles[: self.released()] if a.outlet == outlet)
        # Honest validators, so pollers asking every fraction of a second mostly get a 304.
        etag = f'"{name}-{out}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=self.feed_xml(name).encode("utf-8"),
            content_type="application/rss+xml",
            charset="utf-8",
            headers={"ETag": etag},
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feeds/{name}.xml", self._feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        self._started = time.monotonic()

    def restart_release(self) -> None:
        """Release again from the first article, as from now: for a test whose consumers
        take a while to start and that wants the articles to come out one by one while it
        watches, not all at once at its first poll."""
        self._started = time.monotonic()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
