"""Story timelines: written with the story update, bounded, expiring with it, merged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from monitor.core.records import Decision
from monitor.stores.stories import (
    MemoryStoryStore,
    RedisStoryStore,
    TimelineDigest,
    WriteBehindStoryStore,
)
from tests.stores.test_stories import DAY, story

AnyStoryStore = MemoryStoryStore | RedisStoryStore | WriteBehindStoryStore


def decision(article: str, kind: str, hour: int, outlet: str = "o", sid: str = "s1") -> Decision:
    return Decision.model_validate(
        {
            "article": article,
            "outlet": outlet,
            "decision": kind,
            "story": sid,
            "title": f"<b>{article}</b>",
            "published": datetime(2024, 6, 19, hour, tzinfo=UTC),
            "new_sentences": [f"جملة {article}"],
            "decided_at": datetime(2024, 6, 20, tzinfo=UTC),
        }
    )


async def timeline_of(store: AnyStoryStore, sid: str) -> list[str]:
    """Article ids of the stored timeline, in time order."""
    if isinstance(store, MemoryStoryStore):
        return [article for _, article, _ in store.timelines.get(sid, [])]
    raw = await store._redis.zrange(store._key("tl", sid), 0, -1)
    return [Decision.model_validate_json(entry).article for entry in raw]


async def digest_of(store: AnyStoryStore, sid: str) -> TimelineDigest:
    if isinstance(store, MemoryStoryStore):
        return store.digests.get(sid, TimelineDigest())
    raw = {
        k.decode(): v.decode()
        for k, v in (await store._redis.hgetall(store._key("tlx", sid))).items()
    }
    digest = TimelineDigest(developments=int(raw.get("developments", 0)))
    if "last_development" in raw:
        digest.last_development = float(raw["last_development"])
    for name, count in raw.items():
        if name.startswith("o:"):
            digest.outlets[name[2:]] = int(count)
    return digest


async def outlet_index_of(store: AnyStoryStore, outlet: str) -> dict[str, float]:
    """The outlet index: the stories ``outlet`` published in -> their last update."""
    if isinstance(store, MemoryStoryStore):
        return store.outlet_stories(outlet)
    raw = await store._redis.zrange(store._key("out", outlet), 0, -1, withscores=True)
    return {member.decode(): score for member, score in raw}


async def exercise(store: AnyStoryStore) -> None:
    state, _ = story("s1", "زيارة", "زيارة الرئيس", 0.0)
    other, _ = story("s2", "زيارة أخرى", "زيارة الوزير", 0.0)

    async def save(target, *decisions: Decision) -> None:  # type: ignore[no-untyped-def]
        await store.save(
            target, keys=[], articles=[d.article for d in decisions], retention=DAY,
            timeline=decisions,
        )  # fmt: skip

    # Saved out of publication order: kept in publication order, the oldest trimmed.
    await save(state, decision("a3", "development", 12, outlet="x"))
    await save(state, decision("a1", "new_story", 9), decision("a2", "no_news", 10))
    await save(state, decision("a4", "duplicate", 13, outlet="x"))
    await save(state, decision("a0", "no_news", 8))
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()
    assert await timeline_of(store, "s1") == ["a1", "a2", "a3", "a4"]  # bound: 4, a0 trimmed
    digest = await digest_of(store, "s1")
    assert digest.developments == 1
    assert digest.last_development == datetime(2024, 6, 19, 12, tzinfo=UTC).timestamp()
    assert digest.outlets == {"o": 3, "x": 2}  # all time: a0 counted
    assert await outlet_index_of(store, "o") == await outlet_index_of(store, "x") == {"s1": 0.0}

    # Merging s2 into s1: entries interleave by publication, trimmed; s2's timeline is gone.
    await save(
        other,
        decision("b1", "new_story", 11, sid="s2"),
        decision("b2", "development", 14, sid="s2", outlet="y"),
    )
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()
    assert await outlet_index_of(store, "y") == {"s2": 0.0}
    # The story merged into is updated (its save comes first), then the timelines merge.
    state.updated = 7200.0
    await save(state, decision("a5", "no_news", 15, outlet="z"))
    await store.merge_timelines("s2", "s1")
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()
    assert await timeline_of(store, "s1") == ["a2", "b1", "a3", "a4", "b2", "a5"][-4:]
    assert await timeline_of(store, "s2") == []
    merged = await digest_of(store, "s1")
    assert merged.developments == 2 and merged.outlets["y"] == 1
    assert merged.last_development == datetime(2024, 6, 19, 14, tzinfo=UTC).timestamp()
    # Every outlet of the merged timeline lists s1 at its last update, none lists s2.
    for outlet in ("o", "x", "y", "z"):
        assert await outlet_index_of(store, outlet) == {"s1": 7200.0}, outlet
    assert await store.resolve("s1") == "s1"


async def test_memory_timelines() -> None:
    store = MemoryStoryStore(timeline_size=4)
    await exercise(store)
    store.merged.update({"s2": "s1", "s0": "s2"})
    assert await store.resolve("s0") == "s1"
    store.merged.update({"c1": "c2", "c2": "c1"})  # a cycle ends, never hangs
    assert await store.resolve("c1") in ("c1", "c2")


async def test_timelines_off() -> None:
    store = MemoryStoryStore(timeline_size=0)
    state, _ = story("s1", "زيارة", "زيارة الرئيس", 0.0)
    await store.save(
        state, keys=[], articles=["a"], retention=DAY, timeline=[decision("a", "new_story", 9)]
    )
    assert store.timelines == {} and store.digests == {} and store.outlet_stories("o") == {}


@pytest.mark.integration
@pytest.mark.parametrize("store_class", [RedisStoryStore, WriteBehindStoryStore])
async def test_redis_timelines(
    redis_client: aioredis.Redis, store_class: type[RedisStoryStore | WriteBehindStoryStore]
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    store = store_class(redis_client, prefix, timeline_size=4)
    await exercise(store)
    # The timeline and its digest expire with the story.
    story_ttl = await redis_client.ttl(f"{prefix}story:sum:s1")
    for key in (f"{prefix}story:tl:s1", f"{prefix}story:tlx:s1"):
        assert 0 < await redis_client.ttl(key) <= story_ttl
    # Merged links (written by the story stage) are followed.
    await redis_client.set(f"{prefix}story:merged:s2", "s1", ex=60)
    await redis_client.set(f"{prefix}story:merged:s0", "s2", ex=60)
    assert await store.resolve("s0") == "s1"
    assert await store.resolve("unknown") == "unknown"


@pytest.mark.integration
async def test_write_behind_timelines_are_what_direct_saves_write(
    redis_client: aioredis.Redis,
) -> None:
    from tests.stores.test_stories import redis_contents

    run = uuid.uuid4().hex[:6]
    direct = RedisStoryStore(redis_client, f"t-{run}-d:", timeline_size=4)
    batched = WriteBehindStoryStore(redis_client, f"t-{run}-b:", timeline_size=4)
    await exercise(direct)
    await exercise(batched)
    assert await redis_contents(redis_client, f"t-{run}-b:") == await redis_contents(
        redis_client, f"t-{run}-d:"
    )
