"""Story state: candidate lookup through an inverted index, story summaries and memories.

A story is kept as its *summary* (what similarity needs) and its *memory* (what novelty
needs, read only for the chosen story). ``MemoryStoryStore`` keeps both in process (embedded
mode); ``RedisStoryStore`` writes each save to Redis as one transaction (``monitor replay
--redis``); ``WriteBehindStoryStore``, for the story agent (the single writer), serves reads
from process memory and writes a whole batch at ``flush``. Build them with the factories at
the end of this module; the Redis key layout and the write-behind rules:
docs/stores/stories.md.

>>> import asyncio
>>> from monitor.core.stories import article_features, index_keys, new_story_state
>>> store = memory_story_store(Settings())
>>> features = article_features("زيارة بوتين", ["زيارة بوتين الى بيونغ يانغ"])
>>> story = new_story_state("s1", "زيارة بوتين", features, now=0.0, sentences=[])
>>> asyncio.run(store.save(story, keys=index_keys(story), articles=["a1"], retention=86400))
>>> asyncio.run(store.story_of("a1")).id
's1'
"""

from __future__ import annotations

import json
import math
from array import array
from bisect import insort
from collections import (  # type: ignore[attr-defined]  # _count_elements: Counter's C loop
    Counter,
    OrderedDict,
    _count_elements,
)
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, NotRequired, Protocol, TypedDict, Unpack

from pydantic_core import to_json

from monitor.core.decide import Candidate
from monitor.core.records import Decision
from monitor.core.stories import StoryState
from monitor.core.weights import DOCUMENTS_FIELD, TermCounts
from monitor.settings import Settings
from monitor.stores.scripts import lua_source

if TYPE_CHECKING:  # an embedded replay uses no Redis: redis-py is not imported for it
    import redis.asyncio as aioredis
    from redis.asyncio.client import Pipeline

__all__ = [
    "DECIDED_TTL",
    "INDEX_PER_KEY",
    "MERGE_HOPS",
    "TIMELINE_SIZE",
    "MemoryStoryStore",
    "RedisStoryStore",
    "StoryStore",
    "StoryWrite",
    "TimelineDigest",
    "WriteBehindStoryStore",
    "memory_story_store",
    "redis_story_store",
    "write_behind_story_store",
]

INDEX_PER_KEY = 50
"""Most recent stories remembered per index key: a key shared by more says little."""
CACHE_SIZE = 5_000
"""Stories a Redis store keeps in process (the most recently saved)."""
INDEX_CACHE_SIZE = 200_000
"""Index keys a write-behind store keeps in process (the most recently used)."""
ARTICLE_CACHE_SIZE = 200_000
"""Article -> story mappings a write-behind store keeps in process."""
DECIDED_TTL = 86_400
"""Seconds an article's recorded outcome is kept (redeliveries come within minutes)."""
TIMELINE_SIZE = 100
"""Timeline entries kept per story by default (``StorySettings.timeline_entries``)."""
MERGE_HOPS = 16
"""Merged-story links ``resolve`` follows at most (a longer chain would be a cycle)."""
NEWS_DECISIONS = ("new_story", "development")
MEMORY_FIELDS = ("sentences", "seen_terms", "numbers", "sources")
SUMMARY_FIELDS = tuple(f.name for f in fields(StoryState) if f.name not in MEMORY_FIELDS)
_DECISION_JSON = Decision.__pydantic_serializer__.to_json

# The Redis scripts (monitor/stores/lua/stories/), read once. Scripts that share Lua functions
# start with the library files that define them.
_CANDIDATES_LUA = lua_source("stories/candidates")
_COUNT_TERMS_LUA = lua_source("stories/count_terms")
_FILE_LUA = lua_source("stories/file_search", "stories/file")
_READ_INDEX_LUA = lua_source("stories/read_index")
_TIMELINE_LUA = lua_source("stories/add_timeline", "stories/timeline")
_MERGE_TIMELINES_LUA = lua_source("stories/merge_timelines")
_RESOLVE_LUA = lua_source("stories/resolve")
_FLUSH_LUA = lua_source("stories/add_timeline", "stories/file_search", "stories/flush")
_STORY_OF_LUA = lua_source("stories/story_of")


class StoryWrite(TypedDict):
    """What ``StoryStore.save`` writes with a story, as keyword arguments."""

    keys: list[str]
    """Index keys to file the story under (``monitor.core.stories.index_keys``)."""
    articles: list[str]
    """Ids of the articles to map to the story."""
    retention: float
    """Seconds the story and its mappings are kept."""
    outcomes: NotRequired[Mapping[str, str | bytes] | None]
    """Article id -> outcome JSON (text or UTF-8), recorded in the same step (a redelivery
    reads them back, as text)."""
    timeline: NotRequired[Sequence[Decision]]
    """The articles' decisions, added to the story's timeline."""
    timeline_json: NotRequired[Sequence[bytes] | None]
    """The same decisions as UTF-8 JSON when the caller encoded them already: a store that
    keeps JSON writes these bytes instead of encoding again."""
    terms: NotRequired[Sequence[str]]
    """Terms of one article to count in ``term_counts`` (none: no article)."""


