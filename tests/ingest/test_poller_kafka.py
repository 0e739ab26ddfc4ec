"""Every seed reaches the raw topic of the REAL broker exactly once per feed: while feeds
misbehave, across a poller restart, and across a broker outage."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from monitor.commands.poll import run_poll
from monitor.core.records import RawArticle
from monitor.ingest.feeds import FeedConfig, FeedOptions, PollInterval
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller
from monitor.ingest.sink import KafkaSink
from monitor.settings import Settings
from monitor.stores.seen import RedisSeenStore
from monitor.stream.app import create_topics
from monitor.stream.topics import TOPICS
from tests.conftest import run_services_script, start_services
from tests.ingest.conftest import LOOPBACK
from tests.ingest.newsite import NewsSite

pytestmark = pytest.mark.integration

FAST = PollInterval(min=0.2, max=0.6)
PATHS = {
    "main": "/rss/main.xml",
    "broken": "/rss/broken.xml",
    "cp1256": "/rss/cp1256-header.xml",
    "liar": "/rss/liar.xml",
    "flaky": "/rss/flaky.xml",
    "endless": "/rss/endless.xml",  # never delivers anything, must not hold the others up
}
DELIVERING = [name for name in PATHS if name != "endless"]


def site_feeds(site: NewsSite) -> list[FeedConfig]:
    return [
        FeedConfig(
            name=name,
            outlet="newsite",
            url=site.url(path),
            interval=FAST,
            options=FeedOptions(fetch_pages=name == "main"),
        )
        for name, path in PATHS.items()
    ]


def poll_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "poller": settings.poller.model_copy(
                update={
                    "allow_private_addresses": True,  # the test site is on loopback
                    "host_min_spacing_seconds": 0.0,
                    "fetch_deadline_seconds": 1.0,
                    "max_backoff_seconds": 2.0,
                    "conditional_verify_every": 3,
                }
            )
        }
    )


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 60, idle: float = 3.0
) -> list[RawArticle]:
    """Everything on ``topic`` from the start: waits for ``expect`` records, then ``idle``
    seconds more so that a duplicate would show up."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[RawArticle] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for batch in batches.values():
                for record in batch:
                    article = RawArticle.model_validate_json(record.value)
                    assert record.key == article.id.encode()
                    records.append(article)
                    quiet_since = time.monotonic()
            if len(records) >= expect and time.monotonic() - quiet_since >= idle:
                break
    finally:
        await consumer.stop()
    return records


def assert_exactly_once(
    records: Sequence[RawArticle], site: NewsSite, feeds: Sequence[str]
) -> None:
    copies = Counter((a.feed, a.id) for a in records)
    assert max(copies.values()) == 1, [k for k, n in copies.items() if n > 1]
    expected = [s.title for s in site.stories[: site.published]]
    for feed in feeds:
        titles = [a.title for a in records if a.feed == feed]
        assert sorted(titles) == sorted(expected), feed
    assert {a.feed for a in records} == set(feeds)


