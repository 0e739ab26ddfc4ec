from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
import redis.asyncio as aioredis

from monitor.core.arabic import normalize
from monitor.core.stories import article_features, index_keys, lookup_keys, new_story_state
from monitor.settings import Settings
from monitor.stores.stories import (
    MemoryStoryStore,
    RedisStoryStore,
    StoryStore,
    WriteBehindStoryStore,
    memory_story_store,
    redis_story_store,
    write_behind_story_store,
)

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


@pytest.mark.integration
async def test_write_behind_outcomes_wait_for_flush_and_a_lost_batch_is_forgotten(
    redis_client: aioredis.Redis,
) -> None:
    """An outcome saved in the batch answers ``decided`` at once but reaches Redis only at
    ``flush``; a batch discarded after a failure never reaches it."""
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    store = WriteBehindStoryStore(redis_client, prefix)
    visit, _ = story("s3", "زيارة", "زيارة الرئيس", 0.0)
    outcome = '{"decision":null,"alert":null}'
    assert await store.prepare(["s3-a"], index_keys(visit)) == [None]
    await store.save(
        visit, keys=index_keys(visit), articles=["s3-a"], retention=DAY, outcomes={"s3-a": outcome}
    )
    assert await store.decided("s3-a") == outcome
    assert await redis_client.get(f"{prefix}story:dec:s3-a") is None  # only in memory
    await store.flush()
    assert await redis_client.get(f"{prefix}story:dec:s3-a") == outcome.encode()
    assert await store.decided_many(["s3-a", "other"]) == [outcome, None]

    lost, _ = story("s4", "خبر", "خبر آخر", 0.0)
    await store.save(lost, keys=[], articles=["s4-a"], retention=DAY, outcomes={"s4-a": outcome})
    store.discard_pending()
    await store.flush()
    assert await redis_client.get(f"{prefix}story:art:s4-a") is None
    assert await store.decided("s4-a") is None
    await store.save(lost, keys=[], articles=["s4-a"], retention=DAY)
    await store.flush()
    assert await redis_client.get(f"{prefix}story:art:s4-a") == b"s4"


@pytest.mark.integration
async def test_redis_store_write_behind(redis_url: str) -> None:
    """Reads come from process memory; writes reach Redis at ``flush``; a new store (a
    restarted worker) reads the flushed state back and ranks candidates the same way."""
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    try:
        store = WriteBehindStoryStore(client, prefix)
        visit, features = story(
            "s1", "بوتين يزور بيونغ يانغ", "يزور الرئيس الروسي بوتين بيونغ يانغ", 0.0
        )
        other, _ = story("s2", "الأهلي يفوز على الزمالك", "فاز الأهلي على الزمالك في الكأس", 0.0)
        for state in (visit, other):
            await store.save(
                state, keys=index_keys(state), articles=[f"{state.id}-a"], retention=365 * DAY,
                outcomes={f"{state.id}-a": '{"decision":null,"alert":null}'},
            )  # fmt: skip
        assert await client.get(f"{prefix}story:art:s1-a") is None  # only queued
        keys = lookup_keys(features)
        window = {"close_after": 30 * DAY, "archive_after": 365 * DAY, "limit": 5}
        found = await store.candidates(keys, now=DAY, **window)  # type: ignore[arg-type]
        assert [c.state.id for c in found][:1] == ["s1"] and found[0].state is visit
        assert await store.story_of("s1-a") is visit
        await store.flush()
        assert await client.get(f"{prefix}story:art:s1-a") == b"s1"
        assert await store.decided_many(["s1-a", "x"]) == ['{"decision":null,"alert":null}', None]

        # A story filed under keys this store has not read yet, then read: Redis's entries
        # plus the queued filing, as Redis will hold them after the flush.
        restarted = WriteBehindStoryStore(client, prefix)
        again, _ = story("s3", "بوتين يزور بيونغ يانغ", "بوتين في بيونغ يانغ", 0.0)
        again.updated = 0.5 * DAY
        await restarted.save(again, keys=index_keys(again), articles=["s3-a"], retention=DAY * 365)
        local = await restarted.candidates(keys, now=DAY, **window)  # type: ignore[arg-type]
        await restarted.flush()
        remote = await RedisStoryStore(client, prefix).candidates(keys, now=DAY, **window)  # type: ignore[arg-type]
        assert [c.state.id for c in local] == [c.state.id for c in remote]
        assert {"s1", "s3"} <= {c.state.id for c in local}
        whole = await WriteBehindStoryStore(client, prefix).story_of("s1-a")
        assert whole is not None and whole.sentences == [[1, 2, 3, 4]]

        # A failed flush forgets the batch: memory and Redis agree again.
        lost, _ = story("s4", "خبر", "خبر آخر", 0.0)
        await restarted.save(lost, keys=index_keys(lost), articles=["s4-a"], retention=DAY)
        restarted.discard_pending()
        await restarted.flush()
        assert await client.get(f"{prefix}story:art:s4-a") is None
        assert await restarted.story_of("s4-a") is None
    finally:
        await client.aclose()


