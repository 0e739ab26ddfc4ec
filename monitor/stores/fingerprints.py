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
* ``P h:{generation}:{bucket}``: hash, the index of one generation (``generation`` =
  ``floor(unix time / generation_seconds)``). Keys are 64-bit: content keys, page locators
  (outlet+URL, outlet+GUID) and the stored sketch samples; ``bucket`` is
  ``floor(top 24 bits * buckets / 2**24)``, the field is the next 16 bits (samples, minus
  32768: a signed 16-bit integer takes 3-4 bytes in a listpack) or the next 40 bits (content
  and page keys), as an integer. The value is the ``sid`` of the latest article for
  content and page keys, and the space-separated sids of the latest ``SIDS_PER_SAMPLE``
  articles for samples (so same-topic articles sharing a few shingles do not take over each
  other's matches). The whole hash expires ``ttl`` after its generation ends, so no entry
  needs its own expiry (Redis 7.0 has no HEXPIRE), and lookups read the last
  ``ceil(ttl / generation) + 1`` generations; entries older than ``ttl`` are ignored by
  their ``inserted`` time, so the TTL is exact.
* ``P b:{generation}``: ``"{buckets} {filter class}"``, fixed by the generation's first
  insert from the latest earlier generation's entry count ``P n:{g}`` (``2 **
  index_bucket_bits`` buckets when there is none): about ``ENTRIES_PER_BUCKET`` (64)
  entries per index hash whatever the daily volume.
* ``P f:{class}``: the filter, a bitmap of ``2**class - 16`` bytes (one allocation) shared
  by the generations: a cell of 8 bits (16 or 32 when there are more generations) per
  position, one bit per generation (``generation % 8``). Every key added to a generation
  sets its generation's bit in two cells picked by its low bits; a lookup reads all its
  keys' cells in one ``BITFIELD_RO`` and reads an index hash only where both cells have the
  generation's bit (most samples of most articles are in no generation: about 5 % of those
  probes still read a hash). A generation clears its bit in every cell when it starts (that
  bit last served the generation ``8`` before, long expired). The filter has about
  ``FILTER_BITS`` cells per entry of a generation; a new size class is only taken when the
  volume has changed by more than 2x, and the old filter stays, read for the older
  generations, until they expire.
* ``P c:{generation}``: bitmap, one bit per bucket: set once its index hash exists (a new
  hash needs its expiry).
* ``P n:{generation}``: entries added in the generation.

Why this shape: one key per index entry would cost 50-90 bytes of key overhead each; small
hashes stay in Redis's compact listpack encoding (≤ ``hash-max-listpack-entries``, default
128, and values ≤ 64 bytes), where an entry costs about 10 bytes and a lookup scans at most
128 entries, so the cost per article does not grow with the number stored. A sudden
surge within a day makes that day's hashes larger (hashtable encoding: more memory, same
speed) until the next generation sizes itself. Without the filter, a lookup read one hash
per sample per generation (about 47 x 8 ``HGET`` from Lua, 1-2 ms of Redis CPU per article);
with it, one ``BITFIELD_RO`` and a few dozen ``HGET``. Two samples with the same bucket and
field share an index entry, as before, but the filter mostly tells them apart, so a lookup
counts fewer chance matches than before; an insert that the filter takes for new uses
``HSETNX`` so as not to overwrite such a neighbour. The Lua script builds key names itself, so it needs a single
Redis (not Redis Cluster).

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
_BIG_ENDIAN = np.dtype(">u8")

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
local ttl = tonumber(ARGV[2])
local generation_seconds = tonumber(ARGV[3])
local generations = tonumber(ARGV[4])
local min_shared = tonumber(ARGV[5])
local max_candidates = tonumber(ARGV[6])
local default_buckets = tonumber(ARGV[7])
local sids_per_sample = tonumber(ARGV[8])
local entries_per_bucket = tonumber(ARGV[9])
local filter_bits = tonumber(ARGV[10])
local now = tonumber(ARGV[11])
local article_id = ARGV[12]
local info = ARGV[13]
local lookup = ARGV[14] == '1'
local n_store = tonumber(ARGV[15])
local locators = ARGV[16]
local samples = ARGV[17]
local n_locators = #locators / 8
local n_samples = #samples / 8
local n_items = n_locators + n_samples
local generation = math.floor(now / generation_seconds)
local oldest = now - ttl
local expire_at = math.ceil((generation + 1) * generation_seconds + ttl)
local expire_text = string.format('%d', expire_at)
local floor, byte, format, call = math.floor, string.byte, string.format, redis.call
-- filter cells: one bit per generation slot (generation mod cell_bits)
local cell_bits = 8
while cell_bits < generations do cell_bits = cell_bits * 2 end
local cell_type = 'u' .. cell_bits

