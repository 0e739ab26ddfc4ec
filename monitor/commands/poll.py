"""``monitor poll``: poll the feeds as a service and produce new entries to Kafka.

Reads the feeds file (``poller.feeds_file`` or ``--feeds``), produces every new entry to the
raw topic (key = article id, value = RawArticle JSON) with an idempotent ``acks=all``
producer, and remembers delivered entries in Redis (``{prefix}seen:{feed}``) so a restart
never re-emits them. Serves Prometheus metrics on ``metrics.port``. SIGTERM/SIGINT stop it
gracefully: polls under way finish (bounded by the fetch deadline), the producer flushes.

    MONITOR_KAFKA__BOOTSTRAP=127.0.0.1:9092 MONITOR_REDIS__URL=redis://127.0.0.1:6379/0 \\
        monitor poll --feeds config/feeds.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from monitor.commands.arguments import port
from monitor.ingest.feeds import FeedConfig, load_feeds
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller
from monitor.ingest.sink import KafkaSink
from monitor.lifecycle import stop_event
from monitor.metrics import start_metrics_server
from monitor.netguard import AddressGuard
from monitor.settings import Settings, load_settings
from monitor.stores.seen import RedisSeenStore
from monitor.stream.app import create_topics
from monitor.stream.topics import TOPICS, partitions_by_topic

__all__ = ["register", "run_poll"]

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "poll", help="poll the news feeds and produce new entries to Kafka"
    )
    parser.add_argument("--feeds", type=Path, help="feeds file (default: poller.feeds_file)")
    parser.add_argument("--metrics-port", type=port, help="port of /metrics (0: off)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.feeds is not None:
        settings.poller.feeds_file = args.feeds
    if args.metrics_port is not None:
        settings.metrics.port = args.metrics_port
    feeds = load_feeds(settings.poller.feeds_file)
    log.info("%d feeds from %s", len(feeds), settings.poller.feeds_file)
    start_metrics_server(settings.metrics.port)
    asyncio.run(run_poll(settings, feeds))
    return 0


async def run_poll(
    settings: Settings, feeds: Sequence[FeedConfig], stop: asyncio.Event | None = None
) -> None:
    """Poll ``feeds`` into the raw topic until ``stop`` is set (or SIGTERM/SIGINT)."""
    stop = stop_event(stop)
    topic = TOPICS["raw"].name(settings.kafka.topic_prefix)
    sink = KafkaSink(
        settings.kafka.bootstrap,
        topic,
        rejected_topic=TOPICS["rejected"].name(settings.kafka.topic_prefix),
    )
    if not await _until_stopped(_prepare_kafka(settings, topic, sink), stop):
        return
    redis = aioredis.Redis.from_url(settings.redis.url)
    seen = RedisSeenStore(
        redis, key_prefix=settings.redis.key_prefix, ttl_seconds=settings.poller.seen_ttl_seconds
    )
    try:
        async with Fetcher(
            FetchLimits.from_settings(settings.poller),
            user_agent=settings.poller.user_agent,
            guard=AddressGuard.from_settings(
                settings.poller.allowed_networks, allow_all=settings.poller.allow_private_addresses
            ),
        ) as fetcher:
            poller = Poller(feeds, fetcher=fetcher, seen=seen, sink=sink, settings=settings.poller)
            log.info("polling %d feeds into %s", len(feeds), topic)
            await poller.run(stop)
    finally:
        await sink.stop()
        await redis.aclose()
        log.info("poller stopped")


async def _prepare_kafka(settings: Settings, topic: str, sink: KafkaSink) -> None:
    """Create the raw and rejected topics if missing and start the producer, waiting for
    Kafka if it is down."""
    partitions = partitions_by_topic(("raw", "rejected"), settings.kafka)
    while True:
        try:
            await create_topics(settings, partitions)
            break
        except Exception as exc:
            log.warning("Kafka not reachable to create %s (%s); retrying in 2s", topic, exc)
            await asyncio.sleep(2.0)
    await sink.start()


async def _until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run the ``work`` coroutine unless ``stop`` comes first; True if it completed."""
    task = asyncio.create_task(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False
