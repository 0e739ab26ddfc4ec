"""The story stage: fingerprinted article -> one decision (and an alert when there is news).

Copies (``exact``, ``reprint``) are named with their original's story, which gains the
copying outlet as a source. A ``revision`` joins the story of the article it revises; other
articles look up candidate stories in the index, join, resume or start one
(``monitor.core.decide``); both are judged for novelty against what the story already
reported. Story time is the article's publication
time (so replays of old news behave like the live stream), else the wall clock.

An article seen again (Kafka redelivers what a killed worker did not commit) gets the
outcome recorded with its story update, unchanged (``StoryStore.decided``): judging it again
would find its own update and lose its alert. Repeats are not counted in the metrics again.

Records ``DECISIONS{decision,outlet}``, ``STORIES_CREATED``, ``STORIES_ACTIVE`` (refreshed
at most every ``ACTIVE_REFRESH_SECONDS``), ``ALERTS{kind}``, ``STAGE_SECONDS{stage="story"}``
and, per alert, ``END_TO_END_LATENCY{start}`` from the article's trace timestamps.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple

from monitor.core.analysis import match_texts
from monitor.core.decide import (
    Outcome,
    choose_story,
    conclude,
    decide_copy,
    decide_duplicate,
    event_time,
    rejected_decision,
)
from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.core.stories import (
    ArticleFeatures,
    StoryState,
    article_features,
    index_keys,
    lookup_keys,
)
from monitor.core.weights import counted_terms
from monitor.metrics import (
    ALERTS,
    DECISIONS,
    END_TO_END_LATENCY,
    STAGE_SECONDS,
    STORIES_ACTIVE,
    STORIES_CREATED,
)
from monitor.settings import Settings
from monitor.stages import labelled
from monitor.stores.stories import StoryStore

__all__ = ["STAGE", "StoryOutcome", "decide_story", "rejection_stage", "story_stage"]

STAGE = "story"
DAY = 86_400.0
ACTIVE_REFRESH_SECONDS = 10.0
_LATENCY_STARTS = ("published", "polled", "produced")
_last_active_refresh = 0.0
_STORY_SECONDS = STAGE_SECONDS.labels(stage=STAGE)
_DECISION_JSON = Decision.__pydantic_serializer__.to_json
_ALERT_JSON = Alert.__pydantic_serializer__.to_json
"""``model_dump_json`` as UTF-8 bytes, without its round trip through ``str``."""


class StoryOutcome(NamedTuple):
    """What the story stage concluded for one article."""

    decision: Decision
    alert: Alert | None
    encoded: tuple[bytes, bytes | None] | None = None
    """``decision`` and ``alert`` as UTF-8 JSON, when the stage encoded them to record them
    with the story update (see ``as_json``)."""

    def as_json(self) -> tuple[bytes, bytes | None]:
        """``decision`` and ``alert`` (or None) as UTF-8 JSON, the bytes of ``model_dump_json``.

        The encoding recorded with the story update when there is one: the outcome is encoded
        once, and what the story agent sends is what a redelivery would get back.
        """
        if self.encoded is not None:
            return self.encoded
        alert = _ALERT_JSON(self.alert) if self.alert is not None else None
        return _DECISION_JSON(self.decision), alert


async def story_stage(
    item: FingerprintedArticle,
    store: StoryStore,
    settings: Settings,
    features: ArticleFeatures | None = None,
    lookup: list[str] | None = None,
) -> tuple[Decision, Alert | None]:
    """Decide what ``item`` tells subscribers; update its story in ``store``.

    ``features``: the article's ``article_features``, when already computed (the embedded
    pipeline computes them next to the clean stage, in another process); ``lookup``: their
    ``lookup_keys``, when already computed (the story agent warms its index with them).
    """
    outcome = await decide_story(item, store, settings, features, lookup)
    return outcome.decision, outcome.alert


async def decide_story(
    item: FingerprintedArticle,
    store: StoryStore,
    settings: Settings,
    features: ArticleFeatures | None = None,
    lookup: list[str] | None = None,
) -> StoryOutcome:
    """``story_stage``, with the outcome's JSON when it was encoded (see ``StoryOutcome``)."""
    started = time.perf_counter()
    stories = settings.stories
    article = item.article
    recorded = await store.decided(article.id)
    if recorded is not None:
        return StoryOutcome(*_load_outcome(recorded))
    now = event_time(article, default=time.time())
    retention = stories.archive_days * DAY
    original = None
    if item.kind in ("exact", "reprint", "revision") and item.matched_id:
        original = await _follow_merges(store, await store.story_of(item.matched_id))
    counted: list[str] = []
    if item.kind == "exact":
        outcome: Outcome = decide_duplicate(item, original)
        keys: list[str] = []
    else:
        if features is None:
            features = article_features(*match_texts(article))
        if lookup is None:
            lookup = lookup_keys(features)  # from the fixed weights, as the prep stage does
        # Weighed with what the stream has shown of each term so far; counted once decided.
        counted = counted_terms(features)
        features = (await store.term_counts()).reweigh(features)
        if item.kind == "reprint" and original is not None:
            # A copy is judged for what it adds to its original's story: nothing -> duplicate.
            outcome = decide_copy(item, features, original, now=now, settings=stories)
        else:
            candidates = await store.candidates(
                lookup,
                now=now,
                close_after=stories.close_after_days * DAY,
                archive_after=retention,
                limit=stories.candidates,
            )
            revised = original if item.kind == "revision" else None
            choice = choose_story(
                item, features, candidates, now=now, settings=stories, revised=revised
            )
            if choice.story is not None and choice.story is not revised:
                await store.load_memory(choice.story)
            if choice.absorbed is not None:
                await store.load_memory(choice.absorbed)
            outcome = conclude(item, features, choice, now=now, settings=stories)
        keys = (
            index_keys(outcome.story)
            if outcome.story is not None and outcome.decision.decision != "duplicate"
            else []
        )
    decision, alert = outcome.decision, outcome.alert
    decided = time.time()
    decision.trace["decided"] = decided
    if alert is not None:
        alert.trace["decided"] = decided
    # Encoded once the outcome is final (nothing below changes it): recorded and sent as is.
    encoded: tuple[bytes, bytes | None] | None = None
    if outcome.story is not None:
        encoded = _DECISION_JSON(decision), _ALERT_JSON(alert) if alert is not None else None
        articles = [article.id]
        if outcome.absorbed is not None:
            # The merged story's articles now name the story they were merged into.
            articles += [str(source["article"]) for source in outcome.absorbed.sources]
            await store.save(outcome.absorbed, keys=[], articles=[], retention=retention)
        await store.save(
            outcome.story, keys=keys, articles=articles, retention=retention,
            outcomes={article.id: _compose_outcome(*encoded)}, timeline=(decision,),
            timeline_json=(encoded[0],), terms=counted,
        )  # fmt: skip
        if outcome.absorbed is not None:
            await store.merge_timelines(outcome.absorbed.id, outcome.story.id)
    if alert is not None:
        labelled(ALERTS, alert.kind).inc()
        _observe_latency(alert, decided)
    if outcome.created:
        STORIES_CREATED.inc()
    await _refresh_active(store, now, stories.close_after_days * DAY, force=outcome.created)
    labelled(DECISIONS, decision.decision, decision.outlet).inc()
    _STORY_SECONDS.observe(time.perf_counter() - started)
    return StoryOutcome(decision, alert, encoded)


