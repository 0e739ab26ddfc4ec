"""Where polled articles go: Kafka (service mode) or an in-process queue (embedded mode).

``send`` returns, per article, whether it was acknowledged; the poller marks an entry seen
only after that, and keeps the others to retry, so a broker outage loses nothing.

>>> import asyncio
>>> from monitor.core.records import RawArticle
>>> sink = QueueSink()
>>> asyncio.run(sink.send([RawArticle(id="a", outlet="o")]))
[True]
>>> sink.queue.get_nowait().id
'a'
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from monitor.core.records import RawArticle

__all__ = ["ArticleSink", "KafkaSink", "QueueSink"]

log = logging.getLogger(__name__)


class ArticleSink(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, articles: Sequence[RawArticle]) -> list[bool]:
        """Deliver ``articles``; element i is True once article i is durably accepted."""
        ...


class QueueSink:
    """Puts articles on an ``asyncio.Queue`` (the embedded pipeline reads it)."""

    def __init__(self, queue: asyncio.Queue[RawArticle] | None = None) -> None:
        self.queue: asyncio.Queue[RawArticle] = queue if queue is not None else asyncio.Queue()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, articles: Sequence[RawArticle]) -> list[bool]:
        for article in articles:
            await self.queue.put(article)
        return [True] * len(articles)


class KafkaSink:
    """Produces to the raw topic, key = article id, value = RawArticle JSON.

    Idempotent producer with ``acks='all'``: a send is acknowledged once every in-sync replica
    has it, and the producer's own retries never write a record twice. ``start`` retries
    until the broker answers, so the poller can start before Kafka.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        request_timeout_ms: int = 30_000,
        **producer_options: Any,
    ) -> None:
        self.topic = topic
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "enable_idempotence": True,
            "acks": "all",
            "linger_ms": 20,
            "request_timeout_ms": request_timeout_ms,
            "client_id": "monitor-poller",
            **producer_options,
        }
        self._producer: AIOKafkaProducer | None = None

    async def start(self, *, retry_seconds: float = 2.0, give_up_after: float | None = None) -> None:
        started = time.monotonic()
        while True:
            producer = AIOKafkaProducer(**self._options)
            try:
                await producer.start()
            except Exception as exc:
                await producer.stop()
                if give_up_after is not None and time.monotonic() - started > give_up_after:
                    raise
                log.warning("Kafka not reachable (%s); retrying in %.0fs", exc, retry_seconds)
                await asyncio.sleep(retry_seconds)
                continue
            self._producer = producer
            return

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, articles: Sequence[RawArticle]) -> list[bool]:
        if self._producer is None:
            raise RuntimeError("KafkaSink.send before start()")
        if not articles:
            return []
        futures: list[asyncio.Future[Any] | None] = []
        for article in articles:
            article.trace["produced"] = time.time()
            try:
                future = await self._producer.send(
                    self.topic,
                    key=article.id.encode(),
                    value=article.model_dump_json().encode(),
                )
            except Exception as exc:  # e.g. buffer full or metadata timeout while Kafka is down
                log.warning("Kafka send of %s failed: %s", article.id, exc)
                future = None
            futures.append(future)
        waiting = [f for f in futures if f is not None]
        results = await asyncio.gather(*waiting, return_exceptions=True)
        outcome = iter(results)
        acknowledged: list[bool] = []
        for future in futures:
            if future is None:
                acknowledged.append(False)
                continue
            result = next(outcome)
            if isinstance(result, BaseException):
                log.warning("Kafka did not acknowledge a record: %r", result)
                acknowledged.append(False)
            else:
                acknowledged.append(True)
        return acknowledged