class StoryStore(Protocol):
    async def candidates(
        self, keys: list[str], *, now: float, close_after: float, archive_after: float, limit: int
    ) -> list[Candidate]:
        """Stories filed under ``keys``, most index hits first (summaries only).

        Stories idle longer than ``close_after`` seconds come back ``closed``; longer than
        ``archive_after``, not at all.
        """
        ...

    async def load_memory(self, story: StoryState) -> None:
        """Fill ``story``'s memory (reported sentences, terms, numbers, sources)."""
        ...

    async def story_of(self, article_id: str) -> StoryState | None:
        """The full story an article was filed in."""
        ...

    async def load_story(self, story_id: str) -> StoryState | None:
        """The full story (summary and memory) saved as ``story_id``."""
        ...

    async def save(self, story: StoryState, **write: Unpack[StoryWrite]) -> None:
        """Store ``story`` (summary and memory) with what ``write`` says, in one atomic step."""
        ...

    async def term_counts(self) -> TermCounts:
        """The stream's term counts (``monitor.core.weights``), as the saves left them."""
        ...

    async def resolve(self, story_id: str) -> str:
        """The story ``story_id`` now is: itself, or the one it was merged into (links
        followed)."""
        ...

    async def merge_timelines(self, from_id: str, into_id: str) -> None:
        """Record that ``from_id`` was merged into ``into_id`` (``resolve`` follows it) and
        move its timeline (and its digest) into ``into_id``'s: entries kept in publication
        order, trimmed to the bound; ``from_id``'s is gone after."""
        ...

    async def decided(self, article_id: str) -> str | None:
        """The outcome recorded for ``article_id`` by ``save``, if any."""
        ...

    async def open_count(self, *, now: float, close_after: float) -> int: ...


def _summary_json(story: StoryState) -> bytes:
    """The summary as compact UTF-8 JSON. pydantic-core's encoder takes a fifth of the time
    of ``json.dumps``; its floats are as short and read back exactly.

    The article sketches (the last field: three quarters of the bytes) never change once in
    a story, which keeps the same objects while the window slides, so each is encoded once
    (``_sketch_json``) and the whole is the bytes ``to_json`` of the summary would give.
    """
    summary = {name: getattr(story, name) for name in _HEAD_FIELDS}
    head = to_json(summary)
    return b"".join(
        (head[:-1], b',"sketches":[', b",".join(map(_sketch_json, story.sketches)), b"]}")
    )


_HEAD_FIELDS = SUMMARY_FIELDS[:-1]
assert SUMMARY_FIELDS[-1] == "sketches"
_SKETCH_JSON: dict[int, tuple[dict[int, float], bytes]] = {}
"""id of a sketch -> (the sketch, its JSON): the entry holds the sketch, so its id is not
reused while cached."""
_SKETCH_JSON_SIZE = 4_000
"""Sketches whose JSON is kept (a batch saves at most a few hundred stories)."""


def _sketch_json(sketch: dict[int, float]) -> bytes:
    cached = _SKETCH_JSON.get(id(sketch))
    if cached is not None and cached[0] is sketch:
        return cached[1]
    if len(_SKETCH_JSON) >= _SKETCH_JSON_SIZE:
        _SKETCH_JSON.clear()
    encoded = to_json(sketch)
    _SKETCH_JSON[id(sketch)] = (sketch, encoded)
    return encoded


def _rank(
    filings: list[dict[str, float]], min_time: float, limit: int, *, oldest: float | None = None
) -> list[str]:
    """The ``limit`` stories filed under most of ``filings`` (story id -> update, only those
    from ``min_time`` on), best first: most index hits, then most recently updated (the
    latest filing), then id (as the Lua script). ``oldest``: a time no filing is older than,
    when known (then none is dropped when it is from ``min_time`` on)."""
    # Every step runs in C: a Python loop over the ~100 filings cost more than the rest.
    entries = list(chain.from_iterable(map(dict.items, filings)))
    if (oldest is None or oldest < min_time) and any(
        min(filed.values()) < min_time for filed in filings
    ):
        entries = [entry for entry in entries if entry[1] >= min_time]
    entries.sort(key=_TIME)
    # In time order, the last filing of a story is its latest.
    updated = dict(entries)
    hits: dict[str, int] = {}
    _count_elements(hits, map(_STORY, entries))  # as ``Counter`` does, without its checks
    # Stable sorts, least significant key first; the id's (strings, the costliest) only
    # when two of the first ``limit`` (or the next) tie on both others, which the
    # order of ``hits`` would then decide.
    ranked = sorted(hits, key=updated.__getitem__, reverse=True)
    ranked.sort(key=hits.__getitem__, reverse=True)
    limit = max(0, limit)
    head = ranked[: limit + 1]
    keys = zip(map(hits.__getitem__, head), map(updated.__getitem__, head), strict=True)
    if len(set(keys)) < len(head):
        ranked.sort()
        ranked.sort(key=updated.__getitem__, reverse=True)
        ranked.sort(key=hits.__getitem__, reverse=True)
    return ranked[:limit]


_TIME = itemgetter(1)
_STORY = itemgetter(0)


@dataclass(slots=True)
class TimelineDigest:
    """What a story list shows of a timeline (all time: trimming does not change it)."""

    developments: int = 0
    last_development: float | None = None
    outlets: Counter[str] = field(default_factory=Counter)
    """Outlet -> articles of the story it published."""

    def add(self, decision: str, outlet: str, at: float) -> None:
        self.outlets[outlet] += 1
        if decision == "development":
            self.developments += 1
        if decision in NEWS_DECISIONS and (
            self.last_development is None or at > self.last_development
        ):
            self.last_development = at

    def absorb(self, other: TimelineDigest) -> None:
        self.developments += other.developments
        self.outlets.update(other.outlets)
        if other.last_development is not None and (
            self.last_development is None or other.last_development > self.last_development
        ):
            self.last_development = other.last_development


