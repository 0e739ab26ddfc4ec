"""The dispatcher against real receivers on loopback, with the Redis store and Kafka."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.records import DeadLetter, Notification
from monitor.alerts.subscriptions import Subscriptions
from monitor.core.records import Alert, Decision
from monitor.metrics import ALERTS, DELIVERIES
from monitor.settings import AlertSettings
from monitor.stores.deliveries import MemoryDeliveryStore, RedisDeliveryStore
from monitor.stream.topics import TOPICS
from tests.alerts.conftest import SECRET, WebhookReceiver, make_alert

pytestmark = pytest.mark.integration

FAST = AlertSettings.model_validate(
    {"retry_base_seconds": 0.02, "retry_max_seconds": 0.1, "max_attempts": 6,
     "http_timeout_seconds": 2.0, "lease_seconds": 5.0, "allowed_networks": ["127.0.0.0/8"]}
)  # fmt: skip


def _subscriptions(*subscribers: dict[str, Any]) -> Subscriptions:
    return Subscriptions.model_validate({"subscribers": list(subscribers)})


def _webhook_subscriber(url: str, sub_id: str = "desk", **extra: Any) -> dict[str, Any]:
    return {
        "id": sub_id,
        "channel": {"type": "webhook", "url": url, "secret": SECRET},
        "filters": {"words": ["بوتين"]},
        **extra,
    }


@pytest.fixture
async def redis_store(
    redis_client: aioredis.Redis, topic_prefix: str
) -> AsyncIterator[RedisDeliveryStore]:
    yield RedisDeliveryStore(redis_client, key_prefix=topic_prefix)


async def _deliver_all(dispatcher: Dispatcher, timeout: float = 20.0) -> None:
    runner = asyncio.create_task(dispatcher.run())
    try:
        assert await dispatcher.drain(timeout), "deliveries still pending"
    finally:
        await dispatcher.close()
        await runner


def _count(channel: str, subscriber: str, outcome: str) -> float:
    return DELIVERIES.labels(channel, subscriber, outcome)._value.get()


async def test_failing_webhook_gets_the_alert_once_under_one_key(
    webhook: WebhookReceiver, redis_store: RedisDeliveryStore
) -> None:
    webhook.fail_first = 3
    retried_before = _count("webhook", "desk", "retried")
    dispatcher = Dispatcher(_subscriptions(_webhook_subscriber(webhook.url)), redis_store, FAST)
    alert = make_alert(1)
    assert await dispatcher.handle_alert(alert) == [f"{alert.id}:desk"]
    await _deliver_all(dispatcher)

    assert [r.status for r in webhook.requests] == [500, 500, 500, 200]
    assert {r.key for r in webhook.requests} == {f"{alert.id}:desk"}
    assert webhook.bad_signatures == 0
    [accepted] = webhook.accepted
    body = accepted.json
    assert body["key"] == f"{alert.id}:desk" and body["kind"] == "alert"
    assert Alert.model_validate(body["alerts"][0]) == alert
    assert body["alerts"][0]["new_sentences"] == alert.new_sentences  # Arabic intact
    record = await redis_store.get(f"{alert.id}:desk")
    assert record is not None and (record.state, record.attempts) == ("done", 4)
    assert _count("webhook", "desk", "retried") == retried_before + 3
    # The alert consumed again (e.g. after a crash before the offset commit) is not resent.
    again = Dispatcher(_subscriptions(_webhook_subscriber(webhook.url)), redis_store, FAST)
    await again.handle_alert(alert)
    await _deliver_all(again)
    assert len(webhook.requests) == 4


async def test_always_failing_webhook_ends_in_the_dead_letter_topic(
    webhook: WebhookReceiver, redis_store: RedisDeliveryStore, kafka_bootstrap: str,
    topic_prefix: str,
) -> None:  # fmt: skip
    webhook.always_fail = True
    topic = TOPICS["dead_letters"].name(topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()

    async def to_kafka(dead: DeadLetter) -> None:
        await producer.send_and_wait(
            topic, dead.model_dump_json().encode(), key=dead.alert.id.encode()
        )

    settings = FAST.model_copy(update={"max_attempts": 3})
    dispatcher = Dispatcher(
        _subscriptions(_webhook_subscriber(webhook.url)), redis_store, settings,
        dead_letters=to_kafka,
    )  # fmt: skip
    alert = make_alert(2)
    await dispatcher.handle_alert(alert)
    await _deliver_all(dispatcher)
    await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
        group_id=f"{topic_prefix}reader",
    )  # fmt: skip
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    dead = DeadLetter.model_validate_json(record.value)
    assert record.key == alert.id.encode()
    assert dead.alert == alert and dead.subscriber == "desk" and dead.channel == "webhook"
    assert dead.attempts == 3 and "HTTP 500" in dead.reason
    assert dead.idempotency_key == f"{alert.id}:desk"
    assert len(webhook.requests) == 3
    state = await redis_store.get(f"{alert.id}:desk")
    assert state is not None and state.state == "dead"


async def test_a_rejected_signature_is_permanent_and_not_retried(
    webhook: WebhookReceiver, redis_store: RedisDeliveryStore
) -> None:
    webhook.secret = "another secret"
    dead_letters: list[DeadLetter] = []

    async def collect(dead: DeadLetter) -> None:
        dead_letters.append(dead)

    dispatcher = Dispatcher(
        _subscriptions(_webhook_subscriber(webhook.url)), redis_store, FAST, dead_letters=collect
    )
    await dispatcher.handle_alert(make_alert(3))
    await _deliver_all(dispatcher)
    assert len(webhook.requests) == 1
    [dead] = dead_letters
    assert dead.attempts == 1 and dead.reason.startswith("HTTP 401")


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _deliver_now(dispatcher: Dispatcher) -> None:
    await dispatcher.flush_due()
    await dispatcher.deliver_due()
    assert await dispatcher.drain(10)


async def test_cooldown_folds_ten_developments_in_a_minute_into_two_messages(
    webhook: WebhookReceiver,
) -> None:
    clock = FakeClock()
    start = clock.now
    suppressed_before = _count("webhook", "calm", "suppressed")
    subscriptions = _subscriptions(
        _webhook_subscriber(webhook.url, "calm", cooldown_seconds=600),
        _webhook_subscriber(webhook.url, "eager"),
    )
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), FAST, clock=clock)
    story = [make_alert(i, story="visit") for i in range(10)]
    other = make_alert(99, story="another")
    for index, alert in enumerate(story):
        clock.now = start + index * 6.0
        await dispatcher.handle_alert(alert)
        if index == 5:
            await dispatcher.handle_alert(other)  # another story: its own cool-down
        await _deliver_now(dispatcher)

    def received(subscriber: str) -> list[Notification]:
        return [
            Notification.model_validate(r.json)
            for r in webhook.accepted
            if r.json["subscriber"] == subscriber
        ]

    assert len(received("eager")) == 11
    calm = received("calm")
    assert [[a.id for a in n.alerts] for n in calm] == [[story[0].id], [other.id]]
    assert _count("webhook", "calm", "suppressed") == suppressed_before + 9

    clock.now = start + 599.0
    await _deliver_now(dispatcher)
    assert len(received("calm")) == 2
    clock.now = start + 600.0
    await _deliver_now(dispatcher)
    calm = received("calm")
    assert len(calm) == 3
    assert [a.id for a in calm[2].alerts] == [a.id for a in story[1:]]
    assert calm[2].suppressed == 9
    await dispatcher.close()


async def test_an_alert_after_the_cooldown_carries_the_held_ones(webhook: WebhookReceiver) -> None:
    clock = FakeClock()
    subscriptions = _subscriptions(_webhook_subscriber(webhook.url, cooldown_seconds=60))
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), FAST, clock=clock)
    alerts = [make_alert(i) for i in range(3)]
    for alert, at in zip(alerts, [0.0, 10.0, 70.0], strict=True):
        clock.now = 1000.0 + at
        await dispatcher.handle_alert(alert)
        await dispatcher.deliver_due()
        assert await dispatcher.drain(10)
    messages = [r.json for r in webhook.accepted]
    assert [[a["id"] for a in m["alerts"]] for m in messages] == [
        [alerts[0].id],
        [alerts[1].id, alerts[2].id],
    ]
    assert messages[1]["suppressed"] == 1
    await dispatcher.close()


async def test_digest_sends_one_message_per_interval(webhook: WebhookReceiver) -> None:
    clock = FakeClock()
    subscriptions = _subscriptions(_webhook_subscriber(webhook.url, digest_seconds=3600))
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), FAST, clock=clock)
    start = clock.now
    for index in range(5):
        clock.now = start + index * 600.0
        await dispatcher.handle_alert(make_alert(index, story=f"s{index % 2}"))
        await _deliver_now(dispatcher)
    assert webhook.requests == []
    clock.now = start + 3600.0
    await _deliver_now(dispatcher)
    [digest] = [r.json for r in webhook.accepted]
    assert digest["kind"] == "digest" and len(digest["alerts"]) == 5
    assert digest["key"].startswith("digest-")
    await dispatcher.close()


async def test_decisions_spike_into_a_breaking_alert(
    webhook: WebhookReceiver, redis_store: RedisDeliveryStore
) -> None:
    subscriptions = _subscriptions(
        {
            "id": "breaking-only",
            "channel": {"type": "webhook", "url": webhook.url, "secret": SECRET},
            "filters": {"kinds": ["breaking"], "names": ["بوتين"]},
        }
    )
    settings = FAST.model_copy(update={"spike_min_outlets": 3})
    dispatcher = Dispatcher(subscriptions, redis_store, settings)
    breaking_before = ALERTS.labels(kind="breaking")._value.get()
    story_alert = make_alert(0, story="visit", kind="new_story")
    await dispatcher.handle_alert(story_alert)  # not breaking: filtered out, names remembered
    raised = []
    for outlet in ["youm7", "ahram", "masrawy", "shorouk"]:
        decision = Decision(
            article=f"{outlet}-1", outlet=outlet, decision="duplicate", story="visit"
        )
        raised.append(await dispatcher.handle_decision(decision))
    assert [a is not None for a in raised] == [False, False, True, False]
    await _deliver_all(dispatcher)
    [message] = [r.json for r in webhook.accepted]
    breaking = Alert.model_validate(message["alerts"][0])
    assert breaking.kind == "breaking" and breaking.story == "visit"
    assert breaking.story_title == story_alert.story_title
    assert {s.outlet for s in breaking.sources} == {"youm7", "ahram", "masrawy"}
    assert ALERTS.labels(kind="breaking")._value.get() == breaking_before + 1


async def test_slack_and_telegram_formats(webhook: WebhookReceiver) -> None:
    webhook.secret = ""
    base = webhook.url.rsplit("/", 1)[0]
    subscriptions = _subscriptions(
        {"id": "slack", "channel": {"type": "slack", "url": f"{base}/slack"}},
        {
            "id": "tg",
            "channel": {"type": "telegram", "chat_id": "-100123", "token": "123:ABC",
                        "api_url": f"{base}/tg"},
        },
    )  # fmt: skip
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), FAST)
    alert = make_alert(5, sentences=["قال بوتين إن <العلاقات> & التعاون ممتازة"])
    await dispatcher.handle_alert(alert)
    await _deliver_all(dispatcher)
    by_path = {r.path: r for r in webhook.accepted}
    slack = by_path["/slack"].json
    assert set(slack) == {"text", "blocks"}
    assert alert.story_title in slack["text"]
    assert "قال بوتين إن &lt;العلاقات&gt; &amp; التعاون ممتازة" in slack["text"]  # escaped
    assert slack["blocks"][0]["type"] == "header"
    assert "&lt;العلاقات&gt; &amp;" in json.dumps(slack["blocks"], ensure_ascii=False)
    telegram = by_path["/tg/bot123:ABC/sendMessage"].json
    assert telegram["chat_id"] == "-100123" and telegram["parse_mode"] == "HTML"
    assert telegram["text"].startswith(f"<b>[تطور جديد] {alert.story_title}</b>")
    assert "قال بوتين إن &lt;العلاقات&gt; &amp; التعاون ممتازة" in telegram["text"]
    assert by_path["/slack"].key == f"{alert.id}:slack"


async def test_closing_sends_held_alerts_early_instead_of_losing_them(
    webhook: WebhookReceiver,
) -> None:
    clock = FakeClock()
    subscriptions = _subscriptions(
        _webhook_subscriber(webhook.url, "calm", cooldown_seconds=600),
        _webhook_subscriber(webhook.url, "daily", digest_seconds=86_400),
    )
    dispatcher = Dispatcher(subscriptions, MemoryDeliveryStore(), FAST, clock=clock)
    alerts = [make_alert(i) for i in range(3)]
    for alert in alerts:
        await dispatcher.handle_alert(alert)
    await _deliver_now(dispatcher)
    assert [r.json["subscriber"] for r in webhook.accepted] == ["calm"]
    await dispatcher.close()
    messages = {r.json["subscriber"]: r.json for r in webhook.accepted[1:]}
    assert [a["id"] for a in messages["calm"]["alerts"]] == [a.id for a in alerts[1:]]
    assert messages["daily"]["kind"] == "digest" and len(messages["daily"]["alerts"]) == 3


@pytest.fixture(params=["memory", "redis"])
async def any_store(
    request: pytest.FixtureRequest, topic_prefix: str
) -> AsyncIterator[MemoryDeliveryStore | RedisDeliveryStore]:
    if request.param == "memory":
        yield MemoryDeliveryStore()
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisDeliveryStore(client, key_prefix=topic_prefix)
    await client.aclose()


async def test_held_alerts_live_in_the_store_and_an_alert_read_again_is_held_once(
    webhook: WebhookReceiver, any_store: MemoryDeliveryStore | RedisDeliveryStore
) -> None:
    """A new dispatcher on the same store (a restart) finds what the last one held; an alert
    consumed again (its offset was not committed before the crash) is not held twice."""
    clock = FakeClock()
    start = clock.now
    subscriptions = _subscriptions(
        _webhook_subscriber(webhook.url, "calm", cooldown_seconds=60),
        _webhook_subscriber(webhook.url, "daily", digest_seconds=600),
    )
    first, second, third = (make_alert(i) for i in range(3))
    crashed = Dispatcher(subscriptions, any_store, FAST, clock=clock)
    await crashed.handle_alert(first)
    clock.now = start + 10.0
    await crashed.handle_alert(second)
    await _deliver_now(crashed)
    assert [r.json["subscriber"] for r in webhook.accepted] == ["calm"]
    await crashed._client.aclose()  # no close(): what it holds is not handed over

    restarted = Dispatcher(subscriptions, any_store, FAST, clock=clock)
    assert await restarted.handle_alert(second) == []  # read again: already held
    clock.now = start + 20.0
    await restarted.handle_alert(third)
    await _deliver_now(restarted)
    assert len(webhook.accepted) == 1
    clock.now = start + 60.0
    await _deliver_now(restarted)
    clock.now = start + 600.0
    await _deliver_now(restarted)
    messages = [
        (r.json["subscriber"], [a["id"] for a in r.json["alerts"]]) for r in webhook.accepted
    ]
    assert messages == [
        ("calm", [first.id]),
        ("calm", [second.id, third.id]),
        ("daily", [first.id, second.id, third.id]),
    ]
    assert webhook.accepted[1].json["suppressed"] == 2
    await restarted.close()
    assert len(webhook.accepted) == 3  # nothing left to hand over
