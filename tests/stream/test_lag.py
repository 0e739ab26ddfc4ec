"""ConsumerLagMonitor against a real broker: lag = end offset - committed offset, per topic."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY

from monitor.settings import Settings
from monitor.stream.app import create_topics
from monitor.stream.lag import ConsumerLagMonitor

pytestmark = pytest.mark.integration


def _gauge(topic: str) -> float | None:
    return REGISTRY.get_sample_value("monitor_kafka_consumer_lag_messages", {"topic": topic})


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in range(count):
            await producer.send(topic, b"x", key=str(n).encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        taken = 0
        while taken < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=count - taken)
            taken += sum(len(records) for records in batches.values())
        await consumer.commit()
    finally:
        await consumer.stop()


async def test_lag_counts_uncommitted_messages_per_topic(kafka_bootstrap: str) -> None:
    name = f"lag-{uuid.uuid4().hex[:8]}"
    read, unread, group = f"{name}.read", f"{name}.unread", f"{name}.group"
    settings = Settings.model_validate({"kafka": {"bootstrap": kafka_bootstrap}})
    await create_topics(settings, {read: 3, unread: 2})
    await _produce(kafka_bootstrap, read, 30)
    await _produce(kafka_bootstrap, unread, 7)
    await _consume_and_commit(kafka_bootstrap, read, group, 10)

    async with ConsumerLagMonitor(kafka_bootstrap, group, topics=[unread]) as lag:
        # `read` is found through the group's commits, `unread` because it is named.
        assert await lag.measure() == {read: 20, unread: 7}
        assert _gauge(read) == 20 and _gauge(unread) == 7

        await _produce(kafka_bootstrap, read, 5)
        assert (await lag.measure())[read] == 25

        stop = asyncio.Event()
        lag.interval = 0.05
        runner = asyncio.create_task(lag.run(stop))
        await _consume_and_commit(kafka_bootstrap, read, group, 25)
        for _ in range(100):
            if _gauge(read) == 0:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(runner, 5)
        assert _gauge(read) == 0


async def test_unknown_group_has_no_lag_and_run_survives_failed_measurements(
    kafka_bootstrap: str,
) -> None:
    async with ConsumerLagMonitor(kafka_bootstrap, f"nobody-{uuid.uuid4().hex}") as lag:
        assert await lag.measure() == {}
        # A failing measurement (the admin client closed under it) is logged, not raised.
        await lag.stop()
        stop = asyncio.Event()
        lag.interval = 0.05
        runner = asyncio.create_task(lag.run(stop))
        await asyncio.sleep(0.2)
        assert not runner.done()
        stop.set()
        await asyncio.wait_for(runner, 5)
