"""The fingerprint store: one contract for the in-process and the Redis implementation,
the Redis one on a real Redis (atomicity under concurrency, TTL, key namespace)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis.asyncio as aioredis

from monitor.core.clean import clean_article
from monitor.core.duplicates import MatchResult
from monitor.core.fingerprint import Fingerprint, FingerprintParams, fingerprint_text, key_of
from monitor.core.records import CleanArticle, RawArticle
from monitor.settings import Settings
from monitor.stages.fingerprint import (
    FingerprintStoreUnavailable,
    article_fingerprint,
    fingerprint_batch,
    fingerprint_stage,
)
from monitor.stores.fingerprints import (
    ARTICLES_PER_CALL,
    FingerprintStore,
    MemoryFingerprintStore,
    RedisFingerprintStore,
)

SEEDS = Path(__file__).parent.parent / "data" / "seeds"
HOUR = 3600.0


def seed_article(prefix: str, outlet: str, url: str | None = None) -> CleanArticle:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    result = clean_article(
        RawArticle(
            id=f"seed-{prefix}", outlet=outlet, text=path.read_text(encoding="utf-8"), url=url
        )
    )
    assert isinstance(result, CleanArticle)
    return result


def seed_fingerprint(prefix: str) -> Fingerprint:
    return article_fingerprint(seed_article(prefix, "x"), FingerprintParams())


def make_store(
    kind: str, client: aioredis.Redis | None, prefix: str, ttl: float
) -> FingerprintStore:
    if kind == "memory":
        return MemoryFingerprintStore(ttl_seconds=ttl)
    assert client is not None
    return RedisFingerprintStore(client, key_prefix=prefix, ttl_seconds=ttl)


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, topic_prefix: str
) -> AsyncIterator[FingerprintStore]:
    if request.param == "memory":
        yield make_store("memory", None, topic_prefix, HOUR)
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield make_store("redis", client, topic_prefix, HOUR)
    await client.aclose()


def settings_for(prefix: str) -> Settings:
    return Settings(redis={"key_prefix": prefix})


@pytest.mark.integration
async def test_seed_wire_copies_are_reprints_and_the_rest_new(
    store: FingerprintStore, topic_prefix: str
) -> None:
    settings = settings_for(topic_prefix)
    outlets = {
        "002": "24ae",
        "001": "independent",
        "000": "khaleejion24",
        "004": "vetogate",
        "003": "other",
    }
    results = {
        prefix: await fingerprint_stage(seed_article(prefix, outlet), store, settings)
        for prefix, outlet in outlets.items()  # publication order
    }
    assert {prefix: result.kind for prefix, result in results.items()} == {
        "002": "new",
        "001": "new",
        "000": "new",
        "004": "reprint",
        "003": "new",
    }
    reprint = results["004"]
    assert (reprint.matched_id, reprint.matched_outlet) == ("seed-000", "khaleejion24")
    assert reprint.overlap >= settings.fingerprint.threshold
    assert reprint.reasons["jaccard"] < reprint.overlap  # containment, not Jaccard, found it


@pytest.mark.integration
async def test_exact_copies_and_same_url_revisions(
    store: FingerprintStore, topic_prefix: str
) -> None:
    settings = settings_for(topic_prefix)
    first = await fingerprint_stage(seed_article("000", "wire", "https://w/1"), store, settings)
    assert first.kind == "new"
    copy = seed_article("000", "youm7")
    copy.id = "copy"
    exact = await fingerprint_stage(copy, store, settings)
    assert (exact.kind, exact.matched_id) == ("exact", "seed-000")
    # the same outlet and URL with another text: an update of the page
    update = seed_article("003", "wire", "https://w/1")
    update.id = "update"
    revision = await fingerprint_stage(update, store, settings)
    assert (revision.kind, revision.matched_id) == ("revision", "seed-000")
    assert revision.reasons["rule"] == "same_url_or_guid"
    # the same URL at another outlet is not that outlet's page
    elsewhere = seed_article("002", "other", "https://w/1")
    assert (await fingerprint_stage(elsewhere, store, settings)).kind == "new"


@pytest.mark.integration
async def test_an_article_never_matches_itself_on_redelivery(store: FingerprintStore) -> None:
    fingerprint = seed_fingerprint("000")
    assert (await store.match_and_add("a", "o", fingerprint)).candidates == ()
    again = await store.match_and_add("a", "o", fingerprint)
    assert again.exact is None and again.candidates == ()
    other = await store.match_and_add("b", "p", fingerprint)
    assert other.exact is not None and other.exact.id == "a"


@pytest.mark.integration
async def test_a_batch_seen_again_is_classified_as_the_first_time(
    store: FingerprintStore, topic_prefix: str
) -> None:
    """A worker killed after its batch was fingerprinted, before its records were sent:
    the batch comes again. Its original must not become a copy of its own reprint (stored
    after it by the first pass), and nothing is stored twice (a second sid per article
    would push other articles out of the samples' latest sids)."""
    settings = settings_for(topic_prefix)
    batch = [seed_article("000", "khaleejion24"), seed_article("004", "vetogate")]
    first = await fingerprint_batch([a.model_copy(deep=True) for a in batch], store, settings)
    again = await fingerprint_batch([a.model_copy(deep=True) for a in batch], store, settings)
    kinds = [(r.article.id, r.kind, r.matched_id) for r in first]
    assert kinds == [("seed-000", "new", None), ("seed-004", "reprint", "seed-000")]
    assert [(r.article.id, r.kind, r.matched_id) for r in again] == kinds
    assert [r.reasons for r in again] == [r.reasons for r in first]
    # A later copy still finds the original, stored once.
    later = seed_article("000", "youm7")
    later.id = "later-copy"
    (copy,) = await fingerprint_batch([later], store, settings)
    assert (copy.kind, copy.matched_id) == ("exact", "seed-000")


@pytest.mark.integration
async def test_batch_equals_one_by_one(store: FingerprintStore, topic_prefix: str) -> None:
    fingerprints = [seed_fingerprint(prefix) for prefix in ("000", "004", "001")]
    results = await store.match_and_add_many(
        [("a", "o1", fingerprints[0]), ("b", "o2", fingerprints[1]), ("c", "o3", fingerprints[2])]
    )
    assert results[0].candidates == ()
    assert [c.article.id for c in results[1].candidates][:1] == ["a"]
    assert results[1].candidates[0].shared >= 10
    assert await store.match_and_add_many([]) == []


def synthetic_fingerprint(samples: list[int], content: int) -> Fingerprint:
    ordered = np.array(sorted(samples), dtype=np.uint64)
    return Fingerprint(
        samples=ordered, stored=ordered.size, shingles=4 * ordered.size, content_key=content
    )


@pytest.mark.integration
async def test_samples_sharing_an_index_slot_keep_each_others_articles(
    store: FingerprintStore,
) -> None:
    # The Redis index keys a sample by its top 40 bits (bucket and field) while its filter
    # cells come from the low bits: these two share the slot, not the cells.
    shared = 0x123456789A000001
    colliding = 0x123456789AFFFFF0
    others = [0x2000000000000001, 0x4000000000000002]
    now = time.time()
    await store.match_and_add("a", "o1", synthetic_fingerprint([shared, *others], 1), now=now)
    await store.match_and_add("b", "o2", synthetic_fingerprint([colliding], 2), now=now)
    query = synthetic_fingerprint([shared, *others], 3)
    match = await store.match_and_add("c", "o3", query, now=now)
    assert [(c.article.id, c.shared) for c in match.candidates] == [("a", 3)]


def synthetic_articles(
    rng: random.Random, count: int, *, pool: int, copy_every: int, page_every: int
) -> list[tuple[str, str, Fingerprint]]:
    """``count`` calls' (id, outlet, fingerprint) of random samples from a ``pool`` of
    values: every ``copy_every``-th an exact copy of an earlier one, every ``page_every``-th
    on one of a few shared pages."""
    values = [rng.getrandbits(64) for _ in range(pool)]
    articles = []
    for n in range(count):
        content = n - 4 if n % copy_every == copy_every - 1 else n + 1
        fingerprint = synthetic_fingerprint(rng.sample(values, rng.randint(5, 40)), content)
        if n % page_every == 0:
            fingerprint = Fingerprint(
                samples=fingerprint.samples,
                stored=fingerprint.stored,
                shingles=fingerprint.shingles,
                content_key=fingerprint.content_key,
                locator_keys=(key_of("u", "o", f"https://x/{n % (3 * page_every)}"),),
            )
        articles.append((f"a{n}", f"o{n % 3}", fingerprint))
    return articles


async def redis_state(client: aioredis.Redis, prefix: str) -> dict[str, Any]:
    """Every key under ``prefix`` (without it) and its value."""
    state: dict[str, Any] = {}
    async for key in client.scan_iter(match=f"{prefix}*"):
        kind = await client.type(key)
        value = await (client.hgetall(key) if kind == b"hash" else client.get(key))
        state[key.decode()[len(prefix) :]] = value
    return state


@pytest.mark.integration
async def test_calls_of_many_articles_answer_and_store_as_one_call_each(
    redis_client: aioredis.Redis, topic_prefix: str
) -> None:
    # Small hashes and a small, busy filter (so sample slots and filter cells are shared),
    # exact copies, shared page locators, and a second generation started in the middle of
    # a call: several script calls of many articles each give the answers and leave the
    # keys that one call per article does.
    articles = synthetic_articles(
        random.Random(11), 2 * ARTICLES_PER_CALL + 30, pool=300, copy_every=9, page_every=4
    )
    start = (time.time() // HOUR) * HOUR
    halves = [(articles[:90], start), (articles[90:], start + HOUR)]
    stores = {
        name: RedisFingerprintStore(
            redis_client,
            key_prefix=f"{topic_prefix}{name}:",
            ttl_seconds=4 * HOUR,
            generation_seconds=HOUR,
            index_bucket_bits=4,
        )
        for name in ("many", "one")
    }
    answers: dict[str, list[MatchResult]] = {"many": [], "one": []}
    for part, now in halves:
        answers["many"] += await stores["many"].match_and_add_many(part, now=now)
        for article in part:
            answers["one"].append(await stores["one"].match_and_add(*article, now=now))
    assert answers["many"] == answers["one"]
    assert sum(a.exact is not None for a in answers["one"]) >= 10
    assert sum(a.same_locator is not None for a in answers["one"]) >= 5
    assert sum(len(a.candidates) for a in answers["one"]) >= 50
    assert await redis_state(redis_client, f"{topic_prefix}many:") == await redis_state(
        redis_client, f"{topic_prefix}one:"
    )


@pytest.mark.integration
async def test_generations_of_very_different_volumes_are_all_looked_up(
    request: pytest.FixtureRequest, topic_prefix: str
) -> None:
    # One article, then a generation sized from it (the Redis filter changes size), then a
    # busier one: the first article is still found from the third generation.
    kinds = {"memory": None, "redis": request.getfixturevalue("redis_url")}
    for kind, url in kinds.items():
        client = aioredis.Redis.from_url(url) if url else None
        store: FingerprintStore = (
            RedisFingerprintStore(
                client, key_prefix=topic_prefix, ttl_seconds=4 * HOUR, generation_seconds=HOUR
            )
            if client
            else MemoryFingerprintStore(ttl_seconds=4 * HOUR, generation_seconds=HOUR)
        )
        start = (time.time() // HOUR - 2) * HOUR
        samples = [0x1000000000000001 * n for n in range(1, 6)]
        await store.match_and_add("a", "o1", synthetic_fingerprint(samples, 1), now=start)
        rng = random.Random(5)
        busy = [
            (f"x{n}", "o2", synthetic_fingerprint([rng.getrandbits(64) for _ in range(30)], n))
            for n in range(10, 60)
        ]
        await store.match_and_add_many(busy, now=start + HOUR)
        match = await store.match_and_add(
            "c", "o3", synthetic_fingerprint(samples[:4], 2), now=start + 2 * HOUR
        )
        assert [(c.article.id, c.shared) for c in match.candidates] == [("a", 4)], kind
        if client:
            await client.aclose()


@pytest.mark.integration
async def test_entries_expire_after_the_ttl(store: FingerprintStore) -> None:
    fingerprint = seed_fingerprint("000")
    now = time.time()
    await store.match_and_add("a", "o", fingerprint, now=now)
    assert (await store.match_and_add("b", "p", fingerprint, now=now + HOUR - 5)).exact is not None
    late = await store.match_and_add("c", "q", fingerprint, now=now + 3 * HOUR)
    assert late.exact is None and late.candidates == ()


@pytest.mark.integration
async def test_redis_keys_expire_by_themselves_with_a_tiny_ttl(
    redis_client: aioredis.Redis, topic_prefix: str
) -> None:
    store = RedisFingerprintStore(redis_client, key_prefix=topic_prefix, ttl_seconds=1.0)
    fingerprint = seed_fingerprint("000")
    assert (await store.match_and_add("a", "o", fingerprint)).exact is None
    assert (await store.match_and_add("b", "o2", fingerprint)).exact is not None
    keys = [key.decode() async for key in redis_client.scan_iter(match="*")]
    assert keys and all(key.startswith(f"{topic_prefix}fp:") for key in keys)
    assert [key for key in keys if key.endswith(":seq")] == [f"{topic_prefix}fp:seq"]
    assert [await redis_client.ttl(key) > 0 for key in keys if not key.endswith(":seq")] == [
        True
    ] * (len(keys) - 1)
    await asyncio.sleep(3.2)
    written = int(time.time())
    assert (await store.match_and_add("c", "o3", fingerprint)).exact is None
    leftovers = [key.decode() async for key in redis_client.scan_iter(match="*:h:*")]
    # older index generations expired as whole keys: what is left was written just now
    generations = {key.split(":h:")[1].split(":")[0] for key in leftovers}
    assert leftovers and generations <= {str(written), str(written + 1)}


def vocabulary() -> list[str]:
    return sorted(
        {
            word
            for prefix in ("001", "002", "003")
            for word in seed_article(prefix, "x").match_text.split()
        }
    )


@pytest.mark.integration
async def test_concurrent_near_copies_on_two_connections_give_exactly_one_new(
    redis_url: str, topic_prefix: str
) -> None:
    settings = settings_for(topic_prefix)
    words = vocabulary()
    rng = random.Random(4)
    template = seed_article("000", "x")
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    stores = [redis_store(client, settings) for client in clients]
    try:
        for round_ in range(60):
            story = rng.choices(words, k=150)  # a different story each round
            copies = []
            for worker in range(2):
                # near copies, not exact: each worker's copy lacks a different 10-word span
                text = story[: 20 + 60 * worker] + story[30 + 60 * worker :]
                copy = template.model_copy(
                    update={
                        "id": f"r{round_}-w{worker}",
                        "outlet": f"outlet{worker}",
                        "match_text": " ".join(text),
                        "content_hash": f"{round_}-{worker}",
                    }
                )
                copies.append(copy)
            results = await asyncio.gather(
                *(
                    fingerprint_stage(copy, store, settings)
                    for copy, store in zip(copies, stores, strict=True)
                )
            )
            assert sorted(result.kind for result in results) == ["new", "reprint"]
    finally:
        for client in clients:
            await client.aclose()


def redis_store(client: aioredis.Redis, settings: Settings) -> RedisFingerprintStore:
    return RedisFingerprintStore(client, key_prefix=settings.redis.key_prefix, ttl_seconds=HOUR)


@pytest.mark.integration
async def test_concurrent_identical_copies_give_exactly_one_new(
    redis_url: str, topic_prefix: str
) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    stores = [RedisFingerprintStore(c, key_prefix=topic_prefix, ttl_seconds=HOUR) for c in clients]
    try:
        for round_ in range(100):
            fingerprint = fingerprint_text(
                f"خبر رقم {round_} عن زيارة الرئيس الروسي الى كوريا الشماليه",
                content_key=key_of("c", str(round_)),
            )
            results = await asyncio.gather(
                *(
                    store.match_and_add(f"{round_}-{n}", f"o{n}", fingerprint)
                    for n, store in enumerate(stores)
                )
            )
            assert sorted(r.exact is None for r in results) == [False, True]
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.integration
async def test_a_dead_redis_is_a_clear_error_and_counted() -> None:
    from prometheus_client import REGISTRY

    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    store = RedisFingerprintStore(client, ttl_seconds=HOUR)
    before = (
        REGISTRY.get_sample_value("monitor_redis_errors_total", {"operation": "fingerprint"}) or 0.0
    )
    with pytest.raises(FingerprintStoreUnavailable, match="fingerprint store unavailable"):
        await fingerprint_stage(seed_article("000", "o"), store, Settings())
    after = REGISTRY.get_sample_value("monitor_redis_errors_total", {"operation": "fingerprint"})
    assert after == before + 1
    await client.aclose()


def _answer(result: MatchResult) -> tuple[str | None, str | None, tuple[tuple[str, int], ...]]:
    """What a match says, as both stores can tell it (the Redis store keeps a bound's top
    bits only)."""
    return (
        result.exact.id if result.exact else None,
        result.same_locator.id if result.same_locator else None,
        tuple((candidate.article.id, candidate.shared) for candidate in result.candidates),
    )


@pytest.mark.integration
async def test_the_memory_store_answers_as_the_redis_store(
    redis_client: aioredis.Redis, topic_prefix: str
) -> None:
    # Exact copies, shared page locators, redeliveries and four generations, all looked up
    # together (within the TTL): the in-process store's lookup, read by C-level iteration
    # over the live generations, answers every call as the Lua script does.
    rng = random.Random(5)
    calls: list[tuple[str, str, Fingerprint]] = []
    for article in synthetic_articles(rng, 160, pool=200, copy_every=7, page_every=5):
        calls.append(article)
        if len(calls) % 12 == 11:
            calls.append(calls[rng.randrange(len(calls))])  # a redelivery
    memory = MemoryFingerprintStore(ttl_seconds=6 * HOUR, generation_seconds=HOUR)
    redis_store = RedisFingerprintStore(
        redis_client, key_prefix=topic_prefix, ttl_seconds=6 * HOUR, generation_seconds=HOUR
    )
    start = (time.time() // HOUR) * HOUR
    answers: dict[str, list[tuple[str | None, str | None, tuple[tuple[str, int], ...]]]] = {
        "memory": [],
        "redis": [],
    }
    for n, call in enumerate(calls):
        now = start + HOUR * (n // 45) + n
        answers["memory"].append(_answer(await memory.match_and_add(*call, now=now)))
        answers["redis"].append(_answer(await redis_store.match_and_add(*call, now=now)))
    assert answers["memory"] == answers["redis"]
    assert sum(answer[0] is not None for answer in answers["memory"]) >= 10
    assert sum(answer[1] is not None for answer in answers["memory"]) >= 5
    assert sum(len(answer[2]) >= 2 for answer in answers["memory"]) >= 20
