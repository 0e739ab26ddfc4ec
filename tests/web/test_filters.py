"""Story lists filtered by outlet and by search words: index-based, paged with the cursor over
many stories, in memory and on real Redis (written through the story agent's store)."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from monitor.core.stories import index_keys
from monitor.stores.stories import MemoryStoryStore, WriteBehindStoryStore
from monitor.web.browse import MemoryStoryBrowser, RedisStoryBrowser, StoryBrowser
from tests.stores.test_stories import DAY, story
from tests.stores.test_timelines import decision

STORIES = 420
VISIT, MATCH = "زيارة بوتين", "مباراة الأهلي"


def outlet_of(i: int) -> str:
    return "x" if i % 7 == 0 else f"o{i % 5}"


def title_of(i: int) -> str:
    return VISIT if i % 2 == 0 else MATCH


async def fill(
    store: MemoryStoryStore | WriteBehindStoryStore,
) -> dict[str, tuple[float, set[str]]]:
    """``STORIES`` stories (three per update time: ties for the cursor), some updated later by
    another outlet, two merged; returns what a list should show: id -> (update, outlets)."""
    expected: dict[str, tuple[float, set[str]]] = {}
    states = {}
    for i in range(STORIES):
        sid = f"s{i:03d}"
        state, _ = story(sid, title_of(i), "نص", 0.0)
        state.updated = 1000.0 + i // 3
        states[sid] = state
        await store.save(state, keys=index_keys(state), articles=[f"a{i}"], retention=DAY,
                         timeline=[decision(f"a{i}", "new_story", 9, outlet=outlet_of(i), sid=sid)])  # fmt: skip
        expected[sid] = (state.updated, {outlet_of(i)})
        if isinstance(store, WriteBehindStoryStore) and i % 200 == 199:
            await store.flush()  # several batches, as the story agent writes them
    # Later articles from other outlets: the stories move up every list they are in.
    for sid, outlet, at in (("s007", "o1", 5000.0), ("s014", "x", 5001.0), ("s300", "o2", 5001.0)):
        state = states[sid]
        state.updated = at
        await store.save(state, keys=index_keys(state), articles=[f"{sid}-b"], retention=DAY,
                         timeline=[decision(f"{sid}-b", "development", 10, outlet=outlet, sid=sid)])  # fmt: skip
        expected[sid] = (at, expected[sid][1] | {outlet})
    # s021 (x) goes into s001 (o1), s028 (x) into s035 (x): the stories they went into are
    # listed, under the merged story's outlets too.
    for gone, into, at in (("s021", "s001", 6000.0), ("s028", "s035", 6000.0)):
        states[gone].merged_into = into
        states[into].updated = at
        await store.save(states[gone], keys=[], articles=[], retention=DAY)
        await store.save(states[into], keys=index_keys(states[into]), articles=[], retention=DAY,
                         timeline=[decision(f"{into}-m", "no_news", 11, outlet="o4", sid=into)])  # fmt: skip
        await store.merge_timelines(gone, into)
        outlets = expected.pop(gone)[1] | expected[into][1] | {"o4"}
        expected[into] = (at, outlets)
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()
    return expected


async def pages(browser: StoryBrowser, limit: int, **filters: str | float) -> list[str]:
    """Every story of the list, page after page."""
    seen: list[str] = []
    cursor = None
    for _ in range(STORIES):
        page = await browser.stories(limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        assert len(page.stories) <= limit
        seen += [s.id for s in page.stories]
        if page.next is None:
            return seen
        cursor = page.next
    raise AssertionError("the pages never end")


def listed(
    expected: dict[str, tuple[float, set[str]]], outlet: str | None = None, title: str = ""
) -> list[str]:
    """The ids the list filtered by ``outlet`` and the story's title shows, in list order."""
    mine = [
        (at, sid)
        for sid, (at, outlets) in expected.items()
        if (outlet is None or outlet in outlets) and title in title_of(int(sid[1:]))
    ]
    return [sid for _, sid in sorted(mine, reverse=True)]


async def check_outlets(browser: StoryBrowser, expected: dict[str, tuple[float, set[str]]]) -> None:
    x = listed(expected, "x")
    assert len(x) == 59  # 60 stories of x, two merged away, s001 gains x from s021
    # Merged stories are listed as the stories they went into (s001 carries s021's outlet).
    assert x[:4] == ["s035", "s001", "s014", "s007"] and "s021" not in x and "s028" not in x
    for limit in (1, 7, 50, 200):
        assert await pages(browser, limit, outlet="x") == x
    assert await pages(browser, 13, outlet="o4") == listed(expected, "o4")
    first = await browser.stories(outlet="x", limit=5)
    assert [s.id for s in first.stories] == x[:5]
    assert all("x" in s.outlets for s in first.stories)
    assert (await browser.stories(outlet="nobody")).stories == []
    # since: only the stories updated from then on, still paged.
    recent = await pages(browser, 3, outlet="x", since=1100.0)
    assert recent == [sid for sid in x if expected[sid][0] >= 1100.0]


async def test_memory_outlet_filter_pages() -> None:
    store = MemoryStoryStore()
    expected = await fill(store)
    await check_outlets(MemoryStoryBrowser(store), expected)


