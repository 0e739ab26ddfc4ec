"""Recent fingerprints: look up an article's near copies and add it, atomically, in one step.

``match_and_add`` returns what was stored *before* the article (same content, same page,
shared sketch samples: ``monitor.core.duplicates``) and stores it unless it is an exact copy;
an article seen again (a redelivery) matches only what was stored before its first pass and
is not stored again. The Redis store runs lookup and insert in one Lua call
(``lua/fingerprints/match_and_add.lua``), so two workers never both see "new"; its key
layout and why it has that shape: docs/stores/fingerprints.md.

>>> import asyncio
>>> from monitor.core.fingerprint import fingerprint_text
>>> store = memory_fingerprint_store(Settings(fingerprint={"ttl_seconds": 3600}))
>>> fp = fingerprint_text("قال الرئيس ان الزيارة مهمة للبلدين")
>>> asyncio.run(store.match_and_add("a1", "wire", fp, now=0.0)).exact is None
True
>>> asyncio.run(store.match_and_add("a2", "youm7", fp, now=1.0)).exact.id
'a1'
>>> asyncio.run(store.match_and_add("a3", "youm7", fp, now=3601.5)).exact is None  # expired
True
"""

from __future__ import annotations

import math
import struct
import time
from collections import Counter, deque
from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from monitor.core.duplicates import Candidate, MatchResult, StoredArticle
from monitor.core.fingerprint import Fingerprint
from monitor.settings import FingerprintSettings, RedisSettings, Settings
from monitor.stores.scripts import lua_source

if TYPE_CHECKING:  # annotations only: an embedded replay's start does not import redis-py
    from redis.asyncio import Redis

__all__ = [
    "FingerprintStore",
    "MemoryFingerprintStore",
    "NewArticle",
    "RedisFingerprintStore",
    "memory_fingerprint_store",
    "redis_fingerprint_store",
]

SAMPLE_FIELD_BITS = 16
"""Index field bits of a shingle sample (after its top 24 bits). A chance collision only
adds one shared sample to a random article, and matches need ``min_shared`` of them, so 16
bits do; a listpack stores the field in 3-4 bytes. (The Lua script takes these bits from
the key's bytes.)"""
LOCATOR_FIELD_BITS = 40
"""Index field bits of a content or page key: one collision would be a false ``exact``."""
MAX_GENERATIONS = 32
"""Generations a lookup may read (``ceil(ttl / generation) + 1``): one bit each in a filter
cell of at most 32 bits."""
SIDS_PER_SAMPLE = 4
"""Articles remembered per shingle sample (the latest ones): enough for the copies of a wire
story and the same-topic articles around it not to take each other's matches."""
ENTRIES_PER_BUCKET = 64
"""Index entries per hash a generation is sized for (from the previous generation's count):
well under ``hash-max-listpack-entries`` (128), so a day twice as busy still fits."""
FILTER_BITS = 8
"""Filter cells per index entry of a generation: a lookup reads an index hash only where the
entry's filter cell has the generation's bit set (about 12 % of the misses at 8)."""
ARTICLES_PER_CALL = 50
"""Articles per script call: they share the per-call work (settings, the live generations'
layouts, Lua's setup) and the client packs one command instead of 50, while one call for a
whole batch would make every other client wait for all of it (Redis CPU per article:
BENCHMARKS.md, "Fingerprints")."""
MAX_CANDIDATES = 5
"""Near copies a lookup returns at most (most shared samples first)."""
_BIG_ENDIAN = np.dtype(">u8")
_DEFAULTS = FingerprintSettings()
"""The stores' defaults are the settings' (the factories below pass the configured ones)."""

NewArticle = tuple[str, str, Fingerprint]
"""(article id, outlet, fingerprint) of an article to match and add."""


class FingerprintStore(Protocol):
    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> MatchResult:
        """Look up what was stored before, then store this article (unless exact copy)."""
        ...

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        """``match_and_add`` for many articles in order (later ones see earlier ones)."""
        ...


def _generations(ttl_seconds: float, generation_seconds: float) -> int:
    return math.ceil(ttl_seconds / generation_seconds) + 1


def _sids_under(indexes: list[dict[int, list[int]]], key: int) -> list[int]:
    """Every sid stored under ``key`` in ``indexes`` (the live generations, newest first):
    the newest generation's first, each generation's newest sid first."""
    found: list[int] = []
    for index in indexes:
        sids = index.get(key)
        if sids:
            found.extend(reversed(sids))
    return found


