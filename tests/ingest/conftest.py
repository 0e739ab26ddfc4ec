"""Fixtures of the ingest tests: the misbehaving news site on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.netguard import AddressGuard
from tests.ingest.newsite import NewsSite

LOOPBACK = AddressGuard.allowing("127.0.0.0/8")
"""Where the test sites listen; the fetcher refuses it unless told (monitor.netguard)."""


@pytest.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    site = NewsSite(retry_after=1, trickle_interval=0.05)
    await site.start()
    try:
        yield site
    finally:
        await site.stop()
