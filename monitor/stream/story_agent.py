"""Faust agents of the story stage: ``fingerprinted`` -> ``decisions`` (+ ``alerts``).

Story assignment keeps global, order-dependent state (which stories exist, what each has
reported), so ``fingerprinted`` has ONE partition (``TOPICS["fingerprinted"].partitioned``
is False) and one consumer: exactly one writer of story state at any time, no locks needed,
and articles are decided in the order the fingerprint stage produced them. Throughput is
that of one process (see ``benchmarks/bench_replay.py``), well above a news stream's rate.

Records are decided in batches (``stream.take_events``): one round trip answers "already
decided?" for the whole batch and reads the index keys its lookups need that are not in
process yet; the agent is the only writer, so its store (``RedisStoryStore(
write_behind=True)``) serves story state from process memory, and the batch's story updates
and outcomes go to Redis in one transaction at the end of the batch. The batch's decisions
and alerts are handed to the producer after that; offsets are acknowledged after that hand
over (and Faust flushes the producer before it commits them), so a worker killed anywhere in
between is replaced by one that reads the recorded outcomes back. Outputs go to
``app.producer`` directly rather than through ``Topic.send``: the same hand over without
Faust's per-record ``FutureMessage`` and sensor bookkeeping (nothing reads those: the web
server is off), and each outcome is sent as the JSON the story stage recorded
(``StoryOutcome.as_json``), not encoded again.

A second agent turns ``rejected`` records into ``rejected`` decisions, so every article gets
exactly one decision on ``decisions``; so does a ``fingerprinted`` record that is not valid
(``read_item``; one whose only fault is its analysis is decided without it). A Redis failure is counted in
``REDIS_ERRORS{operation="story"}`` and the batch decided again (with backoff) rather than
skipped: skipping would leave a story without an article it reported.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from faust.types import EventT, ProducerT, StreamT
from pydantic import ValidationError
from redis.exceptions import RedisError

from monitor.core.analysis import features_from_record, match_texts
from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.core.stories import ArticleFeatures, article_features, lookup_keys
from monitor.metrics import ARTICLES_REJECTED, REDIS_ERRORS
from monitor.settings import Settings
from monitor.stages.story import StoryOutcome, decide_story, rejection_stage
from monitor.stores.stories import RedisStoryStore
from monitor.stream.app import MonitorApp, redis_client, send_record, topic

__all__ = [
    "BATCH_SIZE",
    "BATCH_WITHIN",
    "decide_batch",
    "decide_outcomes",
    "read_item",
    "register",
]

log = logging.getLogger(__name__)
STAGE = "story"
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_SIZE = 200
BATCH_WITHIN = 0.02
"""Records decided together (``stream.take_events``): one "already decided?" lookup and
shared produce requests per batch; a lone record waits at most ``BATCH_WITHIN`` seconds."""
YIELD_EVERY = 0.005
"""Seconds of deciding after which a batch lets the event loop run (fetches, produce
requests): often enough for I/O, without a loop iteration per article."""


async def decide_batch(
    items: Sequence[FingerprintedArticle], store: RedisStoryStore, settings: Settings
) -> list[tuple[Decision, Alert | None]]:
    """The decision and alert of every item, in order (``decide_outcomes``)."""
    return [(outcome.decision, outcome.alert) for outcome in await decide_outcomes(
        items, store, settings
    )]  # fmt: skip


async def decide_outcomes(
    items: Sequence[FingerprintedArticle], store: RedisStoryStore, settings: Settings
) -> list[StoryOutcome]:
    """The outcome of every item, in order, once all their story updates are in Redis.

    ``store`` defers its writes (``defer_writes`` or ``write_behind``): a batch ends with
    its ``flush``, a failure with its ``discard_pending``.

    A Redis failure loses the writes still queued, so the whole batch is decided again (with
    backoff, never skipped): articles whose update did reach Redis get their recorded outcome
    back, the others are judged again.
    """
    ids = [item.article.id for item in items]
    # Computed once, outside the retry: the lookup keys are warmed with the batch's first
    # round trip, and story_stage would compute the same features again.
    features = [None if item.kind in ("exact", "reprint") else _features(item) for item in items]
    lookups = [lookup_keys(found) if found is not None else None for found in features]
    keys = [key for lookup in lookups if lookup is not None for key in lookup]
    attempt = 0
    while True:
        try:
            if store.write_behind:
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
        except (RedisError, OSError) as error:
            store.discard_pending()
            REDIS_ERRORS.labels(operation="story").inc()
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning(
                "story store failed for %d article(s) (%s); retry in %ss", len(ids), error, delay
            )
            attempt += 1
            await asyncio.sleep(delay)


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
        ARTICLES_REJECTED.labels(stage=STAGE, reason="invalid_record").inc()
        log.warning("invalid fingerprinted record %r: %s", key, problems[:1])
        return Rejection(
            id=(key or b"").decode("utf-8", errors="replace"),
            outlet="",
            stage=STAGE,
            reason="invalid_record",
            detail=str(error)[:500],
        )


async def send_outcomes(
    producer: ProducerT, decisions: str, alerts: str, outcomes: Sequence[StoryOutcome]
) -> None:
    """Hand ``outcomes`` to ``producer``, in order: decisions (key: article id) to topic
    ``decisions``, alerts (key: story id) to topic ``alerts``."""
    for outcome in outcomes:
        decision, alert = outcome.as_json()
        await _send(producer, decisions, outcome.decision.article.encode("utf-8"), decision)
        if alert is not None:
            assert outcome.alert is not None
            await _send(producer, alerts, outcome.alert.story.encode("utf-8"), alert)


async def _send(producer: ProducerT, topic_name: str, key: bytes, value: bytes) -> None:
    await send_record(producer, topic_name, key, value, _report_failure)


async def _send_rejected(producer: ProducerT, decisions: str, rejection: Rejection) -> None:
    decision = rejection_stage(rejection)
    key = (decision.article or "").encode("utf-8")
    await _send(producer, decisions, key, decision.model_dump_json().encode("utf-8"))


def _report_failure(sent: asyncio.Future[Any]) -> None:
    # What Faust's Topic.send does with a record the producer gave up on: log it.
    if not sent.cancelled() and (error := sent.exception()) is not None:
        log.warning("sending a story output failed: %r", error)


def register(app: MonitorApp) -> None:
    settings = app.settings
    decisions = topic(app, "decisions").get_topic_name()
    alerts = topic(app, "alerts").get_topic_name()
    store: RedisStoryStore | None = None
    reassigned = False

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # mode's handler type is too narrow
    def forget_story_state(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Another worker may have owned ``fingerprinted`` (and written story state) since
        # this one last did: its memory is dropped before the next batch, not during one.
        nonlocal reassigned
        reassigned = True

    @app.agent(topic(app, "fingerprinted"), name=f"{app.conf.id}.story")
    async def story(stream: StreamT[bytes]) -> None:
        nonlocal store, reassigned
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            if store is None:
                store = RedisStoryStore(
                    redis_client(app), settings.redis.key_prefix, write_behind=True,
                    timeline_size=settings.stories.timeline_entries,
                )  # fmt: skip
            elif reassigned:
                store.discard_pending()  # nothing pending between batches: only memory goes
            reassigned = False
            items: list[FingerprintedArticle] = []
            rejected: list[Rejection] = []
            for event in batch:
                item = read_item(event.value, event.key)
                if isinstance(item, FingerprintedArticle):
                    items.append(item)
                else:
                    rejected.append(item)
            outcomes = await decide_outcomes(items, store, settings)
            # Sent once the batch is decided (its story updates saved): the records share
            # produce requests, and the batch's offsets are acknowledged after these sends.
            producer = await app.maybe_start_producer()
            await send_outcomes(producer, decisions, alerts, outcomes)
            for rejection in rejected:
                await _send_rejected(producer, decisions, rejection)

    @app.agent(topic(app, "rejected"), name=f"{app.conf.id}.story-rejections")
    async def rejections(stream: StreamT[bytes]) -> None:
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            producer = await app.maybe_start_producer()
            for event in batch:
                try:
                    rejection = Rejection.model_validate_json(event.value)
                except ValidationError as error:
                    log.warning("invalid rejection record %r: %s", event.key, error.errors()[:1])
                    continue
                await _send_rejected(producer, decisions, rejection)
