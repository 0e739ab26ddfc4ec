"""Faust agents of the story stage: ``fingerprinted`` -> ``decisions`` (+ ``alerts``).

Story assignment keeps global, order-dependent state (which stories exist, what each has
reported), so ``fingerprinted`` has ONE partition (``TOPICS["fingerprinted"].partitioned``
is False) and one consumer: exactly one writer of story state at any time, no locks needed,
and articles are decided in the order the fingerprint stage produced them. Throughput is
that of one process (see ``benchmarks/bench_replay.py``), well above a news stream's rate.

Records are decided in batches (``stream.take_events``): one round trip answers "already
decided?" for the whole batch and reads the index keys its lookups need that are not in
process yet; the agent is the only writer, so its store (``WriteBehindStoryStore``) serves
story state from process memory, and the batch's story updates and outcomes go to Redis in
one transaction at the end of the batch. The batch's decisions
and alerts are produced after that (``monitor.stream.outbox.deliver``); offsets are
acknowledged once the broker has them all, so a worker killed anywhere in between is
replaced by one that reads the recorded outcomes back, and a decision too large to produce
becomes a ``rejected`` decision saying so (``outcome_records``). Outputs go to
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
import functools
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from faust.types import EventT, StreamT
from pydantic import ValidationError
from redis.exceptions import RedisError

from monitor.core.analysis import features_from_record, match_texts
from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.core.stories import ArticleFeatures, article_features, lookup_keys
from monitor.metrics import ARTICLES_REJECTED, REDIS_ERRORS
from monitor.settings import Settings
from monitor.stages.story import StoryOutcome, decide_story, rejection_stage
from monitor.stores.stories import WriteBehindStoryStore, write_behind_story_store
from monitor.stream.app import MonitorApp, redis_client, topic
from monitor.stream.outbox import TOO_LARGE, Outgoing, deliver

__all__ = [
    "BATCH_SIZE",
    "BATCH_WITHIN",
    "decide_batch",
    "decide_outcomes",
    "outcome_records",
    "read_item",
    "register",
    "rejected_decision_record",
]

log = logging.getLogger(__name__)
STAGE = "story"
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
_CUT = 200
"""Characters of an id or outlet kept in a rejected decision that did not fit whole."""
BATCH_SIZE = 200
BATCH_WITHIN = 0.02
"""Records decided together (``stream.take_events``): one "already decided?" lookup and
shared produce requests per batch; a lone record waits at most ``BATCH_WITHIN`` seconds."""
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
    features = [None if item.kind in ("exact", "reprint") else _features(item) for item in items]
    lookups = [lookup_keys(found) if found is not None else None for found in features]
    keys = [key for lookup in lookups if lookup is not None for key in lookup]
    attempt = 0
    while True:
        try:
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

    def cut(error: BaseException) -> Outgoing:
        short = Rejection(
            id=rejection.id[:_CUT],
            outlet=rejection.outlet[:_CUT],
            stage=rejection.stage,
            reason=rejection.reason,
            detail=f"{rejection.detail[:_CUT]} (record cut: {error})"[:500],
        )
        return Outgoing(decisions, short.id.encode("utf-8"), _rejected_json(short))

    return Outgoing(decisions, rejection.id.encode("utf-8"), _rejected_json(rejection), instead=cut)


def _rejected_json(rejection: Rejection) -> bytes:
    return rejection_stage(rejection).model_dump_json().encode("utf-8")


def register(app: MonitorApp) -> None:
    settings = app.settings
    decisions = topic(app, "decisions").get_topic_name()
    alerts = topic(app, "alerts").get_topic_name()
    store: WriteBehindStoryStore | None = None
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
                store = write_behind_story_store(redis_client(app), settings)
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
            await deliver(
                producer,
                [
                    *outcome_records(decisions, alerts, outcomes),
                    *(rejected_decision_record(decisions, rejection) for rejection in rejected),
                ],
            )

    @app.agent(topic(app, "rejected"), name=f"{app.conf.id}.story-rejections")
    async def rejections(stream: StreamT[bytes]) -> None:
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            records: list[Outgoing] = []
            for event in batch:
                try:
                    rejection = Rejection.model_validate_json(event.value)
                except ValidationError as error:
                    log.warning("invalid rejection record %r: %s", event.key, error.errors()[:1])
                    continue
                records.append(rejected_decision_record(decisions, rejection))
            await deliver(await app.maybe_start_producer(), records)
