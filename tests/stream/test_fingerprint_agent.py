"""The fingerprint agent on the real broker and Redis: clean -> fingerprinted (| rejected)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from monitor.core.clean import clean_article
from monitor.core.duplicates import MatchResult
from monitor.core.fingerprint import Fingerprint
from monitor.core.records import CleanArticle, FingerprintedArticle, RawArticle, Rejection
from monitor.retry import Backoff
from monitor.settings import Settings
from monitor.stores.fingerprints import MemoryFingerprintStore, NewArticle
from monitor.stream import fingerprint_agent
from monitor.stream.app import build_worker_app, running
from tests.stream.helpers import read_topic

SEEDS = Path(__file__).parent.parent / "data" / "seeds"


def seed_articles() -> list[CleanArticle]:
    articles = []
    for path in sorted(SEEDS.glob("0*.txt")):
        result = clean_article(
            RawArticle(
                id=f"seed-{path.name[:3]}",
                outlet=f"outlet-{path.name[:3]}",
                text=path.read_text(encoding="utf-8"),
            )
        )
        assert isinstance(result, CleanArticle)
        articles.append(result)
    return articles


@pytest.mark.integration
async def test_agent_classifies_the_seeds_on_the_broker(service_settings: Settings) -> None:
    prefix = service_settings.kafka.topic_prefix
    seeds = seed_articles()
    copy = seeds[2].model_copy(update={"id": "copy-of-002", "outlet": "copier"})
    app = build_worker_app(service_settings, stages=["fingerprint"], app_id=f"{prefix}fp")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            for article in [*seeds, copy]:
                await producer.send_and_wait(
                    f"{prefix}clean", article.model_dump_json().encode(), key=article.id.encode()
                )
            await producer.send_and_wait(f"{prefix}clean", b"{not json", key=b"broken")
        finally:
            await producer.stop()
        bootstrap = service_settings.kafka.bootstrap
        fingerprinted, rejected = await asyncio.gather(
            read_topic(bootstrap, f"{prefix}fingerprinted", len(seeds) + 1),
            read_topic(bootstrap, f"{prefix}rejected", 1),
        )

    results = {
        key: FingerprintedArticle.model_validate_json(value) for key, value in fingerprinted.items()
    }
    # the clean topic is partitioned, so which copy came first is up to the broker
    wire = {results["seed-000"].kind, results["seed-004"].kind}
    assert wire == {"new", "reprint"}
    reprint = next(r for r in (results["seed-000"], results["seed-004"]) if r.kind == "reprint")
    assert reprint.matched_id in {"seed-000", "seed-004"} - {reprint.article.id}
    assert {results["seed-002"].kind, results["copy-of-002"].kind} == {"new", "exact"}
    assert results["seed-001"].kind == results["seed-003"].kind == "new"
    assert all("fingerprinted" in r.article.trace for r in results.values())
    assert Rejection.model_validate_json(rejected["broken"]).reason == "invalid_record"
    client = aioredis.Redis.from_url(service_settings.redis.url)
    try:
        stored = await client.get(f"{service_settings.redis.key_prefix}fp:seq")
        assert stored is not None and int(stored) == len(seeds)  # the exact copy is not stored
    finally:
        await client.aclose()


class FlakyStore:
    """A memory store that fails like a dead Redis for its first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.inner = MemoryFingerprintStore()

    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> MatchResult:
        (result,) = await self.match_and_add_many([(article_id, outlet, fingerprint)], now)
        return result

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        if self.failures:
            self.failures -= 1
            raise RedisConnectionError("Connection refused")
        return await self.inner.match_and_add_many(articles, now)


async def test_batches_are_retried_until_redis_is_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fingerprint_agent, "STORE_RETRY", Backoff(first=0.01, cap=0.01))
    before = (
        REGISTRY.get_sample_value("monitor_redis_errors_total", {"operation": "fingerprint"}) or 0.0
    )
    seeds = seed_articles()
    store = FlakyStore(failures=3)
    results = await fingerprint_agent.fingerprint_until_done(seeds, store, Settings())
    assert [r.article.id for r in results] == [a.id for a in seeds]
    assert [r.kind for r in results].count("reprint") == 1  # 004 after 000
    after = REGISTRY.get_sample_value("monitor_redis_errors_total", {"operation": "fingerprint"})
    assert after == before + 3