def timeline_time(decision: Decision, story: StoryState) -> float:
    """When a timeline entry happened: the article's publication, else the story time."""
    published = decision.published
    return published.timestamp() if published is not None else story.updated


@dataclass(slots=True)
class _Additions:
    """A story's timeline entries on their way to Redis: times (as sent), decisions (JSON),
    and what they add to the digest (summed here: Redis gets a few commands per story)."""

    times: list[str] = field(default_factory=list)
    decisions: list[bytes] = field(default_factory=list)
    digest: TimelineDigest = field(default_factory=TimelineDigest)

    def add(
        self, story: StoryState, timeline: Sequence[Decision], encoded: Sequence[bytes] | None
    ) -> None:
        if encoded is None:
            encoded = [_DECISION_JSON(decision) for decision in timeline]
        for decision, json_ in zip(timeline, encoded, strict=True):
            at = timeline_time(decision, story)
            self.times.append(repr(at))
            self.decisions.append(json_)
            self.digest.add(decision.decision, decision.outlet, at)

    def lua(self) -> tuple[list[str], list[Any]]:
        """``add_timeline``'s ``times`` and ``digest``."""
        digest = self.digest
        last = digest.last_development
        return self.times, [
            digest.developments,
            "" if last is None else repr(last),
            *chain.from_iterable(digest.outlets.items()),
        ]


_TIMELINE_ORDER = itemgetter(0, 1)
"""A timeline entry's place: by time, then article id (as Redis orders equal scores: by
member)."""


