"""``monitor dispatch``: deliver alerts to subscribers as a service.

Consumes the ``alerts`` and ``decisions`` topics (consumer group ``alerts.consumer_group``),
enqueues the deliveries of each alert in Redis and commits the Kafka offsets only after that
(so a crash re-reads, and the store's idempotency keys drop the repeats), delivers them with
retries, publishes dead letters on the ``dead_letters`` topic, serves the live stream
(``GET /alerts/stream`` on ``alerts.sse_port``) and Prometheus metrics (``metrics.port``).
SIGTERM/SIGINT stop it gracefully: consumption stops, in-flight deliveries get a few seconds,
offsets are committed.

    MONITOR_KAFKA__BOOTSTRAP=127.0.0.1:9092 monitor dispatch --subscriptions config/subscriptions.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import ValidationError
from redis.exceptions import RedisError

from monitor.alerts.dispatcher import DeadLetterSink, Dispatcher
from monitor.alerts.records import DeadLetter
from monitor.alerts.sse import AlertBroadcaster, serve
from monitor.alerts.subscriptions import SubscriptionsFile
from monitor.commands.arguments import port
from monitor.core.records import Alert, Decision
from monitor.lifecycle import stop_event
from monitor.metrics import DELIVERIES, REDIS_ERRORS, start_metrics_server
from monitor.retry import Backoff, retry_until_done
from monitor.settings import Settings, load_settings
from monitor.stores.deliveries import RedisDeliveryStore
from monitor.stream.app import create_topics
from monitor.stream.lag import ConsumerLagMonitor
from monitor.stream.topics import TOPICS, partitions_by_topic

__all__ = ["dead_letter_publisher", "register", "run_dispatch"]

log = logging.getLogger(__name__)

STORE_RETRY = Backoff(first=0.5, cap=30.0)
"""How long a record waits for the delivery store to come back."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "dispatch", help="deliver alerts to subscribers (webhook, Slack, Telegram, email, SSE)"
    )
    parser.add_argument("--subscriptions", type=Path, help="subscriptions file (YAML)")
    parser.add_argument("--sse-port", type=port, help="port of /alerts/stream (0: off)")
    parser.add_argument("--metrics-port", type=port, help="port of /metrics (0: off)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.subscriptions is not None:
        settings.alerts.subscriptions_file = args.subscriptions
    if args.sse_port is not None:
        settings.alerts.sse_port = args.sse_port
    if args.metrics_port is not None:
        settings.metrics.port = args.metrics_port
    asyncio.run(run_dispatch(settings))
    return 0


async def run_dispatch(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGTERM/SIGINT when no event is given)."""
    stop = stop_event(stop)
    prefix = settings.kafka.topic_prefix
    alerts_topic = TOPICS["alerts"].name(prefix)
    decisions_topic = TOPICS["decisions"].name(prefix)
    dead_topic = TOPICS["dead_letters"].name(prefix)

    await create_topics(
        settings, partitions_by_topic(("alerts", "decisions", "dead_letters"), settings.kafka)
    )
    start_metrics_server(settings.metrics.port)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    await producer.start()

    store = RedisDeliveryStore.from_url(
        settings.redis.url, settings.redis.key_prefix, settings.alerts.delivered_ttl_seconds
    )
    broadcaster = AlertBroadcaster(settings.alerts.sse_buffer)
    runner = None
    if settings.alerts.sse_port:
        runner = await serve(broadcaster, settings.alerts.sse_host, settings.alerts.sse_port)
    dispatcher = Dispatcher(
        SubscriptionsFile(settings.alerts.subscriptions_file),
        store,
        settings.alerts,
        dead_letters=dead_letter_publisher(producer, dead_topic),
        broadcaster=broadcaster,
        story_base_url=settings.web.base_url,
    )
    delivery = asyncio.create_task(dispatcher.run(), name="delivery")
    lag_stop = asyncio.Event()
    lag = ConsumerLagMonitor(
        settings.kafka.bootstrap, settings.alerts.consumer_group, [alerts_topic, decisions_topic]
    )
    await lag.start()
    lag_task = asyncio.create_task(lag.run(lag_stop), name="consumer lag")
    consumer = AIOKafkaConsumer(
        alerts_topic,
        decisions_topic,
        bootstrap_servers=settings.kafka.bootstrap,
        group_id=settings.alerts.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    log.info("dispatching %s and %s", alerts_topic, decisions_topic)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=300, max_records=200)
            for partition, records in batches.items():
                for record in records:
                    await _handle_until_stored(
                        dispatcher, partition.topic == alerts_topic, record.value, stop
                    )
            if batches:
                # Every delivery of these alerts is now in Redis: safe to move on.
                await consumer.commit()
            if delivery.done():
                delivery.result()  # surface a crash of the delivery loop
    finally:
        log.info("stopping: waiting for in-flight deliveries")
        lag_stop.set()
        await dispatcher.close()
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await consumer.stop()
        await lag_task
        await lag.stop()
        await producer.stop()
        broadcaster.close()
        if runner is not None:
            await runner.cleanup()
        await store.close()


def dead_letter_publisher(producer: AIOKafkaProducer, topic: str) -> DeadLetterSink:
    """Publishes dead letters on ``topic``, each one cut to fit a record if it must be (a
    digest of long alerts can pass the producer's 1 MiB), counted as
    ``DELIVERIES{outcome="dead_letter_truncated"}``: a dead letter that cannot be sent
    would stop its delivery from ever being marked dead (and resend it after every lease)."""

    async def publish(dead: DeadLetter) -> None:
        value, cut = dead.record_value()
        if cut:
            DELIVERIES.labels(dead.channel, dead.subscriber, "dead_letter_truncated").inc()
            log.warning(
                "dead letter %s for %s cut to %d bytes to fit a record (whole in Redis)",
                dead.idempotency_key, dead.subscriber, len(value),
            )  # fmt: skip
        await producer.send_and_wait(topic, value, key=dead.alert.id[:1_000].encode())

    return publish


async def _handle_until_stored(
    dispatcher: Dispatcher, is_alert: bool, value: bytes | None, stop: asyncio.Event
) -> None:
    """Handle one record, waiting out a Redis outage: a record is never skipped, and if we
    are stopped meanwhile its offset stays uncommitted, so it is read again."""

    def failed(error: BaseException, delay: float) -> None:
        REDIS_ERRORS.labels(operation="deliveries").inc()
        if stop.is_set():
            raise error
        log.error("delivery store unavailable (%s); retrying in %.1f s", error, delay)

    await retry_until_done(
        lambda: _handle(dispatcher, is_alert, value),
        policy=STORE_RETRY,
        retry_on=(RedisError, OSError),
        failed=failed,
    )


async def _handle(dispatcher: Dispatcher, is_alert: bool, value: bytes | None) -> None:
    if value is None:
        return
    try:
        if is_alert:
            await dispatcher.handle_alert(Alert.model_validate_json(value))
        else:
            await dispatcher.handle_decision(Decision.model_validate_json(value))
    except ValidationError as exc:
        log.error("skipping an invalid %s record: %s", "alert" if is_alert else "decision", exc)
