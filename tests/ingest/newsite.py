"""A misbehaving news site on loopback, for poller tests, benchmarks and the embedded demo.

It publishes the seed articles (``tests/data/seeds``, publication order 002, 001, 000, 004,
003) one by one when told to (``publish_next``), as feeds and as HTML article pages with their
boilerplate (nav, aside, footer), and misbehaves on purpose on some feeds:

=========================  ==============================================================
``/rss/main.xml``          RSS 2.0, gzip, honest ETag/Last-Modified, 304 when matching
``/atom/main.xml``         the same as Atom 1.0; ``/rdf/main.xml`` as RSS 1.0 (RDF)
``/rss/broken.xml``        not well-formed XML (bare ``&``, unclosed tags), entries inside
``/rss/cp1256-prolog.xml`` windows-1256 body, charset only in the XML prolog, ``text/xml``
``/rss/cp1256-header.xml`` windows-1256 body, charset only in the Content-Type header
``/rss/flaky.xml``         HTTP 500 for the first ``flaky_failures`` requests
``/rss/limited.xml``       HTTP 429 with ``Retry-After: retry_after`` on the first request
``/rss/liar.xml``          same ETag forever while content changes (304 to new content)
``/rss/endless.xml``       a response that never ends (one byte per ``trickle_interval``)
``/rss/huge.xml``          a 50 MB body, chunked (no Content-Length)
``/rss/huge-declared.xml`` a 50 MB body with its Content-Length
``/rss/loop.xml``          a redirect loop (loop.xml -> loop2.xml -> loop.xml)
``/articles/{slug}.html``  article pages
``/bench/{n}.xml``         synthetic 20-entry feeds, one new entry per ``bench_new_every`` s
=========================  ==============================================================

In-process (tests)::

    site = NewsSite()
    await site.start()            # random free port on 127.0.0.1
    site.publish_next()
    url = site.url("/rss/main.xml")
    await site.stop()

As its own process (benchmarks): ``python tests/ingest/newsite.py [--port N] [--hosts K]`` prints
``PORT <n>`` on stdout once it listens and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web
from aiohttp.web_response import ContentCoding

__all__ = ["SEEDS_DIR", "SEED_ORDER", "NewsSite", "RequestRecord", "Story", "load_stories"]

SEEDS_DIR = Path(__file__).resolve().parents[1] / "data" / "seeds"
SEED_ORDER = ("002", "001", "000", "004", "003")
_FIRST_PUBLISHED = datetime(2024, 6, 17, 8, 0, tzinfo=UTC)
_HUGE_BYTES = 50 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Story:
    slug: str
    """Seed file stem, e.g. '002_3172a6992104bb80'."""
    title: str
    paragraphs: tuple[str, ...]
    published: datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    path: str
    at: float
    """time.monotonic() when the request arrived."""
    headers: dict[str, str]


def load_stories(seeds_dir: Path = SEEDS_DIR) -> list[Story]:
    """The seeds in publication order; first line = title, the rest = paragraphs."""
    stories = []
    for index, prefix in enumerate(SEED_ORDER):
        (path,) = sorted(seeds_dir.glob(f"{prefix}_*.txt"))
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        stories.append(
            Story(
                slug=path.stem,
                title=lines[0],
                paragraphs=tuple(lines[1:]),
                published=_FIRST_PUBLISHED + timedelta(hours=3 * index),
            )
        )
    return stories


@dataclass
class NewsSite:
    seeds_dir: Path = SEEDS_DIR
    flaky_failures: int = 2
    retry_after: int = 2
    trickle_interval: float = 0.05
    bench_new_every: float = 60.0
    name: str = "أخبار الاختبار"
    stories: list[Story] = field(init=False)
    published: int = 0
    requests: list[RequestRecord] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _counts: dict[str, int] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.stories = load_stories(self.seeds_dir)

    # -------------------------------------------------------------- control

    def publish_next(self) -> Story:
        if self.published >= len(self.stories):
            raise IndexError("every seed is already published")
        self.published += 1
        return self.stories[self.published - 1]

    def publish_all(self) -> None:
        self.published = len(self.stories)

    @property
    def live(self) -> list[Story]:
        """Published stories, newest first (as feeds list them)."""
        return list(reversed(self.stories[: self.published]))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path == path]

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, extra_hosts: tuple[str, ...] = ()
    ) -> None:
        """Listen on ``host`` (and on ``extra_hosts``, e.g. 127.0.0.2: other "hosts" for the
        poller's per-host limits) on one port."""
        app = web.Application()
        app.middlewares.append(self._record)
        app.add_routes(
            [
                web.get("/rss/main.xml", self._main_rss),
                web.get("/atom/main.xml", self._atom),
                web.get("/rdf/main.xml", self._rdf),
                web.get("/rss/broken.xml", self._broken),
                web.get("/rss/cp1256-prolog.xml", self._cp1256_prolog),
                web.get("/rss/cp1256-header.xml", self._cp1256_header),
                web.get("/rss/flaky.xml", self._flaky),
                web.get("/rss/limited.xml", self._limited),
                web.get("/rss/liar.xml", self._liar),
                web.get("/rss/endless.xml", self._endless),
                web.get("/rss/huge.xml", self._huge),
                web.get("/rss/huge-declared.xml", self._huge_declared),
                web.get("/rss/loop.xml", self._loop),
                web.get("/rss/loop2.xml", self._loop2),
                web.get("/articles/{slug}.html", self._article),
                web.get("/bench/{n}.xml", self._bench),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        for extra in extra_hosts:
            await web.TCPSite(self._runner, extra, self.port).start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------- documents

    def rss(
        self, stories: list[Story], *, encoding: str | None = "utf-8", broken: bool = False
    ) -> str:
        prolog = (
            f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else '<?xml version="1.0"?>'
        )
        items = []
        for story in stories:
            summary = xml_escape(story.paragraphs[0] if story.paragraphs else story.title)
            if broken:  # a bare ampersand and an unclosed element, as real feeds have
                summary += " & <b>عاجل"
            items.append(
                f"<item><title>{xml_escape(story.title)}</title>"
                f"<link>{self.url(f'/articles/{story.slug}.html')}</link>"
                f'<guid isPermaLink="false">{story.slug}</guid>'
                f"<pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>"
                f"<description>{summary}</description></item>"
            )
        return (
            f'{prolog}\n<rss version="2.0"><channel><title>{xml_escape(self.name)}</title>'
            f"<link>{self.url('/')}</link><description>اختبار</description><language>ar</language>"
            + "".join(items)
            + "</channel></rss>"
        )

    def atom(self, stories: list[Story]) -> str:
        entries = "".join(
            f"<entry><title>{xml_escape(s.title)}</title>"
            f'<link rel="alternate" href="{self.url(f"/articles/{s.slug}.html")}"/>'
            f"<id>urn:newsite:{s.slug}</id><updated>{s.published.isoformat()}</updated>"
            f'<summary type="text">{xml_escape(s.paragraphs[0])}</summary></entry>'
            for s in stories
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{xml_escape(self.name)}</title><id>urn:newsite</id>"
            f"<updated>{_FIRST_PUBLISHED.isoformat()}</updated>{entries}</feed>"
        )

    def rdf(self, stories: list[Story]) -> str:
        items = "".join(
            f'<item rdf:about="{self.url(f"/articles/{s.slug}.html")}">'
            f"<title>{xml_escape(s.title)}</title>"
            f"<link>{self.url(f'/articles/{s.slug}.html')}</link>"
            f"<description>{xml_escape(s.paragraphs[0])}</description>"
            f"<dc:date>{s.published.isoformat()}</dc:date></item>"
            for s in stories
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="{self.url("/")}"><title>{xml_escape(self.name)}</title>'
            f"<link>{self.url('/')}</link><description>اختبار</description></channel>"
            f"{items}</rdf:RDF>"
        )

    def page(self, story: Story) -> str:
        paragraphs = "\n".join(f"<p>{html_escape(line)}</p>" for line in story.paragraphs)
        return (
            '<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f"<title>{html_escape(story.title)} - {self.name}</title></head><body>"
            '<header><nav><a href="/">الرئيسية</a> <a href="/politics">سياسة</a> '
            '<a href="/economy">اقتصاد</a> <a href="/sport">رياضة</a></nav></header>'
            f"<main><article><h1>{html_escape(story.title)}</h1>\n{paragraphs}\n</article>"
            "<aside><h2>الأكثر قراءة</h2><ul><li>خبر آخر</li><li>خبر ثالث</li></ul></aside></main>"
            "<footer><p>جميع الحقوق محفوظة © 2024</p><p>اتصل بنا | سياسة الخصوصية</p></footer>"
            "</body></html>"
        )

    # -------------------------------------------------------------- handlers

    @web.middleware
    async def _record(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        self.requests.append(RequestRecord(request.path, time.monotonic(), dict(request.headers)))
        self._counts[request.path] = self._counts.get(request.path, 0) + 1
        return await handler(request)

    def _count(self, request: web.Request) -> int:
        return self._counts.get(request.path, 0)

    @staticmethod
    def _xml(
        body: str | bytes,
        content_type: str = "application/rss+xml; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        response = web.Response(body=data, headers=headers or {})
        response.headers["Content-Type"] = content_type
        return response

    async def _main_rss(self, request: web.Request) -> web.StreamResponse:
        body = self.rss(self.live).encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        last_modified = format_datetime(
            (self.live[0].published if self.live else _FIRST_PUBLISHED), usegmt=True
        )
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        response = self._xml(body, headers=headers)
        response.enable_compression(ContentCoding.gzip)
        return response

    async def _atom(self, request: web.Request) -> web.StreamResponse:
        return self._xml(self.atom(self.live), "application/atom+xml; charset=utf-8")

    async def _rdf(self, request: web.Request) -> web.StreamResponse:
        return self._xml(self.rdf(self.live), "application/rdf+xml; charset=utf-8")

    async def _broken(self, request: web.Request) -> web.StreamResponse:
        return self._xml(self.rss(self.live, broken=True))

    async def _cp1256_prolog(self, request: web.Request) -> web.StreamResponse:
        body = self.rss(self.live, encoding="windows-1256").encode("windows-1256", "replace")
        return self._xml(body, "text/xml")

    async def _cp1256_header(self, request: web.Request) -> web.StreamResponse:
        body = self.rss(self.live, encoding=None).encode("windows-1256", "replace")
        return self._xml(body, "text/xml; charset=windows-1256")

    async def _flaky(self, request: web.Request) -> web.StreamResponse:
        if self._count(request) <= self.flaky_failures:
            return web.Response(status=500, text="Internal Server Error")
        return self._xml(self.rss(self.live))

    async def _limited(self, request: web.Request) -> web.StreamResponse:
        if self._count(request) == 1:
            return web.Response(
                status=429, text="slow down", headers={"Retry-After": str(self.retry_after)}
            )
        return self._xml(self.rss(self.live))

    async def _liar(self, request: web.Request) -> web.StreamResponse:
        headers = {"ETag": '"v1"', "Last-Modified": format_datetime(_FIRST_PUBLISHED, usegmt=True)}
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers=headers)
        return self._xml(self.rss(self.live), headers=headers)

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        try:
            while not self._stopping.is_set():
                await response.write(b" ")
                await asyncio.sleep(self.trickle_interval)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    async def _stream_huge(self, request: web.Request, declared: bool) -> web.StreamResponse:
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title><!--'
        tail = b"--></channel></rss>"
        filler = b"x" * _CHUNK
        headers = {"Content-Type": "application/rss+xml"}
        if declared:
            headers["Content-Length"] = str(_HUGE_BYTES)
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        sent = len(head) + len(tail)
        try:
            await response.write(head)
            while sent < _HUGE_BYTES and not self._stopping.is_set():
                chunk = filler[: min(_CHUNK, _HUGE_BYTES - sent)]
                await response.write(chunk)
                sent += len(chunk)
            await response.write(tail)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        return await self._stream_huge(request, declared=False)

    async def _huge_declared(self, request: web.Request) -> web.StreamResponse:
        return await self._stream_huge(request, declared=True)

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/rss/loop2.xml")

    async def _loop2(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/rss/loop.xml")

    async def _article(self, request: web.Request) -> web.StreamResponse:
        slug = request.match_info["slug"]
        for story in self.stories[: self.published]:
            if story.slug == slug:
                return web.Response(
                    text=self.page(story), content_type="text/html", charset="utf-8"
                )
        raise web.HTTPNotFound()

    async def _bench(self, request: web.Request) -> web.StreamResponse:
        feed = int(request.match_info["n"])
        newest = int((time.monotonic() - self._started) / self.bench_new_every) + 20
        stories = []
        for k in range(newest, newest - 20, -1):
            stories.append(
                Story(
                    slug=f"b{feed}-{k}",
                    title=f"خبر رقم {k} في الموجز {feed}",
                    paragraphs=(f"نص الخبر رقم {k} من الموجز {feed}، مع بعض التفاصيل الإضافية.",),
                    published=_FIRST_PUBLISHED + timedelta(minutes=k),
                )
            )
        return self._xml(self.rss(stories))


async def _serve(port: int, hosts: int, bench_new_every: float) -> None:
    site = NewsSite(bench_new_every=bench_new_every)
    site.publish_all()
    await site.start(port=port, extra_hosts=tuple(f"127.0.0.{n}" for n in range(2, hosts + 1)))
    print(f"PORT {site.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--hosts", type=int, default=1, help="also listen on 127.0.0.2..N")
    parser.add_argument("--bench-new-every", type=float, default=60.0, help="seconds")
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments.port, arguments.hosts, arguments.bench_new_every))