-- Every number handed to redis.call is formatted here with '%d': Lua's own number to string
-- conversion ('%.14g') costs several times more.

-- items: the locators (content key first), then the samples, 8 big-endian bytes each
local tops, lows, highs, fields = {}, {}, {}, {}
for k = 1, n_items do
  local blob, at = locators, 8 * k - 7
  if k > n_locators then blob, at = samples, 8 * (k - n_locators) - 7 end
  local b1, b2, b3, b4, b5, b6, b7, b8 = byte(blob, at, at + 7)
  tops[k] = (b1 * 256 + b2) * 256 + b3
  -- two filter cells per item, from bits other than its bucket's and field's leading ones
  lows[k] = ((b5 * 256 + b6) * 256 + b7) * 256 + b8
  highs[k] = ((b8 * 256 + b4) * 256 + b3) * 256 + b2
  if k > n_locators then
    -- the next 16 bits, shifted to a signed 16-bit integer: 3-4 bytes in a listpack
    fields[k] = format('%d', b4 * 256 + b5 - 32768)
  else
    fields[k] = format('%d', b4 * 4294967296 + lows[k])
  end
end

-- the live generations, newest first: {generation, buckets, filter size class, hash key
-- prefix, slot weight in a filter cell}
local generation_text = {}
local layout_keys = {}
for j = 1, generations do
  generation_text[j] = format('%d', generation - j + 1)
  layout_keys[j] = prefix .. 'b:' .. generation_text[j]
end
local layouts = call('MGET', unpack(layout_keys))
local function slot_weight(g)
  return 2 ^ (cell_bits - 1 - g % cell_bits)
end
local live = {}
for j = 1, generations do
  if layouts[j] then
    local buckets, class = string.match(layouts[j], '^(%d+) (%d+)$')
    local g = generation - j + 1
    live[#live + 1] = {g, tonumber(buckets), tonumber(class),
      prefix .. 'h:' .. generation_text[j] .. ':', slot_weight(g)}
  end
end

local function bucket_of(k, buckets)
  return floor(tops[k] * buckets / 16777216)
end
-- a filter of size class c is 2^c - 16 bytes (one allocation of 2^c with its header)
local function filter_cells(class)
  return floor((2 ^ class - 16) * 8 / cell_bits)
end
local function cells_of(k, class)
  local size = filter_cells(class)
  return floor(lows[k] * size / 4294967296), floor(highs[k] * size / 4294967296)
end

-- per item, its bucket (as text) in the last generation asked about
local bucket_texts, bucket_counts = {}, {}
local function hash_key(k, layout)
  if bucket_counts[k] ~= layout[2] then
    bucket_counts[k] = layout[2]
    bucket_texts[k] = format('%d', bucket_of(k, layout[2]))
  end
  return layout[4] .. bucket_texts[k]
end

local function meta(sid)
  local n = tonumber(sid)
  local slot = n % 64
  local values = call('HMGET', prefix .. 'm:' .. format('%d', floor(n / 64)),
    'i' .. slot, 'd' .. slot)
  -- the same article again (a redelivery or a retry) must not match itself
  if not values[1] or not values[2] or values[1] == article_id then return nil end
  local inserted = tonumber(string.match(values[2], '^[^|]+'))
  if inserted < oldest then return nil end
  return {n, values[1], values[2]}
end

