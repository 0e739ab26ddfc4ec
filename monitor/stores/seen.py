"""Feed entries already delivered, remembered for a TTL, so a poll (or a restart) never
re-emits them; the Redis store keeps one sorted set per feed (docs/stores/seen.md).

>>> import asyncio
>>> store = MemorySeenStore(ttl_seconds=60)
>>> asyncio.run(store.mark("feed", ["a"]))
>>> asyncio.run(store.unseen("feed", ["a", "b"]))
['b']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from redis.asyncio import Redis

__all__ = ["MemorySeenStore", "RedisSeenStore", "SeenStore"]


@runtime_checkable
class SeenStore(Protocol):
    async def unseen(self, feed: str, ids: Sequence[str]) -> list[str]:
        """The ids (in input order) not marked within the TTL."""
        ...

    async def mark(self, feed: str, ids: Sequence[str]) -> None:
        """Remember ``ids`` as delivered, now."""
        ...


class MemorySeenStore:
    """In-process store (embedded mode, tests); forgets everything on restart."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._marked: dict[str, dict[str, float]] = {}

    async def unseen(self, feed: str, ids: Sequence[str]) -> list[str]:
        marked = self._marked.get(feed, {})
        oldest = self._clock() - self.ttl_seconds
        return [i for i in ids if marked.get(i, float("-inf")) <= oldest]

    async def mark(self, feed: str, ids: Sequence[str]) -> None:
        now = self._clock()
        marked = self._marked.setdefault(feed, {})
        oldest = now - self.ttl_seconds
        for stale in [i for i, when in marked.items() if when <= oldest]:
            del marked[stale]
        marked.update(dict.fromkeys(ids, now))


class RedisSeenStore:
    """Redis store (service mode): survives restarts, shared by all poller processes."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_prefix: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def key(self, feed: str) -> str:
        return f"{self._prefix}seen:{feed}"

    async def unseen(self, feed: str, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        scores = await self._redis.zmscore(self.key(feed), list(ids))
        oldest = self._clock() - self.ttl_seconds
        return [i for i, score in zip(ids, scores, strict=True) if score is None or score <= oldest]

    async def mark(self, feed: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        now = self._clock()
        key = self.key(feed)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, dict.fromkeys(ids, now))
            pipe.zremrangebyscore(key, "-inf", now - self.ttl_seconds)
            pipe.expire(key, max(1, int(self.ttl_seconds) + 1))
            await pipe.execute()
