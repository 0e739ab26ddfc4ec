"""The seen-entries store: one contract for the in-process and the Redis implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from monitor.stores.seen import MemorySeenStore, RedisSeenStore, SeenStore

TTL = 100.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, topic_prefix: str, clock: Clock
) -> AsyncIterator[SeenStore]:
    if request.param == "memory":
        yield MemorySeenStore(ttl_seconds=TTL, clock=clock)
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisSeenStore(client, key_prefix=topic_prefix, ttl_seconds=TTL, clock=clock)
    await client.aclose()


@pytest.mark.integration
async def test_marked_entries_are_seen_per_feed(store: SeenStore) -> None:
    assert await store.unseen("f1", ["a", "b", "c"]) == ["a", "b", "c"]
    await store.mark("f1", ["a", "c"])
    assert await store.unseen("f1", ["c", "b", "a", "d"]) == ["b", "d"]
    assert await store.unseen("f2", ["a"]) == ["a"]  # feeds do not share entries
    assert await store.unseen("f1", []) == []
    await store.mark("f1", [])


@pytest.mark.integration
async def test_entries_are_forgotten_after_the_ttl(store: SeenStore, clock: Clock) -> None:
    await store.mark("f", ["old"])
    clock.now += TTL / 2
    await store.mark("f", ["young"])
    assert await store.unseen("f", ["old", "young"]) == []
    clock.now += TTL / 2 + 1
    assert await store.unseen("f", ["old", "young"]) == ["old"]
    await store.mark("f", ["old"])  # re-marking refreshes
    clock.now += TTL / 2
    assert await store.unseen("f", ["old", "young"]) == ["young"]


@pytest.mark.integration
async def test_redis_layout_one_sorted_set_per_feed_pruned_on_mark(
    redis_url: str, topic_prefix: str, clock: Clock
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = RedisSeenStore(client, key_prefix=topic_prefix, ttl_seconds=TTL, clock=clock)
        await store.mark("feed", ["a", "b"])
        key = f"{topic_prefix}seen:feed"
        assert store.key("feed") == key
        assert await client.zcard(key) == 2
        assert 0 < await client.ttl(key) <= TTL + 1
        clock.now += TTL + 1
        await store.mark("feed", ["c"])
        assert await client.zrange(key, 0, -1) == [b"c"]  # a and b pruned in the same call
        # A second store (a restarted poller) sees what the first marked.
        again = RedisSeenStore(client, key_prefix=topic_prefix, ttl_seconds=TTL, clock=clock)
        assert await again.unseen("feed", ["a", "c"]) == ["a"]
    finally:
        await client.aclose()