class MemoryStoryStore:
    """In-process store (embedded mode, tests). States are kept as objects."""

    def __init__(self, timeline_size: int = TIMELINE_SIZE) -> None:
        self._stories: dict[str, StoryState] = {}
        self._index: dict[str, dict[str, float]] = {}
        self._articles: dict[str, str] = {}
        self._outcomes: dict[str, str | bytes] = {}
        """Article id -> recorded outcome, as given (decoded when read: a redelivery is rare,
        and decoding the JSON of every outcome cost 1 % of the story stage)."""
        self.merged: dict[str, str] = {}
        """Merged story id -> the story it was merged into (the story stage records it)."""
        self.timeline_size = timeline_size
        # Story id -> [(time, article id, decision)], in time order; story id -> digest.
        self.timelines: dict[str, list[tuple[float, str, Decision]]] = {}
        self.digests: dict[str, TimelineDigest] = {}
        self._term_counts = TermCounts()
        # The outlet index and the search index (as in Redis): outlet -> {story id: last
        # update}, index key -> {story id: update when filed}.
        self._outlets: dict[str, dict[str, float]] = {}
        self._search: dict[str, dict[str, float]] = {}
        self._oldest_filing = math.inf
        """No filing in ``_index`` is older (``_rank`` then need not look for one)."""

    async def candidates(
        self, keys: list[str], *, now: float, close_after: float, archive_after: float, limit: int
    ) -> list[Candidate]:
        filings = [filed for filed in map(self._index.get, keys) if filed]
        stories = self._stories
        open_after = now - close_after
        ranked = _rank(filings, now - archive_after, limit, oldest=self._oldest_filing)
        return [
            Candidate(story, story.updated < open_after)  # (state, closed)
            for story in map(stories.get, ranked)
            if story is not None
        ]

    async def load_memory(self, story: StoryState) -> None:
        return None  # objects are kept whole

    async def story_of(self, article_id: str) -> StoryState | None:
        story_id = self._articles.get(article_id)
        return self._stories.get(story_id) if story_id else None

    async def load_story(self, story_id: str) -> StoryState | None:
        return self._stories.get(story_id)

    async def save(self, story: StoryState, **write: Unpack[StoryWrite]) -> None:
        keys, terms, timeline = write["keys"], write.get("terms", ()), write.get("timeline", ())
        self._outcomes.update(write.get("outcomes") or {})
        self._stories[story.id] = story
        if terms:
            self._term_counts.add(terms)
        if timeline and self.timeline_size > 0:
            story_id, updated = story.id, story.updated
            entries = self.timelines.get(story_id)
            if entries is None:
                entries = self.timelines[story_id] = []
            digest = self.digests.get(story_id)
            if digest is None:  # (a digest made for every save, to be dropped, cost more)
                digest = self.digests[story_id] = TimelineDigest()
            for decision in timeline:
                at = timeline_time(decision, story)
                # Where sorting the list would put it (after its equals: a stable sort of
                # the list with it appended), without sorting the list again per article.
                insort(entries, (at, decision.article, decision), key=_TIMELINE_ORDER)
                digest.add(decision.decision, decision.outlet, at)
            self._drop_oldest(entries)
            outlets = self._outlets
            for outlet in digest.outlets:
                filed = outlets.get(outlet)
                if filed is None:
                    outlets[outlet] = {story_id: updated}
                else:
                    filed[story_id] = updated
        if keys:
            self._file(story, keys)
        for article in write["articles"]:
            self._articles[article] = story.id

    def _file(self, story: StoryState, keys: list[str]) -> None:
        """File ``story`` under ``keys`` at its update time (``INDEX_PER_KEY`` per key)."""
        story_id, updated = story.id, story.updated
        self._oldest_filing = min(self._oldest_filing, updated)
        index = self._index
        search = self._search if self.timeline_size > 0 else None
        for key in keys:
            filed = index.get(key)
            if filed is None:
                filed = index[key] = {}
            filed[story_id] = updated
            if len(filed) > INDEX_PER_KEY:
                del filed[min(filed, key=filed.__getitem__)]
            if search is not None:
                found = search.get(key)
                if found is None:
                    search[key] = {story_id: updated}
                else:
                    found[story_id] = updated

    def _keep_latest(self, entries: list[tuple[float, str, Decision]]) -> None:
        entries.sort(key=_TIMELINE_ORDER)
        self._drop_oldest(entries)

    def _drop_oldest(self, entries: list[tuple[float, str, Decision]]) -> None:
        """Keep the latest ``timeline_size`` entries of a list in timeline order."""
        del entries[: max(0, len(entries) - self.timeline_size)]

    async def resolve(self, story_id: str) -> str:
        for _ in range(MERGE_HOPS):
            merged_into = self.merged.get(story_id)
            if merged_into is None:
                break
            story_id = merged_into
        return story_id

    async def merge_timelines(self, from_id: str, into_id: str) -> None:
        self.merged[from_id] = into_id
        moved = self.timelines.pop(from_id, [])
        if moved:
            entries = self.timelines.setdefault(into_id, [])
            entries.extend(moved)
            self._keep_latest(entries)
        digest = self.digests.pop(from_id, None)
        if digest is not None:
            self.digests.setdefault(into_id, TimelineDigest()).absorb(digest)
            into = self._stories.get(into_id)
            for outlet in digest.outlets:
                filed = self._outlets.setdefault(outlet, {})
                filed.pop(from_id, None)
                if into is not None:
                    filed[into_id] = into.updated

    def story(self, story_id: str) -> StoryState | None:
        """The stored state of ``story_id`` (for readers in this process: the web)."""
        return self._stories.get(story_id)

    def stories(self) -> list[StoryState]:
        """Every stored story (for readers in this process: the web)."""
        return list(self._stories.values())

    def index(self, key: str) -> dict[str, float]:
        """The stories filed under index ``key`` (story id -> update), for readers."""
        return dict(self._index.get(key, {}))

    def outlet_stories(self, outlet: str) -> dict[str, float]:
        """The stories ``outlet`` published in (story id -> last update), for readers."""
        return dict(self._outlets.get(outlet, {}))

    def search_index(self, key: str) -> dict[str, float]:
        """Every filing under ``key`` (story id -> update when filed: the story's current
        filing only when that is its last update), for readers; without timelines, the
        index's most recent filings."""
        return dict(self._search.get(key) or self._index.get(key, {}))

    async def decided(self, article_id: str) -> str | None:
        recorded = self._outcomes.get(article_id)
        return None if recorded is None else _text(recorded)

    async def term_counts(self) -> TermCounts:
        return self._term_counts

    async def decided_many(self, article_ids: list[str]) -> list[str | None]:
        recorded = map(self._outcomes.get, article_ids)
        return [None if outcome is None else _text(outcome) for outcome in recorded]

    async def open_count(self, *, now: float, close_after: float) -> int:
        return sum(1 for s in self._stories.values() if s.updated >= now - close_after)


def _increments(terms: Counter[str], documents: int) -> bytes:
    """``_COUNT_TERMS_LUA``'s argument: the documents' increment, then each term's, as one
    JSON array of pairs (encoded in C; an argument per term cost the client ~1 µs each)."""
    return to_json([(DOCUMENTS_FIELD, documents), *terms.items()])


def _file(filed: dict[str, float], story_id: str, updated: float) -> None:
    """``_FILE_LUA`` on one key held in process: ZADD, then keep the ``INDEX_PER_KEY`` best
    (Redis ranks equal scores by member, so the lowest (score, member) goes first)."""
    filed[story_id] = updated
    while len(filed) > INDEX_PER_KEY:
        del filed[min(zip(filed.values(), filed, strict=True))[1]]  # (score, id) pairs, in C


def _trim(cache: OrderedDict[str, Any], size: int) -> None:
    while len(cache) > size:
        cache.popitem(last=False)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _load(summary: Any) -> StoryState:
    return StoryState.from_dict(json.loads(summary))  # bytes or str


def _memory_fields(story: StoryState) -> tuple[bytes, bytes, bytes, bytes]:
    """The memory as compact binary fields (JSON of 3,000 hashes costs ms per article):
    ``terms``, ``sents``, ``lens`` and ``meta``, in that order (``_FLUSH_LUA`` names them)."""
    sentences = story.sentences
    return (
        array("I", story.seen_terms).tobytes(),
        array("I", chain.from_iterable(sentences)).tobytes(),
        array("H", map(len, sentences)).tobytes(),
        to_json({"numbers": story.numbers, "sources": story.sources}),
    )


def _encode_memory(story: StoryState) -> dict[str, bytes]:
    """The memory hash's fields."""
    return dict(zip(("terms", "sents", "lens", "meta"), _memory_fields(story), strict=True))


