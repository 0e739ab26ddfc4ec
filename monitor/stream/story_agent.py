"""Faust agents of the story stage: ``fingerprinted`` -> ``decisions`` (+ ``alerts``), and
``rejected`` -> ``decisions``. The one consumer of the one-partition ``fingerprinted`` topic
decides batches in order with a write-behind story store, sends the outcomes it recorded and
acknowledges offsets once the broker has them; a Redis failure decides the batch again. Why
and how: docs/agents/story.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from faust.types import EventT
from pydantic import ValidationError
from redis.exceptions import RedisError

from monitor.core.analysis import features_from_record, match_texts
from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.core.stories import ArticleFeatures, article_features, lookup_keys
from monitor.metrics import ARTICLES_REJECTED, REDIS_ERRORS
from monitor.retry import Schedule, retry_until_done
from monitor.settings import Settings
from monitor.stages.story import StoryOutcome, decide_story, rejection_stage
from monitor.stores.stories import WriteBehindStoryStore, write_behind_story_store
from monitor.stream.app import MonitorApp, redis_client
from monitor.stream.batching import batch_agent, invalid_record, on_first_use, topic_names
from monitor.stream.outbox import TOO_LARGE, Outgoing, rejection_record

__all__ = [
    "decide_batch",
    "decide_outcomes",
    "outcome_records",
    "read_item",
    "register",
    "rejected_decision_record",
]

log = logging.getLogger(__name__)
STAGE = "story"
STORE_RETRY = Schedule((0.5, 1.0, 2.0, 5.0, 10.0))
"""How long a batch waits for the story store to come back."""
YIELD_EVERY = 0.005
"""Seconds of deciding after which a batch lets the event loop run (fetches, produce
requests): often enough for I/O, without a loop iteration per article."""


async def decide_batch(
    items: Sequence[FingerprintedArticle], store: WriteBehindStoryStore, settings: Settings
) -> list[tuple[Decision, Alert | None]]:
    """The decision and alert of every item, in order (``decide_outcomes``)."""
    return [(outcome.decision, outcome.alert) for outcome in await decide_outcomes(
        items, store, settings
    )]  # fmt: skip


async def decide_outcomes(
    items: Sequence[FingerprintedArticle], store: WriteBehindStoryStore, settings: Settings
) -> list[StoryOutcome]:
    """The outcome of every item, in order, once all their story updates are in Redis.

    ``store`` writes behind: a batch ends with its ``flush``, a failure with its
    ``discard_pending``.

    A Redis failure loses the writes still queued, so the whole batch is decided again (with
    backoff, never skipped): articles whose update did reach Redis get their recorded outcome
    back, the others are judged again.
    """
    ids = [item.article.id for item in items]
    # Computed once, outside the retry: the lookup keys are warmed with the batch's first
    # round trip, and story_stage would compute the same features again.
    # A reprint carries its analysis too (it is judged for what it adds to its original), so
    # it is not analysed again here; it looks for candidates only when its original is gone,
    # so its keys are not warmed.
    features = [None if item.kind == "exact" else _features(item) for item in items]
    lookups = [lookup_keys(found) if found is not None else None for found in features]
    keys = [
        key
        for item, lookup in zip(items, lookups, strict=True)
        if lookup is not None and item.kind != "reprint"
        for key in lookup
    ]

    async def decide_all() -> list[StoryOutcome]:
        # "Already decided?" for the batch and its index keys: one round trip.
        await store.prepare(ids, keys)
        outcomes = []
        yield_at = time.perf_counter() + YIELD_EVERY
        for item, found, lookup in zip(items, features, lookups, strict=True):
            outcomes.append(await decide_story(item, store, settings, found, lookup))
            # Reads come from memory: without this the batch would hold the loop and
            # the consumer could not fetch the next batch meanwhile.
            if time.perf_counter() >= yield_at:
                await asyncio.sleep(0)
                yield_at = time.perf_counter() + YIELD_EVERY
        await store.flush()
        return outcomes

    def failed(error: BaseException, delay: float) -> None:
        store.discard_pending()
        REDIS_ERRORS.labels(operation="story").inc()
        log.warning(
            "story store failed for %d article(s) (%s); retry in %ss", len(ids), error, delay
        )

    return await retry_until_done(
        decide_all, policy=STORE_RETRY, retry_on=(RedisError, OSError), failed=failed
    )


def _features(item: FingerprintedArticle) -> ArticleFeatures:
    """The item's story features: from its analysis (the fingerprint stage's work) if any."""
    if item.analysis is not None:
        try:
            return features_from_record(item.analysis)
        except ValueError as error:
            log.warning("analysis of %s unusable (%s): analysing it here", item.article.id, error)
    # A record with an analysis leaves the normalised texts out: they are recomputed.
    return article_features(*match_texts(item.article))


def read_item(value: bytes, key: bytes | None) -> FingerprintedArticle | Rejection:
    """A ``fingerprinted`` record as the story stage reads it.

    A record whose only fault is its analysis (damaged, or written by a prep worker of another
    version) is read without it, and the stage analyses the article itself; any other invalid
    record becomes a rejection, so the article still gets its one decision.
    """
    try:
        return FingerprintedArticle.model_validate_json(value)
    except ValidationError as error:
        problems = error.errors()
        if all(problem["loc"][:1] == ("analysis",) for problem in problems):
            log.warning("analysis of %r unreadable (%s): analysing it here", key, problems[:1])
            data = json.loads(value)
            data.pop("analysis", None)
            return FingerprintedArticle.model_validate(data)
        return invalid_record(key, error, STAGE, "fingerprinted")


def outcome_records(
    decisions: str, alerts: str, outcomes: Sequence[StoryOutcome]
) -> list[Outgoing]:
    """``outcomes`` as records, in order: decisions (key: article id) to topic ``decisions``,
    alerts (key: story id) to topic ``alerts``. A decision that cannot be produced (too large)
    is replaced by a ``rejected`` decision saying so; an alert that cannot is logged (its
    article's decision stands)."""
    records: list[Outgoing] = []
    for outcome in outcomes:
        decision, alert = outcome.as_json()
        article = outcome.decision
        records.append(
            Outgoing(
                decisions,
                article.article.encode("utf-8"),
                decision,
                instead=functools.partial(_rejected_instead, decisions, article),
            )
        )
        if alert is not None:
            assert outcome.alert is not None
            records.append(Outgoing(alerts, outcome.alert.story.encode("utf-8"), alert))
    return records


def _rejected_instead(decisions: str, decided: Decision, error: BaseException) -> Outgoing:
    ARTICLES_REJECTED.labels(stage=STAGE, reason=TOO_LARGE).inc()
    rejection = Rejection(
        id=decided.article,
        outlet=decided.outlet,
        stage=STAGE,
        reason=TOO_LARGE,
        detail=f"{decided.decision} decision: {error.__cause__ or error}"[:500],
        url=decided.url,
        published=decided.published,
    )
    return rejected_decision_record(decisions, rejection)


def rejected_decision_record(decisions: str, rejection: Rejection) -> Outgoing:
    """The ``rejected`` decision of ``rejection`` as a record of topic ``decisions``; should
    even it not fit (an id or outlet of megabytes), one with those cut short."""
    return rejection_record(decisions, rejection, encode=_rejected_json)


def _rejected_json(rejection: Rejection) -> bytes:
    return rejection_stage(rejection).model_dump_json().encode("utf-8")


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs = topic_names(app, "decisions", "alerts")
    decisions, alerts = outputs["decisions"], outputs["alerts"]

    def write_behind_store() -> WriteBehindStoryStore:
        return write_behind_story_store(redis_client(app), settings)

    store = on_first_use(write_behind_store)
    reassigned = False

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # mode's handler type is too narrow
    def forget_story_state(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Another worker may have owned ``fingerprinted`` (and written story state) since
        # this one last did: its memory is dropped before the next batch, not during one.
        nonlocal reassigned
        reassigned = True

    async def story(batch: Sequence[EventT]) -> list[Outgoing]:
        nonlocal reassigned
        if reassigned:
            store().discard_pending()  # nothing pending between batches: only memory goes
            reassigned = False
        items: list[FingerprintedArticle] = []
        rejected: list[Rejection] = []
        for event in batch:
            item = read_item(event.value, event.key)
            if isinstance(item, FingerprintedArticle):
                items.append(item)
            else:
                rejected.append(item)
        outcomes = await decide_outcomes(items, store(), settings)
        return [
            *outcome_records(decisions, alerts, outcomes),
            *(rejected_decision_record(decisions, rejection) for rejection in rejected),
        ]

    async def rejections(batch: Sequence[EventT]) -> list[Outgoing]:
        records: list[Outgoing] = []
        for event in batch:
            try:
                rejection = Rejection.model_validate_json(event.value)
            except ValidationError as error:
                log.warning("invalid rejection record %r: %s", event.key, error.errors()[:1])
                continue
            records.append(rejected_decision_record(decisions, rejection))
        return records

    batch_agent(app, "fingerprinted", "story", story)
    batch_agent(app, "rejected", "story-rejections", rejections)
