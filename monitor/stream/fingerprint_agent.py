"""Faust agent of the fingerprint stage: ``clean`` -> ``fingerprinted`` (| ``rejected``).

Reads ``CleanArticle`` JSON keyed by article id in batches (``monitor.stream.batching``),
classifies the whole batch with one Redis round trip
(``monitor.stages.fingerprint.fingerprint_batch``) and writes every ``FingerprintedArticle``
(also exact copies and reprints: the story stage records their decision; the others carry
their story analysis, computed here because this stage is partitioned) to ``fingerprinted``,
keyed by article id, in input order; records that are not valid ``CleanArticle`` JSON go to
``rejected``. When Redis is down the batch is retried with backoff and nothing is sent or
acknowledged until it succeeds: no article is lost and none is passed on unclassified
(retries are safe: an article never matches itself).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faust.types import EventT

from monitor.core.records import CleanArticle, FingerprintedArticle
from monitor.retry import Backoff, retry_until_done
from monitor.settings import Settings
from monitor.stages.fingerprint import STAGE, FingerprintStoreUnavailable, fingerprint_batch
from monitor.stores.fingerprints import FingerprintStore, redis_fingerprint_store
from monitor.stream.app import MonitorApp, redis_client
from monitor.stream.batching import (
    batch_agent,
    on_first_use,
    read_batch,
    result_record,
    topic_names,
)
from monitor.stream.outbox import Outgoing

__all__ = ["fingerprint_until_done", "register"]

log = logging.getLogger(__name__)

STORE_RETRY = Backoff(first=0.5, cap=30.0)
"""How long a batch waits for the fingerprint store to come back."""


async def fingerprint_until_done(
    articles: Sequence[CleanArticle], store: FingerprintStore, settings: Settings
) -> list[FingerprintedArticle]:
    """``fingerprint_batch`` (with the story analysis attached), retried with exponential
    backoff while the store is down."""

    def failed(error: BaseException, delay: float) -> None:
        # fingerprint_batch has counted and logged the Redis error itself.
        log.warning("retrying %d article(s) in %.1fs", len(articles), delay)

    return await retry_until_done(
        lambda: fingerprint_batch(articles, store, settings, with_analysis=True),
        policy=STORE_RETRY,
        retry_on=(FingerprintStoreUnavailable,),
        failed=failed,
    )


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs = topic_names(app, "fingerprinted", "rejected")
    store = on_first_use(lambda: redis_fingerprint_store(redis_client(app), settings))

    async def fingerprint(batch: Sequence[EventT]) -> list[Outgoing]:
        read = read_batch(batch, CleanArticle, STAGE, "clean")
        articles = [item for item in read if isinstance(item, CleanArticle)]
        judged = iter(await fingerprint_until_done(articles, store(), settings))
        return [
            result_record(next(judged) if isinstance(item, CleanArticle) else item, outputs)
            for item in read
        ]

    batch_agent(app, "clean", "fingerprint", fingerprint)
