"""Faust agent of the clean stage: ``raw`` -> ``clean`` | ``non_arabic`` | ``rejected``.

Reads ``RawArticle`` JSON keyed by article id in batches, runs
``monitor.stages.clean.clean_batch`` with the Redis template store (one round trip a batch)
and writes each result, keyed by article id, in input order, to ``clean`` (Arabic),
``non_arabic`` (any other language: kept for operators and other pipelines, not dropped) or
``rejected`` (a ``Rejection``; also for records that are not valid ``RawArticle`` JSON, so a
poison message never stops the partition), through ``monitor.stream.outbox.deliver`` (an
article whose record cannot be produced gets a ``record_too_large`` rejection instead).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TypeGuard

from faust.types import EventT, StreamT
from pydantic import ValidationError

from monitor.core.clean import STAGE
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.metrics import ARTICLES_REJECTED
from monitor.stages.clean import clean_batch
from monitor.stores.templates import RedisTemplateStore, redis_template_store
from monitor.stream.app import MonitorApp, redis_client, topic
from monitor.stream.outbox import (
    Outgoing,
    article_record,
    article_rejection,
    deliver,
    rejection_record,
)

__all__ = [
    "BATCH_SIZE",
    "BATCH_WITHIN",
    "decode_raw",
    "destination",
    "goes_on",
    "invalid_record",
    "register",
]

log = logging.getLogger(__name__)

BATCH_SIZE = 200
BATCH_WITHIN = 0.02
"""Records cleaned together (``stream.take_events``): one template store round trip and
shared produce requests per batch; a lone record waits at most ``BATCH_WITHIN`` seconds."""


def destination(result: CleanArticle | Rejection) -> str:
    """Name (in ``TOPICS``) of the topic a clean-stage result goes to.

    >>> destination(Rejection(id="a", outlet="o", stage="clean", reason="empty"))
    'rejected'
    """
    if isinstance(result, Rejection):
        return "rejected"
    return "clean" if goes_on(result) else "non_arabic"


def goes_on(result: CleanArticle | Rejection) -> TypeGuard[CleanArticle]:
    """Whether a clean-stage result goes on to the fingerprint stage (Arabic articles)."""
    return isinstance(result, CleanArticle) and result.language == "ar"


def invalid_record(key: bytes | None, error: ValidationError) -> Rejection:
    """The rejection of a ``raw`` record that is not a valid ``RawArticle`` (counted, logged)."""
    ARTICLES_REJECTED.labels(stage=STAGE, reason="invalid_record").inc()
    article_id = key.decode("utf-8", errors="replace") if key else ""
    log.warning("invalid raw record %r: %s", article_id, error.errors()[:1])
    return Rejection(
        id=article_id, outlet="", stage=STAGE, reason="invalid_record", detail=str(error)[:500]
    )


def decode_raw(batch: Sequence[EventT]) -> tuple[list[RawArticle], list[Rejection | None]]:
    """The batch's valid ``RawArticle`` records, and per event its rejection (``None`` for
    each valid one, in order) so results can be sent in input order."""
    raws: list[RawArticle] = []
    rejections: list[Rejection | None] = []
    for event in batch:
        try:
            raws.append(RawArticle.model_validate_json(event.value))
            rejections.append(None)
        except ValidationError as error:
            rejections.append(invalid_record(event.key, error))
    return raws, rejections


def _outgoing(result: CleanArticle | Rejection, outputs: dict[str, str]) -> Outgoing:
    if isinstance(result, Rejection):
        return rejection_record(outputs["rejected"], result)
    return article_record(
        outputs[destination(result)],
        result.id.encode("utf-8"),
        result.model_dump_json().encode("utf-8"),
        rejected_topic=outputs["rejected"],
        rejection_of=functools.partial(article_rejection, result, STAGE),
    )


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs: dict[str, str] = {
        name: topic(app, name).get_topic_name() for name in ("clean", "non_arabic", "rejected")
    }
    store: RedisTemplateStore | None = None

    @app.agent(topic(app, "raw"), name=f"{app.conf.id}.clean")
    async def clean(stream: StreamT[bytes]) -> None:
        nonlocal store
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            if store is None:
                store = redis_template_store(redis_client(app), settings)
            raws, rejections = decode_raw(batch)
            cleaned = iter(await clean_batch(raws, store, settings))
            # Sent only once the whole batch is done: the records of a batch share produce
            # requests, and the batch's offsets are acknowledged once the broker has them.
            records: list[Outgoing] = []
            for rejection in rejections:
                result = rejection if rejection is not None else next(cleaned)
                records.append(_outgoing(result, outputs))
            await deliver(await app.maybe_start_producer(), records)