local n_live = #live
local current = n_live > 0 and live[1][1] == generation
-- the current generation's index value of each item, when the lookup read it
local current_values = {}
local out = {0}
if lookup and n_live > 0 then
  -- each item's filter cell, one BITFIELD_RO per filter (all live generations share one,
  -- but after a resize): HGET only in the generations whose bit is set
  local cells = {}
  for _, layout in ipairs(live) do
    local class = layout[3]
    if not cells[class] then
      local args = {}
      for k = 1, n_items do
        local first, second = cells_of(k, class)
        args[6 * k - 5] = 'GET'; args[6 * k - 4] = cell_type; args[6 * k - 3] = format('#%d', first)
        args[6 * k - 2] = 'GET'; args[6 * k - 1] = cell_type; args[6 * k] = format('#%d', second)
      end
      cells[class] = call('BITFIELD_RO', prefix .. 'f:' .. class, unpack(args))
    end
  end
  local found = {}
  for k = 1, n_items do found[k] = false end
  for j = 1, n_live do
    local layout = live[j]
    local bits = cells[layout[3]]
    local weight = layout[5]
    for k = 1, n_items do
      if bits[2 * k - 1] % (2 * weight) >= weight and bits[2 * k] % (2 * weight) >= weight then
        local value = call('HGET', hash_key(k, layout), fields[k])
        if j == 1 and current then current_values[k] = value end
        if value then
          if not found[k] then found[k] = {} end
          -- newest generation first, newest sid first
          local list = found[k]
          local sids = {}
          for sid in string.gmatch(value, '%S+') do sids[#sids + 1] = sid end
          for m = #sids, 1, -1 do list[#list + 1] = sids[m] end
        end
      end
    end
  end

  local function first_alive(k)
    if not found[k] then return nil end
    for _, sid in ipairs(found[k]) do
      local stored = meta(sid)
      if stored then return stored end
    end
    return nil
  end

  local exact = first_alive(1)
  if exact then
    return {0, 'x', exact[1], 0, exact[2], exact[3]}
  end
  for k = 2, n_locators do
    local located = first_alive(k)
    if located then
      out[#out + 1] = 'u'; out[#out + 1] = located[1]; out[#out + 1] = 0
      out[#out + 1] = located[2]; out[#out + 1] = located[3]
      break
    end
  end
  -- shared samples per sid, counted per sample, newest generation and newest sid first
  -- (the first-seen order breaks ties, as in MemoryFingerprintStore)
  local counts = {}
  local seen = {}
  for k = n_locators + 1, n_items do
    if found[k] then
      for _, sid in ipairs(found[k]) do
        local count = counts[sid]
        if count then
          counts[sid] = count + 1
        else
          counts[sid] = 1
          seen[#seen + 1] = sid
        end
      end
    end
  end
  local ranked = {}
  local rank = {}
  for position, sid in ipairs(seen) do
    if counts[sid] >= min_shared then
      ranked[#ranked + 1] = sid
      rank[sid] = position
    end
  end
  table.sort(ranked, function(a, b)
    local ca, cb = counts[a], counts[b]
    if ca ~= cb then return ca > cb end
    return rank[a] < rank[b]
  end)
  for k = 1, math.min(#ranked, max_candidates) do
    local candidate = meta(ranked[k])
    if candidate then
      out[#out + 1] = 'c'; out[#out + 1] = candidate[1]; out[#out + 1] = counts[ranked[k]]
      out[#out + 1] = candidate[2]; out[#out + 1] = candidate[3]
    end
  end
end

-- A generation's layout is fixed by its first insert, from the latest earlier generation's
-- entry count: its bucket count (about entries_per_bucket entries per hash keeps every hash
-- a small listpack) and its filter (about filter_bits cells per entry; the newest live
-- generation's filter is kept while within a factor 2 of that).
local layout
local bucket_flags = prefix .. 'c:' .. generation_text[1]
if current then
  layout = live[1]
else
  local count_keys = {}
  for j = 1, generations do count_keys[j] = prefix .. 'n:' .. format('%d', generation - j) end
  local counts = call('MGET', unpack(count_keys))
  local previous = 0
  for j = 1, generations do
    previous = tonumber(counts[j] or '0')
    if previous > 0 then break end
  end
  local buckets = default_buckets
  if previous > 0 then
    buckets = math.max(16, math.ceil(previous / entries_per_bucket))
  end
  -- (without history, a filter for `buckets` entries: small, busier than it should be for
  -- one generation at most)
  local wanted = math.max(1024, (previous > 0 and previous or buckets)
    * filter_bits * cell_bits / 8)
  local class = floor(math.log(wanted) / math.log(2) + 0.5)
  if n_live > 0 and live[1][3] >= class - 1 and live[1][3] <= class + 1 then
    class = live[1][3]
  end
  layout = {generation, buckets, class, prefix .. 'h:' .. generation_text[1] .. ':',
    slot_weight(generation)}
  local filter = prefix .. 'f:' .. class
  if call('EXISTS', filter) == 1 then
    -- forget what the generation that had this slot before stored (it has expired)
    local pattern = {}
    local slot = generation % cell_bits
    for b = 0, cell_bits / 8 - 1 do
      local clear = floor(slot / 8) == b and 2 ^ (7 - slot % 8) or 0
      pattern[#pattern + 1] = string.char(255 - clear)
    end
    local mask = prefix .. 'f:mask'
    call('SET', mask, string.rep(table.concat(pattern), filter_cells(class)), 'EX', '60')
    -- BITOP drops the expiry; a generation started late, after a newer one, must not
    -- shorten it
    local expiry = math.max(call('EXPIRETIME', filter), expire_at)
    call('BITOP', 'AND', filter, filter, mask)
    call('DEL', mask)
    call('EXPIREAT', filter, format('%d', expiry))
  else
    -- allocate it at once (growing bit by bit over-allocates)
    call('SETBIT', filter, format('%d', filter_cells(class) * cell_bits - 1), '0')
    call('EXPIREAT', filter, expire_text)
  end
  call('SET', prefix .. 'b:' .. generation_text[1], format('%d %d', buckets, class),
    'EXAT', expire_text)
  call('SETBIT', bucket_flags, format('%d', buckets - 1), '0')
  call('EXPIREAT', bucket_flags, expire_text)
end
local count_key = prefix .. 'n:' .. generation_text[1]
local n_entries = n_locators + n_store
if call('INCRBY', count_key, n_entries) == n_entries then
  call('EXPIREAT', count_key, format('%d', expire_at + generations * generation_seconds))
end

local sid = call('INCR', prefix .. 'seq')
local slot = sid % 64
local meta_key = prefix .. 'm:' .. format('%d', floor(sid / 64))
call('HSET', meta_key, 'i' .. slot, article_id, 'd' .. slot, info)
call('EXPIREAT', meta_key, format('%d', math.ceil(now + ttl + generation_seconds)))
local sid_text = format('%d', sid)

-- set the stored items' filter bits (the old bit says whether the item may be in the
-- generation) and the flags of the hashes written (a new hash needs its expiry)
local n_written = n_locators + n_store
local slot_offset = generation % cell_bits
local args = {}
for k = 1, n_written do
  local first, second = cells_of(k, layout[3])
  args[8 * k - 7] = 'SET'; args[8 * k - 6] = 'u1'
  args[8 * k - 5] = format('%d', first * cell_bits + slot_offset); args[8 * k - 4] = '1'
  args[8 * k - 3] = 'SET'; args[8 * k - 2] = 'u1'
  args[8 * k - 1] = format('%d', second * cell_bits + slot_offset); args[8 * k] = '1'
end
local old_bits = call('BITFIELD', prefix .. 'f:' .. layout[3], unpack(args))
args = {}
for k = 1, n_written do
  hash_key(k, layout)
  args[4 * k - 3] = 'SET'; args[4 * k - 2] = 'u1'; args[4 * k - 1] = bucket_texts[k]
  args[4 * k] = '1'
end
local created = call('BITFIELD', bucket_flags, unpack(args))

-- a content or page key names the latest article; a shingle sample names the latest few
-- that had it, so articles on the same topic do not take over each other's matches
local written = {}
local function append(previous)
  local sids = {}
  for stored in string.gmatch(previous, '%S+') do sids[#sids + 1] = stored end
  while #sids >= sids_per_sample do table.remove(sids, 1) end
  sids[#sids + 1] = sid_text
  return table.concat(sids, ' ')
end
for k = 1, n_written do
  local key = hash_key(k, layout)
  local field = fields[k]
  if k <= n_locators or sids_per_sample <= 1 then
    call('HSET', key, field, sid_text)
  elseif (old_bits[2 * k - 1] == 1 and old_bits[2 * k] == 1) or written[key .. ' ' .. field] then
    local previous = current_values[k]
    if previous == nil or written[key .. ' ' .. field] then
      previous = call('HGET', key, field)
    end
    call('HSET', key, field, previous and append(previous) or sid_text)
  elseif call('HSETNX', key, field, sid_text) == 0 then
    -- another sample with the same bucket and field (the filter tells samples apart)
    call('HSET', key, field, append(call('HGET', key, field)))
  end
  written[key .. ' ' .. field] = true
  if created[k] == 0 then
    call('EXPIREAT', key, expire_text)
  end
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
    """Redis implementation: one Lua call per article (keys in the module docstring).

    Redis CPU per lookup+insert (``benchmarks/bench_fingerprint.py``): see BENCHMARKS.md.
    """

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

    def _args(
        self,
        article_id: str,
        outlet: str,
        fingerprint: Fingerprint,
        now: float,
        lookup: bool = True,
    ) -> list[Any]:
        # keys travel as one big-endian blob each (8 bytes a key): one argument to pack
        # instead of two per key, and the script takes buckets and fields from the bytes
        locators = np.array(
            [fingerprint.content_key, *fingerprint.locator_keys], dtype=_BIG_ENDIAN
        ).tobytes()
        samples = fingerprint.samples if lookup else fingerprint.stored_samples
        info = f"{math.ceil(now)}|{fingerprint.stored}|{fingerprint.bound >> 32:x}|{outlet}"
        return [
            *self._settings_args,
            repr(now),
            article_id,
            info,
            b"1" if lookup else b"0",
            fingerprint.stored,
            locators,
            samples.astype(_BIG_ENDIAN).tobytes(),
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
