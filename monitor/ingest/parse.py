"""Feed bytes -> ``RawArticle`` records, with feedparser (RSS 0.9x/1.0/2.0, Atom, RDF).

feedparser never touches the network here: the poller fetches with httpx (feedparser has no
timeout) and hands the body and the response headers over, so a charset declared in the HTTP
Content-Type is honoured, as is one declared in the XML prolog. Broken XML (feedparser's
"bozo" flag) still yields whatever entries the lenient parser recovered, and a recognised
feed that has no entries (yet) is a good fetch with nothing new, broken XML or not.

Entry identity: the entry's GUID/id, else its link, else a hash of title and summary. The
article id is a stable hash of the feed name and that key, so the same entry always gets the
same id, across polls and restarts. Entries without a date get the fetch time, and
``published_is_fetch_time`` says so.

>>> from monitor.ingest.feeds import FeedConfig
>>> feed = FeedConfig(name="demo", outlet="demo", url="https://demo.example/rss")
>>> body = b'''<rss version="2.0"><channel><title>t</title>
...   <item><title>A</title><link>https://demo.example/a</link><description>x</description></item>
... </channel></rss>'''
>>> [a.url for a in parse_feed(body, feed).articles]
['https://demo.example/a']
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.core.charset import decode_declared, header_charset
from monitor.core.records import RawArticle
from monitor.ingest.feeds import FeedConfig

__all__ = ["FeedParseError", "ParsedFeed", "article_id", "parse_feed"]

_PROLOG_BYTES = 512
_XML_ENCODING = re.compile(rb"""(<\?xml[^>]*?\bencoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""")
_UNICODE_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class FeedParseError(Exception):
    """The body is not a feed at all: no entries, no format feedparser recognises and no
    channel (a feed without items, well-formed or not, is not an error)."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    articles: list[RawArticle]
    version: str
    """feedparser's format name, e.g. 'rss20', 'atom10', 'rss10'; '' if unknown."""
    encoding: str
    bozo: str | None
    """Why the XML was not well formed, when it was not."""
    charset_problem: str | None = None
    """``wrong_charset`` (the declared charset did not fit: another was found) or
    ``bad_bytes`` (a few bytes were invalid in it, replaced); the body was then decoded so and
    handed to feedparser as UTF-8. None when the declaration was right."""
    charset_detail: str = ""


def article_id(feed_name: str, entry_key: str) -> str:
    """Stable article id of one feed entry."""
    return hashlib.blake2b(f"{feed_name}\n{entry_key}".encode(), digest_size=10).hexdigest()


def parse_feed(
    body: bytes,
    feed: FeedConfig,
    *,
    headers: Mapping[str, str] | None = None,
    fetched: datetime | None = None,
) -> ParsedFeed:
    """Parse one fetched feed body into articles (raises ``FeedParseError`` on non-feeds)."""
    fetched = fetched or datetime.now(UTC)
    response_headers = _feed_headers(headers or {})
    body, charset_problem, charset_detail = _with_true_charset(body, response_headers)
    try:
        parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=True)
    except Exception as exc:
        # feedparser 6.0 itself fails on some broken feeds (a stray </height> is a TypeError):
        # that is this body's parse error, not a bug of the poller with a traceback per poll.
        raise FeedParseError(f"{feed.name}: feedparser failed on it ({exc!r})") from exc
    bozo = repr(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    if not entries and not _is_feed(parsed, version):
        raise FeedParseError(f"{feed.name}: not a feed ({bozo or 'unknown format'})")
    polled = time.time()
    articles = [_article(entry, feed, fetched, polled) for entry in entries]
    return ParsedFeed(
        articles=[a for a in articles if a is not None],
        version=version,
        encoding=parsed.get("encoding") or "",
        bozo=bozo,
        charset_problem=charset_problem,
        charset_detail=charset_detail,
    )


def _is_feed(parsed: Mapping[str, Any], version: str) -> bool:
    """Whether feedparser recognised a feed, entries or not.

    A feed with no items yet is a feed, even with recoverable errors (an undefined entity, an
    unclosed channel): feedparser names its format (``version``) and, when the XML is broken,
    has read something of the channel; a bare channel it cannot name has at least a title. A
    body cut off before its channel (``<rss><chan``), an HTML page, JSON or foreign XML has
    none of that (feedparser gives an HTML page at most a ``summary`` of its body).
    """
    channel = parsed.get("feed") or {}
    if version:
        return not parsed.get("bozo") or bool(channel)
    return "title" in channel


def _with_true_charset(body: bytes, headers: dict[str, str]) -> tuple[bytes, str | None, str]:
    """``body`` in UTF-8 and declared so (in ``headers`` and the XML declaration) when the
    charset it declares does not fit its bytes; else ``body`` as it is, for feedparser.

    feedparser tries the charset of the HTTP header, then that of the XML declaration, then
    UTF-8, and then falls back to windows-1252: an Arabic windows-1256 or ISO-8859-6 feed
    declared UTF-8 (common) became Latin gibberish. The same fallback turned a UTF-8 feed with
    one bad byte into gibberish too. Returns the body, the kind of problem (or None) and its
    detail.
    """
    if body.startswith(_UNICODE_BOMS):
        return body, None, ""  # the byte-order mark says what it is; feedparser honours it
    declaration = _XML_ENCODING.search(body[:_PROLOG_BYTES])
    declared = [
        header_charset(headers.get("content-type", "")),
        declaration.group(2).decode("ascii") if declaration else None,
    ]
    decoded = decode_declared(body, declared)
    if not (decoded.misdeclared or decoded.damaged):
        return body, None, ""
    named = ", ".join(name for name in declared if name) or "none"
    if decoded.misdeclared:
        problem = "wrong_charset"
        detail = f"declared charset {named} does not fit the bytes; found {decoded.charset}"
    else:
        problem = "bad_bytes"
        detail = f"bytes invalid in the declared charset {decoded.charset}, replaced"
    text = decoded.text.encode("utf-8")
    if declaration:
        text = _XML_ENCODING.sub(rb"\1utf-8\3", text, count=1)
    content_type = headers.get("content-type", "application/xml").split(";")[0]
    headers["content-type"] = f"{content_type}; charset=utf-8"
    return text, problem, detail


def _feed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # feedparser looks headers up by lower-case name only.
    return {name.lower(): value for name, value in headers.items()}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _entry_html(entry: Mapping[str, Any]) -> str:
    contents = [c.get("value", "") for c in entry.get("content") or [] if isinstance(c, Mapping)]
    contents = [c for c in contents if isinstance(c, str) and c.strip()]
    if contents:
        return max(contents, key=len)
    return _text(entry.get("summary"))


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _article(
    entry: Mapping[str, Any], feed: FeedConfig, fetched: datetime, polled: float
) -> RawArticle | None:
    title = _text(entry.get("title"))
    html = _entry_html(entry)
    link = _text(entry.get("link")) or None
    guid = _text(entry.get("id")) or None
    if guid:
        key = guid
    elif link:
        key = link
    elif title or html:
        key = "sha1:" + hashlib.sha1(f"{title}\n{html}".encode()).hexdigest()
    else:
        return None  # nothing to identify and nothing to read
    published = _entry_time(entry)
    return RawArticle(
        id=article_id(feed.name, key),
        outlet=feed.outlet,
        title=title,
        html=html or None,
        url=link,
        guid=guid,
        feed=feed.name,
        language=feed.language,
        published=published or fetched,
        published_is_fetch_time=published is None,
        fetched=fetched,
        trace={"polled": polled},
    )