async def redis_contents(client: aioredis.Redis, prefix: str) -> dict[bytes, tuple[object, bool]]:
    """Every key under ``prefix`` (prefix stripped): its value, and whether it expires."""
    contents: dict[bytes, tuple[object, bool]] = {}
    async for key in client.scan_iter(match=f"{prefix}*"):
        kind = await client.type(key)
        value: object
        if kind == b"string":
            value = await client.get(key)
        elif kind == b"hash":
            value = await client.hgetall(key)
        else:
            value = await client.zrange(key, 0, -1, withscores=True)
        contents[key[len(prefix) :]] = (value, await client.ttl(key) > 0)
    return contents


@pytest.mark.integration
async def test_write_behind_flush_writes_what_direct_saves_write(redis_url: str) -> None:
    """Batched writes leave Redis as saving one story at a time does: summaries, memories,
    mappings, outcomes and TTLs, and index keys trimmed to the most recent stories whether
    the writer had read the key (its size known) or not."""
    from monitor.stores.stories import INDEX_PER_KEY

    client = aioredis.Redis.from_url(redis_url)
    run = uuid.uuid4().hex[:6]
    direct_prefix, batched_prefix = f"t-{run}-d:", f"t-{run}-b:"
    direct = RedisStoryStore(client, direct_prefix)
    batched = WriteBehindStoryStore(client, batched_prefix)
    states = {}

    async def save(story_id: str, updated: float, keys: list[str]) -> None:
        if story_id not in states:
            states[story_id], _ = story(story_id, "زيارة الرئيس", "زيارة الرئيس الروسي", 0.0)
        state = states[story_id]
        state.updated = updated
        outcome = {f"{story_id}-a": f'{{"at":{updated!r}}}'}
        for store in (direct, batched):
            await store.save(
                state, keys=keys, articles=[f"{story_id}-a"], retention=365 * DAY,
                outcomes=outcome,
            )  # fmt: skip

    try:
        for i in range(30):  # scores that print with 17 digits must come back exactly
            await save(f"s{i:02d}", 1000 + i * 0.1, ["shared", f"own{i}", "@كيان"])
        await batched.flush()
        await batched.warm(["shared", "@كيان"])  # read: their sizes are known
        for i in range(30, 60):
            await save(f"s{i:02d}", 2000 + i / 3, ["shared", f"own{i}", *["@كيان"][: i < 35]])
        # Saved twice in a batch: the later filing wins, the earlier keys keep theirs.
        await save("s05", 3000.5, ["shared", "own5", "again"])
        await save("s05", 3001.25, ["again", "later"])
        await batched.flush()
        assert await redis_contents(client, batched_prefix) == await redis_contents(
            client, direct_prefix
        )
        # A restarted writer files into a full key it has not read.
        batched = WriteBehindStoryStore(client, batched_prefix)
        await save("s60", 4000.0, ["shared", "@كيان"])
        await batched.flush()

        written = await redis_contents(client, batched_prefix)
        assert written == await redis_contents(client, direct_prefix)
        assert all(expires for key, (_, expires) in written.items() if key != b"story:updated")
        shared = await client.zrange(f"{batched_prefix}story:idx:shared", 0, -1, withscores=True)
        assert len(shared) == INDEX_PER_KEY and shared[-1] == (b"s60", 4000.0)
        assert (b"s01", 1000.1) not in shared and (b"s59", 2000 + 59 / 3) in shared
        # The search index of a key that overflowed holds every story filed under it; a key
        # that never did has none (its index holds them all).
        every = await client.zrange(f"{batched_prefix}story:sx:shared", 0, -1, withscores=True)
        assert len(every) == 61 and (b"s01", 1000.1) in every and (b"s60", 4000.0) in every
        assert not await client.exists(f"{batched_prefix}story:sx:@كيان")
    finally:
        await client.aclose()


