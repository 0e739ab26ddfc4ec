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
from aiokafka.errors import MessageSizeTooLargeError

from monitor.core.records import RawArticle, Rejection
from monitor.metrics import ARTICLES_REJECTED

__all__ = ["ArticleSink", "KafkaSink", "QueueSink"]

log = logging.getLogger(__name__)
STAGE = "poll"


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

    While the broker is down, aiokafka keeps records in its buffer and retries them forever
    (their futures never fail), so ``send`` waits at most ``ack_timeout`` seconds and reports
    the rest as not acknowledged. Those records are still in flight: when the poller sends the
    same article again, the sink waits on the record already in flight instead of producing a
    second copy (which would be a duplicate once the broker is back).

    An article whose record is over the producer's ``max_request_size`` (a page of megabytes)
    can never be produced: instead of retrying it at every poll, for ever and undecided, the
    sink sends its ``Rejection`` (stage ``poll``, reason ``too_large``) to ``rejected_topic``,
    where the story stage gives it a ``rejected`` decision, and acknowledges it once that is
    on the broker (without a ``rejected_topic`` it stays unacknowledged, as before).
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        request_timeout_ms: int = 30_000,
        ack_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        rejected_topic: str | None = None,
        **producer_options: Any,
    ) -> None:
        self.topic = topic
        self.rejected_topic = rejected_topic
        self.ack_timeout = ack_timeout
        self.stop_timeout = stop_timeout
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
        self._in_flight: dict[str, asyncio.Future[Any]] = {}

    async def start(
        self, *, retry_seconds: float = 2.0, give_up_after: float | None = None
    ) -> None:
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
        """Flush and stop; gives up after ``stop_timeout`` (records still buffered are lost,
        but were never acknowledged, so the poller has not marked them seen)."""
        if self._producer is None:
            return
        producer, self._producer = self._producer, None
        try:
            await asyncio.wait_for(producer.stop(), timeout=self.stop_timeout)
        except TimeoutError:
            log.warning(
                "Kafka producer did not flush within %.0fs; abandoning %d records",
                self.stop_timeout,
                sum(not f.done() for f in self._in_flight.values()),
            )
        self._in_flight.clear()

    async def send(self, articles: Sequence[RawArticle]) -> list[bool]:
        if self._producer is None:
            raise RuntimeError("KafkaSink.send before start()")
        futures: list[asyncio.Future[Any] | None] = []
        for article in articles:
            future = self._in_flight.get(article.id)
            if future is None or (future.done() and _failed(future)):
                future = await self._produce(article)
                if future is not None:
                    self._in_flight[article.id] = future
            futures.append(future)
        waiting = {f for f in futures if f is not None and not f.done()}
        if waiting:
            await asyncio.wait(waiting, timeout=self.ack_timeout)
        acknowledged: list[bool] = []
        for article, future in zip(articles, futures, strict=True):
            if future is None or not future.done():
                acknowledged.append(False)  # still in flight: kept for the next send
                continue
            del self._in_flight[article.id]
            if _failed(future):
                log.warning("Kafka refused %s: %r", article.id, _error(future))
                acknowledged.append(False)
            else:
                acknowledged.append(True)
        return acknowledged

    async def _produce(self, article: RawArticle) -> asyncio.Future[Any] | None:
        assert self._producer is not None
        article.trace["produced"] = time.time()
        value = article.model_dump_json().encode()
        try:
            return await self._producer.send(self.topic, key=article.id.encode(), value=value)
        except MessageSizeTooLargeError as exc:
            if self.rejected_topic is None:
                log.error("Kafka refuses %s for good: %s", article.id, exc)
                return None
            return await self._reject(article, f"raw record of {len(value)} bytes: {exc}")
        except Exception as exc:  # e.g. metadata or buffer timeout while Kafka is down
            log.warning("Kafka send of %s failed: %s", article.id, exc)
            return None

    async def _reject(self, article: RawArticle, detail: str) -> asyncio.Future[Any] | None:
        assert self._producer is not None and self.rejected_topic is not None
        ARTICLES_REJECTED.labels(stage=STAGE, reason="too_large").inc()
        log.error("article %s cannot be produced (%s): rejected", article.id[:200], detail)
        rejection = Rejection(
            id=article.id,
            outlet=article.outlet,
            stage=STAGE,
            reason="too_large",
            detail=detail[:500],
            url=article.url,
            published=article.published,
            trace=dict(article.trace),
        )
        try:
            return await self._producer.send(
                self.rejected_topic,
                key=article.id.encode(),
                value=rejection.model_dump_json().encode(),
            )
        except Exception as exc:  # the broker gone: retried with the next send
            log.warning("Kafka send of the rejection of %s failed: %s", article.id, exc)
            return None


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.cancelled() or future.exception() is not None


def _error(future: asyncio.Future[Any]) -> BaseException | None:
    return asyncio.CancelledError() if future.cancelled() else future.exception()
