"""Reading stories and their timelines for the web: story lists, search, one story.

Read-only: nothing here writes to a store. ``MemoryStoryBrowser`` reads the embedded
pipeline's ``MemoryStoryStore`` in process; ``RedisStoryBrowser`` reads the service's
Redis keys (``monitor.stores.stories`` documents them): a page in one to a few round trips.

Lists are ordered by last update, most recent first; a page ends with a cursor
(``updated:id`` of its last story) from which the next page goes on, so stories updated
meanwhile neither repeat nor vanish from the pages still to come.

Filters read indexes the story stage writes with the stories, never all the stories: the
outlet filter reads the outlet index (the stories each outlet published in, scored with
their last update); search (``q``) the story index, or for a key that held more stories
than that keeps, the search index (all the key's filings). Each query word is analysed as
the pipeline analyses an article title (normalised, terms and names), and a story matches
when it is filed, at its last update, under an index key of every telling word (a word too
common to be an index key is left out of the search). A page is the intersection of these
filings in list order: the smallest of them is read from the cursor on and each of its
stories checked against the others (``RedisStoryBrowser._matching``), so a page costs
about the same on page one as on page one thousand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from monitor.core.arabic import normalize, tokens
from monitor.core.records import Decision, DecisionKind
from monitor.core.stories import article_features, lookup_keys
from monitor.stores.stories import MERGE_HOPS, MemoryStoryStore, TimelineDigest

__all__ = [
    "MATCH_BUDGET",
    "MAX_LIMIT",
    "BadCursor",
    "MemoryStoryBrowser",
    "RedisStoryBrowser",
    "StoryBrowser",
    "StoryDetail",
    "StoryList",
    "StorySummary",
    "TimelineEntry",
    "search_keys",
]

MAX_LIMIT = 200
MATCH_BUDGET = 20_000
"""Index entries a filtered page (outlet, search) examines at most; should that not fill it,
the page holds fewer stories than asked, with a ``next`` cursor to go on from."""
CHUNK = 200
"""Index entries read per key and round trip by a filtered page."""


class BadCursor(ValueError):
    """A ``cursor`` that no page handed out."""


class StorySummary(BaseModel):
    id: str
    title: str
    created: datetime
    updated: datetime
    articles: int = Field(description="Articles filed in the story (copies included).")
    outlets: list[str] = Field(description="Outlets that carried it, most articles first.")
    developments: int = Field(description="Articles that brought a development.")
    last_development: datetime | None = Field(
        description="Publication of the latest article that brought news (new story or "
        "development)."
    )


class StoryList(BaseModel):
    stories: list[StorySummary]
    next: str | None = Field(description="Cursor of the next page; null on the last one.")


class TimelineEntry(BaseModel):
    article: str
    outlet: str
    title: str
    published: datetime | None
    url: str | None
    decision: DecisionKind
    new_sentences: list[str]
    reasons: dict[str, Any]


class StoryDetail(BaseModel):
    id: str = Field(description="The story's id: a merged story answers with its new id.")
    title: str
    created: datetime
    updated: datetime
    articles: int
    outlets: list[str]
    timeline: list[TimelineEntry] = Field(description="Oldest first (publication time).")


class StoryBrowser(Protocol):
    async def stories(
        self,
        *,
        q: str | None = None,
        outlet: str | None = None,
        since: float | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> StoryList: ...

    async def story(self, story_id: str) -> StoryDetail | None:
        """The story and its timeline (a merged id answers with the story it went into)."""
        ...

    async def resolve(self, story_id: str) -> str: ...


def search_keys(q: str) -> list[list[str]]:
    """Per telling word of ``q``, the index keys a story matching it is filed under.

    >>> search_keys("")
    []
    """
    groups: list[list[str]] = []
    for word in dict.fromkeys(tokens(normalize(q))):
        keys = lookup_keys(article_features(word, []))
        if keys:
            groups.append(keys)
    return groups


def parse_cursor(cursor: str) -> tuple[float, str]:
    """``updated:id`` -> (updated, id).

    >>> parse_cursor("1718805600.5:s1")
    (1718805600.5, 's1')
    """
    at, sep, story_id = cursor.partition(":")
    try:
        updated = float(at)
    except ValueError:
        raise BadCursor(cursor) from None
    if not sep or not story_id or not math.isfinite(updated):
        raise BadCursor(cursor)
    return updated, story_id


def make_cursor(updated: float, story_id: str) -> str:
    return f"{updated!r}:{story_id}"


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _after_cursor(ranked: Iterable[tuple[str, float]], cursor: tuple[float, str] | None):  # type: ignore[no-untyped-def]
    """(id, updated) pairs in list order (updated, then id, descending) after ``cursor``."""
    for story_id, updated in ranked:
        if cursor is None or (updated, story_id) < cursor:
            yield story_id, updated


def _outlets(digest: TimelineDigest) -> list[str]:
    return [outlet for outlet, _ in digest.outlets.most_common()]


def _entry(decision: Decision) -> TimelineEntry:
    return TimelineEntry.model_validate(decision, from_attributes=True)


class MemoryStoryBrowser:
    """Stories of an in-process ``MemoryStoryStore`` (``monitor web --replay``, ``monitor run``)."""

    def __init__(self, store: MemoryStoryStore) -> None:
        self._store = store

    def _summary(self, story_id: str) -> StorySummary | None:
        state = self._store.story(story_id)
        if state is None:
            return None
        digest = self._store.digests.get(story_id, TimelineDigest())
        last = digest.last_development
        return StorySummary(
            id=state.id,
            title=state.title,
            created=_time(state.created),
            updated=_time(state.updated),
            articles=state.articles,
            outlets=_outlets(digest),
            developments=digest.developments,
            last_development=_time(last) if last is not None else None,
        )

    async def stories(
        self,
        *,
        q: str | None = None,
        outlet: str | None = None,
        since: float | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> StoryList:
        after = parse_cursor(cursor) if cursor else None
        limit = max(1, min(limit, MAX_LIMIT))
        states = [s for s in self._store.stories() if s.id not in self._store.merged]
        if q is not None and q.strip():
            # Filed at its last update: a filing the story's features have left is old.
            last = {state.id: state.updated for state in states}
            matching: set[str] | None = None
            for keys in search_keys(q):
                filed = {
                    sid
                    for key in keys
                    for sid, at in self._store.search_index(key).items()
                    if last.get(sid) == at
                }
                matching = filed if matching is None else matching & filed
            states = [s for s in states if matching is not None and s.id in matching]
        if since is not None:
            states = [s for s in states if s.updated >= since]
        if outlet:
            published = self._store.outlet_stories(outlet)
            states = [s for s in states if s.id in published]
        ranked = sorted(
            ((s.id, s.updated) for s in states), key=lambda p: (p[1], p[0]), reverse=True
        )
        page = list(_after_cursor(ranked, after))[: limit + 1]
        summaries = [found for sid, _ in page[:limit] if (found := self._summary(sid))]
        more = len(page) > limit
        return StoryList(
            stories=summaries,
            next=make_cursor(page[limit - 1][1], page[limit - 1][0]) if more else None,
        )

    async def resolve(self, story_id: str) -> str:
        return await self._store.resolve(story_id)

    async def story(self, story_id: str) -> StoryDetail | None:
        story_id = await self._store.resolve(story_id)
        state = self._store.story(story_id)
        if state is None:
            return None
        digest = self._store.digests.get(story_id, TimelineDigest())
        return StoryDetail(
            id=state.id,
            title=state.title,
            created=_time(state.created),
            updated=_time(state.updated),
            articles=state.articles,
            outlets=_outlets(digest),
            timeline=[_entry(d) for _, _, d in self._store.timelines.get(story_id, [])],
        )


# ARGV: the keyspace, then story ids. Per id: {summary or false, merged-into or false,
# digest fields and values}.
_PAGE_LUA = """
local prefix = ARGV[1]
local reply = {}
for i = 2, #ARGV do
  local sid = ARGV[i]
  reply[i - 1] = {
    redis.call('GET', prefix .. 'sum:' .. sid),
    redis.call('GET', prefix .. 'merged:' .. sid),
    redis.call('HGETALL', prefix .. 'tlx:' .. sid),
  }
