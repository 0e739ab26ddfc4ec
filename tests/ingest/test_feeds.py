"""The shipped feeds file loads; the feed model refuses what would break the poller."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.ingest.feeds import load_feeds, parse_feeds
from monitor.settings import PollerSettings

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_feeds_file_loads() -> None:
    path = REPO / PollerSettings().feeds_file
    feeds = load_feeds(path)
    assert len(feeds) >= 15
    names = {feed.name for feed in feeds}
    assert {"bbc-arabic", "aljazeera", "sana", "youm7", "dw-arabic"} <= names
    assert all(feed.url_text.startswith("https://") for feed in feeds)
    assert all(feed.interval.min <= feed.interval.max for feed in feeds)
    assert {feed.language for feed in feeds} == {"ar"}
    # Defaults are merged under each feed, a feed's own values win.
    sana = next(feed for feed in feeds if feed.name == "sana")
    bbc = next(feed for feed in feeds if feed.name == "bbc-arabic")
    assert sana.interval.min == 60 and sana.options.fetch_pages
    assert bbc.interval.max == 1800 and not bbc.options.fetch_pages
    assert "check" in path.read_text(encoding="utf-8").split("feeds:")[0].lower()


def _feed(**overrides: object) -> dict[str, object]:
    return {"name": "a", "outlet": "x", "url": "https://x.example/rss", **overrides}


@pytest.mark.parametrize(
    "feeds",
    [
        [_feed(), _feed()],  # duplicate names
        [_feed(interval={"min": 600, "max": 60})],  # bounds reversed
        [_feed(interval={"min": 0, "max": 60})],
        [_feed(url="ftp://x.example/rss")],
        [_feed(url="not a url")],
        [_feed(name="Has Spaces")],
        [_feed(options={"fetch_page": True})],  # typo: unknown option
        [{"name": "a", "url": "https://x.example/rss"}],  # no outlet
    ],
)
def test_invalid_feeds_are_refused(feeds: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError):
        parse_feeds({"feeds": feeds})


def test_defaults_merge_nested_mappings() -> None:
    (feed,) = parse_feeds(
        {
            "defaults": {"interval": {"min": 30, "max": 300}, "language": "en"},
            "feeds": [_feed(interval={"max": 90})],
        }
    )
    assert (feed.interval.min, feed.interval.max, feed.language) == (30, 90, "en")