async def _wait_for(records: int, bootstrap: str, topic: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await read_topic(bootstrap, topic, expect=records, timeout=5, idle=0)
        if len(got) >= records:
            return
    raise AssertionError(f"fewer than {records} records on {topic} after {timeout}s")


async def test_every_seed_once_across_a_poller_restart(
    news_site: NewsSite, service_settings: Settings
) -> None:
    settings = poll_settings(service_settings)
    bootstrap = settings.kafka.bootstrap
    topic = TOPICS["raw"].name(settings.kafka.topic_prefix)
    await create_topics(settings, {topic: settings.kafka.partitions})
    feeds = site_feeds(news_site)

    news_site.publish_next()
    news_site.publish_next()
    stop = asyncio.Event()
    first = asyncio.create_task(run_poll(settings, feeds, stop))
    await _wait_for(2 * len(DELIVERING), bootstrap, topic)
    stop.set()
    await first

    # A new process knows nothing but what Redis remembers: no ETags, no pending entries.
    news_site.publish_next()
    stop = asyncio.Event()
    second = asyncio.create_task(run_poll(settings, feeds, stop))
    try:
        await _wait_for(3 * len(DELIVERING), bootstrap, topic)
        news_site.publish_next()
        news_site.publish_next()
        records = await read_topic(bootstrap, topic, expect=5 * len(DELIVERING), idle=4.0)
    finally:
        stop.set()
        await second
    assert_exactly_once(records, news_site, DELIVERING)
    main = [a for a in records if a.feed == "main"]
    assert all("<footer>" in (a.html or "") for a in main)  # article pages were fetched
    assert all(a.trace["produced"] >= a.trace["polled"] for a in records)


def _sink_errors(feed: str) -> float:
    return (
        REGISTRY.get_sample_value("monitor_feed_errors_total", {"feed": feed, "kind": "sink"})
        or 0.0
    )


async def test_every_seed_once_across_a_broker_outage(news_site: NewsSite, tmp_path: Path) -> None:
    # A broker of this test alone: stopping it must not disturb the other tests.
    services = start_services(tmp_path / "services")
    assert services.dir is not None
    redis = aioredis.Redis.from_url(services.redis_url)
    topic = "outage.raw"
    settings = poll_settings(Settings(kafka={"bootstrap": services.kafka_bootstrap}))
    feeds = [
        feed.model_copy(update={"name": f"outage-{feed.name}"})
        for feed in site_feeds(news_site)
        if feed.name in ("main", "cp1256", "liar")
    ]
    names = [feed.name for feed in feeds]
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    sink = KafkaSink(
        services.kafka_bootstrap, topic, request_timeout_ms=3000, ack_timeout=2.0, stop_timeout=5.0
    )
    try:
        await create_topics(settings, {topic: 2})
        await sink.start()
        fetcher = Fetcher(FetchLimits.from_settings(settings.poller), guard=LOOPBACK)
        poller = Poller(
            feeds,
            fetcher=fetcher,
            sink=sink,
            settings=settings.poller,
            seen=RedisSeenStore(redis, key_prefix="outage:", ttl_seconds=3600),
            rng=random.Random(3),
            sink_retry_base=0.5,
        )
        running = asyncio.create_task(poller.run(stop, shutdown_grace=10))
        news_site.publish_next()
        await _wait_for(len(feeds), services.kafka_bootstrap, topic)

        services.run("stop-kafka")
        news_site.publish_next()
        news_site.publish_next()
        deadline = time.monotonic() + 60
        while not all(_sink_errors(name) >= 2 for name in names):
            assert time.monotonic() < deadline, "the sink never failed while Kafka was down"
            await asyncio.sleep(0.5)
        assert all(poller.states[name].pending for name in names)
        services.run("start-kafka")

        await _wait_for(3 * len(feeds), services.kafka_bootstrap, topic, timeout=90)
        news_site.publish_next()
        news_site.publish_next()
        records = await read_topic(services.kafka_bootstrap, topic, expect=5 * len(feeds), idle=4.0)
        assert_exactly_once(records, news_site, names)
        assert not any(poller.states[name].pending for name in names)
    finally:
        stop.set()
        if running is not None:
            await running
            await fetcher.aclose()
        await sink.stop()
        await redis.aclose()
        run_services_script("down", str(services.dir))


async def test_monitor_poll_serves_metrics_and_stops_on_sigterm(
    news_site: NewsSite, service_settings: Settings, tmp_path: Path
) -> None:
    settings = poll_settings(service_settings)
    topic = TOPICS["raw"].name(settings.kafka.topic_prefix)
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(
        "defaults: {outlet: newsite, interval: {min: 0.2, max: 0.6}}\nfeeds:\n"
        f"  - {{name: main, url: '{news_site.url('/rss/main.xml')}'}}\n"
        f"  - {{name: broken, url: '{news_site.url('/rss/broken.xml')}'}}\n",
        encoding="utf-8",
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    empty_config = tmp_path / "monitor.yaml"  # not the checkout's config/monitor.yaml
    empty_config.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "MONITOR_KAFKA__BOOTSTRAP": settings.kafka.bootstrap,
        "MONITOR_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "MONITOR_REDIS__URL": settings.redis.url,
        "MONITOR_REDIS__KEY_PREFIX": settings.redis.key_prefix,
        "MONITOR_POLLER__HOST_MIN_SPACING_SECONDS": "0",
        "MONITOR_CONFIG": str(empty_config),
    }
    news_site.publish_all()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor.cli",
        "poll",
        "--feeds",
        str(feeds_file),
        "--metrics-port",
        str(metrics_port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        records = await read_topic(settings.kafka.bootstrap, topic, expect=10, timeout=60, idle=2)
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert_exactly_once(records, news_site, ["main", "broken"])
    assert 'monitor_feed_fetches_total{feed="main",outcome="ok"}' in metrics
    assert 'monitor_feed_entries_total{feed="broken",state="new"} 5.0' in metrics
    assert process.stderr is not None
    assert b"poller stopped" in await process.stderr.read()
