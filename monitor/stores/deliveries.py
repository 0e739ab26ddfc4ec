"""Delivery state: a durable outbox of (alert, subscriber) deliveries with leases.

The dispatcher enqueues one delivery per matching subscriber, then claims due deliveries,
sends them and marks them ``done``, ``retry`` or ``dead``; what cool-downs and digests hold
back (``Held``) lives here too, so a restarted dispatcher sends it. Deliveries are
at-least-once per (alert, subscriber) with a stable idempotency key; the guarantees, their
trade-off and the Redis layout: docs/stores/deliveries.md.

>>> import asyncio
>>> store = MemoryDeliveryStore()
>>> asyncio.run(store.enqueue([NewDelivery("a1:bob", "bob", "{}")], now=0.0))
1
>>> [c.key for c in asyncio.run(store.claim_due(now=1.0, lease_seconds=30.0, limit=10))]
['a1:bob']
"""

from __future__ import annotations

import heapq
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from monitor.stores.scripts import lua_source

__all__ = [
    "Claim",
    "DeliveryRecord",
    "DeliveryState",
    "DeliveryStore",
    "Held",
    "HeldChange",
    "MemoryDeliveryStore",
    "NewDelivery",
    "RedisDeliveryStore",
]

DeliveryState = Literal["pending", "done", "dead"]
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class NewDelivery:
    key: str
    """Idempotency key, ``<alert or digest id>:<subscriber>``."""
    subscriber: str
    payload: str
    """The notification to send, as JSON."""


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    subscriber: str
    payload: str
    attempt: int
    """1 for the first attempt; counts attempts cut short by crashes too."""
    owner: str
    """Token proving this claim; ``retry`` and ``dead`` need it."""


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    key: str
    subscriber: str
    state: DeliveryState
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class Held:
    """What one cool-down or digest holds (times are the dispatcher's clock)."""

    since: float
    """Cool-down: when the story's last message went out; digest: when the digest began."""
    due: float
    """When the dispatcher looks at the entry again (end of the cool-down or digest)."""
    alerts: tuple[str, ...] = field(default=())
    """Alerts held back, as JSON, oldest first."""


HeldChange = Callable[[Held | None], tuple[Held | None, Sequence[NewDelivery]]]
"""The held state of an entry -> its new state (None: forget it) and the deliveries to
enqueue. Pure: a store may call it more than once (an optimistic transaction retried)."""


class DeliveryStore(Protocol):
    durable: bool
    """Whether what it holds survives the process (else ``close`` must hand it over)."""

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> int:
        """Add deliveries due now; keys already known (in any state) are left alone.

        Returns how many were new."""
        ...

    async def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claim]:
        """Atomically claim up to ``limit`` deliveries due at ``now`` for ``lease_seconds``."""
        ...

    async def complete(self, key: str, now: float) -> None:
        """The delivery was accepted by the receiver: never send it again."""
        ...

    async def retry(self, key: str, owner: str, due: float, error: str) -> bool:
        """Reschedule a claimed delivery; False if the claim was lost (lease expired)."""
        ...

    async def dead(self, key: str, owner: str, error: str, now: float) -> bool:
        """Give up on a claimed delivery; False if the claim was lost."""
        ...

    async def get(self, key: str) -> DeliveryRecord | None: ...

    async def pending_count(self) -> int: ...

    async def next_due(self) -> float | None:
        """When the earliest pending delivery becomes claimable (None: nothing pending)."""
        ...

    async def update_held(
        self, entry: str, change: HeldChange, now: float, *, once: str | None = None
    ) -> list[str] | None:
        """Apply ``change`` to ``entry`` and enqueue its deliveries (due ``now``), atomically;
        returns the keys enqueued. With ``once``: None, changing nothing, if an update with
        that ``once`` was made already (within ``delivered_ttl_seconds``)."""
        ...

    async def held_due(self, now: float, limit: int) -> list[str]:
        """Entries whose ``due`` is at or before ``now`` (the dispatcher's clock), earliest
        first."""
        ...

    async def held_entries(self) -> list[str]:
        """Every entry that holds something or keeps a cool-down."""
        ...

    async def close(self) -> None: ...


def _new_owner() -> str:
    return secrets.token_hex(8)


@dataclass(slots=True)
class _Row:
    subscriber: str
    payload: str
    state: DeliveryState
    attempts: int = 0
    owner: str = ""
    error: str = ""
    due: float = 0.0
    expires: float | None = None