MAX_MERGE_HOPS = 8


async def _follow_merges(store: StoryStore, story: StoryState | None) -> StoryState | None:
    """The story ``story`` was merged into (itself when it was not), memory loaded."""
    for _ in range(MAX_MERGE_HOPS):
        if story is None or story.merged_into is None:
            return story
        story = await store.load_story(story.merged_into)
    return story


def _compose_outcome(decision: bytes, alert: bytes | None) -> bytes:
    # Pydantic's own JSON encoder (compact, UTF-8 kept) is several times faster than
    # model_dump + json.dumps; the parts are composed into one object, left as UTF-8 (the
    # stores keep or send bytes; one read back decodes them).
    return b"".join((b'{"decision":', decision, b',"alert":', alert or b"null", b"}"))


def _load_outcome(recorded: str) -> tuple[Decision, Alert | None]:
    data = json.loads(recorded)
    alert = data.get("alert")
    return (
        Decision.model_validate(data["decision"]),
        Alert.model_validate(alert) if alert is not None else None,
    )


def rejection_stage(rejection: Rejection) -> Decision:
    """The decision for an article the clean stage rejected (every article gets one)."""
    decision = rejected_decision(rejection)
    decision.trace["decided"] = time.time()
    labelled(DECISIONS, "rejected", decision.outlet).inc()
    return decision


def _observe_latency(alert: Alert, decided: float) -> None:
    for start in _LATENCY_STARTS:
        stamp = alert.trace.get(start)
        if stamp is None and start == "published" and alert.published is not None:
            stamp = alert.published.timestamp()
        # A replay of old news is not latency: only starts within a day are observed.
        if stamp is not None and 0 <= decided - stamp <= DAY:
            labelled(END_TO_END_LATENCY, start).observe(decided - stamp)


async def _refresh_active(store: StoryStore, now: float, close_after: float, force: bool) -> None:
    global _last_active_refresh
    wall = time.monotonic()
    if force and wall - _last_active_refresh < 1.0:
        force = False  # bursts of new stories: at most one count per second
    if force or wall - _last_active_refresh >= ACTIVE_REFRESH_SECONDS:
        _last_active_refresh = wall
        STORIES_ACTIVE.set(await store.open_count(now=now, close_after=close_after))
