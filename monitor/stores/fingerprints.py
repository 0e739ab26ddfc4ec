"""Recent fingerprints: look up an article's near copies and add it, atomically, in one step.

``match_and_add`` returns what was stored *before* the article (same content, same page,
articles sharing sketch samples: see ``monitor.core.duplicates``) and stores the article,
unless it is an exact copy of a remembered one. An article never matches an earlier copy
of itself (same article id), so redeliveries and retries classify it as the first time
did (against the other articles). Two workers handling two copies at the same
moment never both see "new": the Redis implementation runs lookup and insert as one Lua
script (one round trip; ``match_and_add_many`` pipelines many articles in one round trip).

Redis keys (``P`` = ``settings.redis.key_prefix`` + ``"fp:"``, e.g. ``mon:fp:``):

* ``P seq``: string counter; each stored article gets the next short id ``sid``.
* ``P m:{sid // 64}``: hash, the metadata of 64 consecutive articles: field ``i{sid % 64}``
  is the article id, field ``d{sid % 64}`` is
  ``"{inserted}|{stored samples}|{top 32 bits of the sketch bound, hex}|{outlet}"``.
  Expires ``ttl + generation`` seconds after its last write.
* ``P i:{generation}:{bucket}``: hash, the index of one generation (``generation`` =
  ``floor(unix time / generation_seconds)``). Keys are 64-bit: content keys, page locators
  (outlet+URL, outlet+GUID) and the stored sketch samples; ``bucket`` is a key's top
  ``g:{generation}`` bits, the field is the next 16 (samples) or 40 (content and page keys)
  bits after the top 24, as an integer. The value is the ``sid`` of the latest article for
  content and page keys, and the space-separated sids of the latest ``SIDS_PER_SAMPLE``
  articles for samples (so same-topic articles sharing a few shingles do not take over each
  other's matches). The whole hash expires ``ttl`` after its generation ends, so no entry
  needs its own expiry (Redis 7.0 has no HEXPIRE), and lookups read the last
  ``ceil(ttl / generation) + 1`` generations; entries older than ``ttl`` are ignored by
  their ``inserted`` time, so the TTL is exact.
* ``P g:{generation}``: the generation's bucket bits, fixed by its first insert from the
  latest earlier generation's entry count ``P n:{g}`` (``index_bucket_bits`` when there is
  none), so each index hash holds about 32-64 entries whatever the daily volume.
* ``P n:{generation}``: entries added in the generation.

Why this shape: one key per index entry would cost 50-90 bytes of key overhead each; small
hashes stay in Redis's compact listpack encoding (≤ ``hash-max-listpack-entries``, default
128, and values ≤ 64 bytes), where an entry costs about 10 bytes and a lookup scans at most
128 entries, so the cost per article does not grow with the number stored. A sudden
surge within a day makes that day's hashes larger (hashtable encoding: more memory, same
speed) until the next generation sizes itself. The Lua script builds key names itself, so
it needs a single Redis (not Redis Cluster).

>>> import asyncio
>>> from monitor.core.fingerprint import fingerprint_text
>>> store = MemoryFingerprintStore(ttl_seconds=3600)
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
import time
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from redis.asyncio import Redis

from monitor.core.duplicates import Candidate, MatchResult, StoredArticle
from monitor.core.fingerprint import Fingerprint
from monitor.settings import Settings

__all__ = [
    "FingerprintStore",
    "MemoryFingerprintStore",
    "NewArticle",
    "RedisFingerprintStore",
    "memory_fingerprint_store",
    "redis_fingerprint_store",
]

DAY = 86_400.0
SAMPLE_FIELD_BITS = 16
"""Index field bits of a shingle sample (after the 24 bucket bits). A chance collision only
adds one shared sample to a random article, and matches need ``min_shared`` of them, so 16
bits do; a listpack stores the field in 3 bytes."""
LOCATOR_FIELD_BITS = 40
"""Index field bits of a content or page key: one collision would be a false ``exact``."""
SIDS_PER_SAMPLE = 4
"""Articles remembered per shingle sample (the latest ones): enough for the copies of a wire
story and the same-topic articles around it not to take each other's matches."""

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