@pytest.mark.integration
async def test_redis_outlet_filter_pages(redis_client: aioredis.Redis) -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    expected = await fill(WriteBehindStoryStore(redis_client, prefix))
    await check_outlets(RedisStoryBrowser(redis_client, prefix), expected)
    # The outlet index is what the stories' digests say, scored with their last update.
    x = await redis_client.zrange(f"{prefix}story:out:x", 0, -1, withscores=True)
    assert {m.decode(): at for m, at in x} == {
        sid: at for sid, (at, outlets) in expected.items() if "x" in outlets
    }
    assert 0 < await redis_client.ttl(f"{prefix}story:out:x") <= DAY
    # A page examines a bounded number of index entries: with a tiny budget the pages come
    # short, but still go on from their cursor to the same list.
    small = RedisStoryBrowser(redis_client, prefix, match_budget=3)
    assert await pages(small, 10, outlet="x") == listed(expected, "x")


async def check_search(browser: StoryBrowser, expected: dict[str, tuple[float, set[str]]]) -> None:
    putin = listed(expected, title="بوتين")
    assert len(putin) == 209  # 210 visits, s028 merged into a match
    # Far more than the 50 stories the pipeline's index keeps per key, paged in list order.
    for limit in (1, 7, 50, 200):
        assert await pages(browser, limit, q="بوتين") == putin
    assert await pages(browser, 30, q="زيارة بوتين") == putin  # both words: intersection
    assert await pages(browser, 30, q="بوتين الأهلي") == []
    assert await pages(browser, 9, q="بوتين", outlet="x") == listed(expected, "x", "بوتين")
    # A word every story has, with an outlet: the smaller set (the outlet's) leads.
    assert await pages(browser, 9, q="نص", outlet="o4") == listed(expected, "o4")
    assert await pages(browser, 11, q="الأهلي", since=1100.0) == [
        sid for sid in listed(expected, title="الأهلي") if expected[sid][0] >= 1100.0
    ]
    assert (await browser.stories(q="من")).stories == []  # no telling word: nothing


async def refile(store: MemoryStoryStore | WriteBehindStoryStore) -> None:
    """s002 (a visit) is updated with a match's features: it is now filed under those."""
    state = await store.load_story("s002")
    assert state is not None
    state.updated = 7000.0
    match, _ = story("m", MATCH, "نص", 0.0)
    await store.save(state, keys=index_keys(match), articles=[], retention=DAY,
                     timeline=[decision("s002-c", "development", 12, outlet="o2", sid="s002")])  # fmt: skip
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()


async def add_few(store: MemoryStoryStore | WriteBehindStoryStore) -> list[str]:
    """Three stories of a word no other story has (its index key never fills up)."""
    for i, at in enumerate((8000.0, 8002.0, 8001.0)):
        state, _ = story(f"m{i}", "افتتاح المتحف الكبير", "نص", 0.0)
        state.updated = at
        await store.save(state, keys=index_keys(state), articles=[f"m{i}-a"], retention=DAY,
                         timeline=[decision(f"m{i}-a", "new_story", 9, outlet="o1", sid=state.id)])  # fmt: skip
    if isinstance(store, WriteBehindStoryStore):
        await store.flush()
    return ["m1", "m2", "m0"]


async def check_refiled(browser: StoryBrowser, expected: dict[str, tuple[float, set[str]]]) -> None:
    # Found by its new features only: its old filings are older than its last update.
    assert "s002" not in await pages(browser, 50, q="بوتين")
    matches = await pages(browser, 50, q="الأهلي")
    assert matches == ["s002", *listed(expected, title="الأهلي")]


async def test_memory_search_pages() -> None:
    store = MemoryStoryStore()
    expected = await fill(store)
    browser = MemoryStoryBrowser(store)
    await check_search(browser, expected)
    await refile(store)
    await check_refiled(browser, expected)
    few = await add_few(store)
    assert await pages(browser, 2, q="المتحف") == few


@pytest.mark.integration
async def test_redis_search_pages(redis_client: aioredis.Redis) -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    store = WriteBehindStoryStore(redis_client, prefix)
    expected = await fill(store)
    browser = RedisStoryBrowser(redis_client, prefix)
    await check_search(browser, expected)
    assert await pages(RedisStoryBrowser(redis_client, prefix, match_budget=3), 10, q="بوتين") == (
        listed(expected, title="بوتين")
    )
    # The search index holds every visit (the pipeline's index keeps 50 per key).
    assert await redis_client.zcard(f"{prefix}story:sx:بوتين") == 210
    assert await redis_client.zcard(f"{prefix}story:idx:بوتين") == 50
    assert 0 < await redis_client.ttl(f"{prefix}story:sx:بوتين") <= DAY
    await refile(store)
    await check_refiled(browser, expected)
    # A key that never held more than the index keeps has no search index: its filings are
    # all in the index, which the search reads instead.
    few = await add_few(store)
    assert not await redis_client.exists(f"{prefix}story:sx:المتحف")
    assert await pages(browser, 2, q="المتحف") == few
