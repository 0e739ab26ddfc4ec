"""Faust agents of the story stage: ``fingerprinted`` -> ``decisions`` (+ ``alerts``).

Story assignment keeps global, order-dependent state (which stories exist, what each has
reported), so ``fingerprinted`` has ONE partition (``TOPICS["fingerprinted"].partitioned``
is False) and one consumer: exactly one writer of story state at any time, no locks needed,
and articles are decided in the order the fingerprint stage produced them. Throughput is
that of one process (see ``benchmarks/bench_replay.py``), well above a news stream's rate.

A second agent turns ``rejected`` records into ``rejected`` decisions, so every article gets
exactly one decision on ``decisions``. A Redis failure is counted in
``REDIS_ERRORS{operation="story"}`` and the article retried (with backoff) rather than
skipped: skipping would leave a story without an article it reported.
"""

from __future__ import annotations

import asyncio
import logging

from faust.types import StreamT
from pydantic import ValidationError
from redis.exceptions import RedisError

from monitor.core.records import Alert, Decision, FingerprintedArticle, Rejection
from monitor.metrics import REDIS_ERRORS
from monitor.stages.story import rejection_stage, story_stage
from monitor.stores.stories import RedisStoryStore
from monitor.stream.app import MonitorApp, redis_client, topic

__all__ = ["register"]

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


def register(app: MonitorApp) -> None:
    settings = app.settings
    decisions = topic(app, "decisions")
    alerts = topic(app, "alerts")
    store: RedisStoryStore | None = None

    async def decide(item: FingerprintedArticle) -> tuple[Decision, Alert | None]:
        nonlocal store
        attempt = 0
        while True:
            if store is None:
                store = RedisStoryStore(redis_client(app), settings.redis.key_prefix)
            try:
                return await story_stage(item, store, settings)
            except (RedisError, OSError) as error:
                REDIS_ERRORS.labels(operation="story").inc()
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning(
                    "story store failed for %s (%s); retry in %ss", item.article.id, error, delay
                )
                attempt += 1
                await asyncio.sleep(delay)

    @app.agent(topic(app, "fingerprinted"), name=f"{app.conf.id}.story")
    async def story(stream: StreamT[bytes]) -> None:
        async for key, value in stream.items():
            try:
                item = FingerprintedArticle.model_validate_json(value)
            except ValidationError as error:
                log.warning("invalid fingerprinted record %r: %s", key, error.errors()[:1])
                continue
            decision, alert = await decide(item)
            await decisions.send(
                key=decision.article.encode("utf-8"),
                value=decision.model_dump_json().encode("utf-8"),
            )
            if alert is not None:
                await alerts.send(
                    key=alert.story.encode("utf-8"), value=alert.model_dump_json().encode("utf-8")
                )

    @app.agent(topic(app, "rejected"), name=f"{app.conf.id}.story-rejections")
    async def rejections(stream: StreamT[bytes]) -> None:
        async for key, value in stream.items():
            try:
                rejection = Rejection.model_validate_json(value)
            except ValidationError as error:
                log.warning("invalid rejection record %r: %s", key, error.errors()[:1])
                continue
            decision = rejection_stage(rejection)
            await decisions.send(
                key=(decision.article or "").encode("utf-8"),
                value=decision.model_dump_json().encode("utf-8"),
            )
