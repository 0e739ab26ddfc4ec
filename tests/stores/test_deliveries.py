"""The delivery store: the same contract for the in-process and the Redis implementation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from monitor.stores.deliveries import (
    DeliveryStore,
    Held,
    HeldChange,
    MemoryDeliveryStore,
    NewDelivery,
    RedisDeliveryStore,
)

LEASE = 10.0


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, topic_prefix: str) -> AsyncIterator[DeliveryStore]:
    if request.param == "memory":
        yield MemoryDeliveryStore(delivered_ttl_seconds=100.0)
        return
    redis_url = request.getfixturevalue("redis_url")
    client = aioredis.Redis.from_url(redis_url)
    yield RedisDeliveryStore(client, key_prefix=topic_prefix, delivered_ttl_seconds=100.0)
    await client.aclose()


def _new(key: str, subscriber: str = "bob") -> NewDelivery:
    return NewDelivery(key, subscriber, json.dumps({"k": key}))


@pytest.mark.integration
async def test_enqueue_is_idempotent_even_after_completion(store: DeliveryStore) -> None:
    assert await store.enqueue([_new("a:bob"), _new("b:bob")], now=0.0) == 2
    assert await store.enqueue([_new("a:bob")], now=1.0) == 0
    [first, second] = await store.claim_due(now=1.0, lease_seconds=LEASE, limit=10)
    assert (first.key, first.payload, first.attempt) == ("a:bob", '{"k": "a:bob"}', 1)
    await store.complete("a:bob", now=2.0)
    assert await store.enqueue([_new("a:bob")], now=3.0) == 0
    record = await store.get("a:bob")
    assert record is not None and record.state == "done"
    assert await store.pending_count() == 1
    assert second.key == "b:bob"


@pytest.mark.integration
async def test_a_lease_hides_a_claimed_delivery_until_it_expires(store: DeliveryStore) -> None:
    await store.enqueue([_new("a:bob")], now=0.0)
    [claim] = await store.claim_due(now=0.0, lease_seconds=LEASE, limit=10)
    assert await store.claim_due(now=LEASE - 1, lease_seconds=LEASE, limit=10) == []
    assert await store.next_due() == pytest.approx(LEASE)
    [again] = await store.claim_due(now=LEASE + 1, lease_seconds=LEASE, limit=10)
    assert again.key == claim.key and again.payload == claim.payload
    assert again.attempt == 2 and again.owner != claim.owner
    # The first (crashed, expired) claimant can no longer reschedule or give up.
    assert not await store.retry(claim.key, claim.owner, due=0.0, error="late")
    assert not await store.dead(claim.key, claim.owner, error="late", now=0.0)
    assert await store.retry(again.key, again.owner, due=50.0, error="HTTP 500")
    assert await store.claim_due(now=49.0, lease_seconds=LEASE, limit=10) == []
    [third] = await store.claim_due(now=50.0, lease_seconds=LEASE, limit=10)
    assert third.attempt == 3


@pytest.mark.integration
async def test_dead_and_done_deliveries_are_never_claimed(store: DeliveryStore) -> None:
    await store.enqueue([_new("a:bob"), _new("b:ann", "ann")], now=0.0)
    claims = {c.key: c for c in await store.claim_due(now=0.0, lease_seconds=1.0, limit=10)}
    assert await store.dead("a:bob", claims["a:bob"].owner, error="HTTP 404", now=0.5)
    await store.complete("b:ann", now=0.5)
    assert await store.claim_due(now=100.0, lease_seconds=1.0, limit=10) == []
    assert await store.pending_count() == 0 and await store.next_due() is None
    dead = await store.get("a:bob")
    assert dead is not None and (dead.state, dead.error, dead.attempts) == ("dead", "HTTP 404", 1)
    assert await store.get("missing") is None


@pytest.mark.integration
async def test_claims_respect_the_limit_and_due_order(store: DeliveryStore) -> None:
    for index, key in enumerate(["c", "a", "b"]):
        await store.enqueue([_new(key)], now=float(index))
    first = await store.claim_due(now=10.0, lease_seconds=LEASE, limit=2)
    assert [c.key for c in first] == ["c", "a"]
    rest = await store.claim_due(now=10.0, lease_seconds=LEASE, limit=2)
    assert [c.key for c in rest] == ["b"]


@pytest.mark.integration
async def test_concurrent_claims_never_share_a_delivery(topic_prefix: str, redis_url: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(4)]
    stores = [RedisDeliveryStore(c, key_prefix=topic_prefix) for c in clients]
    await stores[0].enqueue([_new(f"k{i}") for i in range(200)], now=0.0)
    results = await asyncio.gather(
        *(s.claim_due(now=1.0, lease_seconds=LEASE, limit=30) for s in stores for _ in range(3))
    )
    keys = [c.key for claims in results for c in claims]
    assert len(keys) == len(set(keys)) == 200
    for client in clients:
        await client.aclose()


@pytest.mark.integration
async def test_redis_layout_is_namespaced_and_finished_records_expire(
    redis_client: aioredis.Redis,
) -> None:
    store = RedisDeliveryStore(redis_client, key_prefix="ns:", delivered_ttl_seconds=100.0)
    await store.enqueue([_new("a:bob")], now=0.0)
    assert sorted(await redis_client.keys("*")) == [b"ns:deliveries:due", b"ns:delivery:a:bob"]
    assert await redis_client.ttl("ns:delivery:a:bob") == -1  # pending: kept until finished
    await store.claim_due(now=0.0, lease_seconds=LEASE, limit=1)
    await store.complete("a:bob", now=1.0)
    assert 0 < await redis_client.ttl("ns:delivery:a:bob") <= 100


def _hold(alert: str, release_at: int = 0) -> HeldChange:
    """A change that holds ``alert``, and releases everything held once ``release_at``
    alerts are held (as one delivery)."""

    def change(held: Held | None) -> tuple[Held | None, list[NewDelivery]]:
        alerts = (*(held.alerts if held else ()), alert)
        if release_at and len(alerts) >= release_at:
            return None, [_new(f"{'+'.join(alerts)}:bob")]
        return Held(since=1.0, due=5.0, alerts=alerts), []

    return change


@pytest.mark.integration
async def test_held_state_and_its_deliveries_change_together_once(store: DeliveryStore) -> None:
    assert await store.update_held("digest:bob", _hold("a1"), now=0.0, once="a1:bob") == []
    assert await store.update_held("digest:bob", _hold("a1"), now=0.0, once="a1:bob") is None
    assert await store.held_due(now=4.9, limit=10) == []
    assert await store.held_due(now=5.0, limit=10) == ["digest:bob"]
    assert await store.held_entries() == ["digest:bob"]
    keys = await store.update_held("digest:bob", _hold("a2", release_at=2), now=0.0)
    assert keys == ["a1+a2:bob"]
    assert await store.held_entries() == []
    assert await store.pending_count() == 1  # enqueued with the change
    [claim] = await store.claim_due(now=1.0, lease_seconds=LEASE, limit=10)
    assert claim.key == "a1+a2:bob"


@pytest.mark.integration
async def test_concurrent_held_updates_lose_nothing(topic_prefix: str, redis_url: str) -> None:
    """Optimistic transactions: an update that lost the race runs again on the new state."""
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(4)]
    stores = [RedisDeliveryStore(c, key_prefix=topic_prefix) for c in clients]
    await asyncio.gather(
        *(
            stores[index % 4].update_held("digest:bob", _hold(f"a{index}"), now=0.0)
            for index in range(40)
        )
    )
    updates: list[Held | None] = []

    def look(held: Held | None) -> tuple[Held | None, list[NewDelivery]]:
        updates.append(held)
        return held, []

    await stores[0].update_held("digest:bob", look, now=0.0)
    assert updates[-1] is not None
    assert sorted(updates[-1].alerts) == sorted(f"a{index}" for index in range(40))
    for client in clients:
        await client.aclose()
