"""The Faust app on the real broker: topics, serialisation and an agent end to end; and Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import StreamT

from monitor.core.records import RawArticle
from monitor.settings import Settings
from monitor.stream.app import (
    MonitorApp,
    build_worker_app,
    create_app,
    extra_topic,
    running,
    serve,
    topic,
)
from monitor.stream.app import redis_client as app_redis_client
from monitor.stream.slice_agent import SLICE_SUFFIX
from monitor.stream.topics import TOPICS

pytestmark = pytest.mark.integration


async def read_records(bootstrap: str, topic_name: str, count: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic_name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: list[tuple[bytes, bytes]] = []
        while len(records) < count:
            message = await asyncio.wait_for(consumer.getone(), 30)
            assert message.key is not None and message.value is not None
            records.append((message.key, message.value))
        return records
    finally:
        await consumer.stop()


async def test_slice_agent_transforms_records_on_the_broker(service_settings: Settings):
    prefix = service_settings.kafka.topic_prefix
    articles = [
        RawArticle(id=f"a{i}", outlet="seed", title=f"  breaking {i} بوتين ", text="نص")
        for i in range(5)
    ]
    app = build_worker_app(
        service_settings, stages=["monitor.stream.slice_agent"], app_id=f"{prefix}slice"
    )
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            for article in articles:
                await producer.send_and_wait(
                    f"{prefix}raw", article.model_dump_json().encode(), key=article.id.encode()
                )
        finally:
            await producer.stop()
        records = await read_records(
            service_settings.kafka.bootstrap, f"{prefix}{SLICE_SUFFIX}", len(articles)
        )

    out = {key.decode(): RawArticle.model_validate_json(value) for key, value in records}
    assert sorted(out) == [a.id for a in articles]
    for article in articles:
        assert out[article.id].title == article.title.strip().upper()
        assert out[article.id].text == article.text


async def test_app_creates_every_topic_with_its_partitions(service_settings: Settings):
    prefix = service_settings.kafka.topic_prefix
    app = create_app(service_settings, app_id=f"{prefix}topics")
    raw = topic(app, "raw")
    assert raw.get_topic_name() == f"{prefix}raw"
    async with running(app):
        pass
    admin = AIOKafkaAdminClient(bootstrap_servers=service_settings.kafka.bootstrap)
    await admin.start()
    try:
        names = [spec.name(prefix) for spec in TOPICS.values()]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = {entry["topic"]: len(entry["partitions"]) for entry in described}
    for spec in TOPICS.values():
        expected = service_settings.kafka.partitions if spec.partitioned else 1
        assert partitions[spec.name(prefix)] == expected, spec.suffix


async def test_redis_round_trip(redis_client: aioredis.Redis, service_settings: Settings):
    await redis_client.hset("article:a1", mapping={"title": "بوتين في بيونغ يانغ", "n": 3})
    assert await redis_client.hget("article:a1", "title") == "بوتين في بيونغ يانغ".encode()
    app = create_app(service_settings, app_id=f"{service_settings.kafka.topic_prefix}redis")
    async with running(app):
        shared = app_redis_client(app)
        assert shared is app_redis_client(app)
        assert await shared.hincrby("article:a1", "n", 2) == 5
    assert app._redis is None  # the app closed its client when it stopped


async def test_serve_runs_the_agents_until_stopped(service_settings: Settings):
    prefix = service_settings.kafka.topic_prefix
    app = build_worker_app(
        service_settings, stages=["monitor.stream.slice_agent"], app_id=f"{prefix}serve"
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(app, stop))
    article = RawArticle(id="s1", outlet="seed", title=" served ")
    producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(f"{prefix}raw", article.model_dump_json().encode(), key=b"s1")
    finally:
        await producer.stop()
    [(_key, value)] = await read_records(
        service_settings.kafka.bootstrap, f"{prefix}{SLICE_SUFFIX}", 1
    )
    assert RawArticle.model_validate_json(value).title == "SERVED"
    assert not worker.done() and not app.should_stop
    stop.set()
    await asyncio.wait_for(worker, 30)
    assert app.should_stop


def one_partition_app(settings: Settings, app_id: str) -> MonitorApp:
    app = create_app(settings, app_id=app_id)

    @app.agent(extra_topic(app, "one"), name=f"{app_id}.drain")
    async def drain(stream: StreamT[bytes]) -> None:
        async for _ in stream:
            pass

    return app


async def test_a_worker_without_partitions_is_ready_after_its_first_rebalance(
    service_settings: Settings,
):
    app_id = f"{service_settings.kafka.topic_prefix}pair"
    first = one_partition_app(service_settings, app_id)
    second = one_partition_app(service_settings, app_id)
    one = f"{service_settings.kafka.topic_prefix}one"
    async with running(first), running(second, all_sources=False, ready_timeout=60):
        owners = [
            app for app in (first, second) if one in {tp.topic for tp in app.consumer.assignment()}
        ]
        # The group shares the single partition: the second worker got ready without it, or
        # took it over from the first.
        assert len(owners) <= 1
        with pytest.raises(TimeoutError):
            idle = second if owners != [second] else first
            await asyncio.wait_for(_assigned_to(idle, one), 2)


async def _assigned_to(app: MonitorApp, topic_name: str) -> None:
    while topic_name not in {tp.topic for tp in app.consumer.assignment()}:
        await asyncio.sleep(0.05)