def _decode_memory(story: StoryState, stored: dict[Any, Any]) -> None:
    """Fill ``story``'s memory from ``_encode_memory``'s fields (bytes keys and values)."""
    if not stored:
        return
    terms = array("I")
    terms.frombytes(stored.get(b"terms", b""))
    flat = array("I")
    flat.frombytes(stored.get(b"sents", b""))
    lengths = array("H")
    lengths.frombytes(stored.get(b"lens", b""))
    sentences: list[list[int]] = []
    start = 0
    for length in lengths:
        sentences.append(flat[start : start + length].tolist())
        start += length
    meta = json.loads(stored.get(b"meta", b"{}"))
    story.seen_terms = terms.tolist()
    story.sentences = sentences
    story.numbers = meta.get("numbers", [])
    story.sources = meta.get("sources", [])


class _Save(NamedTuple):
    """One ``save``'s arguments as a Redis store writes them (no timeline when they are off)."""

    keys: list[str]
    articles: list[str]
    retention: float
    outcomes: Mapping[str, str | bytes]
    timeline: Sequence[Decision]
    timeline_json: Sequence[bytes] | None
    terms: Sequence[str]

    @property
    def ttl(self) -> int:
        return max(1, int(self.retention))


class _RedisStories:
    """What both Redis story stores share: key names, the scripts, the cache of the stories
    saved last (read-through copies, trusted while their update time matches Redis's index)
    and the reads that never wait for the store's own writes."""

    def __init__(
        self,
        client: aioredis.Redis,
        key_prefix: str = "mon:",
        cache_size: int = CACHE_SIZE,
        *,
        timeline_size: int = TIMELINE_SIZE,
    ) -> None:
        self._redis = client
        self.timeline_size = timeline_size
        self._prefix = key_prefix
        self._keyspace = key_prefix + "story:"
        self._cache: OrderedDict[str, StoryState] = OrderedDict()
        self._cache_size = cache_size
        # The stream's term counts, read once (``term_counts``) and then kept up to date by
        # ``save`` (one writer).
        self._term_counts: TermCounts | None = None
        self._story_of = client.register_script(_STORY_OF_LUA)
        self._resolve = client.register_script(_RESOLVE_LUA)
        self._candidates = client.register_script(_CANDIDATES_LUA)  # direct writes' lookups

    def _key(self, *parts: str) -> str:
        return self._keyspace + ":".join(parts)

    async def save(self, story: StoryState, **write: Unpack[StoryWrite]) -> None:
        terms = write.get("terms", ())
        if terms and self._term_counts is not None:
            self._term_counts.add(terms)
        args = _Save(
            write["keys"],
            write["articles"],
            write["retention"],
            write.get("outcomes") or {},
            write.get("timeline", ()) if self.timeline_size > 0 else (),
            write.get("timeline_json"),
            terms,
        )
        await self._write(story, args)

    async def _write(self, story: StoryState, save: _Save) -> None:
        """Write ``save`` of ``story``: each store says when it reaches Redis."""
        raise NotImplementedError

    def _queue_merges(self, pipe: Pipeline, merges: list[tuple[str, str]]) -> None:
        for from_id, into_id in merges:
            pipe.eval(_MERGE_TIMELINES_LUA, 0, self._keyspace, from_id, into_id, self.timeline_size)

    async def resolve(self, story_id: str) -> str:
        return _text(await self._resolve(args=[self._keyspace, story_id, MERGE_HOPS]))

    async def _candidate_states(
        self, ranked: Sequence[tuple[str, float | None]], *, now: float, close_after: float
    ) -> list[Candidate]:
        """Candidates for ``ranked`` (story id, update time in the index or ``None`` when the
        cache is authoritative), in order: from the cache when current, else one MGET."""
        states: dict[str, StoryState] = {}
        missing: list[str] = []
        for story_id, updated in ranked:
            cached = self._cache.get(story_id)
            if cached is not None and (updated is None or cached.updated == updated):
                states[story_id] = cached
            else:
                missing.append(story_id)
        if missing:
            summaries = await self._redis.mget([self._key("sum", sid) for sid in missing])
            for story_id, summary in zip(missing, summaries, strict=True):
                if summary is not None:
                    states[story_id] = _load(summary)
        return [
            Candidate(states[sid], closed=states[sid].updated < now - close_after)
            for sid, _ in ranked
            if sid in states
        ]

    async def load_memory(self, story: StoryState) -> None:
        if self._cache.get(story.id) is story:
            return  # a cached copy is whole
        # Not cached, so not saved since the last write to Redis: Redis is current.
        _decode_memory(story, await self._redis.hgetall(self._key("mem", story.id)))

    async def load_story(self, story_id: str) -> StoryState | None:
        cached = self._cache.get(story_id)
        if cached is not None:
            return cached  # a cached copy is whole and current (the single writer saved it)
        summary = await self._redis.get(self._key("sum", story_id))
        if summary is None:
            return None
        story = _load(summary)
        await self.load_memory(story)
        return story

    async def _story_in_redis(self, article_id: str) -> StoryState | None:
        """The full story Redis maps ``article_id`` to (one script call)."""
        reply = await self._story_of(keys=[self._key("art", article_id)], args=[self._prefix])
        if not reply:
            return None
        story = _load(reply[0])
        _decode_memory(story, dict(zip(reply[1::2], reply[2::2], strict=True)))
        return story

    async def decided(self, article_id: str) -> str | None:
        raw = await self._redis.get(self._key("dec", article_id))
        return None if raw is None else _text(raw)

    async def decided_many(self, article_ids: list[str]) -> list[str | None]:
        """``decided`` for many articles in one round trip (one MGET)."""
        if not article_ids:
            return []
        raws = await self._redis.mget([self._key("dec", article_id) for article_id in article_ids])
        return [None if raw is None else _text(raw) for raw in raws]

    async def term_counts(self) -> TermCounts:
        if self._term_counts is None:
            table = await self._redis.hgetall(self._key("terms"))
            self._term_counts = TermCounts.from_table(
                {_text(term): int(count) for term, count in table.items()}
            )
        return self._term_counts

    async def open_count(self, *, now: float, close_after: float) -> int:
        # A gauge: a write-behind store's count as of its last flush will do.
        return int(await self._redis.zcount(self._key("updated"), now - close_after, "+inf"))


