"""The service mode end to end on the real Kafka and Redis: ``monitor worker`` (a child
process), articles produced onto the raw topic, ``run_dispatch`` delivering to a loopback
webhook. The seeds must come out exactly as the embedded pipeline decides them, every alert
delivered exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.commands.dispatch import run_dispatch
from monitor.commands.replay import read_articles
from monitor.core.records import Alert, Decision, RawArticle
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from tests.system.helpers import (
    OutputReader,
    Webhook,
    WorkerProcess,
    ensure_topics,
    isolated_settings,
    produce,
    producer,
)
from tests.web.test_api import assert_api_matches_decisions

pytestmark = pytest.mark.integration

SEEDS_JSONL = Path(__file__).resolve().parents[1] / "data" / "seeds.jsonl"


@contextlib.asynccontextmanager
async def dispatching(settings: Settings, webhook: Webhook, tmp_path: Path) -> AsyncIterator[None]:
    """``run_dispatch`` in this process, delivering every alert to ``webhook``."""
    settings = settings.model_copy(deep=True)
    settings.alerts.subscriptions_file = webhook.subscriptions_yaml(tmp_path / "subs.yaml")
    settings.alerts.sse_port = 0
    settings.alerts.consumer_group = f"dispatch-{uuid.uuid4().hex[:8]}"
    settings.metrics.port = 0
    stop = asyncio.Event()
    task = asyncio.create_task(run_dispatch(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def embedded(articles: list[RawArticle]) -> tuple[dict[str, Decision], list[Alert]]:
    decisions: dict[str, Decision] = {}
    alerts: list[Alert] = []
    async with Pipeline() as pipeline:
        async for decision, alert in pipeline.process_many(articles):
            decisions[decision.article] = decision
            if alert is not None:
                alerts.append(alert)
    return decisions, alerts


async def wait_for(condition: object, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.1)


async def test_seeds_through_worker_and_dispatcher_match_the_embedded_pipeline(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, redis_url)
    await ensure_topics(settings)
    expected, expected_alerts = await embedded(list(read_articles([SEEDS_JSONL])))
    webhook = Webhook()
    await webhook.start()
    worker = WorkerProcess(settings, tmp_path / "worker.log", app_id=f"w-{uuid.uuid4().hex[:8]}")
    worker.start()
    reader = OutputReader(settings)
    try:
        await worker.wait_ready()
        await reader.start()
        async with dispatching(settings, webhook, tmp_path), producer(settings) as kafka:
            # One at a time, as a news stream arrives: raw has several partitions, and story
            # order is only defined between articles that are not produced at the same instant.
            for article in read_articles([SEEDS_JSONL]):
                await produce(kafka, settings, [article])
                await reader.wait_decisions([article.id], timeout=60)
            await wait_for(lambda: len(webhook.keys) >= len(expected_alerts), timeout=30)
            await asyncio.sleep(1.0)  # anything extra (a duplicate) would arrive by now
        got = reader.collected
        assert got.decisions.keys() == expected.keys()
        assert got.decision_records == len(expected)  # exactly one decision per article
        for article_id, decision in expected.items():
            assert got.decisions[article_id].decision == decision.decision, article_id
            assert got.decisions[article_id].new_sentences == decision.new_sentences, article_id
        assert len({d.story for d in got.decisions.values()}) == 1
        assert [a.id for a in got.alerts] == [a.id for a in expected_alerts]
        delivered = [a for a in webhook.alerts if a.kind != "breaking"]
        assert sorted(a.id for a in delivered) == sorted(a.id for a in expected_alerts)
        assert webhook.duplicates() == {}
        # The story API over the service's Redis shows the story's timeline as decided.
        await assert_api_matches_decisions(settings, got.decisions)
    finally:
        await reader.stop()
        assert worker.stop() == 0, worker.log_text()[-3000:]
        await webhook.stop()
