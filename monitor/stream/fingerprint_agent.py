"""Faust agent of the fingerprint stage: ``clean`` -> ``fingerprinted`` (| ``rejected``).

Reads ``CleanArticle`` JSON keyed by article id in batches (``stream.take_events``: up to
``BATCH_SIZE`` records or ``BATCH_WITHIN`` seconds), classifies the whole batch with one
Redis round trip (``monitor.stages.fingerprint.fingerprint_batch``) and writes every
``FingerprintedArticle`` (also exact copies and reprints: the story stage records their
decision; the others carry their story analysis, computed here because this stage is
partitioned) to ``fingerprinted``, keyed by article id, in input order. Records that are not
valid ``CleanArticle`` JSON go to ``rejected`` so a poison message never stops the partition.
Records go through ``monitor.stream.outbox.deliver`` (an article whose record cannot be
produced gets a ``record_too_large`` rejection instead).

When Redis is down the batch is retried with backoff (each failure is logged and counted in
``REDIS_ERRORS``) and nothing is sent or acknowledged until it succeeds: no article is lost
and none is passed on unclassified. Retries are safe: an article never matches itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence

from faust.types import EventT, StreamT
from pydantic import ValidationError

from monitor.core.records import (
    CleanArticle,
    FingerprintedArticle,
    Rejection,
    fingerprinted_omits,
)
from monitor.metrics import ARTICLES_REJECTED
from monitor.settings import Settings
from monitor.stages.fingerprint import STAGE, FingerprintStoreUnavailable, fingerprint_batch
from monitor.stores.fingerprints import FingerprintStore, redis_fingerprint_store
from monitor.stream.app import MonitorApp, redis_client, topic
from monitor.stream.outbox import (
    Outgoing,
    article_record,
    article_rejection,
    deliver,
    rejection_record,
)

__all__ = ["BATCH_SIZE", "BATCH_WITHIN", "fingerprint_until_done", "register"]

log = logging.getLogger(__name__)

BATCH_SIZE = 200
BATCH_WITHIN = 0.02
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 30.0


async def fingerprint_until_done(
    articles: Sequence[CleanArticle], store: FingerprintStore, settings: Settings
) -> list[FingerprintedArticle]:
    """``fingerprint_batch`` (with the story analysis attached), retried with exponential
    backoff while the store is down."""
    delay = RETRY_FIRST_DELAY
    while True:
        try:
            return await fingerprint_batch(articles, store, settings, with_analysis=True)
        except FingerprintStoreUnavailable:
            log.warning("retrying %d article(s) in %.1fs", len(articles), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)


def _invalid(key: bytes | None, error: ValidationError) -> Rejection:
    ARTICLES_REJECTED.labels(stage=STAGE, reason="invalid_record").inc()
    article_id = key.decode("utf-8", errors="replace") if key else ""
    log.warning("invalid clean record %r: %s", article_id, error.errors()[:1])
    return Rejection(
        id=article_id, outlet="", stage=STAGE, reason="invalid_record", detail=str(error)[:500]
    )


def register(app: MonitorApp) -> None:
    settings = app.settings
    fingerprinted = topic(app, "fingerprinted").get_topic_name()
    rejected = topic(app, "rejected").get_topic_name()
    store: FingerprintStore | None = None

    @app.agent(topic(app, "clean"), name=f"{app.conf.id}.fingerprint")
    async def fingerprint(stream: StreamT[bytes]) -> None:
        nonlocal store
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            if store is None:
                store = redis_fingerprint_store(redis_client(app), settings)
            articles: list[CleanArticle] = []
            records: list[Outgoing] = []
            for event in batch:
                try:
                    articles.append(CleanArticle.model_validate_json(event.value))
                except ValidationError as error:
                    records.append(rejection_record(rejected, _invalid(event.key, error)))
            for result in await fingerprint_until_done(articles, store, settings):
                records.append(
                    article_record(
                        fingerprinted,
                        result.article.id.encode("utf-8"),
                        result.model_dump_json(exclude=fingerprinted_omits(result)).encode(),
                        rejected_topic=rejected,
                        rejection_of=functools.partial(article_rejection, result.article, STAGE),
                    )
                )
            await deliver(await app.maybe_start_producer(), records)
