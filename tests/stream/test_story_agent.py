"""The story agent on the real broker and Redis: fingerprinted + rejected -> decisions, alerts."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.commands.replay import read_articles
from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.stages.story import story_stage
from monitor.stores.stories import RedisStoryStore, WriteBehindStoryStore
from monitor.stream.app import build_worker_app, running
from monitor.stream.story_agent import decide_batch, decide_outcomes

pytestmark = pytest.mark.integration
SEEDS_JSONL = Path(__file__).parent.parent / "data" / "seeds.jsonl"


async def fingerprinted_seeds() -> list[FingerprintedArticle]:
    """The seeds as the fingerprint stage outputs them (computed in process)."""
    from monitor.stages.clean import clean_stage
    from monitor.stages.fingerprint import fingerprint_stage

    items = []
    async with Pipeline() as pipeline:
        for raw in read_articles([SEEDS_JSONL]):
            clean = await clean_stage(raw, pipeline.templates, pipeline.settings)
            assert not isinstance(clean, Rejection)
            items.append(await fingerprint_stage(clean, pipeline.fingerprints, pipeline.settings))
    return items


async def read(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        values: list[bytes] = []
        while len(values) < count:
            message = await asyncio.wait_for(consumer.getone(), 60)
            assert message.value is not None
            values.append(message.value)
        return values
    finally:
        await consumer.stop()


async def test_story_agent_decides_in_order(service_settings: Settings) -> None:
    prefix = service_settings.kafka.topic_prefix
    items = await fingerprinted_seeds()
    app = build_worker_app(service_settings, stages=["story"], app_id=f"{prefix}story")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            for item in items:
                record = json.loads(item.model_dump_json())
                if item.article.id.startswith("003"):
                    # The analysis format of an older prep worker: decided without it.
                    record["analysis"] = {"terms": [["x"]], "hashes": [[1]], "entities": [[]]}
                await producer.send_and_wait(
                    f"{prefix}fingerprinted",
                    json.dumps(record).encode(),
                    key=item.article.id.encode(),
                )
            await producer.send_and_wait(f"{prefix}fingerprinted", b"{not json", key=b"broken")
            rejection = Rejection(id="bad", outlet="o", stage="clean", reason="empty")
            await producer.send_and_wait(
                f"{prefix}rejected", rejection.model_dump_json().encode(), key=b"bad"
            )
        finally:
            await producer.stop()
        decisions = [
            Decision.model_validate_json(v)
            for v in await read(service_settings.kafka.bootstrap, f"{prefix}decisions", 7)
        ]
        alerts = [
            Alert.model_validate_json(v)
            for v in await read(service_settings.kafka.bootstrap, f"{prefix}alerts", 3)
        ]
    by_article = {d.article[:3]: d for d in decisions}
    assert by_article["bad"].decision == "rejected"
    assert by_article["bro"].decision == "rejected"
    assert by_article["bro"].reasons["reason"] == "invalid_record"
    assert by_article["002"].decision == "new_story"
    assert by_article["001"].reasons["resumed"]["idle_days"] >= 270
    assert by_article["003"].decision == "development"
    assert len({by_article[p].story for p in ("002", "001", "000", "004", "003")}) == 1
    assert {a.kind for a in alerts} <= {"new_story", "development"}
    assert json.loads(alerts[0].model_dump_json())["story"] == by_article["002"].story


class FailingOnceStore(WriteBehindStoryStore):
    """Real Redis; the first ``flush`` fails after sending nothing (a dropped connection)."""

    failed = False

    async def flush(self) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("connection dropped")
        await super().flush()


async def test_a_batch_is_decided_as_one_by_one_even_after_a_failure(
    service_settings: Settings,
) -> None:
    items = await fingerprinted_seeds()
    prefix = service_settings.redis.key_prefix
    client = aioredis.Redis.from_url(service_settings.redis.url)
    try:
        one_by_one = RedisStoryStore(client, f"{prefix}single:")
        expected = [await story_stage(item, one_by_one, service_settings) for item in items]
        failing = FailingOnceStore(client, f"{prefix}batch:")
        # The first copy of 002 comes again inside the batch (a redelivery).
        outcomes = await decide_batch([*items, items[0]], failing, service_settings)
        assert failing.failed
    finally:
        await client.aclose()

    def summary(outcome: tuple[Decision, Alert | None]) -> tuple[str, str | None, bool]:
        decision, alert = outcome
        return decision.decision, decision.article, alert is not None

    assert [summary(o) for o in outcomes[:-1]] == [summary(o) for o in expected]
    assert outcomes[-1][0].story == outcomes[0][0].story
    assert summary(outcomes[-1]) == summary(outcomes[0])  # its recorded outcome, alert and all


STREAM_SAMPLE = Path(__file__).parent.parent / "data" / "stream_sample.jsonl"


async def fingerprinted_stream() -> list[FingerprintedArticle]:
    from monitor.stages.clean import clean_stage
    from monitor.stages.fingerprint import fingerprint_stage

    items = []
    async with Pipeline() as pipeline:
        for raw in read_articles([SEEDS_JSONL, STREAM_SAMPLE]):
            clean = await clean_stage(raw, pipeline.templates, pipeline.settings)
            if not isinstance(clean, Rejection):
                items.append(
                    await fingerprint_stage(clean, pipeline.fingerprints, pipeline.settings)
                )
    return items


def essentials(outcome: tuple[Decision, Alert | None]) -> tuple[object, ...]:
    decision, alert = outcome
    return (
        decision.article, decision.decision, decision.story, decision.new_sentences,
        alert.kind if alert else None,
    )  # fmt: skip


async def test_write_behind_restarts_and_replays_decide_as_uninterrupted(
    service_settings: Settings,
) -> None:
    """Write-behind story state (process memory, one write per batch): a worker restarted
    between batches (empty memory) and a batch delivered again after its writes reached Redis
    (killed before committing) give the decisions of one uninterrupted one-by-one run."""
    items = await fingerprinted_stream()
    prefix = service_settings.redis.key_prefix
    client = aioredis.Redis.from_url(service_settings.redis.url)
    try:
        one_by_one = RedisStoryStore(client, f"{prefix}wb-single:")
        expected = [essentials(await story_stage(i, one_by_one, service_settings)) for i in items]

        def fresh() -> WriteBehindStoryStore:
            return WriteBehindStoryStore(client, f"{prefix}wb:")

        store = fresh()
        got: list[tuple[object, ...]] = []
        replayed: list[tuple[object, ...]] = []
        batches = [items[start : start + 16] for start in range(0, len(items), 16)]
        for number, batch in enumerate(batches):
            if number % 3 == 2:
                store = fresh()  # restart: nothing in memory
            outcomes = [essentials(o) for o in await decide_batch(batch, store, service_settings)]
            got.extend(outcomes)
            if number == 4:
                # Killed after the batch's write, before its offsets were committed: the
                # replacement gets the batch again and must re-emit the same outcomes.
                store = fresh()
                again = await decide_batch(batch, store, service_settings)
                replayed = [essentials(o) for o in again]
                assert replayed == outcomes
    finally:
        await client.aclose()
    assert replayed
    assert got == expected
    assert {row[1] for row in got} >= {"new_story", "duplicate"}


async def test_outcomes_are_sent_as_they_were_recorded(service_settings: Settings) -> None:
    """The JSON the agent sends for an outcome is ``model_dump_json`` of its decision and
    alert, byte for byte what the story stage recorded with the story update (encoded once,
    after the last change: the ``decided`` stamps included), also for a redelivery."""
    items = await fingerprinted_stream()
    prefix = service_settings.redis.key_prefix
    client = aioredis.Redis.from_url(service_settings.redis.url)
    try:
        store = WriteBehindStoryStore(client, f"{prefix}json:")
        # The first item comes again inside the batch, and the first five in a later one.
        outcomes = await decide_outcomes([*items, items[0]], store, service_settings)
        again = await decide_outcomes(items[:5], store, service_settings)
        recorded = {
            outcome.decision.article: await store.decided(outcome.decision.article or "")
            for outcome in outcomes
        }
    finally:
        await client.aclose()
    reused = 0
    for outcome in [*outcomes, *again]:
        decision, alert = outcome.as_json()
        assert decision == outcome.decision.model_dump_json().encode()
        assert alert == (outcome.alert.model_dump_json().encode() if outcome.alert else None)
        if outcome.encoded is not None:
            reused += 1
            assert outcome.decision.trace["decided"] > 0
            record = recorded[outcome.decision.article]
            assert record is not None
            assert record.encode() == b"".join(
                (b'{"decision":', decision, b',"alert":', alert or b"null", b"}")
            )
    assert reused >= len(items) // 2
    assert [o.as_json() for o in again] == [o.as_json() for o in outcomes[:5]]
    assert outcomes[-1].as_json() == outcomes[0].as_json()


async def test_a_slim_record_with_an_unusable_analysis_is_analysed_from_its_sentences(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A record on ``fingerprinted`` leaves the normalised texts out when it carries an
    analysis; if that analysis is unusable the agent rebuilds them and gets the same features."""
    from monitor.core.analysis import analysis_record
    from monitor.core.records import ArticleAnalysis, fingerprinted_omits
    from monitor.core.stories import analyse, article_features
    from monitor.stream.story_agent import _features

    judged = [i for i in await fingerprinted_seeds() if i.kind not in ("exact", "reprint")]
    assert len(judged) == 4
    for item in judged:
        article = item.article
        item.analysis = analysis_record(analyse(article.match_title, article.match_sentences))
        wire = item.model_dump_json(exclude=fingerprinted_omits(item))
        received = FingerprintedArticle.model_validate_json(wire)
        assert received.article.match_sentences == []
        received.analysis = ArticleAnalysis(terms=["a"], hashes=["!"], entities=[[]], markers=[[]])
        with caplog.at_level(logging.WARNING):
            rebuilt = _features(received)
        computed = article_features(article.match_title, article.match_sentences)
        assert (rebuilt.vector, rebuilt.text) == (computed.vector, computed.text)
    assert "unusable" in caplog.text


def test_an_invalid_fingerprinted_record_becomes_a_rejection() -> None:
    from monitor.metrics import ARTICLES_REJECTED
    from monitor.stream.story_agent import read_item

    counter = ARTICLES_REJECTED.labels(stage="story", reason="invalid_record")
    before = counter._value.get()
    rejection = read_item(b'{"kind": "new"}', b"a1")
    assert isinstance(rejection, Rejection)
    assert (rejection.id, rejection.stage, rejection.reason) == ("a1", "story", "invalid_record")
    assert counter._value.get() == before + 1