end
return reply
"""

# ARGV: the keyspace, a story id, hops. Reply: {id, summary, timeline with scores, digest}
# of the story the id now is (merged links followed), or {id} when it is gone.
_STORY_LUA = """
local prefix, sid = ARGV[1], ARGV[2]
for _ = 1, tonumber(ARGV[3]) do
  local merged_into = redis.call('GET', prefix .. 'merged:' .. sid)
  if not merged_into then break end
  sid = merged_into
end
local summary = redis.call('GET', prefix .. 'sum:' .. sid)
if not summary then return {sid} end
return {sid, summary, redis.call('ZRANGE', prefix .. 'tl:' .. sid, 0, -1),
        redis.call('HGETALL', prefix .. 'tlx:' .. sid)}
"""


def _pairs(reply: Any) -> list[tuple[str, float]]:
    """A ``WITHSCORES`` reply as (member, score) pairs."""
    return [(member.decode(), float(score)) for member, score in reply]


def _digest(fields: Sequence[bytes]) -> TimelineDigest:
    digest = TimelineDigest()
    for name, value in zip(fields[::2], fields[1::2], strict=True):
        if name == b"developments":
            digest.developments = int(value)
        elif name == b"last_development":
            digest.last_development = float(value)
        elif name.startswith(b"o:"):
            digest.outlets[name[2:].decode()] = int(value)
    return digest


def _summary_from(summary: bytes, digest: TimelineDigest) -> StorySummary:
    data = json.loads(summary)
    last = digest.last_development
    return StorySummary(
        id=data["id"],
        title=data["title"],
        created=_time(data["created"]),
        updated=_time(data["updated"]),
        articles=data.get("articles", 0),
        outlets=_outlets(digest),
        developments=digest.developments,
        last_development=_time(last) if last is not None else None,
    )


class RedisStoryBrowser:
    """Stories in the service's Redis (read only)."""

    def __init__(
        self, client: aioredis.Redis, key_prefix: str = "mon:", match_budget: int = MATCH_BUDGET
    ) -> None:
        self._redis = client
        self._match_budget = match_budget
        self._keyspace = key_prefix + "story:"
        self._index, self._search = self._keyspace + "idx:", self._keyspace + "sx:"
        self._page = client.register_script(_PAGE_LUA)
        self._story = client.register_script(_STORY_LUA)

    async def _ranked(
        self, since: float | None, after: tuple[float, str] | None, count: int
    ) -> list[tuple[str, float]]:
        """Up to ``count`` stories of ``P story:updated`` after the cursor, in list order."""
        key = self._keyspace + "updated"
        low: float | str = since if since is not None else "-inf"
        pairs: list[tuple[str, float]] = []
        if after is not None:
            # Stories updated at the cursor's very time come first, those below its id.
            ties = await self._redis.zrevrangebyscore(key, after[0], after[0], withscores=True)
            pairs = [pair for pair in _pairs(ties) if pair[0] < after[1]]
            pairs.sort(key=lambda p: p[0], reverse=True)
            if since is not None and after[0] < since:
                return []
            high: float | str = f"({after[0]!r}"
        else:
            high = "+inf"
        rest = await self._redis.zrevrangebyscore(
            key, high, low, start=0, num=count, withscores=True
        )
        pairs += _pairs(rest)
        return pairs[:count]

    async def _summaries(self, story_ids: list[str]) -> list[StorySummary | None]:
        """Per id its summary, or None when it is gone or merged."""
        if not story_ids:
            return []
        reply = await self._page(args=[self._keyspace, *story_ids])
        found: list[StorySummary | None] = []
        for summary, merged_into, fields in reply:
            digest = _digest(fields)
            if not summary or merged_into:
                found.append(None)
            else:
                found.append(_summary_from(summary, digest))
        return found

    async def _chosen(self, groups: list[list[str]]) -> list[list[str]]:
        """``groups`` with each ``idx`` key replaced by its ``sx`` key where there is one (the
        key held more stories than ``idx`` keeps: ``sx`` has them all)."""
        keys = [key for group in groups for key in group if key.startswith(self._index)]
        if not keys:
            return groups
        found = self._redis.pipeline(transaction=False)
        for key in keys:
            found.exists(self._search + key[len(self._index) :])
        searched = {key for key, exists in zip(keys, await found.execute(), strict=True) if exists}
        return [
            [self._search + key[len(self._index) :] if key in searched else key for key in group]
            for group in groups
        ]

    async def _matching(
        self,
        groups: list[list[str]],
        since: float | None,
        after: tuple[float, str] | None,
        want: int,
        budget: int,
    ) -> tuple[list[tuple[str, float]], tuple[float, str] | None, int]:
        """Up to ``want`` stories after the cursor ``after``, in list order, filed at their
        last update under a key of every group of ``groups`` (sorted sets named in full,
        story id -> update when filed); the position reached (None: nothing more) and the
        index entries examined (about ``budget`` at most).

        The group with the fewest entries leads: its keys are read from the cursor on, in
        chunks, in list order; each entry counts when its score is the story's last update
        (``P story:updated``) and every other group files the story at that time too (one
        ZMSCORE per key and chunk). An older score is a filing the story has left behind.
        """
        if since is not None and after is not None and after[0] < since:
            return [], None, 0
        sizes = self._redis.pipeline(transaction=False)
        for group in groups:
            for key in group:
                sizes.zcard(key)
        counts = iter(await sizes.execute())
        totals = [sum(next(counts) for _ in group) for group in groups]
        if not groups or min(totals) == 0:
            return [], None, 0
        lead = totals.index(min(totals))
        others = groups[:lead] + groups[lead + 1 :]
        low: float | str = since if since is not None else "-inf"
        found: list[tuple[str, float]] = []
        examined, position = 0, after
        while True:
            reads = self._redis.pipeline(transaction=False)
            for key in groups[lead]:
                if position is None:
                    high: str = "+inf"
                else:
                    reads.zrangebyscore(key, position[0], position[0], withscores=True)
                    high = f"({position[0]!r}"
                reads.zrevrangebyscore(key, high, low, start=0, num=CHUNK, withscores=True)
            replies = iter(await reads.execute())
            entries: set[tuple[float, str]] = set()
            # Past the highest last entry of a full chunk, another key may hold more.
            bound: tuple[float, str] | None = None
            for _ in groups[lead]:
                if position is not None:
                    entries.update(
                        (u, sid) for sid, u in _pairs(next(replies)) if sid < position[1]
                    )
                chunk = [(u, sid) for sid, u in _pairs(next(replies))]
                entries.update(chunk)
                if len(chunk) == CHUNK and (bound is None or chunk[-1] > bound):
                    bound = chunk[-1]
            ordered = sorted((e for e in entries if bound is None or e >= bound), reverse=True)
            if not ordered:
                return found, None, examined
            ids = [sid for _, sid in ordered]
            checks = self._redis.pipeline(transaction=False)
            checks.zmscore(self._keyspace + "updated", ids)
            for group in others:
                for key in group:
                    checks.zmscore(key, ids)
            scores = iter(await checks.execute())
            keep = [now == at for (at, _), now in zip(ordered, next(scores), strict=True)]
            for group in others:
                filed = [False] * len(ordered)
                for _ in group:
                    for i, ((at, _), score) in enumerate(zip(ordered, next(scores), strict=True)):
                        filed[i] = filed[i] or score == at
                keep = [a and b for a, b in zip(keep, filed, strict=True)]
            for (at, sid), matches in zip(ordered, keep, strict=True):
                examined += 1
                position = (at, sid)
                if matches:
                    found.append((sid, at))
                    if len(found) == want:
                        return found, position, examined
            if bound is None:
                return found, None, examined
            if examined >= budget:
                return found, position, examined

    async def _filtered(
        self,
        groups: list[list[str]],
        since: float | None,
        after: tuple[float, str] | None,
        limit: int,
    ) -> StoryList:
        """A page of the stories ``_matching`` finds (merged and expired ones left out)."""
        page: list[tuple[str, float, StorySummary]] = []
        budget, position = self._match_budget, after
        while True:
            matches, position, examined = await self._matching(
                groups, since, position, limit + 1 - len(page), budget
            )
            budget -= examined
            summaries = await self._summaries([sid for sid, _ in matches])
            for (sid, updated), found in zip(matches, summaries, strict=True):
                if found is not None:
                    page.append((sid, updated, found))
            stories = [found for _, _, found in page[:limit]]
            if len(page) > limit:
                sid, updated, _ = page[limit - 1]
                return StoryList(stories=stories, next=make_cursor(updated, sid))
            if position is None:
                return StoryList(stories=stories, next=None)
            if budget <= 0:
                return StoryList(stories=stories, next=make_cursor(*position))

    async def stories(
        self,
        *,
        q: str | None = None,
        outlet: str | None = None,
        since: float | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> StoryList:
        after = parse_cursor(cursor) if cursor else None
        limit = max(1, min(limit, MAX_LIMIT))
        page: list[StorySummary] = []
        last: tuple[str, float] | None = None
        groups: list[list[str]] = []
        if q is not None and q.strip():
            groups = [[self._index + key for key in keys] for keys in search_keys(q)]
            if not groups:
                return StoryList(stories=[], next=None)
        if outlet:
            groups.append([self._keyspace + "out:" + outlet])
        if groups:
            return await self._filtered(await self._chosen(groups), since, after, limit)
        # A page is one read (plus one for its summaries), more if merged stories drop out.
        chunk = limit + 1
        while True:
            ranked = await self._ranked(since, after, chunk)
            found_all = await self._summaries([s for s, _ in ranked])
            for (sid, updated), found in zip(ranked, found_all, strict=True):
                if len(page) == limit:
                    return StoryList(
                        stories=page, next=make_cursor(last[1], last[0]) if last else None
                    )
                last = (sid, updated)
                if found is not None:
                    page.append(found)
            if len(ranked) < chunk:
                return StoryList(stories=page, next=None)
            after = (ranked[-1][1], ranked[-1][0])

    async def resolve(self, story_id: str) -> str:
        reply = await self._story(args=[self._keyspace, story_id, MERGE_HOPS])
        return str(reply[0].decode())

    async def story(self, story_id: str) -> StoryDetail | None:
        reply = await self._story(args=[self._keyspace, story_id, MERGE_HOPS])
        if len(reply) < 2:
            return None
        _, summary, timeline, fields = reply
        data = json.loads(summary)
        digest = _digest(fields)
        return StoryDetail(
            id=data["id"],
            title=data["title"],
            created=_time(data["created"]),
            updated=_time(data["updated"]),
            articles=data.get("articles", 0),
            outlets=_outlets(digest),
            timeline=[TimelineEntry.model_validate_json(entry) for entry in timeline],
        )