class MemoryFingerprintStore:
    """In-process store with the Redis store's semantics (embedded mode and tests)."""

    def __init__(
        self,
        ttl_seconds: float = 7 * DAY,
        generation_seconds: float = DAY,
        min_shared: int = 3,
        max_candidates: int = 5,
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

    def _find(self, key: int, generation: int) -> list[int]:
        """Every sid stored under ``key``, newest first."""
        found: list[int] = []
        for older in range(generation, generation - self._keep, -1):
            found.extend(reversed(self._index.get(older, {}).get(key, ())))
        return found

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
        exact = self._first_alive(self._find(fingerprint.content_key, generation), now, article_id)
        if exact is not None:
            return MatchResult(exact=exact)
        located = None
        for key in fingerprint.locator_keys:
            located = self._first_alive(self._find(key, generation), now, article_id)
            if located is not None:
                break
        # Counter keeps first-seen order, as the ranking's tie-break needs; the sids are
        # gathered per sample, newest generation first, newest sid first (``_find``'s order).
        indexes = self._live_indexes(generation)
        found: list[int] = []
        for sample in fingerprint.samples.tolist():
            for index in indexes:
                sids = index.get(sample)
                if sids:
                    found.extend(reversed(sids))
        counts = Counter(found)
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
            sids = index.setdefault(sample, [])
            sids.append(sid)
            del sids[:-SIDS_PER_SAMPLE]
        return MatchResult(same_locator=located, candidates=candidates, sid=sid)

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        return [
            await self.match_and_add(article_id, outlet, fingerprint, now)
            for article_id, outlet, fingerprint in articles
        ]


_MATCH_AND_ADD = """
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local generation_seconds = tonumber(ARGV[4])
local generations = tonumber(ARGV[5])
local min_shared = tonumber(ARGV[6])
local max_candidates = tonumber(ARGV[7])
local article_id = ARGV[8]
local info = ARGV[9]
local n_locators = tonumber(ARGV[10])
local n_samples = tonumber(ARGV[11])
local n_store = tonumber(ARGV[12])
local default_bits = tonumber(ARGV[13])
local lookup = ARGV[14] == '1'
local sids_per_sample = tonumber(ARGV[15])
local first_locator = 16
local first_sample = first_locator + 2 * n_locators
local generation = math.floor(now / generation_seconds)
local oldest = now - ttl
local expire_at = math.ceil((generation + 1) * generation_seconds + ttl)

-- bucket bits of each generation (absent: the generation has no entries)
local bits_of_generation = {}
local function bits_of(g)
  local bits = bits_of_generation[g]
  if bits == nil then
    local stored = redis.call('GET', prefix .. 'g:' .. g)
    bits = stored and tonumber(stored) or false
    bits_of_generation[g] = bits
  end
  return bits
end

local function index_key(g, top, bits)
  return prefix .. 'i:' .. g .. ':' .. math.floor(top / 2 ^ (24 - bits))
end

-- every sid stored under a key, newest generation first, newest sid first
local function find(top, field)
  local found = {}
  for g = generation, generation - generations + 1, -1 do
    local bits = bits_of(g)
    if bits then
      local value = redis.call('HGET', index_key(g, tonumber(top), bits), field)
      if value then
        local sids = {}
        for sid in string.gmatch(value, '%d+') do table.insert(sids, sid) end
        for k = #sids, 1, -1 do table.insert(found, sids[k]) end
      end
    end
  end
  return found
end

local function meta(sid)
  if not sid then return nil end
  local n = tonumber(sid)
  local slot = n % 64
  local values = redis.call('HMGET', prefix .. 'm:' .. math.floor(n / 64), 'i' .. slot, 'd' .. slot)
  -- the same article again (a redelivery or a retry) must not match itself
  if not values[1] or not values[2] or values[1] == article_id then return nil end
  local inserted = tonumber(string.match(values[2], '^[^|]+'))
  if inserted < oldest then return nil end
  return {sid, values[1], values[2]}
end

local function first_alive(sids)
  for _, sid in ipairs(sids) do
    local stored = meta(sid)
    if stored then return stored end
  end
  return nil
end

local out = {0}
if lookup then
  local exact = first_alive(find(ARGV[first_locator], ARGV[first_locator + 1]))
  if exact then
    return {0, 'x', exact[1], 0, exact[2], exact[3]}
  end
  for k = 1, n_locators - 1 do
    local located = first_alive(find(ARGV[first_locator + 2 * k], ARGV[first_locator + 2 * k + 1]))
    if located then
      table.insert(out, 'u'); table.insert(out, located[1]); table.insert(out, 0)
      table.insert(out, located[2]); table.insert(out, located[3])
      break
    end
  end
  local counts = {}
  local seen = {}
  for k = 0, n_samples - 1 do
    for _, sid in ipairs(find(ARGV[first_sample + 2 * k], ARGV[first_sample + 2 * k + 1])) do
      if counts[sid] then
        counts[sid] = counts[sid] + 1
      else
        counts[sid] = 1
        table.insert(seen, sid)
      end
    end
  end
  local ranked = {}
  for _, sid in ipairs(seen) do
    if counts[sid] >= min_shared then table.insert(ranked, sid) end
  end
  table.sort(ranked, function(a, b) return counts[a] > counts[b] end)
  for k = 1, math.min(#ranked, max_candidates) do
    local candidate = meta(ranked[k])
    if candidate then
      table.insert(out, 'c'); table.insert(out, candidate[1]); table.insert(out, counts[ranked[k]])
      table.insert(out, candidate[2]); table.insert(out, candidate[3])
    end
  end
end

-- a generation's bucket count is fixed by its first insert, from the previous generation's
-- entry count (about 32-64 entries per hash keeps every hash a small listpack)
local bits = bits_of(generation)
if not bits then
  -- the latest earlier generation that has a count (days without articles are skipped)
  local previous = 0
  for g = generation - 1, generation - generations, -1 do
    previous = tonumber(redis.call('GET', prefix .. 'n:' .. g) or '0')
    if previous > 0 then break end
  end
  bits = default_bits
  if previous > 0 then
    bits = math.max(4, math.min(24, math.ceil(math.log(previous / 64) / math.log(2))))
  end
  redis.call('SET', prefix .. 'g:' .. generation, bits, 'EXAT', expire_at)
  bits_of_generation[generation] = bits
end
local count_key = prefix .. 'n:' .. generation
redis.call('INCRBY', count_key, n_locators + n_store)
redis.call('EXPIREAT', count_key, expire_at + generations * generation_seconds)

local sid = redis.call('INCR', prefix .. 'seq')
local slot = sid % 64
local meta_key = prefix .. 'm:' .. math.floor(sid / 64)
redis.call('HSET', meta_key, 'i' .. slot, article_id, 'd' .. slot, info)
redis.call('EXPIREAT', meta_key, math.ceil(now + ttl + generation_seconds))
local touched = {}
local function add(top, field, keep)
  local key = index_key(generation, tonumber(top), bits)
  local value = sid
  if keep > 1 then
    local previous = redis.call('HGET', key, field)
    if previous then
      local sids = {}
      for old in string.gmatch(previous, '%d+') do table.insert(sids, old) end
      while #sids >= keep do table.remove(sids, 1) end
      table.insert(sids, sid)
      value = table.concat(sids, ' ')
    end
  end
  redis.call('HSET', key, field, value)
  if not touched[key] then
    touched[key] = true
    redis.call('EXPIREAT', key, expire_at)
  end
end
-- a content or page key names the latest article; a shingle sample names the latest few
-- that had it, so articles on the same topic do not take over each other's matches
for k = 0, n_locators - 1 do
  add(ARGV[first_locator + 2 * k], ARGV[first_locator + 2 * k + 1], 1)
end
for k = 0, n_store - 1 do
  add(ARGV[first_sample + 2 * k], ARGV[first_sample + 2 * k + 1], sids_per_sample)
end
out[1] = sid
return out
"""


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
    """Redis implementation: one Lua call per article (keys in the module docstring)."""

    def __init__(
        self,
        client: Redis,
        key_prefix: str = "mon:",
        ttl_seconds: float = 7 * DAY,
        generation_seconds: float = DAY,
        index_bucket_bits: int = 15,
        min_shared: int = 3,
        max_candidates: int = 5,
    ) -> None:
        if not 4 <= index_bucket_bits <= 24:
            raise ValueError("index_bucket_bits must be within 4..24")
        self.client = client
        self.prefix = f"{key_prefix}fp:"
        self.ttl_seconds = ttl_seconds
        self.generation_seconds = min(generation_seconds, ttl_seconds)
        self.generations = _generations(ttl_seconds, self.generation_seconds)
        self.index_bucket_bits = index_bucket_bits
        self.min_shared = min_shared
        self.max_candidates = max_candidates
        self._script = client.register_script(_MATCH_AND_ADD)

    @staticmethod
    def _top_field_pairs(keys: np.ndarray, field_bits: int) -> list[int]:
        """Each 64-bit key as (its top 24 bits: the bucket, the next ``field_bits``: the field)."""
        tops = keys >> np.uint64(40)
        fields = (keys >> np.uint64(40 - field_bits)) & np.uint64((1 << field_bits) - 1)
        return np.column_stack((tops, fields)).ravel().tolist()  # type: ignore[no-any-return]

    def _args(
        self,
        article_id: str,
        outlet: str,
        fingerprint: Fingerprint,
        now: float,
        lookup: bool = True,
    ) -> list[Any]:
        locators = np.array([fingerprint.content_key, *fingerprint.locator_keys], dtype=np.uint64)
        info = f"{math.ceil(now)}|{fingerprint.stored}|{fingerprint.bound >> 32:x}|{outlet}"
        samples = fingerprint.samples if lookup else fingerprint.stored_samples
        return [
            self.prefix,
            repr(now),
            repr(self.ttl_seconds),
            repr(self.generation_seconds),
            self.generations,
            self.min_shared,
            self.max_candidates,
            article_id,
            info,
            locators.size,
            samples.size,
            fingerprint.stored,
            self.index_bucket_bits,
            int(lookup),
            SIDS_PER_SAMPLE,
            *self._top_field_pairs(locators, LOCATOR_FIELD_BITS),
            *self._top_field_pairs(samples, SAMPLE_FIELD_BITS),
        ]

    async def add_many(self, articles: Sequence[NewArticle], now: float | None = None) -> None:
        """Store articles without looking anything up (bulk loading, benchmarks)."""
        now = time.time() if now is None else now
        async with self.client.pipeline(transaction=False) as pipe:
            for article_id, outlet, fingerprint in articles:
                await self._script(
                    args=self._args(article_id, outlet, fingerprint, now, lookup=False),
                    client=pipe,
                )
            await pipe.execute()

    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> MatchResult:
        now = time.time() if now is None else now
        reply = await self._script(args=self._args(article_id, outlet, fingerprint, now))
        return _parse_reply(reply)

    async def match_and_add_many(
        self, articles: Sequence[NewArticle], now: float | None = None
    ) -> list[MatchResult]:
        if not articles:
            return []
        now = time.time() if now is None else now
        async with self.client.pipeline(transaction=False) as pipe:
            for article_id, outlet, fingerprint in articles:
                await self._script(
                    args=self._args(article_id, outlet, fingerprint, now), client=pipe
                )
            replies = await pipe.execute()
        return [_parse_reply(reply) for reply in replies]


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
