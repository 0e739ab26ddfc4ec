from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from monitor.core.arabic import normalize
from monitor.core.stories import article_features, index_keys, lookup_keys, new_story_state
from monitor.stores.stories import MemoryStoryStore, RedisStoryStore, StoryStore

DAY = 86_400.0


def story(story_id: str, title: str, body: str, now: float):  # type: ignore[no-untyped-def]
    features = article_features(normalize(title), [normalize(body)])
    state = new_story_state(story_id, title, features, now=now, sentences=[[1, 2, 3, 4]])
    state.sources = [{"outlet": "o", "article": f"{story_id}-a"}]
    return state, features


async def exercise(store: StoryStore) -> None:
    visit, features = story(
        "s1", "بوتين يزور بيونغ يانغ", "يزور الرئيس الروسي بوتين بيونغ يانغ", 0.0
    )
    other, _ = story("s2", "الأهلي يفوز على الزمالك", "فاز الأهلي على الزمالك في الكأس", 0.0)
    for state in (visit, other):
        await store.save(
            state, keys=index_keys(state), articles=[f"{state.id}-a"], retention=365 * DAY
        )
    keys = lookup_keys(features)
    found = await store.candidates(
        keys, now=DAY, close_after=30 * DAY, archive_after=365 * DAY, limit=5
    )
    assert [c.state.id for c in found][:1] == ["s1"] and not found[0].closed
    assert found[0].state.centroid == visit.centroid
    await store.load_memory(found[0].state)
    assert found[0].state.sentences == [[1, 2, 3, 4]]
    later = await store.candidates(
        keys, now=40 * DAY, close_after=30 * DAY, archive_after=365 * DAY, limit=5
    )
    assert later and later[0].closed  # dormant: only resumable
    gone = await store.candidates(
        keys, now=400 * DAY, close_after=30 * DAY, archive_after=365 * DAY, limit=5
    )
    assert gone == []
    whole = await store.story_of("s1-a")
    assert whole is not None and whole.id == "s1" and whole.sources[0]["outlet"] == "o"
    assert await store.story_of("unknown") is None
    assert await store.open_count(now=DAY, close_after=30 * DAY) == 2


async def test_memory_store() -> None:
    await exercise(MemoryStoryStore())


@pytest.mark.integration
async def test_redis_store(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    try:
        await exercise(RedisStoryStore(client, prefix))
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        ttls = [await client.ttl(key) for key in keys if b"updated" not in key]
        assert ttls and all(ttl > 0 for ttl in ttls)
    finally:
        await client.aclose()