def test_rank_by_hits_then_latest_update_then_id() -> None:
    from monitor.stores.stories import _rank

    filings = [
        {"a": 5.0, "b": 1.0, "c": 2.0, "old": -10.0},
        {"b": 3.0, "c": 2.0, "d": 9.0},
        {"c": 1.0, "d": 9.0, "old": -10.0},
    ]
    # c: 3 hits; b, d: 2 hits (d updated later); a: 1; old: too old to count.
    assert _rank(filings, 0.0, 10) == ["c", "d", "b", "a"]
    assert _rank(filings, 0.0, 2) == ["c", "d"]
    assert _rank([{"y": 1.0}, {"x": 1.0}], 0.0, 5) == ["x", "y"]
    assert _rank(filings, 0.0, 0) == []


def _rank_plainly(filings: list[dict[str, float]], min_time: float, limit: int) -> list[str]:
    """``_rank`` written straightforwardly: the reference for its quicker steps."""
    entries = [(story, at) for filed in filings for story, at in filed.items() if at >= min_time]
    hits = Counter(story for story, _ in entries)
    updated: dict[str, float] = {}
    for story, at in entries:
        updated[story] = max(at, updated.get(story, at))
    ranked = sorted(hits, key=lambda story: (-hits[story], -updated[story], story))
    return ranked[: max(0, limit)]


def test_rank_orders_as_the_straightforward_ranking() -> None:
    """Ties on hits and time (few times, many stories) need the ids; ``oldest`` only skips
    the search for filings too old."""
    from monitor.stores.stories import _rank

    rng = random.Random(18)
    for _ in range(2_000):
        stories = [f"st-{rng.randrange(10**6):06x}" for _ in range(rng.randrange(1, 60))]
        times = [float(rng.randrange(1, rng.choice((3, 10, 1_000)))) for _ in range(8)]
        filings = [
            {
                story: rng.choice(times)
                for story in rng.sample(stories, rng.randrange(1, len(stories) + 1))
            }
            for _ in range(rng.randrange(1, 8))
        ]
        limit = rng.choice((0, 1, 5, 20, 100))
        min_time = rng.choice((0.0, 2.0, 500.0))
        expected = _rank_plainly(filings, min_time, limit)
        assert _rank(filings, min_time, limit) == expected
        oldest = min(min(filed.values()) for filed in filings)
        assert _rank(filings, min_time, limit, oldest=oldest) == expected
        assert _rank(filings, min_time, limit, oldest=oldest - 1.0) == expected


def test_file_drops_the_lowest_score_then_lowest_id() -> None:
    from monitor.stores.stories import INDEX_PER_KEY, _file

    filed = {f"s{i:03d}": float(i) for i in range(INDEX_PER_KEY)}
    filed["r000"] = 0.0  # ties with s000: "r000" < "s000" goes first, as in Redis
    _file(filed, "new", 100.0)
    assert len(filed) == INDEX_PER_KEY
    assert "r000" not in filed and "s000" not in filed and "new" in filed


