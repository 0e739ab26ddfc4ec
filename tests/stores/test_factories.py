"""The stores' factories build what the settings configure, in memory and on the real Redis
(the story store's factories: tests/stores/test_stories.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from monitor.core.fingerprint import fingerprint_text
from monitor.settings import Settings
from monitor.stores.fingerprints import (
    RedisFingerprintStore,
    memory_fingerprint_store,
    redis_fingerprint_store,
)
from monitor.stores.templates import (
    RedisTemplateStore,
    memory_template_store,
    redis_template_store,
)

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "redis"])
def build(
    request: pytest.FixtureRequest, redis_client: aioredis.Redis
) -> Callable[[Callable[..., Any], Callable[..., Any], Settings], Any]:
    """``build(memory_factory, redis_factory, settings)``: the store of this parameter."""

    def of_kind(memory: Callable[..., Any], redis: Callable[..., Any], settings: Settings) -> Any:
        return memory(settings) if request.param == "memory" else redis(redis_client, settings)

    return of_kind


async def test_fingerprint_stores_remember_for_the_configured_time(
    build: Callable[..., Any], redis_client: aioredis.Redis, topic_prefix: str
) -> None:
    settings = Settings(
        redis={"key_prefix": topic_prefix},
        fingerprint={"ttl_seconds": 3600, "generation_seconds": 600},
    )
    store = build(memory_fingerprint_store, redis_fingerprint_store, settings)
    fingerprint = fingerprint_text("قال الرئيس ان الزيارة مهمة للبلدين")
    start = time.time()  # Redis expires keys by the wall clock
    assert (await store.match_and_add("a1", "wire", fingerprint, now=start)).exact is None
    copy = await store.match_and_add("a2", "youm7", fingerprint, now=start + 1)
    assert copy.exact is not None and copy.exact.id == "a1"
    later = await store.match_and_add("a3", "youm7", fingerprint, now=start + 3601.5)
    assert later.exact is None
    if isinstance(store, RedisFingerprintStore):
        assert await redis_client.exists(f"{topic_prefix}fp:seq")


async def test_template_stores_count_by_the_clean_settings(
    build: Callable[..., Any], redis_client: aioredis.Redis, topic_prefix: str
) -> None:
    settings = Settings(
        redis={"key_prefix": topic_prefix},
        clean={"template_min_articles": 2, "template_min_share": 0.5},
    )
    store = build(memory_template_store, redis_template_store, settings)
    for number in range(3):
        await store.observe("veto", ["footer", f"unique{number}"], f"a{number}")
    assert (await store.observe("veto", ["footer", "other"], "a3")).keys == {"footer"}
    if isinstance(store, RedisTemplateStore):
        assert await redis_client.get(f"{topic_prefix}tpl:veto:n") == b"4"
