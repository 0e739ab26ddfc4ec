"""Per-outlet counts of short lines, from which outlet template boilerplate is learned.

``observe`` counts an article's distinct short-line keys for its outlet (once per article id)
and answers which of them are template lines of that outlet now: seen in at least
``template_min_share`` of its articles once it has ``template_min_articles``. Counts decay,
so a redesigned footer is learned within a few hundred articles. The Redis store does a
batch in one script call (``lua/templates/observe.lua``); key layout and memory bounds:
docs/stores/templates.md.

>>> import asyncio
>>> limits = {"template_min_articles": 2, "template_min_share": 0.5}
>>> store = memory_template_store(Settings(clean=limits))
>>> for _ in range(3):
...     template = asyncio.run(store.observe("veto", ["footer", "unique"]))
>>> sorted(asyncio.run(store.observe("veto", ["footer", "other"])).keys)
['footer']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypedDict, Unpack, runtime_checkable

from monitor.core.boilerplate import TemplateLines, template_from_counts
from monitor.settings import CleanSettings, Settings
from monitor.stores.scripts import lua_source

if TYPE_CHECKING:  # an embedded replay uses no Redis: redis-py is not imported for it
    from redis.asyncio import Redis

__all__ = [
    "TEMPLATE_REMEMBERED_IDS",
    "TEMPLATE_TTL_SECONDS",
    "CountingLimits",
    "MemoryTemplateStore",
    "Observation",
    "RedisTemplateStore",
    "TemplateLimits",
    "TemplateStore",
    "memory_template_store",
    "redis_template_store",
    "template_store_settings",
]

TEMPLATE_TTL_SECONDS = 60 * 86_400
TEMPLATE_REMEMBERED_IDS = 1_000
"""Article ids remembered per outlet to count each article once. A redelivery repeats what
a worker did since its last offset commit (a few seconds of the stream, a few hundred
articles of all outlets at the service's top rate), so the last thousand of one outlet
cover it, in some 70 KB of Redis per outlet."""


class Observation(NamedTuple):
    """One article for ``observe_many``."""

    outlet: str
    line_keys: Sequence[str]
    article_id: str | None = None
    """Counted once per id (None: counted every time)."""


@runtime_checkable
class TemplateStore(Protocol):
    async def observe(
        self, outlet: str, line_keys: Sequence[str], article_id: str | None = None
    ) -> TemplateLines:
        """Count one article of ``outlet`` with ``line_keys`` (once per ``article_id``);
        return which of them are template lines."""
        ...


class TemplateLimits(TypedDict):
    """The limits ``CleanSettings`` configures."""

    min_articles: int
    min_share: float
    max_lines: int
    decay_every: int


class CountingLimits(TypedDict, total=False):
    """A store's keyword arguments: any of the limits (the others default)."""

    min_articles: int
    min_share: float
    max_lines: int
    decay_every: int
    remembered_ids: int


def template_store_settings(settings: CleanSettings) -> TemplateLimits:
    """The limits of both store classes from the clean settings."""
    return {
        "min_articles": settings.template_min_articles,
        "min_share": settings.template_min_share,
        "max_lines": settings.template_max_lines,
        "decay_every": settings.template_decay_every,
    }


_DEFAULTS = CleanSettings()


class _CountingRules:
    """The limits both stores count by; the defaults are ``CleanSettings``'."""

    def __init__(
        self,
        *,
        min_articles: int = _DEFAULTS.template_min_articles,
        min_share: float = _DEFAULTS.template_min_share,
        max_lines: int = _DEFAULTS.template_max_lines,
        decay_every: int = _DEFAULTS.template_decay_every,
        remembered_ids: int = TEMPLATE_REMEMBERED_IDS,
    ) -> None:
        self.min_articles = min_articles
        self.min_share = min_share
        self.max_lines = max_lines
        self.decay_every = decay_every
        self.remembered_ids = remembered_ids


class MemoryTemplateStore(_CountingRules):
    """In-process store (embedded mode, tests), same counting rules as the Redis store."""

    def __init__(self, **limits: Unpack[CountingLimits]) -> None:
        super().__init__(**limits)
        self._articles: dict[str, int] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._ids: dict[str, dict[str, None]] = {}
        """Per outlet, the ids counted, oldest first (a dict keeps insertion order)."""

    async def observe(
        self, outlet: str, line_keys: Sequence[str], article_id: str | None = None
    ) -> TemplateLines:
        counts = self._counts.setdefault(outlet, {})
        if not self._first_time(outlet, article_id):
            current = {key: counts.get(key, 0) for key in dict.fromkeys(line_keys)}
            return template_from_counts(
                self._articles.get(outlet, 0), current,
                min_articles=self.min_articles, min_share=self.min_share,
            )  # fmt: skip
        articles = self._articles.get(outlet, 0) + 1
        current = {}
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

    def _first_time(self, outlet: str, article_id: str | None) -> bool:
        """Whether the article is to be counted (and remember it)."""
        if article_id is None:
            return True
        ids = self._ids.setdefault(outlet, {})
        if article_id in ids:
            return False
        ids[article_id] = None
        if len(ids) > self.remembered_ids:
            del ids[next(iter(ids))]
        return True

    async def observe_many(
        self, observations: Sequence[tuple[str, Sequence[str], str | None]]
    ) -> list[TemplateLines]:
        """``observe`` for each ``(outlet, line_keys, article_id)`` in order (later ones see
        earlier ones)."""
        return [await self.observe(*observation) for observation in observations]


_OBSERVE = lua_source("templates/observe")


class RedisTemplateStore(_CountingRules):
    """Redis store (service mode): counts shared by every clean worker."""

    def __init__(self, redis: Redis, *, key_prefix: str, **limits: Unpack[CountingLimits]) -> None:
        super().__init__(**limits)
        self._redis = redis
        self._prefix = key_prefix
        self._script = redis.register_script(_OBSERVE)

    def keys(self, outlet: str) -> tuple[str, str]:
        base = f"{self._prefix}tpl:{outlet}"
        return f"{base}:n", f"{base}:lines"

    def ids_key(self, outlet: str) -> str:
        return f"{self._prefix}tpl:{outlet}:ids"

    async def observe(
        self, outlet: str, line_keys: Sequence[str], article_id: str | None = None
    ) -> TemplateLines:
        (answer,) = await self.observe_many([(outlet, line_keys, article_id)])
        return answer

    async def observe_many(
        self, observations: Sequence[tuple[str, Sequence[str], str | None]]
    ) -> list[TemplateLines]:
        """``observe`` for each ``(outlet, line_keys, article_id)`` in one script call
        (atomic, in order, so later articles see earlier ones exactly as with one call each)."""
        if not observations:
            return []
        outlets: dict[str, int] = {}
        keys: list[str] = []
        args: list[str | int] = [
            self.max_lines, self.decay_every, TEMPLATE_TTL_SECONDS, self.remembered_ids
        ]  # fmt: skip
        distincts = []
        for outlet, line_keys, article_id in observations:
            number = outlets.get(outlet)
            if number is None:
                number = outlets[outlet] = len(outlets) + 1
                keys.extend((*self.keys(outlet), self.ids_key(outlet)))
            distinct = list(dict.fromkeys(line_keys))
            distincts.append(distinct)
            args.append(number)
            args.append(article_id or "")
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


def memory_template_store(settings: Settings) -> MemoryTemplateStore:
    """The in-process store configured by ``settings.clean`` (embedded mode).

    >>> memory_template_store(Settings(clean={"template_min_articles": 5})).min_articles
    5
    """
    return MemoryTemplateStore(**template_store_settings(settings.clean))


def redis_template_store(client: Redis, settings: Settings) -> RedisTemplateStore:
    """The Redis store configured by ``settings.clean`` and ``settings.redis`` (service mode)."""
    return RedisTemplateStore(
        client, key_prefix=settings.redis.key_prefix, **template_store_settings(settings.clean)
    )
