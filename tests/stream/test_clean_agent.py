"""The clean stage adapter, and its Faust agent on the real broker: raw -> clean/non_arabic/rejected."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from monitor.core.boilerplate import TemplateLines
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.settings import Settings
from monitor.stages.clean import clean_stage
from monitor.stores.templates import MemoryTemplateStore
from monitor.stream.app import build_worker_app, running
from tests.stream.helpers import read_topic

SEEDS = Path(__file__).parent.parent / "data" / "seeds"
ENGLISH = (
    "Russian President Vladimir Putin arrived in Pyongyang on Wednesday for a rare visit.\n"
    "He was met at the airport by North Korean leader Kim Jong Un, state media reported."
)


def seed_articles() -> list[RawArticle]:
    return [
        RawArticle(
            id=f"seed-{path.name[:3]}", outlet="seeds", text=path.read_text(encoding="utf-8")
        )
        for path in sorted(SEEDS.glob("0*.txt"))
    ]


def as_int(value: bytes | str | None) -> int:
    assert value is not None
    return int(value)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_stage_cleans_records_metrics_and_stamps_the_trace() -> None:
    settings = Settings()
    store = MemoryTemplateStore()
    before_cleaned = metric("monitor_articles_cleaned_total", outlet="seeds", language="ar")
    before_removed = metric("monitor_boilerplate_lines_removed_total", reason="chat_widget")
    before_seconds = metric("monitor_stage_seconds_count", stage="clean")
    started = time.time()
    result = await clean_stage(seed_articles()[0], store, settings)
    assert isinstance(result, CleanArticle)
    assert result.trace["cleaned"] >= started
    assert (
        metric("monitor_articles_cleaned_total", outlet="seeds", language="ar")
        == before_cleaned + 1
    )
    assert (
        metric("monitor_boilerplate_lines_removed_total", reason="chat_widget")
        == before_removed + 4
    )
    assert metric("monitor_stage_seconds_count", stage="clean") == before_seconds + 1


async def test_stage_counts_rejections_and_non_arabic() -> None:
    settings = Settings()
    store = MemoryTemplateStore()
    before_rejected = metric("monitor_articles_rejected_total", stage="clean", reason="empty")
    before_english = metric("monitor_non_arabic_articles_total", language="en")
    rejection = await clean_stage(RawArticle(id="e", outlet="o"), store, settings)
    english = await clean_stage(RawArticle(id="n", outlet="o", text=ENGLISH), store, settings)
    assert isinstance(rejection, Rejection) and "cleaned" in rejection.trace
    assert isinstance(english, CleanArticle) and english.language == "en"
    assert (
        metric("monitor_articles_rejected_total", stage="clean", reason="empty")
        == before_rejected + 1
    )
    assert metric("monitor_non_arabic_articles_total", language="en") == before_english + 1


async def test_stage_learns_outlet_templates_for_later_articles() -> None:
    settings = Settings(clean={"template_min_articles": 3, "template_min_share": 0.5})
    store = MemoryTemplateStore(min_articles=3, min_share=0.5)
    footer = "البوابة نيوز - أول بوابة إخبارية مصرية"
    articles = [
        RawArticle(id=f"a{i}", outlet="bawaba", title=f"خبر {i}", text=f"{sentence}\n{footer}")
        for i, sentence in enumerate(
            [
                "وصل الرئيس الروسي إلى بيونغ يانغ فجر الأربعاء في زيارة رسمية.",
                "أعلنت وزارة الصحة ارتفاع الإصابات بالإنفلونزا في محافظات الصعيد.",
                "ارتفع سعر صرف الدولار أمام الجنيه في البنوك المصرية اليوم.",
                "افتتح وزير النقل محطة جديدة لمترو الأنفاق في القاهرة صباح اليوم.",
            ]
        )
    ]
    results = [await clean_stage(raw, store, settings) for raw in articles]
    assert all(isinstance(r, CleanArticle) for r in results)
    assert footer in results[0].paragraphs  # type: ignore[union-attr]
    assert footer not in results[3].paragraphs  # type: ignore[union-attr]
    assert ("template", footer) in [(r.reason, r.text) for r in results[3].removed]  # type: ignore[union-attr]


class UnreachableStore:
    async def observe(
        self, outlet: str, line_keys: Sequence[str], article_id: str | None = None
    ) -> TemplateLines:
        raise ConnectionError("redis is down")


async def test_stage_cleans_without_templates_when_the_store_fails() -> None:
    before = metric("monitor_redis_errors_total", operation="template_observe")
    result = await clean_stage(seed_articles()[3], UnreachableStore(), Settings())
    assert isinstance(result, CleanArticle)
    assert "بايدن يشن هجوما لاذعا على ترامب" not in "\n".join(result.paragraphs)
    assert metric("monitor_redis_errors_total", operation="template_observe") == before + 1


@pytest.mark.integration
async def test_clean_agent_routes_records_on_the_broker(service_settings: Settings) -> None:
    prefix = service_settings.kafka.topic_prefix
    seeds = seed_articles()
    english = RawArticle(id="english", outlet="wire", title="Putin in Pyongyang", text=ENGLISH)
    garbage = RawArticle(id="garbage", outlet="wire", text="\x00\x07\ufffd\ufffd" * 300)
    app = build_worker_app(service_settings, stages=["clean"], app_id=f"{prefix}clean")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            for raw in [*seeds, english, garbage]:
                await producer.send_and_wait(
                    f"{prefix}raw", raw.model_dump_json().encode(), key=raw.id.encode()
                )
            await producer.send_and_wait(f"{prefix}raw", b"{not json", key=b"broken")
        finally:
            await producer.stop()
        bootstrap = service_settings.kafka.bootstrap
        clean, non_arabic, rejected = await asyncio.gather(
            read_topic(bootstrap, f"{prefix}clean", len(seeds)),
            read_topic(bootstrap, f"{prefix}non_arabic", 1),
            read_topic(bootstrap, f"{prefix}rejected", 2),
        )

    assert sorted(clean) == [raw.id for raw in seeds]
    for raw in seeds:
        article = CleanArticle.model_validate_json(clean[raw.id])
        assert article.language == "ar" and article.outlet == "seeds"
        assert "cleaned" in article.trace
        assert len(article.sentences) == len(article.match_sentences) > 5
    second_story = CleanArticle.model_validate_json(clean["seed-002"])
    assert "فريدوم شيلد" not in "\n".join(second_story.paragraphs)
    assert CleanArticle.model_validate_json(non_arabic["english"]).language == "en"
    assert Rejection.model_validate_json(rejected["garbage"]).reason == "garbage"
    assert Rejection.model_validate_json(rejected["broken"]).reason == "invalid_record"
    # The outlet's lines were counted in Redis by the agent.
    client = aioredis.Redis.from_url(service_settings.redis.url)
    try:
        key = f"{service_settings.redis.key_prefix}tpl:seeds:n"
        assert as_int(await client.get(key)) == len(seeds)
    finally:
        await client.aclose()
