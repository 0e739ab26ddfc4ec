"""What every stage agent does the same way: take a batch, read its records, send its results.

An agent module declares its agent with :func:`batch_agent`, giving the source topic and a
``handle(batch)`` that returns the batch's output records; the loop over
``stream.take_events``, the wait until the broker has every record (``outbox.deliver``) and
the acknowledgement after it live here. Records that are not valid JSON of the source's schema
become ``invalid_record`` rejections (:func:`read_batch`), so a poison message never stops a
partition, and :func:`result_record` says which topic each stage result goes to.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from faust.types import EventT, StreamT
from pydantic import BaseModel, ValidationError

from monitor.core.clean import STAGE as CLEAN_STAGE
from monitor.core.records import (
    CleanArticle,
    FingerprintedArticle,
    Rejection,
    fingerprinted_omits,
)
from monitor.metrics import ARTICLES_REJECTED
from monitor.stages.clean import goes_on
from monitor.stages.fingerprint import STAGE as FINGERPRINT_STAGE
from monitor.stream.app import MonitorApp, topic
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
    "BatchHandler",
    "StageResult",
    "batch_agent",
    "invalid_record",
    "on_first_use",
    "read_batch",
    "result_record",
    "topic_names",
]

log = logging.getLogger(__name__)

BATCH_SIZE = 200
BATCH_WITHIN = 0.02
"""Records handled together (``stream.take_events``): one store round trip and shared
produce requests per batch; a lone record waits at most ``BATCH_WITHIN`` seconds."""

T = TypeVar("T")
Record = TypeVar("Record", bound=BaseModel)
BatchHandler = Callable[[Sequence[EventT]], Awaitable[Sequence[Outgoing]]]
StageResult = FingerprintedArticle | CleanArticle | Rejection


def batch_agent(app: MonitorApp, source: str, name: str, handle: BatchHandler) -> None:
    """Declare the agent ``<app id>.<name>`` on topic ``source`` (a name in ``TOPICS``): each
    batch goes through ``handle`` and its records are sent before the next batch is taken."""

    @app.agent(topic(app, source), name=f"{app.conf.id}.{name}")
    async def agent(stream: StreamT[bytes]) -> None:
        batch: Sequence[EventT]
        # faust-streaming's type stubs lack take_events.
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            records = await handle(batch)
            # Sent only once the whole batch is done: the records of a batch share produce
            # requests, and the batch's offsets are acknowledged once the broker has them.
            await deliver(await app.maybe_start_producer(), records)


def on_first_use(make: Callable[[], T]) -> Callable[[], T]:
    """``make()`` at the first call, the same object at every later one: an agent's stores
    are built when its first batch arrives, not when a worker declares its agents."""
    return functools.cache(make)


def topic_names(app: MonitorApp, *names: str) -> dict[str, str]:
    """Names in ``TOPICS`` -> the app's topic names (what ``Outgoing.topic`` wants)."""
    return {name: topic(app, name).get_topic_name() for name in names}


def invalid_record(key: bytes | None, error: ValidationError, stage: str, source: str) -> Rejection:
    """The rejection of a ``source`` record that does not read as its schema (counted,
    logged); its id is the record's key."""
    ARTICLES_REJECTED.labels(stage=stage, reason="invalid_record").inc()
    article_id = key.decode("utf-8", errors="replace") if key else ""
    log.warning("invalid %s record %r: %s", source, article_id, error.errors()[:1])
    return Rejection(
        id=article_id, outlet="", stage=stage, reason="invalid_record", detail=str(error)[:500]
    )


def read_batch(
    batch: Sequence[EventT], schema: type[Record], stage: str, source: str
) -> list[Record | Rejection]:
    """Each event of ``batch`` as a ``schema`` record, or its ``invalid_record`` rejection,
    in input order."""
    read: list[Record | Rejection] = []
    for event in batch:
        try:
            read.append(schema.model_validate_json(event.value))
        except ValidationError as error:
            read.append(invalid_record(event.key, error, stage, source))
    return read


def result_record(result: StageResult, outputs: dict[str, str]) -> Outgoing:
    """A clean or fingerprint stage result as the record of its topic (``outputs``: names in
    ``TOPICS`` -> topic names): an Arabic article goes on (``clean`` or ``fingerprinted``), any
    other language to ``non_arabic``, a rejection to ``rejected``. Should an article's record
    not fit, its ``record_too_large`` rejection goes to ``rejected`` instead."""
    if isinstance(result, Rejection):
        return rejection_record(outputs["rejected"], result)
    if isinstance(result, FingerprintedArticle):
        article: CleanArticle = result.article
        destination, stage = "fingerprinted", FINGERPRINT_STAGE
        value = result.model_dump_json(exclude=fingerprinted_omits(result))
    else:
        article = result
        destination = "clean" if goes_on(result) else "non_arabic"
        stage, value = CLEAN_STAGE, result.model_dump_json()
    return article_record(
        outputs[destination],
        article.id.encode("utf-8"),
        value.encode("utf-8"),
        rejected_topic=outputs["rejected"],
        rejection_of=functools.partial(article_rejection, article, stage),
    )