class MemoryDeliveryStore:
    """In-process store for the embedded mode and unit tests (same semantics, no durability).

    Due times live in a heap with lazy deletion (an entry is stale when the row's ``due``
    moved on), so claiming costs O(log n) per delivery, not a scan of every row."""

    durable = False

    def __init__(self, delivered_ttl_seconds: float = 7 * DAY) -> None:
        self._rows: dict[str, _Row] = {}
        self._due: list[tuple[float, str]] = []
        self._expiry: list[tuple[float, str]] = []
        self._pending = 0
        self._ttl = delivered_ttl_seconds
        self._held: dict[str, Held] = {}
        self._once: dict[str, float] = {}
        """``once`` key -> when it is forgotten (wall clock, like the delivery records)."""
        self._once_expiry: list[tuple[float, str]] = []

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            _, key = heapq.heappop(self._expiry)
            row = self._rows.get(key)
            if row is not None and row.expires is not None and row.expires <= now:
                del self._rows[key]

    def _schedule(self, key: str, row: _Row, due: float) -> None:
        row.due = due
        heapq.heappush(self._due, (due, key))

    def _finish(self, row: _Row, key: str, state: DeliveryState, now: float) -> None:
        self._pending -= row.state == "pending"
        row.state, row.expires = state, now + self._ttl
        heapq.heappush(self._expiry, (row.expires, key))

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> int:
        self._expire(now)
        added = 0
        for d in deliveries:
            if d.key not in self._rows:
                row = self._rows[d.key] = _Row(d.subscriber, d.payload, "pending")
                self._schedule(d.key, row, now)
                added += 1
        self._pending += added
        return added

    async def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claim]:
        claims: list[Claim] = []
        while self._due and self._due[0][0] <= now and len(claims) < limit:
            due, key = heapq.heappop(self._due)
            row = self._rows.get(key)
            if row is None or row.state != "pending" or row.due != due:
                continue  # finished, or rescheduled since this entry was pushed
            row.attempts += 1
            row.owner = _new_owner()
            self._schedule(key, row, now + lease_seconds)
            claims.append(Claim(key, row.subscriber, row.payload, row.attempts, row.owner))
        return claims

    async def complete(self, key: str, now: float) -> None:
        row = self._rows.get(key)
        if row is not None:
            self._finish(row, key, "done", now)

    async def retry(self, key: str, owner: str, due: float, error: str) -> bool:
        row = self._rows.get(key)
        if row is None or row.state != "pending" or row.owner != owner:
            return False
        row.error = error
        self._schedule(key, row, due)
        return True

    async def dead(self, key: str, owner: str, error: str, now: float) -> bool:
        row = self._rows.get(key)
        if row is None or row.state != "pending" or row.owner != owner:
            return False
        row.error = error
        self._finish(row, key, "dead", now)
        return True

    async def get(self, key: str) -> DeliveryRecord | None:
        row = self._rows.get(key)
        if row is None:
            return None
        return DeliveryRecord(key, row.subscriber, row.state, row.attempts, row.error)

    async def pending_count(self) -> int:
        return self._pending

    async def next_due(self) -> float | None:
        while self._due:
            due, key = self._due[0]
            row = self._rows.get(key)
            if row is not None and row.state == "pending" and row.due == due:
                return due
            heapq.heappop(self._due)
        return None

    async def update_held(
        self, entry: str, change: HeldChange, now: float, *, once: str | None = None
    ) -> list[str] | None:
        # No await before the last line: atomic for the event loop.
        while self._once_expiry and self._once_expiry[0][0] <= now:
            _, key = heapq.heappop(self._once_expiry)
            if self._once.get(key, now + 1) <= now:
                del self._once[key]
        if once is not None and once in self._once:
            return None
        held, deliveries = change(self._held.get(entry))
        if once is not None:
            self._once[once] = now + self._ttl
            heapq.heappush(self._once_expiry, (now + self._ttl, once))
        if held is None:
            self._held.pop(entry, None)
        else:
            self._held[entry] = held
        await self.enqueue(deliveries, now)
        return [d.key for d in deliveries]

    async def held_due(self, now: float, limit: int) -> list[str]:
        # A scan: the embedded mode holds a few hundred entries at most.
        due = sorted((held.due, entry) for entry, held in self._held.items() if held.due <= now)
        return [entry for _, entry in due[:limit]]

    async def held_entries(self) -> list[str]:
        return list(self._held)

    async def close(self) -> None:
        return None


