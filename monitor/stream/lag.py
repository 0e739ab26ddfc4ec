"""Kafka consumer lag of one consumer group, per topic, exported as ``CONSUMER_LAG``.

Lag of a partition = its end offset (offset of the next message to be written) minus the
group's committed offset; a partition the group never committed counts from the log start.
The per-topic sum is what the dashboards and the ``MonitorConsumerLag*`` alerts read. The
worker (Faust app id as group) and the dispatcher (its consumer group) each run one
``ConsumerLagMonitor`` beside their consumers; it only reads offsets, so it never joins the
group or disturbs its assignment.

In a Faust worker, start it with the app and measure on a timer::

    lag = ConsumerLagMonitor(settings.kafka.bootstrap, app.conf.id, [raw_topic, clean_topic])

    @app.timer(interval=15.0)
    async def measure_lag() -> None:
        await lag.measure()         # after ``await lag.start()`` in the app's on_start

Or on its own (the dispatcher does this)::

    async with ConsumerLagMonitor("127.0.0.1:9092", "monitor-dispatch", [alerts_topic]) as lag:
        print(await lag.measure())     # e.g. {'monitor.alerts': 12}
        await lag.run(stop)            # every `interval` seconds until `stop` is set
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from monitor.metrics import CONSUMER_LAG

__all__ = ["ConsumerLagMonitor"]

log = logging.getLogger(__name__)


class ConsumerLagMonitor:
    """Measures a group's lag per topic every ``interval`` seconds and sets ``CONSUMER_LAG``.

    ``topics``: topics to watch even before the group commits on them (their whole retained
    log counts as lag then). Without it, the topics the group has committed offsets for.
    """

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str] = (),
        interval: float = 15.0,
    ) -> None:
        self.group = group
        self.topics = tuple(topics)
        self.interval = interval
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        # No group_id: this consumer only looks up offsets, it never subscribes or commits.
        self._offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def start(self) -> None:
        await self._admin.start()
        await self._offsets.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._offsets.stop()
        with contextlib.suppress(Exception):
            await self._admin.close()

    async def __aenter__(self) -> ConsumerLagMonitor:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def measure(self) -> dict[str, int]:
        """Lag per topic now; also sets ``CONSUMER_LAG{topic}``."""
        committed = {
            tp: meta.offset
            for tp, meta in (await self._admin.list_consumer_group_offsets(self.group)).items()
            if meta.offset >= 0
        }
        partitions = set(committed) | await self._partitions_of(self.topics)
        if not partitions:
            return {}
        end = await self._offsets.end_offsets(list(partitions))
        uncommitted = [tp for tp in partitions if tp not in committed]
        start = await self._offsets.beginning_offsets(uncommitted) if uncommitted else {}
        lag: dict[str, int] = {}
        for tp in partitions:
            position = committed.get(tp, start.get(tp, 0))
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end[tp] - position)
        for topic, messages in lag.items():
            CONSUMER_LAG.labels(topic=topic).set(messages)
        return lag

    async def run(self, stop: asyncio.Event) -> None:
        """Measure every ``interval`` seconds until ``stop`` is set; a failed measurement
        (broker away) is logged and retried next time, never fatal."""
        while not stop.is_set():
            try:
                await self.measure()
            except Exception as exc:  # the broker may be restarting: keep the last values
                log.warning("consumer lag of group %s not measured: %s", self.group, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def _partitions_of(self, topics: Sequence[str]) -> set[TopicPartition]:
        if not topics:
            return set()
        described = await self._admin.describe_topics(list(topics))
        return {
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0  # a topic not created yet has no lag to report
            for partition in topic["partitions"]
        }