class RedisStoryStore(_RedisStories):
    """Story state in Redis, written as it is saved: one MULTI per ``save`` (``monitor replay
    --redis``, tests and readers)."""

    async def candidates(
        self, keys: list[str], *, now: float, close_after: float, archive_after: float, limit: int
    ) -> list[Candidate]:
        if not keys:
            return []
        index_keys_ = [self._key("idx", key) for key in keys]
        args: list[str | int] = [self._prefix, repr(now - archive_after), INDEX_PER_KEY, limit]
        reply = await self._candidates(keys=index_keys_, args=args)
        ranked: list[tuple[str, float | None]] = [
            (_text(reply[i]), float(reply[i + 1])) for i in range(0, len(reply), 2)
        ]
        return await self._candidate_states(ranked, now=now, close_after=close_after)

    async def story_of(self, article_id: str) -> StoryState | None:
        return await self._story_in_redis(article_id)

    async def _write(self, story: StoryState, save: _Save) -> None:
        """The save in one MULTI, sent now."""
        ttl, retention, timeline = save.ttl, save.retention, save.timeline
        pipe = self._redis.pipeline(transaction=True)
        if terms := save.terms:
            pipe.eval(_COUNT_TERMS_LUA, 1, self._key("terms"), _increments(Counter(terms), 1))
        pipe.set(self._key("sum", story.id), _summary_json(story), ex=ttl)
        memory_key = self._key("mem", story.id)
        pipe.delete(memory_key)
        pipe.hset(memory_key, mapping=_encode_memory(story))  # type: ignore[arg-type]
        pipe.expire(memory_key, ttl)
        if keys := save.keys:
            # EVAL, not the registered script: a pipeline holding a script first asks Redis
            # SCRIPT EXISTS (one more round trip per save); EVAL of a known body is cheap.
            index_keys_ = [self._key("idx", key) for key in keys]
            cutoff = ""
            if self.timeline_size > 0:
                index_keys_ += [self._key("sx", key) for key in keys]
                cutoff = repr(story.updated - retention)
            pipe.eval(
                _FILE_LUA, len(index_keys_), *index_keys_,
                story.id, repr(story.updated), INDEX_PER_KEY, ttl, cutoff,
            )  # fmt: skip
        for article in save.articles:
            pipe.set(self._key("art", article), story.id, ex=ttl)
        for article, outcome in save.outcomes.items():
            pipe.set(self._key("dec", article), outcome, ex=DECIDED_TTL)
        pipe.zadd(self._key("updated"), {story.id: story.updated})
        pipe.zremrangebyscore(self._key("updated"), "-inf", story.updated - retention)
        if timeline:
            added = _Additions()
            added.add(story, timeline, save.timeline_json)
            cutoff = repr(story.updated - retention)
            head = (story.id, ttl, self.timeline_size, added.lua(), repr(story.updated), cutoff)
            pipe.eval(_TIMELINE_LUA, 0, self._keyspace, to_json(head), *added.decisions)
        try:
            await pipe.execute()
        except BaseException:
            self._cache.pop(story.id, None)  # the copy may be ahead of Redis now
            raise
        self._cache[story.id] = story
        self._cache.move_to_end(story.id)
        _trim(self._cache, self._cache_size)

    async def merge_timelines(self, from_id: str, into_id: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        self._queue_merges(pipe, [(from_id, into_id)])
        await pipe.execute()


class WriteBehindStoryStore(_RedisStories):
    """Story state in process memory, written to Redis a batch at a time (the story agent).

    Only for the single writer: reads come from memory (filled lazily from Redis, which holds
    every flushed batch), ``save`` only records the write, and :meth:`flush` sends the whole
    batch in one MULTI. After a failed flush, :meth:`discard_pending` forgets everything and
    the caller decides the batch again. The rules that keep memory and Redis in agreement:
    docs/stores/stories.md.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        key_prefix: str = "mon:",
        cache_size: int = CACHE_SIZE,
        *,
        index_cache_size: int = INDEX_CACHE_SIZE,
        article_cache_size: int = ARTICLE_CACHE_SIZE,
        timeline_size: int = TIMELINE_SIZE,
    ) -> None:
        super().__init__(client, key_prefix, cache_size, timeline_size=timeline_size)
        self._read_index = client.register_script(_READ_INDEX_LUA)
        self._index_cache_size = index_cache_size
        self._article_cache_size = article_cache_size
        # What is read: index key -> {story id: last update} (as in Redis), the batch's
        # filings under keys not read yet (applied on read), article id -> story id.
        self._index: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._unread_filings: dict[str, list[tuple[str, float]]] = {}
        self._articles: OrderedDict[str, str] = OrderedDict()
        # The batch's writes, coalesced: story id -> (last state, TTL), index key -> {story
        # id: update}, article id -> (story id, TTL), article id -> outcome (numbers as the
        # text sent to Redis); story id -> its new timeline entries; timeline merges (from,
        # into) to send after the batch's writes; term increments.
        self._batch_stories: dict[str, tuple[StoryState, int]] = {}
        self._batch_filings: dict[str, dict[str, str]] = {}
        self._batch_articles: dict[str, tuple[str, str]] = {}
        self._batch_outcomes: dict[str, str | bytes] = {}
        self._batch_timeline: dict[str, _Additions] = {}
        self._batch_merges: list[tuple[str, str]] = []
        self._batch_terms: Counter[str] = Counter()
        # Article id -> recorded outcome (None: undecided), for this batch.
        self._batch_decided: dict[str, str | bytes | None] = {}

    async def flush(self) -> None:
        """Send the batch's writes to Redis, then let the least recently used state go."""
        await self._write_batch()
        self._unread_filings.clear()  # Redis has them now
        self._batch_decided.clear()
        _trim(self._index, self._index_cache_size)
        _trim(self._articles, self._article_cache_size)
        _trim(self._cache, self._cache_size)

    async def _write_batch(self) -> None:
        """The batch's writes in one MULTI (an MSET and ``_FLUSH_LUA``): each story once, in
        its last state."""
        stories, self._batch_stories = self._batch_stories, {}
        filings, self._batch_filings = self._batch_filings, {}
        articles, self._batch_articles = self._batch_articles, {}
        outcomes, self._batch_outcomes = self._batch_outcomes, {}
        timelines, self._batch_timeline = self._batch_timeline, {}
        merges, self._batch_merges = self._batch_merges, []
        terms, self._batch_terms = self._batch_terms, Counter()
        if not stories:
            if merges:
                pipe = self._redis.pipeline(transaction=True)
                self._queue_merges(pipe, merges)
                await pipe.execute()
            return
        ttl = max(ttl for _, ttl in stories.values())
        # A key held in memory is what Redis holds: fewer stories than the limit there means
        # no filing of the batch pushed it past the limit in Redis either (a trim leaves
        # exactly the limit, and filings never shrink a set).
        index = self._index
        small: dict[str, dict[str, str]] = {}
        others: dict[str, dict[str, str]] = {}
        for key, filed in filings.items():
            known = index.get(key)
            (small if known is not None and len(known) < INDEX_PER_KEY else others)[key] = filed
        # Numbers go as text, written as before (repr): Lua would format each one it hands
        # to Redis again.
        batch = {
            "keep": INDEX_PER_KEY,
            "ttl": str(ttl),
            "cutoff": repr(max(story.updated for story, _ in stories.values()) - ttl),
            "stories": [
                (
                    story.id,
                    str(story_ttl),
                    repr(story.updated),
                    added.lua() if (added := timelines.get(story.id)) is not None else (),
                )
                for story, story_ttl in stories.values()
            ],
            "timeline_keep": self.timeline_size,
            "search": self.timeline_size > 0,
            "small": small,
            "index": others,
            "articles": articles,
            "outcomes": list(outcomes),
            "outcome_ttl": str(DECIDED_TTL),
        }
        keyspace = self._keyspace
        strings: dict[str, bytes | str] = {}
        memories: list[bytes] = []
        for story, _ in stories.values():
            strings[keyspace + "sum:" + story.id] = _summary_json(story)
            memories.extend(_memory_fields(story))
        for story, _ in stories.values():
            added = timelines.get(story.id)
            if added is not None:
                memories.extend(added.decisions)
        for article, outcome in outcomes.items():
            strings[keyspace + "dec:" + article] = outcome
        pipe = self._redis.pipeline(transaction=True)
        pipe.mset(strings)
        # EVAL, not the registered script: a pipeline holding a script first asks Redis
        # SCRIPT EXISTS (one more round trip); EVAL of a known body is cheap.
        pipe.eval(_FLUSH_LUA, 0, keyspace, to_json(batch), *memories)
        if terms:
            documents = terms.pop(DOCUMENTS_FIELD, 0)
            pipe.eval(_COUNT_TERMS_LUA, 1, self._key("terms"), _increments(terms, documents))
        self._queue_merges(pipe, merges)
        await pipe.execute()

    async def merge_timelines(self, from_id: str, into_id: str) -> None:
        # After the batch's writes, in the same transaction.
        self._batch_merges.append((from_id, into_id))

    def discard_pending(self) -> None:
        """Forget the batch's writes and everything read (after a failed round trip)."""
        self._batch_stories.clear()
        self._batch_filings.clear()
        self._batch_articles.clear()
        self._batch_outcomes.clear()
        self._batch_timeline.clear()
        self._batch_merges.clear()
        self._batch_decided.clear()
        self._batch_terms.clear()
        self._term_counts = None  # ahead of Redis by the lost writes: read again
        self._cache.clear()
        self._index.clear()
        self._unread_filings.clear()
        self._articles.clear()

    async def warm(self, keys: list[str]) -> None:
        """Read the index keys of ``keys`` not yet in memory, in one round trip."""
        unread = [key for key in dict.fromkeys(keys) if key not in self._index]
        if not unread:
            return
        index_keys_ = [self._key("idx", key) for key in unread]
        self._store_index(unread, await self._read_index(keys=index_keys_))

    def _store_index(self, keys: list[str], reply: list[list[Any]]) -> None:
        """Keep the sorted sets read for ``keys``, with the batch's filings applied."""
        for key, filed in zip(keys, reply, strict=True):
            entries = {_text(filed[i]): float(filed[i + 1]) for i in range(0, len(filed), 2)}
            for story_id, updated in self._unread_filings.pop(key, ()):
                _file(entries, story_id, updated)
            self._index[key] = entries

    async def prepare(self, article_ids: list[str], keys: list[str]) -> list[str | None]:
        """``decided_many(article_ids)`` and ``warm(keys)`` in one round trip (at the start of
        a batch: nothing is queued)."""
        unread = [key for key in dict.fromkeys(keys) if key not in self._index]
        pipe = self._redis.pipeline(transaction=False)
        if article_ids:
            pipe.mget([self._key("dec", article_id) for article_id in article_ids])
        if unread:
            index_keys_ = [self._key("idx", key) for key in unread]
            pipe.eval(_READ_INDEX_LUA, len(index_keys_), *index_keys_)
        if not article_ids and not unread:
            return []
        replies = await pipe.execute()
        raws = replies[0] if article_ids else []
        if unread:
            self._store_index(unread, replies[-1])
        recorded = [None if raw is None else _text(raw) for raw in raws]
        self._batch_decided.update(zip(article_ids, recorded, strict=True))
        return recorded

    async def candidates(
        self, keys: list[str], *, now: float, close_after: float, archive_after: float, limit: int
    ) -> list[Candidate]:
        if not keys:
            return []
        await self.warm(keys)
        index = self._index
        filings: list[dict[str, float]] = []
        for key in keys:
            filed = index[key]
            index.move_to_end(key)
            if filed:
                filings.append(filed)
        ranked = [(story_id, None) for story_id in _rank(filings, now - archive_after, limit)]
        # A story saved in this batch stays cached until flush; any other is current in Redis.
        return await self._candidate_states(ranked, now=now, close_after=close_after)

    async def story_of(self, article_id: str) -> StoryState | None:
        story_id = self._articles.get(article_id)
        if story_id is not None and story_id in self._cache:
            self._articles.move_to_end(article_id)
            return self._cache[story_id]
        # Mapped before this batch and its story no longer cached: Redis is current.
        story = await self._story_in_redis(article_id)
        if story is not None and story.id in self._cache:
            return self._cache[story.id]  # saved in this batch: Redis is behind
        return story

    async def _write(self, story: StoryState, save: _Save) -> None:
        """The save in memory now, in Redis at ``flush``."""
        ttl = save.ttl
        if terms := save.terms:
            self._batch_terms.update(terms)
            self._batch_terms[DOCUMENTS_FIELD] += 1
        self._batch_stories[story.id] = (story, ttl)
        updated = repr(story.updated)  # as redis-py would send it
        for key in save.keys:
            self._batch_filings.setdefault(key, {})[story.id] = updated
            filed = self._index.get(key)
            if filed is None:
                self._unread_filings.setdefault(key, []).append((story.id, story.updated))
            else:
                _file(filed, story.id, story.updated)
                self._index.move_to_end(key)
        ttl_text = str(ttl)
        for article in save.articles:
            self._batch_articles[article] = (story.id, ttl_text)
            self._articles[article] = story.id
            self._articles.move_to_end(article)
        self._batch_outcomes.update(save.outcomes)
        self._batch_decided.update(save.outcomes)
        # Dropped copies must wait for flush (until then Redis lacks them): no trim here.
        self._cache[story.id] = story
        self._cache.move_to_end(story.id)
        if save.timeline:
            added = self._batch_timeline.get(story.id)
            if added is None:
                added = self._batch_timeline[story.id] = _Additions()
            added.add(story, save.timeline, save.timeline_json)

    async def decided(self, article_id: str) -> str | None:
        if article_id in self._batch_decided:
            recorded = self._batch_decided[article_id]
            return None if recorded is None else _text(recorded)
        return await super().decided(article_id)


def memory_story_store(settings: Settings) -> MemoryStoryStore:
    """The in-process store configured by ``settings.stories`` (embedded mode).

    >>> memory_story_store(Settings(stories={"timeline_entries": 5})).timeline_size
    5
    """
    return MemoryStoryStore(settings.stories.timeline_entries)


def redis_story_store(client: aioredis.Redis, settings: Settings) -> RedisStoryStore:
    """The Redis store that writes as it saves (``monitor replay --redis``), configured by
    ``settings.stories`` and ``settings.redis``."""
    return RedisStoryStore(
        client, settings.redis.key_prefix, timeline_size=settings.stories.timeline_entries
    )


def write_behind_story_store(client: aioredis.Redis, settings: Settings) -> WriteBehindStoryStore:
    """The single writer's store (the story agent), configured by ``settings.stories`` and
    ``settings.redis``."""
    return WriteBehindStoryStore(
        client, settings.redis.key_prefix, timeline_size=settings.stories.timeline_entries
    )
