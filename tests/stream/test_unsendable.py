"""A record Kafka will not take never costs an article its decision, nor its batch theirs.

On the real broker and Redis: an article whose ``fingerprinted`` record is over the
producer's 1 MiB limit used to crash the prep agent after its batch's offsets were
acknowledged, so it and the rest of its batch were never decided. Now it gets a ``rejected``
decision that says why, and the rest of its batch is decided. ``deliver`` itself is checked
against a broker that refuses a record (a topic's ``max.message.bytes``) and, in process,
against a producer that fails for a passing reason.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from monitor.core.records import Decision, RawArticle
from monitor.metrics import ARTICLES_REJECTED
from monitor.settings import Settings
from monitor.stream.app import build_worker_app, create_app, running
from monitor.stream.outbox import TOO_LARGE, Outgoing, deliver
from tests.stream.helpers import read_topic

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("0*.txt"))
SENTENCE = "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة نادرة، وفق الإعلام الرسمي."


def seed(index: int) -> RawArticle:
    return RawArticle(
        id=f"seed-{index}", outlet=f"outlet-{index}", text=SEEDS[index].read_text("utf-8")
    )


def large_article() -> RawArticle:
    """About 0.55 MB of valid Arabic: its ``fingerprinted`` record is over 1 MiB."""
    lines = [f"{SENTENCE} الفقرة {n} من التقرير المطول." for n in range(3_000)]
    return RawArticle(id="large", outlet="outlet-large", title="تقرير", text="\n".join(lines))


@pytest.mark.integration
async def test_an_article_too_large_to_produce_is_rejected_and_its_batch_decided(
    service_settings: Settings,
) -> None:
    settings = service_settings.model_copy(deep=True)
    settings.clean.max_text_chars = 10_000_000  # past the article bound, to the record's
    prefix = settings.kafka.topic_prefix
    articles = [seed(0), large_article(), seed(1), seed(2)]
    assert len(articles[1].text.encode()) > 500_000
    rejected = ARTICLES_REJECTED.labels(stage="fingerprint", reason=TOO_LARGE)
    before = rejected._value.get()
    app = build_worker_app(settings, app_id=f"{prefix}worker")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
        await producer.start()
        try:
            # One key, one partition, sent together: one batch of the prep agent.
            for article in articles:
                await producer.send(
                    f"{prefix}raw", article.model_dump_json().encode(), key=b"one-partition"
                )
            await producer.flush()
        finally:
            await producer.stop()
        decided = await read_topic(settings.kafka.bootstrap, f"{prefix}decisions", len(articles))
    decisions = {key: Decision.model_validate_json(value) for key, value in decided.items()}
    assert decisions.keys() == {article.id for article in articles}
    large = decisions["large"]
    assert large.decision == "rejected"
    assert (large.reasons["stage"], large.reasons["reason"]) == ("fingerprint", TOO_LARGE)
    assert "fingerprinted record of" in large.reasons["detail"]
    assert large.outlet == "outlet-large"
    assert all(decisions[f"seed-{n}"].decision != "rejected" for n in range(3))
    assert rejected._value.get() == before + 1


@pytest.mark.integration
async def test_deliver_replaces_a_record_the_broker_refuses(service_settings: Settings) -> None:
    prefix = service_settings.kafka.topic_prefix
    strict, fallback = f"{prefix}strict", f"{prefix}fallback"
    admin = AIOKafkaAdminClient(bootstrap_servers=service_settings.kafka.bootstrap)
    await admin.start()
    try:  # the broker takes records of at most 1000 bytes on this topic
        await admin.create_topics(
            [
                NewTopic(strict, 1, 1, topic_configs={"max.message.bytes": "1000"}),
                NewTopic(fallback, 1, 1),
            ]
        )
    finally:
        await admin.close()
    replaced: list[BaseException] = []

    def instead(error: BaseException) -> Outgoing:
        replaced.append(error)
        return Outgoing(fallback, b"big", b"stands for big")

    app = create_app(service_settings, app_id=f"{prefix}outbox")
    async with running(app):
        producer = await app.maybe_start_producer()
        await deliver(
            producer,
            [
                Outgoing(strict, b"small-1", b"x" * 100),
                Outgoing(strict, b"big", b"x" * 5_000, instead=instead),
                Outgoing(strict, b"small-2", b"x" * 100),
            ],
        )
    # deliver returned: everything is on the broker already.
    assert (await read_topic(service_settings.kafka.bootstrap, fallback, 1)) == {
        "big": b"stands for big"
    }
    assert (await read_topic(service_settings.kafka.bootstrap, strict, 2)).keys() == {
        "small-1",
        "small-2",
    }
    assert [type(error) for error in replaced] == [MessageSizeTooLargeError]


class FlakyProducer:
    """Fails each record's first delivery with a passing error (the broker briefly gone)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes, *_: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        first = (topic, key) not in self.sent
        self.sent.append((topic, key))
        if first:
            future.set_exception(KafkaConnectionError("broker gone"))
        else:
            future.set_result(None)
        return future


async def test_deliver_retries_a_passing_failure_until_the_broker_has_the_record() -> None:
    producer = FlakyProducer()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    name = f"t{uuid.uuid4().hex[:6]}"
    await deliver(
        producer,  # type: ignore[arg-type]
        [Outgoing(name, b"a", b"1"), Outgoing(name, b"b", b"2")],
        sleep=sleep,
    )
    assert producer.sent == [(name, b"a"), (name, b"b"), (name, b"a"), (name, b"b")]
    assert delays == [0.5]
