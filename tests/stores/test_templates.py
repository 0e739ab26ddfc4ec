"""Outlet template line counts (monitor.stores.templates), in memory and on the real Redis."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from monitor.commands.replay import read_articles
from monitor.core.boilerplate import TemplateLines
from monitor.core.records import Rejection
from monitor.settings import CleanSettings, Settings
from monitor.stages.clean import clean_batch
from monitor.stores.templates import (
    TEMPLATE_TTL_SECONDS,
    MemoryTemplateStore,
    Observation,
    RedisTemplateStore,
    TemplateLimits,
    TemplateStore,
    template_store_settings,
)

STREAM_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "stream_sample.jsonl"
LIMITS = TemplateLimits(min_articles=10, min_share=0.3, max_lines=50, decay_every=40)


def as_int(value: bytes | str | None) -> int:
    assert value is not None
    return int(value)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, topic_prefix: str) -> AsyncIterator[TemplateStore]:
    if request.param == "memory":
        yield MemoryTemplateStore(**LIMITS)
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisTemplateStore(client, key_prefix=topic_prefix, **LIMITS)
    await client.aclose()


async def feed(store: TemplateStore, outlet: str, count: int, keys: list[str]) -> TemplateLines:
    template = TemplateLines()
    for index in range(count):
        template = await store.observe(outlet, [*keys, f"unique-{outlet}-{index}"])
    return template


@pytest.mark.integration
async def test_nothing_is_template_before_min_articles(store: TemplateStore) -> None:
    template = await feed(store, "veto", 9, ["footer"])
    assert len(template) == 0
    assert "footer" in await store.observe("veto", ["footer"])


@pytest.mark.integration
async def test_only_lines_in_enough_articles_are_template(store: TemplateStore) -> None:
    await feed(store, "veto", 12, ["footer"])
    await feed(store, "veto", 8, ["slogan"])  # 8 of 21 articles: over 30%
    await feed(store, "veto", 2, ["rare"])
    template = await store.observe("veto", ["footer", "slogan", "rare", "new"])
    assert template.keys == {"footer", "slogan"}


@pytest.mark.integration
async def test_outlets_are_counted_separately(store: TemplateStore) -> None:
    await feed(store, "veto", 12, ["footer"])
    assert "footer" not in await store.observe("youm7", ["footer"])
    assert "footer" in await store.observe("veto", ["footer"])


@pytest.mark.integration
async def test_duplicate_keys_in_one_article_count_once(store: TemplateStore) -> None:
    for _ in range(6):
        await store.observe("veto", ["twice", "twice"])
    for index in range(6):
        await store.observe("veto", [f"other-{index}"])
    # 'twice' in 6 of 13 articles (46%) would be 92% if duplicates counted
    assert "twice" in await store.observe("veto", ["twice"])
    for index in range(30):
        await store.observe("veto", [f"more-{index}"])
    assert "twice" not in await store.observe("veto", ["twice"])  # 8 of 44 articles: under 30%


@pytest.mark.integration
async def test_memory_is_bounded_and_counts_decay(store: TemplateStore) -> None:
    # Fill the table with one-off lines; a footer arriving later is still learned once
    # the decay (at 80 articles) has dropped them and it has been counted for a while.
    for index in range(30):
        await store.observe("veto", [f"one-off-{index}-{j}" for j in range(5)])
    template = await feed(store, "veto", 100, ["late-footer"])
    assert "late-footer" in template


@pytest.mark.integration
async def test_redis_layout_and_bounds(redis_url: str, topic_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = RedisTemplateStore(client, key_prefix=topic_prefix, **LIMITS)
        for index in range(30):
            await store.observe("veto", ["footer", *[f"line-{index}-{j}" for j in range(5)]])
        count_key, lines_key = store.keys("veto")
        assert (count_key, lines_key) == (
            f"{topic_prefix}tpl:veto:n",
            f"{topic_prefix}tpl:veto:lines",
        )
        assert as_int(await client.get(count_key)) == 30
        assert await client.hlen(lines_key) <= LIMITS["max_lines"]
        assert as_int(await client.hget(lines_key, "footer")) == 30
        assert await client.ttl(lines_key) > 0
        for _ in range(50):  # passes 2 * decay_every = 80 articles: everything halves
            await store.observe("veto", ["footer"])
        assert as_int(await client.get(count_key)) == 40
        assert as_int(await client.hget(lines_key, "footer")) == 40
        assert not await client.hexists(lines_key, "line-0-0")  # count 1 halved to 0: gone
    finally:
        await client.aclose()


def test_settings_map_to_store_arguments() -> None:
    settings = CleanSettings(template_min_articles=5, template_min_share=0.5)
    store = MemoryTemplateStore(**template_store_settings(settings))
    assert (store.min_articles, store.min_share) == (5, 0.5)


@pytest.mark.integration
async def test_observe_many_answers_as_one_call_each(store: TemplateStore) -> None:
    one_by_one = MemoryTemplateStore(**LIMITS)
    observations = [
        Observation(outlet, ["footer", f"unique-{index}"])
        for index in range(25)
        for outlet in ("veto", "alyaum")
    ] + [Observation("veto", ["footer", "footer", "new"])]  # fmt: skip
    expected = [await one_by_one.observe(*observation) for observation in observations]
    answers = await store.observe_many(observations)  # type: ignore[attr-defined]
    assert [a.keys for a in answers] == [e.keys for e in expected]
    assert "footer" in answers[-1] and "new" not in answers[-1]


@pytest.mark.integration
async def test_one_call_through_the_bounds_and_decays_answers_as_one_by_one(
    store: TemplateStore,
) -> None:
    # One batch crosses the line limit and two decays of one outlet, interleaved with
    # another outlet: the script keeps each outlet's count and size between its articles.
    one_by_one = MemoryTemplateStore(**LIMITS)
    observations = [
        Observation(outlet, ["footer", f"one-off-{outlet}-{index}", f"other-{index % 7}"])
        for index in range(170)
        for outlet in ("veto", "alyaum")
        if outlet == "veto" or index % 3 == 0
    ] + [Observation("veto", []), Observation("alyaum", ["footer"])]  # fmt: skip
    expected = [await one_by_one.observe(*observation) for observation in observations]
    answers = await store.observe_many(observations)  # type: ignore[attr-defined]
    assert [a.keys for a in answers] == [e.keys for e in expected]
    assert "footer" in answers[-1]
    again = [await one_by_one.observe("veto", ["footer", "other-1"])]
    assert [a.keys for a in [await store.observe("veto", ["footer", "other-1"])]] == [
        e.keys for e in again
    ]


@pytest.mark.integration
async def test_one_call_leaves_the_keys_of_one_call_each(redis_url: str, topic_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        batched = RedisTemplateStore(client, key_prefix=f"{topic_prefix}b:", **LIMITS)
        single = RedisTemplateStore(client, key_prefix=f"{topic_prefix}s:", **LIMITS)
        observations = [
            Observation(outlet, [f"line-{index % 60}", f"line-{index % 9}"], f"{outlet}-{index}")
            for index in range(130)
            for outlet in ("veto", "alyaum")
        ]
        await batched.observe_many(observations)
        for observation in observations:
            await single.observe(*observation)
        for outlet in ("veto", "alyaum"):
            for mine, theirs in zip(batched.keys(outlet), single.keys(outlet), strict=True):
                assert await client.type(mine) == await client.type(theirs)
                if (await client.type(mine)) == b"hash":
                    assert await client.hgetall(mine) == await client.hgetall(theirs)
                else:
                    assert await client.get(mine) == await client.get(theirs)
                assert 0 < await client.ttl(mine) <= TEMPLATE_TTL_SECONDS
    finally:
        await client.aclose()


@pytest.mark.integration
async def test_an_article_seen_again_is_counted_once(store: TemplateStore) -> None:
    """A worker restarted before its offsets were committed cleans the same articles again:
    they must not count twice (6 articles with a footer, redelivered, are not 12)."""
    for index in range(6):
        await store.observe("veto", ["footer", f"unique-{index}"], f"a{index}")
    for index in range(6):  # redelivered: min_articles (10) not reached
        again = await store.observe("veto", ["footer", f"unique-{index}"], f"a{index}")
        assert "footer" not in again
    answers = await store.observe_many(  # type: ignore[attr-defined]
        [("veto", ["footer"], "a0"), ("veto", ["footer"], "a6"), ("veto", ["footer"], "a6")]
    )
    assert ["footer" in answer for answer in answers] == [False, False, False]
    for index in range(7, 10):
        template = await store.observe("veto", ["footer"], f"a{index}")
    assert "footer" in template  # the 10th article: footer in all of them
    assert "footer" in await store.observe("veto", ["footer"], "a3")  # seen again: answered


@pytest.mark.integration
async def test_redis_counts_an_article_seen_again_once(redis_url: str, topic_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = RedisTemplateStore(client, key_prefix=topic_prefix, **LIMITS)
        observations = [("veto", ["footer", f"line-{index}"], f"a{index}") for index in range(30)]
        await store.observe_many(observations)
        await store.observe_many(observations[20:])  # the batch's tail, redelivered
        count_key, lines_key = store.keys("veto")
        assert as_int(await client.get(count_key)) == 30
        assert as_int(await client.hget(lines_key, "footer")) == 30
        assert as_int(await client.hget(lines_key, "line-25")) == 1
    finally:
        await client.aclose()


@pytest.mark.integration
async def test_the_clean_stage_counts_articles_cleaned_again_once(
    redis_url: str, topic_prefix: str
) -> None:
    """What a prep worker restarted before committing its offsets does: the batch it had
    cleaned comes again. The outlets' counts are those of one pass."""
    raws = list(read_articles([STREAM_SAMPLE]))[:40]
    settings = Settings()
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = RedisTemplateStore(
            client, key_prefix=topic_prefix, **template_store_settings(settings.clean)
        )
        cleaned = await clean_batch(raws, store, settings)
        await clean_batch([raw.model_copy(deep=True) for raw in raws[25:]], store, settings)
        per_outlet = Counter(c.outlet for c in cleaned if not isinstance(c, Rejection))
        assert len(per_outlet) > 3
        for outlet, articles in per_outlet.items():
            assert as_int(await client.get(store.keys(outlet)[0])) == articles, outlet
    finally:
        await client.aclose()


@pytest.mark.integration
async def test_the_ids_remembered_per_outlet_are_bounded(redis_url: str, topic_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        stores: list[TemplateStore] = [
            MemoryTemplateStore(**LIMITS, remembered_ids=5),
            RedisTemplateStore(client, key_prefix=topic_prefix, **LIMITS, remembered_ids=5),
        ]
        for store in stores:
            for index in range(8):
                await store.observe("veto", ["footer"], f"a{index}")
            await store.observe("veto", ["footer"], "a7")  # remembered: not counted
            await store.observe("veto", ["footer"], "a0")  # forgotten: counted again
            assert len(await store.observe("veto", ["footer"], "a7")) == 0  # 9 < min_articles
            assert "footer" in await store.observe("veto", ["footer"], "a8")  # the 10th
        ids = [
            member.decode() for member in await client.zrange(f"{topic_prefix}tpl:veto:ids", 0, -1)
        ]
        assert ids == ["a5", "a6", "a7", "a0", "a8"]  # the last five counted, oldest first
        assert 0 < await client.ttl(f"{topic_prefix}tpl:veto:ids") <= TEMPLATE_TTL_SECONDS
    finally:
        await client.aclose()
