"""Per-outlet counts of short lines, from which outlet template boilerplate is learned.

Every cleaned article reports its distinct short-line keys (``PreparedArticle.template_keys``:
xxh64 of the normalised line, only lines up to ``TEMPLATE_MAX_LINE_CHARS``). ``observe``
counts them and answers, in the same call, which of them are template lines of that outlet
now (seen in at least ``template_min_share`` of its articles, once it has
``template_min_articles``). Only the article's own keys are answered: that is all the clean
stage needs, and it keeps the reply small.

Redis layout (``{p}`` = ``settings.redis.key_prefix``):

* ``{p}tpl:{outlet}:n`` — string, the outlet's (decayed) article count;
* ``{p}tpl:{outlet}:lines`` — hash, line key -> (decayed) number of articles containing it.

One round trip and one Lua script call per batch (``observe_many``; ``observe`` is a batch of
one): for each article in order, the script increments the outlet's count and the article's
keys and returns their counts. Memory is bounded three ways: only short lines are counted; a hash
holds at most ``template_max_lines`` fields (once full, only lines already counted are
incremented); and when the article count reaches ``2 * template_decay_every``, all counts and
the article count are halved and zero counts deleted (so after a start-up the halving runs
every ``template_decay_every`` articles, over an exponentially weighted window), so one-off lines (headlines of related-story boxes) fade
out and make room, and a redesigned footer is learned within a few hundred articles. Both
keys expire after ``TEMPLATE_TTL_SECONDS`` without articles (an outlet that disappears).

>>> import asyncio
>>> store = MemoryTemplateStore(min_articles=2, min_share=0.5)
>>> for _ in range(3):
...     template = asyncio.run(store.observe("veto", ["footer", "unique"]))
>>> sorted(asyncio.run(store.observe("veto", ["footer", "other"])).keys)
['footer']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict, runtime_checkable

from redis.asyncio import Redis

from monitor.core.boilerplate import TemplateLines, template_from_counts
from monitor.settings import CleanSettings

__all__ = [
    "TEMPLATE_TTL_SECONDS",
    "MemoryTemplateStore",
    "RedisTemplateStore",
    "TemplateLimits",
    "TemplateStore",
    "template_store_settings",
]

TEMPLATE_TTL_SECONDS = 60 * 86_400


@runtime_checkable
class TemplateStore(Protocol):
    async def observe(self, outlet: str, line_keys: Sequence[str]) -> TemplateLines:
        """Count one article of ``outlet`` with ``line_keys``; return which are template lines."""
        ...


class TemplateLimits(TypedDict):
    min_articles: int
    min_share: float
    max_lines: int
    decay_every: int


def template_store_settings(settings: CleanSettings) -> TemplateLimits:
    """Keyword arguments of both store classes from the clean settings."""
    return {
        "min_articles": settings.template_min_articles,
        "min_share": settings.template_min_share,
        "max_lines": settings.template_max_lines,
        "decay_every": settings.template_decay_every,
    }


class MemoryTemplateStore:
    """In-process store (embedded mode, tests), same counting rules as the Redis store."""

    def __init__(
        self,
        *,
        min_articles: int = 20,
        min_share: float = 0.3,
        max_lines: int = 20_000,
        decay_every: int = 1_000,
    ) -> None:
        self.min_articles = min_articles
        self.min_share = min_share
        self.max_lines = max_lines
        self.decay_every = decay_every
        self._articles: dict[str, int] = {}
        self._counts: dict[str, dict[str, int]] = {}

    async def observe(self, outlet: str, line_keys: Sequence[str]) -> TemplateLines:
        counts = self._counts.setdefault(outlet, {})
        articles = self._articles.get(outlet, 0) + 1
        current: dict[str, int] = {}
        for key in dict.fromkeys(line_keys):
            if key in counts or len(counts) < self.max_lines:
                counts[key] = counts.get(key, 0) + 1
            current[key] = counts.get(key, 0)
        answer = template_from_counts(
            articles, current, min_articles=self.min_articles, min_share=self.min_share
        )
        if self.decay_every > 0 and 2 * self.decay_every <= articles:
            articles //= 2
            for key in list(counts):
                counts[key] //= 2
                if not counts[key]:
                    del counts[key]
        self._articles[outlet] = articles
        return answer

    async def observe_many(
        self, observations: Sequence[tuple[str, Sequence[str]]]
    ) -> list[TemplateLines]:
        """``observe`` for each ``(outlet, line_keys)`` in order (later ones see earlier ones)."""
        return [await self.observe(outlet, keys) for outlet, keys in observations]


# KEYS: n and lines of each outlet of the call.  ARGV: max_lines, decay_every, ttl, then per
# article: its outlet's number (1 for the first two KEYS, ...), its key count, its keys.
# Returns per article {n, count1, count2, ...}, both as counted before its decay (if any).
# An outlet's count and hash size are read once and kept here between its articles, and its
# expiries set once at the end: the articles of one call share the script's clock.
_OBSERVE = """
local max_lines = tonumber(ARGV[1])
local decay_every = tonumber(ARGV[2])
local ttl = ARGV[3]
local call = redis.call
local articles, sizes = {}, {}
local replies = {}
local i = 4
while i <= #ARGV do
  local outlet = tonumber(ARGV[i])
  local last = i + 1 + tonumber(ARGV[i + 1])
  local lines = KEYS[2 * outlet]
  local n = articles[outlet]
  if not n then
    n = tonumber(call('GET', KEYS[2 * outlet - 1]) or '0')
    sizes[outlet] = call('HLEN', lines)
  end
  n = n + 1
  local size = sizes[outlet]
  local out = {n}
  for j = i + 2, last do
    local count
    if size < max_lines or call('HEXISTS', lines, ARGV[j]) == 1 then
      count = call('HINCRBY', lines, ARGV[j], 1)
      if count == 1 then size = size + 1 end
    else
      count = 0
    end
    out[#out + 1] = count
  end
  if decay_every > 0 and n >= 2 * decay_every then
    n = math.floor(n / 2)
    local all = call('HGETALL', lines)
    for j = 1, #all, 2 do
      local halved = math.floor(tonumber(all[j + 1]) / 2)
      if halved == 0 then
        call('HDEL', lines, all[j])
      else
        call('HSET', lines, all[j], string.format('%d', halved))
      end
    end
    size = call('HLEN', lines)
  end
  articles[outlet] = n
  sizes[outlet] = size
  replies[#replies + 1] = out
  i = last + 1
end
for outlet, n in pairs(articles) do
  call('SET', KEYS[2 * outlet - 1], string.format('%d', n))
  call('EXPIRE', KEYS[2 * outlet - 1], ttl)
  call('EXPIRE', KEYS[2 * outlet], ttl)
end
return replies
"""


class RedisTemplateStore:
    """Redis store (service mode): counts shared by every clean worker."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_prefix: str,
        min_articles: int = 20,
        min_share: float = 0.3,
        max_lines: int = 20_000,
        decay_every: int = 1_000,
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self.min_articles = min_articles
        self.min_share = min_share
        self.max_lines = max_lines
        self.decay_every = decay_every
        self._script = redis.register_script(_OBSERVE)

    def keys(self, outlet: str) -> tuple[str, str]:
        base = f"{self._prefix}tpl:{outlet}"
        return f"{base}:n", f"{base}:lines"

    async def observe(self, outlet: str, line_keys: Sequence[str]) -> TemplateLines:
        (answer,) = await self.observe_many([(outlet, line_keys)])
        return answer

    async def observe_many(
        self, observations: Sequence[tuple[str, Sequence[str]]]
    ) -> list[TemplateLines]:
        """``observe`` for each ``(outlet, line_keys)`` in one script call (atomic, in order,
        so later articles see earlier ones exactly as with one call each)."""
        if not observations:
            return []
        outlets: dict[str, int] = {}
        keys: list[str] = []
        args: list[str | int] = [self.max_lines, self.decay_every, TEMPLATE_TTL_SECONDS]
        distincts = []
        for outlet, line_keys in observations:
            number = outlets.get(outlet)
            if number is None:
                number = outlets[outlet] = len(outlets) + 1
                keys.extend(self.keys(outlet))
            distinct = list(dict.fromkeys(line_keys))
            distincts.append(distinct)
            args.append(number)
            args.append(len(distinct))
            args.extend(distinct)
        replies = await self._script(keys=keys, args=args)
        return [
            template_from_counts(
                int(reply[0]),
                {key: int(count) for key, count in zip(distinct, reply[1:], strict=True)},
                min_articles=self.min_articles,
                min_share=self.min_share,
            )
            for distinct, reply in zip(distincts, replies, strict=True)
        ]
