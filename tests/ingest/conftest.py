"""Fixtures of the ingest tests: the misbehaving news site on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.ingest.newsite import NewsSite


@pytest.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    site = NewsSite(retry_after=1, trickle_interval=0.05)
    await site.start()
    try:
        yield site
    finally:
        await site.stop()