async def count_terms(store: StoryStore) -> None:
    """Two counted articles and one not counted (an absorbed story's save has no terms)."""
    for story_id, terms in (("t1", ["منطاد", "الاقصر"]), ("t2", ["منطاد"]), ("t3", [])):
        state, _ = story(story_id, "منطاد الأقصر", "سقوط منطاد في الأقصر", 0.0)
        await store.save(state, keys=[], articles=[], retention=DAY, terms=terms)


async def test_memory_store_counts_terms() -> None:
    store = MemoryStoryStore()
    await count_terms(store)
    counts = await store.term_counts()
    assert counts.documents == 2 and counts.counts == {"منطاد": 2, "الاقصر": 1}


@pytest.mark.integration
@pytest.mark.parametrize("store_class", [RedisStoryStore, WriteBehindStoryStore])
async def test_redis_term_counts_survive_a_restart_and_a_lost_batch(
    redis_url: str, store_class: type[RedisStoryStore | WriteBehindStoryStore]
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    try:
        store = store_class(client, prefix)
        assert (await store.term_counts()).documents == 0  # read before the saves
        await count_terms(store)
        if isinstance(store, WriteBehindStoryStore):
            await store.flush()
        live = await store.term_counts()
        assert live.documents == 2 and live.counts == {"منطاد": 2, "الاقصر": 1}
        restarted = await RedisStoryStore(client, prefix).term_counts()
        assert (restarted.documents, restarted.counts) == (live.documents, live.counts)
        # A batch whose round trip failed is decided again: its counts must not stay.
        state, _ = story("t4", "منطاد", "منطاد", 0.0)
        await store.save(state, keys=[], articles=[], retention=DAY, terms=["منطاد"])
        if isinstance(store, WriteBehindStoryStore):
            store.discard_pending()
            again = await store.term_counts()
            assert again.documents == 2 and again.counts["منطاد"] == 2
    finally:
        await client.aclose()


def story_settings(prefix: str, timeline_entries: int) -> Settings:
    return Settings(redis={"key_prefix": prefix}, stories={"timeline_entries": timeline_entries})


async def save_with_timeline(store: StoryStore, entries: int) -> None:
    """One story saved with ``entries`` articles on its timeline."""
    from monitor.core.records import Decision

    state, _ = story("f1", "زيارة الرئيس", "زيارة الرئيس الروسي", 0.0)
    timeline = [
        Decision(article=f"f1-{i}", outlet="o", decision="development", story="f1")
        for i in range(entries)
    ]
    articles = [decision.article for decision in timeline]
    await store.save(
        state, keys=index_keys(state), articles=articles, retention=DAY, timeline=timeline
    )


@pytest.mark.integration
async def test_redis_factories_take_the_key_prefix_and_timeline_size_from_settings(
    redis_client: aioredis.Redis,
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    direct = redis_story_store(redis_client, story_settings(f"{prefix}d:", 2))
    behind = write_behind_story_store(redis_client, story_settings(f"{prefix}b:", 2))
    assert type(direct) is RedisStoryStore and type(behind) is WriteBehindStoryStore
    await save_with_timeline(direct, 3)
    await save_with_timeline(behind, 3)
    assert not await redis_client.exists(f"{prefix}b:story:sum:f1")  # until flush
    await behind.flush()
    for store_prefix in (f"{prefix}d:", f"{prefix}b:"):
        assert await redis_client.zcard(f"{store_prefix}story:tl:f1") == 2  # the latest two
        assert await redis_client.get(f"{store_prefix}story:art:f1-0") == b"f1"


async def test_memory_factory_takes_the_timeline_size_from_settings() -> None:
    store = memory_story_store(story_settings("unused:", 2))
    await save_with_timeline(store, 3)
    assert [article for _, article, _ in store.timelines["f1"]] == ["f1-1", "f1-2"]
