"""Feed bytes -> RawArticle: formats, charsets, broken XML, entries missing GUID/link/date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.ingest.feeds import FeedConfig
from monitor.ingest.parse import FeedParseError, article_id, parse_feed
from tests.ingest.newsite import NewsSite, load_stories

FEED = FeedConfig(name="test-feed", outlet="test", url="http://127.0.0.1/rss.xml", language="ar")
FETCHED = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
STORIES = load_stories()
SITE = NewsSite()
SITE.publish_all()


def _titles(body: bytes, content_type: str = "application/rss+xml; charset=utf-8") -> list[str]:
    parsed = parse_feed(body, FEED, headers={"Content-Type": content_type}, fetched=FETCHED)
    return [a.title for a in parsed.articles]


@pytest.mark.parametrize(
    ("document", "version"),
    [(SITE.rss, "rss20"), (SITE.atom, "atom10"), (SITE.rdf, "rss10")],
)
def test_rss_atom_and_rdf_yield_the_same_articles(document, version: str) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_feed(document(SITE.live).encode(), FEED, fetched=FETCHED)
    assert parsed.version == version and parsed.bozo is None
    assert [a.title for a in parsed.articles] == [s.title for s in SITE.live]
    first = parsed.articles[0]
    assert first.url == SITE.url(f"/articles/{SITE.live[0].slug}.html")
    assert first.published == SITE.live[0].published and not first.published_is_fetch_time
    assert first.fetched == FETCHED and first.feed == "test-feed" and first.outlet == "test"
    assert first.language == "ar" and first.html and SITE.live[0].paragraphs[0][:20] in first.html
    assert first.trace["polled"] > 0


def test_rss_091() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="0.91"><channel><title>t</title>'
        "<link>http://x/</link><description>d</description><language>ar</language>"
        f"<item><title>{STORIES[0].title}</title><link>http://x/a</link>"
        "<description>نص</description></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, FEED, fetched=FETCHED)
    assert parsed.version == "rss091u" and [a.title for a in parsed.articles] == [STORIES[0].title]


def test_windows_1256_declared_in_the_xml_prolog_even_when_served_as_text_xml() -> None:
    body = SITE.rss(SITE.live, encoding="windows-1256").encode("windows-1256", "replace")
    assert _titles(body, "text/xml") == [s.title for s in SITE.live]


def test_windows_1256_declared_only_in_the_http_header() -> None:
    body = SITE.rss(SITE.live, encoding=None).encode("windows-1256", "replace")
    assert _titles(body, "text/xml; charset=windows-1256") == [s.title for s in SITE.live]


def test_iso_8859_6() -> None:
    title = "وصل بوتين إلى بيونغ يانغ"  # ISO-8859-6 has the basic Arabic letters only
    body = (
        '<?xml version="1.0" encoding="ISO-8859-6"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>http://x/a</link></item></channel></rss>"
    ).encode("iso-8859-6")
    assert _titles(body, "application/xml") == [title]


def test_broken_xml_still_yields_its_entries() -> None:
    parsed = parse_feed(SITE.rss(SITE.live, broken=True).encode(), FEED, fetched=FETCHED)
    assert parsed.bozo is not None
    assert [a.title for a in parsed.articles] == [s.title for s in SITE.live]


def test_entry_identity_guid_then_link_then_content_hash() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>A</title><guid>g-1</guid><link>http://x/a</link></item>"
        b"<item><title>B</title><link>http://x/b</link><description>b</description></item>"
        b"<item><title>C</title><description>only text</description></item>"
        b"<item></item>"
        b"</channel></rss>"
    )
    articles = parse_feed(body, FEED, fetched=FETCHED).articles
    assert [a.title for a in articles] == ["A", "B", "C"]  # the empty item is dropped
    a, b, c = articles
    assert (a.guid, a.id) == ("g-1", article_id("test-feed", "g-1"))
    assert (b.guid, b.id) == (None, article_id("test-feed", "http://x/b"))
    assert c.url is None and c.guid is None and len({a.id, b.id, c.id}) == 3
    # No date anywhere: the fetch time stands in, and says so.
    assert all(x.published == FETCHED and x.published_is_fetch_time for x in articles)
    # Stable: the same body gives the same ids; another feed gives other ids.
    assert [x.id for x in parse_feed(body, FEED).articles] == [a.id, b.id, c.id]
    other = FEED.model_copy(update={"name": "other-feed"})
    assert not {x.id for x in parse_feed(body, other).articles} & {a.id, b.id, c.id}


def test_content_encoded_is_preferred_to_the_summary() -> None:
    body = (
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        b"<channel><title>t</title><item><title>A</title><link>http://x/a</link>"
        b"<description>short</description>"
        b"<content:encoded><![CDATA[<p>long body</p><p>second</p>]]></content:encoded>"
        b"</item></channel></rss>"
    )
    (article,) = parse_feed(body, FEED).articles
    assert article.html == "<p>long body</p><p>second</p>"


@pytest.mark.parametrize(
    "body", [b"", b"<html><body>Not found</body></html>", b"\x00\xff garbage", b"<rss><chan"]
)
def test_non_feeds_raise(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, FEED)


def test_an_empty_but_valid_feed_has_no_articles() -> None:
    parsed = parse_feed(SITE.rss([]).encode(), FEED)
    assert parsed.articles == [] and parsed.version == "rss20"