class MemoryFingerprintStore:
    """In-process store with the Redis store's semantics (embedded mode and tests)."""

    def __init__(
        self,
        ttl_seconds: float = _DEFAULTS.ttl_seconds,
        generation_seconds: float = _DEFAULTS.generation_seconds,
        min_shared: int = _DEFAULTS.min_shared,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.generation_seconds = min(generation_seconds, ttl_seconds)
        self.min_shared = min_shared
        self.max_candidates = max_candidates
        self._keep = _generations(ttl_seconds, self.generation_seconds)
        self._index: dict[int, dict[int, list[int]]] = {}
        self._articles: dict[int, StoredArticle] = {}
        self._insertion_order: deque[tuple[float, int]] = deque()
        self._next_sid = 0

    def __len__(self) -> int:
        return len(self._articles)

    def _live_indexes(self, generation: int) -> list[dict[int, list[int]]]:
        """The index of each generation still looked up, newest first."""
        return [
            index
            for older in range(generation, generation - self._keep, -1)
            if (index := self._index.get(older)) is not None
        ]

    def _first_alive(self, sids: list[int], now: float, article_id: str) -> StoredArticle | None:
        for sid in sids:
            stored = self._alive(sid, now, article_id)
            if stored is not None:
                return stored
        return None

    def _alive(self, sid: int | None, now: float, article_id: str) -> StoredArticle | None:
        if sid is None:
            return None
        stored = self._articles.get(sid)
        if stored is None or stored.inserted < now - self.ttl_seconds:
            return None
        # the same article again (a redelivery or a retry) must not match itself
        return None if stored.id == article_id else stored

    def _forget_expired(self, now: float, generation: int) -> None:
        for old in [g for g in self._index if g <= generation - self._keep]:
            del self._index[old]
        while self._insertion_order and self._insertion_order[0][0] < now - self.ttl_seconds:
            _, sid = self._insertion_order.popleft()
            self._articles.pop(sid, None)

    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> MatchResult:
        now = time.time() if now is None else now
        generation = math.floor(now / self.generation_seconds)
        self._forget_expired(now, generation)
        # The live generations' indexes, newest first, read once for every key below.
        indexes = self._live_indexes(generation)
        same_content = _sids_under(indexes, fingerprint.content_key)
        own = next(
            (
                sid
                for sid in same_content
                if (stored := self._articles.get(sid)) is not None and stored.id == article_id
            ),
            None,
        )

        def before(sids: list[int]) -> list[int]:
            # A redelivery matches only what was stored before its first pass (as the Lua
            # script: see there).
            return sids if own is None else [sid for sid in sids if sid < own]

        exact = self._first_alive(before(same_content), now, article_id)
        if exact is not None:
            return MatchResult(exact=exact)
        located = None
        for key in fingerprint.locator_keys:
            located = self._first_alive(before(_sids_under(indexes, key)), now, article_id)
            if located is not None:
                break
        # Counter keeps first-seen order, as the ranking's tie-break needs; the sids are
        # gathered per sample, newest generation first, newest sid first (``_sids_under``'s order),
        # by C-level iteration: a sample's lists of each generation in turn, each reversed.
        samples = fingerprint.samples.tolist()
        per_sample = (
            map(indexes[0].get, samples)
            if len(indexes) == 1
            else chain.from_iterable(
                zip(*[map(index.get, samples) for index in indexes], strict=True)
            )
        )
        found = list(chain.from_iterable(map(reversed, filter(None, per_sample))))
        counts = Counter(before(found))
        ranked = sorted(
            (sid for sid, count in counts.items() if count >= self.min_shared),
            key=lambda sid: counts[sid],
            reverse=True,
        )[: self.max_candidates]
        candidates = tuple(
            Candidate(stored, counts[sid])
            for sid in ranked
            if (stored := self._alive(sid, now, article_id)) is not None
        )
        if own is not None:  # stored by its first pass: not again
            return MatchResult(same_locator=located, candidates=candidates, sid=own)
        self._next_sid += 1
        sid = self._next_sid
        self._articles[sid] = StoredArticle(
            sid=sid,
            id=article_id,
            outlet=outlet,
            stored=fingerprint.stored,
            bound=fingerprint.bound,
            inserted=now,
        )
        self._insertion_order.append((now, sid))
        index = self._index.setdefault(generation, {})
        for key in (fingerprint.content_key, *fingerprint.locator_keys):
            index[key] = [sid]
        for sample in fingerprint.stored_samples.tolist():
            sids = index.get(sample)
            if sids is None:
                index[sample] = [sid]
            else:
                sids.append(sid)
                if len(sids) > SIDS_PER_SAMPLE:
                    del sids[0]
        return MatchResult(same_locator=located, candidates=candidates, sid=sid)

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        return [
            await self.match_and_add(article_id, outlet, fingerprint, now)
            for article_id, outlet, fingerprint in articles
        ]


_MATCH_AND_ADD = lua_source("fingerprints/match_and_add")


def _as_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse_stored(sid: Any, article_id: Any, info: Any) -> StoredArticle:
    inserted, stored, bound, outlet = _as_text(info).split("|", 3)
    return StoredArticle(
        sid=int(sid),
        id=_as_text(article_id),
        outlet=outlet,
        stored=int(stored),
        bound=(int(bound, 16) << 32) | 0xFFFFFFFF,  # stored as its top 32 bits
        inserted=float(inserted),
    )


def _parse_reply(reply: list[Any]) -> MatchResult:
    sid = int(reply[0])
    exact = same_locator = None
    candidates: list[Candidate] = []
    for start in range(1, len(reply), 5):
        kind, found_sid, shared, article_id, info = reply[start : start + 5]
        stored = _parse_stored(found_sid, article_id, info)
        tag = _as_text(kind)
        if tag == "x":
            exact = stored
        elif tag == "u":
            same_locator = stored
        else:
            candidates.append(Candidate(stored, int(shared)))
    return MatchResult(
        exact=exact, same_locator=same_locator, candidates=tuple(candidates), sid=sid or None
    )


class RedisFingerprintStore:
    """Redis implementation: one Lua call per ``ARTICLES_PER_CALL`` articles, the calls of a
    batch pipelined in one round trip (keys: docs/stores/fingerprints.md)."""

    def __init__(
        self,
        client: Redis,
        key_prefix: str = RedisSettings().key_prefix,
        ttl_seconds: float = _DEFAULTS.ttl_seconds,
        generation_seconds: float = _DEFAULTS.generation_seconds,
        index_bucket_bits: int = _DEFAULTS.index_bucket_bits,
        min_shared: int = _DEFAULTS.min_shared,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        if not 4 <= index_bucket_bits <= 24:
            raise ValueError("index_bucket_bits must be within 4..24")
        generation_seconds = min(generation_seconds, ttl_seconds)
        if _generations(ttl_seconds, generation_seconds) > MAX_GENERATIONS:
            raise ValueError(f"ttl / generation must stay under {MAX_GENERATIONS - 1}")
        self.client = client
        self.prefix = f"{key_prefix}fp:"
        self.ttl_seconds = ttl_seconds
        self.generation_seconds = min(generation_seconds, ttl_seconds)
        self.generations = _generations(ttl_seconds, self.generation_seconds)
        self.index_bucket_bits = index_bucket_bits
        self.min_shared = min_shared
        self.max_candidates = max_candidates
        self._script = client.register_script(_MATCH_AND_ADD)
        self._settings_args = (
            self.prefix,
            repr(self.ttl_seconds),
            repr(self.generation_seconds),
            self.generations,
            self.min_shared,
            self.max_candidates,
            2**self.index_bucket_bits,
            SIDS_PER_SAMPLE,
            ENTRIES_PER_BUCKET,
            FILTER_BITS,
        )

    def _article_args(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float, lookup: bool
    ) -> tuple[Any, ...]:
        # keys travel as one big-endian blob (8 bytes a key, the locators first): one argument
        # to pack instead of two per key, and the script takes buckets and fields from the bytes
        locators = (fingerprint.content_key, *fingerprint.locator_keys)
        samples = fingerprint.samples if lookup else fingerprint.stored_samples
        info = f"{math.ceil(now)}|{fingerprint.stored}|{fingerprint.bound >> 32:x}|{outlet}"
        return (
            article_id,
            info,
            len(locators),
            fingerprint.stored,
            struct.pack(f">{len(locators)}Q", *locators) + samples.astype(_BIG_ENDIAN).tobytes(),
        )

    async def _run(
        self, articles: Sequence[NewArticle], now: float | None, lookup: bool
    ) -> list[list[Any]]:
        """The script's reply for each article: calls of up to ``ARTICLES_PER_CALL`` articles,
        pipelined in one round trip."""
        now = time.time() if now is None else now
        head = (*self._settings_args, repr(now), b"1" if lookup else b"0")
        async with self.client.pipeline(transaction=False) as pipe:
            for start in range(0, len(articles), ARTICLES_PER_CALL):
                args: list[Any] = list(head)
                for article_id, outlet, fingerprint in articles[start : start + ARTICLES_PER_CALL]:
                    args.extend(self._article_args(article_id, outlet, fingerprint, now, lookup))
                await self._script(args=args, client=pipe)
            calls = await pipe.execute()
        return [reply for call in calls for reply in call]

    async def add_many(self, articles: Sequence[NewArticle], now: float | None = None) -> None:
        """Store articles without looking anything up (bulk loading, benchmarks)."""
        if articles:
            await self._run(articles, now, lookup=False)

    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> MatchResult:
        now = time.time() if now is None else now
        head = (*self._settings_args, repr(now), b"1")
        (reply,) = await self._script(
            args=[*head, *self._article_args(article_id, outlet, fingerprint, now, True)]
        )
        return _parse_reply(reply)

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        if not articles:
            return []
        return [_parse_reply(reply) for reply in await self._run(articles, now, lookup=True)]


def memory_fingerprint_store(settings: Settings) -> MemoryFingerprintStore:
    """The in-process store configured by ``settings.fingerprint`` (embedded mode)."""
    config = settings.fingerprint
    return MemoryFingerprintStore(
        ttl_seconds=config.ttl_seconds,
        generation_seconds=config.generation_seconds,
        min_shared=config.min_shared,
    )


def redis_fingerprint_store(client: Redis, settings: Settings) -> RedisFingerprintStore:
    """The Redis store configured by ``settings.fingerprint`` and ``settings.redis``."""
    config = settings.fingerprint
    return RedisFingerprintStore(
        client,
        key_prefix=settings.redis.key_prefix,
        ttl_seconds=config.ttl_seconds,
        generation_seconds=config.generation_seconds,
        index_bucket_bits=config.index_bucket_bits,
        min_shared=config.min_shared,
    )
