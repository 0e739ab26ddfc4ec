"""``monitor dispatch`` as a real service: Kafka in, webhook out, killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from monitor.alerts.records import DeadLetter, Notification
from monitor.commands.dispatch import run_dispatch
from monitor.core.records import Alert, Decision
from monitor.metrics import DELIVERIES
from monitor.settings import Settings
from monitor.stores.deliveries import RedisDeliveryStore
from monitor.stream.topics import TOPICS
from tests.alerts.conftest import SECRET, WebhookReceiver, make_alert
from tests.conftest import Services

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class DispatchProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "dispatch"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip

    def signal(self, sig: int) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def dispatch_env(
    tmp_path: Path, webhook: WebhookReceiver, kafka_bootstrap: str, redis_url: str,
    topic_prefix: str,
) -> dict[str, str]:  # fmt: skip
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text(
        "subscribers:\n"
        "  - id: desk\n"
        f"    channel: {{type: webhook, url: '{webhook.url}', secret_env: TEST_HOOK_SECRET}}\n"
        "    filters: {words: [بوتين]}\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env.update(
        {
            "TEST_HOOK_SECRET": SECRET,
            "MONITOR_KAFKA__BOOTSTRAP": kafka_bootstrap,
            "MONITOR_KAFKA__TOPIC_PREFIX": topic_prefix,
            "MONITOR_REDIS__URL": redis_url,
            "MONITOR_REDIS__KEY_PREFIX": topic_prefix,
            "MONITOR_ALERTS__SUBSCRIPTIONS_FILE": str(subscriptions),
            "MONITOR_ALERTS__HTTP_TIMEOUT_SECONDS": "1.5",
            "MONITOR_ALERTS__LEASE_SECONDS": "3",
            "MONITOR_ALERTS__RETRY_BASE_SECONDS": "0.1",
            "MONITOR_ALERTS__SSE_PORT": "0",
            "MONITOR_METRICS__PORT": "0",
        }
    )
    return env


@pytest.fixture
def dispatch(dispatch_env: dict[str, str], tmp_path: Path) -> Iterator[DispatchProcess]:
    process = DispatchProcess(dispatch_env, tmp_path / "dispatch.log")
    yield process
    process.stop()


async def test_killed_mid_delivery_and_restarted_never_delivers_twice(
    dispatch: DispatchProcess, webhook: WebhookReceiver, kafka_bootstrap: str, redis_url: str,
    topic_prefix: str,
) -> None:  # fmt: skip
    alerts_topic = TOPICS["alerts"].name(topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()

    async def publish(alert: Alert) -> None:
        await producer.send_and_wait(
            alerts_topic, alert.model_dump_json().encode(), key=alert.story.encode()
        )

    first, slow, later = (make_alert(i) for i in range(3))
    keys = [f"{a.id}:desk" for a in (first, slow, later)]
    webhook.slow_keys[keys[1]] = 1.0  # shorter than the HTTP timeout: only the kill stops it
    try:
        dispatch.start()
        await publish(first)
        await _until(lambda: webhook.processed[keys[0]] == 1, 90, "the first delivery")

        await publish(slow)
        await _until(lambda: keys[1] in webhook.started, 30, "the slow request")
        assert dispatch.signal(signal.SIGKILL) == -signal.SIGKILL
        await _until(lambda: len(webhook.requests) == 2, 10, "the receiver to finish")
        assert webhook.requests[1].status == 0  # the answer never reached the dead sender

        dispatch.start()
        await _until(lambda: webhook.processed[keys[1]] == 1, 60, "the redelivery")
        await publish(later)
        await _until(lambda: webhook.processed[keys[2]] == 1, 60, "the last delivery")
        await asyncio.sleep(1.0)  # time for any wrong extra delivery to show up
        assert dispatch.signal(signal.SIGTERM) == 0  # graceful stop
    finally:
        await producer.stop()

    assert dict(webhook.processed) == dict.fromkeys(keys, 1)
    assert webhook.bad_signatures == 0
    per_key = [r.key for r in webhook.requests]
    assert per_key.count(keys[0]) == 1  # done before the kill: never resent
    assert per_key.count(keys[1]) == 2  # resent once, under the same key
    assert per_key.count(keys[2]) == 1
    client = aioredis.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, key_prefix=topic_prefix)
    records = [await store.get(key) for key in keys]
    assert [(r.state, r.attempts) for r in records if r] == [("done", 1), ("done", 2), ("done", 1)]
    await client.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _sse_events(url: str, wanted: int, found: list[dict[str, str]]) -> None:
    """Collect ``wanted`` events from the live stream into ``found`` (reconnects until up)."""
    async with httpx.AsyncClient(timeout=None) as client:
        while True:
            try:
                async with client.stream("GET", url) as response:
                    event: dict[str, str] = {}
                    async for line in response.aiter_lines():
                        if not line:
                            if "data" in event:
                                found.append(event)
                                if len(found) == wanted:
                                    return
                            event = {}
                        elif not line.startswith(":"):
                            name, _, value = line.partition(": ")
                            event[name] = value
            except httpx.ConnectError:
                await asyncio.sleep(0.1)


async def test_service_turns_a_spike_of_decisions_into_a_breaking_alert(
    service_settings: Settings, webhook: WebhookReceiver, tmp_path: Path
) -> None:
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text(
        "subscribers:\n"
        "  - id: breaking-desk\n"
        f"    channel: {{type: webhook, url: '{webhook.url}', secret: '{SECRET}'}}\n"
        "    filters: {kinds: [breaking]}\n",
        encoding="utf-8",
    )
    settings = _service_settings(service_settings, subscriptions)
    settings.alerts.sse_port = _free_port()
    settings.alerts.spike_min_outlets = 3
    prefix = settings.kafka.topic_prefix
    stop = asyncio.Event()
    service = asyncio.create_task(run_dispatch(settings, stop))
    events: list[dict[str, str]] = []
    reader = asyncio.create_task(
        _sse_events(f"http://127.0.0.1:{settings.alerts.sse_port}/alerts/stream", 2, events)
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        development = make_alert(1, story="visit")
        await producer.send_and_wait(
            TOPICS["alerts"].name(prefix), development.model_dump_json().encode(), key=b"visit"
        )
        # Topics are consumed in no set order: let the alert (and its story title) in first.
        await _until(lambda: len(events) == 1, 90, "the alert on the live stream")
        for outlet in ("youm7", "ahram", "masrawy"):
            decision = Decision(
                article=f"{outlet}-1", outlet=outlet, decision="duplicate", story="visit"
            )
            await producer.send_and_wait(
                TOPICS["decisions"].name(prefix),
                decision.model_dump_json().encode(),
                key=decision.article.encode(),
            )
        await asyncio.wait_for(reader, 90)
        await _until(lambda: len(webhook.accepted) == 1, 30, "the breaking alert")
    finally:
        await producer.stop()
        stop.set()
        await asyncio.wait_for(service, 60)

    assert (events[0]["event"], events[0]["id"]) == ("development", development.id)
    assert events[1]["event"] == "breaking"
    breaking = Alert.model_validate_json(events[1]["data"])
    assert breaking.story == "visit" and breaking.story_title == development.story_title
    assert webhook.accepted[0].json["alerts"][0]["id"] == breaking.id
    assert webhook.accepted[0].key == f"{breaking.id}:breaking-desk"

    # Everything consumed is committed: a restart starts after these records.
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.alerts.consumer_group)
    finally:
        await admin.close()
    per_topic: dict[str, int] = {}
    for partition, meta in committed.items():
        per_topic[partition.topic] = per_topic.get(partition.topic, 0) + meta.offset
    assert per_topic == {TOPICS["alerts"].name(prefix): 1, TOPICS["decisions"].name(prefix): 3}


def _service_settings(base: Settings, subscriptions: Path) -> Settings:
    settings = base.model_copy(deep=True)
    settings.alerts.subscriptions_file = subscriptions
    settings.alerts.sse_port = 0
    settings.alerts.consumer_group = f"{settings.kafka.topic_prefix}dispatch"
    settings.alerts.retry_base_seconds = 0.1
    settings.metrics.port = 0
    return settings


async def test_service_waits_out_a_redis_outage_without_losing_alerts(
    service_settings: Settings, services: Services, webhook: WebhookReceiver, tmp_path: Path
) -> None:
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text(
        "subscribers:\n"
        "  - id: desk\n"
        f"    channel: {{type: webhook, url: '{webhook.url}', secret: '{SECRET}'}}\n",
        encoding="utf-8",
    )
    settings = _service_settings(service_settings, subscriptions)
    topic = TOPICS["alerts"].name(settings.kafka.topic_prefix)
    stop = asyncio.Event()
    service = asyncio.create_task(run_dispatch(settings, stop))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    await producer.start()
    before, during = make_alert(1), make_alert(2)
    try:
        await producer.send_and_wait(topic, before.model_dump_json().encode(), key=b"s")
        await _until(lambda: len(webhook.accepted) == 1, 90, "the first delivery")
        services.run("stop-redis")
        try:
            await producer.send_and_wait(topic, during.model_dump_json().encode(), key=b"s")
            await asyncio.sleep(2.0)
            assert len(webhook.accepted) == 1 and not service.done()
        finally:
            services.run("start-redis")
        await _until(lambda: len(webhook.accepted) == 2, 60, "the delivery after the outage")
    finally:
        await producer.stop()
        stop.set()
        await asyncio.wait_for(service, 60)
    assert [r.key for r in webhook.accepted] == [f"{before.id}:desk", f"{during.id}:desk"]


async def _committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for partition, meta in offsets.items() if partition.topic == topic)


async def test_alerts_held_by_a_cooldown_or_digest_survive_a_kill_and_go_out_once(
    dispatch: DispatchProcess, webhook: WebhookReceiver, kafka_bootstrap: str,
    topic_prefix: str, tmp_path: Path,
) -> None:  # fmt: skip
    """The held alerts are in Redis with the deliveries: a dispatcher killed while it holds
    them (their Kafka offsets committed, so they are never read again) is replaced by one
    that sends them when the cool-down and the digest end, each exactly once."""
    window = 10.0
    subscriptions = tmp_path / "held.yaml"
    hook = f"{{type: webhook, url: '{webhook.url}', secret_env: TEST_HOOK_SECRET}}"
    subscriptions.write_text(
        "subscribers:\n"
        f"  - id: calm\n    channel: {hook}\n    cooldown_seconds: {window}\n"
        f"  - id: daily\n    channel: {hook}\n    digest_seconds: {window}\n",
        encoding="utf-8",
    )
    group = f"{topic_prefix}dispatch"
    dispatch.env["MONITOR_ALERTS__SUBSCRIPTIONS_FILE"] = str(subscriptions)
    dispatch.env["MONITOR_ALERTS__CONSUMER_GROUP"] = group
    alerts_topic = TOPICS["alerts"].name(topic_prefix)
    first, held = make_alert(1), make_alert(2)  # one story: the second is in the cool-down
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        dispatch.start()
        for alert in (first, held):
            await producer.send_and_wait(
                alerts_topic, alert.model_dump_json().encode(), key=alert.story.encode()
            )
        sent_at = time.monotonic()
        await _until(lambda: webhook.processed[f"{first.id}:calm"] == 1, 90, "the first alert")
        deadline = time.monotonic() + 30
        # Both alerts handled and committed: Kafka will not hand them out again.
        while await _committed(admin, group, alerts_topic) < 2:
            assert time.monotonic() < deadline, "the alerts' offsets were not committed"
            await asyncio.sleep(0.1)
        assert dispatch.signal(signal.SIGKILL) == -signal.SIGKILL
        assert time.monotonic() - sent_at < window  # killed while it held them
        assert len(webhook.requests) == 1

        dispatch.start()
        await _until(lambda: len(webhook.accepted) == 3, 60, "the held alerts")
        await asyncio.sleep(2.0)  # time for any wrong extra delivery to show up
        assert dispatch.signal(signal.SIGTERM) == 0
    finally:
        await admin.close()
        await producer.stop()

    received: dict[str, list[tuple[str, list[str]]]] = {}
    for request in webhook.requests:
        body = request.json
        ids = [alert["id"] for alert in body["alerts"]]
        received.setdefault(body["subscriber"], []).append((body["kind"], ids))
    assert received == {
        "calm": [("alert", [first.id]), ("alert", [held.id])],
        "daily": [("digest", [first.id, held.id])],
    }
    assert all(request.status == 200 for request in webhook.requests)


async def test_a_dead_letter_over_the_record_limit_is_cut_and_published(
    service_settings: Settings, webhook: WebhookReceiver, tmp_path: Path
) -> None:
    """A digest of 60 long alerts (about 1.5 MB) fails for good: its dead letter, over the
    producer's 1 MiB, goes out cut (the alerts' texts and the folded alerts left out, their
    ids kept, the whole notification in Redis under its idempotency key), counted."""
    webhook.always_fail = True
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text(
        "subscribers:\n"
        "  - id: hourly\n"
        f"    channel: {{type: webhook, url: '{webhook.url}', secret: '{SECRET}'}}\n"
        "    digest_seconds: 5\n",
        encoding="utf-8",
    )
    settings = _service_settings(service_settings, subscriptions)
    settings.alerts.max_attempts = 1
    prefix = settings.kafka.topic_prefix
    long_text = "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية. " * 200
    alerts = [make_alert(i, sentences=[f"{i}: {long_text}"]) for i in range(60)]
    cut_before = DELIVERIES.labels("webhook", "hourly", "dead_letter_truncated")._value.get()
    stop = asyncio.Event()
    service = asyncio.create_task(run_dispatch(settings, stop))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    await producer.start()
    consumer = AIOKafkaConsumer(
        TOPICS["dead_letters"].name(prefix), bootstrap_servers=settings.kafka.bootstrap,
        auto_offset_reset="earliest",
    )  # fmt: skip
    try:
        for alert in alerts:
            await producer.send(
                TOPICS["alerts"].name(prefix), alert.model_dump_json().encode(), key=b"s"
            )
        await producer.flush()
        await consumer.start()
        record = await asyncio.wait_for(consumer.getone(), 120)
    finally:
        await consumer.stop()
        await producer.stop()
        stop.set()
        await asyncio.wait_for(service, 60)

    [request] = webhook.requests
    assert len(request.body) > 1024 * 1024  # what failed was over the limit
    assert len(record.value) <= 1024 * 1024
    dead = DeadLetter.model_validate_json(record.value)
    assert (
        dead.truncated
        and dead.original_bytes is not None
        and dead.original_bytes > len(record.value)
    )
    assert dead.subscriber == "hourly" and dead.reason.startswith("1 attempts; last: HTTP 500")
    assert dead.alert.id == alerts[-1].id and dead.alert.new_sentences == []
    assert dead.folded == [] and dead.folded_ids == [a.id for a in alerts[:-1]]
    assert dead.idempotency_key == request.key
    assert record.key == alerts[-1].id.encode()
    assert (
        DELIVERIES.labels("webhook", "hourly", "dead_letter_truncated")._value.get()
        == cut_before + 1
    )
    # The reference: the whole notification stays in Redis under the idempotency key.
    client = aioredis.Redis.from_url(settings.redis.url)
    try:
        payload = await client.hget(f"{settings.redis.key_prefix}delivery:{request.key}", "payload")
    finally:
        await client.aclose()
    assert payload is not None and len(Notification.model_validate_json(payload).alerts) == 60