# The Redis scripts (monitor/stores/lua/deliveries/), read once.
_ENQUEUE = lua_source("deliveries/enqueue")
_CLAIM = lua_source("deliveries/claim")
_RETRY = lua_source("deliveries/retry")
_DEAD = lua_source("deliveries/dead")


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class RedisDeliveryStore:
    """Redis-backed store for the service mode (key layout: docs/stores/deliveries.md)."""

    durable = True

    def __init__(
        self, client: Redis, key_prefix: str = "mon:", delivered_ttl_seconds: float = 7 * DAY
    ) -> None:
        self._redis = client
        self._due = f"{key_prefix}deliveries:due"
        self._record = f"{key_prefix}delivery:"
        self._held = f"{key_prefix}held:"
        self._held_due = f"{key_prefix}held:due"
        self._once = f"{key_prefix}held:once:"
        self._ttl = max(1, int(delivered_ttl_seconds))
        self._enqueue = client.register_script(_ENQUEUE)
        self._claim = client.register_script(_CLAIM)
        self._retry = client.register_script(_RETRY)
        self._dead = client.register_script(_DEAD)

    @classmethod
    def from_url(
        cls, url: str, key_prefix: str = "mon:", delivered_ttl_seconds: float = 7 * DAY
    ) -> RedisDeliveryStore:
        return cls(Redis.from_url(url), key_prefix, delivered_ttl_seconds)

    async def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> int:
        if not deliveries:
            return 0
        return int(
            await self._enqueue(keys=[self._due, self._record], args=_enqueue_args(deliveries, now))
        )

    async def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claim]:
        rows = await self._claim(
            keys=[self._due, self._record],
            args=[now, now + lease_seconds, limit, _new_owner()],
        )
        return [
            Claim(_text(k), _text(sub), _text(payload), int(attempts), _text(owner))
            for k, sub, payload, attempts, owner in rows
        ]

    async def complete(self, key: str, now: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._record + key, "state", "done")
            pipe.expire(self._record + key, self._ttl)
            pipe.zrem(self._due, key)
            await pipe.execute()

    async def retry(self, key: str, owner: str, due: float, error: str) -> bool:
        done = await self._retry(
            keys=[self._due, self._record + key], args=[owner, due, error, key]
        )
        return bool(done)

    async def dead(self, key: str, owner: str, error: str, now: float) -> bool:
        done = await self._dead(
            keys=[self._due, self._record + key], args=[owner, error, self._ttl, key]
        )
        return bool(done)

    async def get(self, key: str) -> DeliveryRecord | None:
        row = await self._redis.hgetall(self._record + key)
        if not row:
            return None
        fields = {_text(k): _text(v) for k, v in row.items()}
        state = cast(DeliveryState, fields.get("state", "pending"))
        return DeliveryRecord(
            key, fields.get("subscriber", ""), state, int(fields.get("attempts", 0)),
            fields.get("error", ""),
        )  # fmt: skip

    async def pending_count(self) -> int:
        return int(await self._redis.zcard(self._due))

    async def next_due(self) -> float | None:
        first = await self._redis.zrange(self._due, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def update_held(
        self, entry: str, change: HeldChange, now: float, *, once: str | None = None
    ) -> list[str] | None:
        # An optimistic transaction: another update of the entry (the delivery loop's flush,
        # another dispatcher) between the read and EXEC makes it start over.
        held_key = self._held + entry
        once_key = self._once + once if once is not None else None
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(held_key, *([once_key] if once_key else []))
                    if once_key is not None and await pipe.exists(once_key):
                        await pipe.unwatch()
                        return None
                    held, deliveries = change(_held_from(await pipe.hgetall(held_key)))
                    pipe.multi()
                    if held is None:
                        pipe.delete(held_key)
                        pipe.zrem(self._held_due, entry)
                    else:
                        pipe.hset(
                            held_key,
                            mapping={
                                "since": repr(held.since),
                                "due": repr(held.due),
                                "alerts": json.dumps(list(held.alerts), ensure_ascii=False),
                            },
                        )
                        pipe.zadd(self._held_due, {entry: held.due})
                    if once_key is not None:
                        pipe.set(once_key, 1, ex=self._ttl)
                    if deliveries:
                        await self._enqueue(
                            keys=[self._due, self._record],
                            args=_enqueue_args(deliveries, now),
                            client=pipe,
                        )
                    await pipe.execute()
                    return [d.key for d in deliveries]
                except WatchError:
                    continue

    async def held_due(self, now: float, limit: int) -> list[str]:
        entries = await self._redis.zrangebyscore(self._held_due, "-inf", now, start=0, num=limit)
        return [_text(entry) for entry in cast(list[bytes], entries)]

    async def held_entries(self) -> list[str]:
        entries = await self._redis.zrange(self._held_due, 0, -1)
        return [_text(entry) for entry in cast(list[bytes], entries)]

    async def close(self) -> None:
        await self._redis.aclose()


def _enqueue_args(deliveries: Sequence[NewDelivery], now: float) -> list[str | float]:
    args: list[str | float] = []
    for d in deliveries:
        args += [d.key, d.subscriber, d.payload]
    args.append(now)
    return args


def _held_from(fields: Mapping[bytes | str, bytes | str]) -> Held | None:
    if not fields:
        return None
    row = {_text(k): _text(v) for k, v in fields.items()}
    return Held(float(row["since"]), float(row["due"]), tuple(json.loads(row["alerts"])))
