"""The seed replay, end to end in one process: pipeline -> dispatcher -> webhook on loopback.

A subscriber watching «بوتين» receives exactly the new-story and development alerts the story
stage decided, each once, and nothing for reprints (copies of seed articles by other outlets).
The dispatcher's clock follows the articles' publication times, as a replay should.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.subscriptions import Subscriptions
from monitor.commands.replay import read_articles
from monitor.core.records import Alert, Decision, RawArticle
from monitor.pipeline import Pipeline
from monitor.settings import AlertSettings
from monitor.stores.deliveries import DeliveryStore, MemoryDeliveryStore, RedisDeliveryStore
from tests.alerts.conftest import SECRET, WebhookReceiver

SEEDS_JSONL = Path(__file__).resolve().parents[1] / "data" / "seeds.jsonl"


def _with_reprints(articles: list[RawArticle]) -> list[RawArticle]:
    """The seeds, each of 000 (wire copy) and 003 (arrival) followed by a verbatim reprint."""
    out: list[RawArticle] = []
    for article in articles:
        out.append(article)
        if article.id[:3] in ("000", "003"):
            out.append(
                article.model_copy(update={"id": f"reprint-{article.id}", "outlet": "reprinter"})
            )
    return out


async def _replay_and_deliver(
    webhook: WebhookReceiver, store: DeliveryStore
) -> list[tuple[Decision, Alert | None]]:
    now = [0.0]
    subscriptions = Subscriptions.model_validate(
        {
            "subscribers": [
                {
                    "id": "putin-desk",
                    "channel": {"type": "webhook", "url": webhook.url, "secret": SECRET},
                    "filters": {"words": ["بوتين"]},
                },
                {
                    "id": "other-desk",
                    "channel": {"type": "webhook", "url": webhook.url, "secret": SECRET},
                    "filters": {"words": ["ترامب"]},
                },
            ]
        }
    )
    settings = AlertSettings.model_validate(
        {"retry_base_seconds": 0.05, "allowed_networks": ["127.0.0.0/8"]}
    )
    dispatcher = Dispatcher(subscriptions, store, settings, clock=lambda: now[0])
    results = []
    async with Pipeline() as pipeline:
        for raw in _with_reprints(list(read_articles([SEEDS_JSONL]))):
            assert raw.published is not None
            now[0] = raw.published.timestamp()
            decision, alert = await pipeline.process(raw)
            results.append((decision, alert))
            if alert is not None:
                await dispatcher.handle_alert(alert)
            await dispatcher.handle_decision(decision)
            await dispatcher.deliver_due()
    assert await dispatcher.drain(30)
    await dispatcher.close()
    return results


def _check(results: list[tuple[Decision, Alert | None]], webhook: WebhookReceiver) -> None:
    decided = {d.article: d.decision for d, _ in results}
    alerts = [a for _, a in results if a is not None]
    news = {article for article, kind in decided.items() if kind in ("new_story", "development")}
    # What the story stage decided (its own tests pin the verdicts; here they are the input).
    assert {a.article for a in alerts} == news
    assert {decided[a.article] for a in alerts} == {"new_story", "development"}
    assert decided["reprint-000_71b002692644d3b4"] == "duplicate"
    assert decided["reprint-003_3ebd69e2e99d9110"] == "duplicate"
    silent = set(decided) - news

    assert webhook.bad_signatures == 0
    assert {r.key for r in webhook.requests} == {f"{a.id}:putin-desk" for a in alerts}
    assert all(count == 1 for count in webhook.processed.values())
    received = [Alert.model_validate(r.json["alerts"][0]) for r in webhook.accepted]
    assert sorted(a.id for a in received) == sorted(a.id for a in alerts)
    assert {a.kind for a in received} == {"new_story", "development"}  # no spurious breaking
    assert not {a.article for a in received} & silent  # nothing for reprints and copies
    by_id = {a.id: a for a in alerts}
    for alert in received:
        assert alert.new_sentences == by_id[alert.id].new_sentences
    assert any("وصل الرئيس الروسي فلاديمير بوتين" in s for a in received for s in a.new_sentences)


async def test_seed_replay_delivers_each_decided_alert_once(webhook: WebhookReceiver) -> None:
    results = await _replay_and_deliver(webhook, MemoryDeliveryStore())
    _check(results, webhook)


@pytest.mark.integration
async def test_seed_replay_through_the_redis_delivery_store(
    webhook: WebhookReceiver, redis_url: str, topic_prefix: str
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, key_prefix=topic_prefix)
    results = await _replay_and_deliver(webhook, store)
    _check(results, webhook)
    assert await store.pending_count() == 0
    await client.aclose()
