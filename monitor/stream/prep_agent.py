"""Faust agent of the clean and fingerprint stages in one: ``raw`` -> ``fingerprinted`` |
``non_arabic`` | ``rejected``.

The default layout of ``monitor worker``. A clean article goes straight on to the fingerprint
stage in the same process instead of through the ``clean`` topic: one JSON encode and decode,
one produce and one fetch less per article, which is a large share of the service path's CPU
(``benchmarks/bench_service.py``). The separate ``clean`` and ``fingerprint`` agents remain
for deployments that scale cleaning apart (``monitor worker --stages clean`` on more
machines); a worker runs either this agent or those two, never both.

Per batch (``stream.take_events``): ``clean_batch`` (one template store round trip), then
``fingerprint_batch`` of its Arabic articles with their story analysis (one fingerprint store
round trip; retried with backoff while Redis is down, nothing sent or acknowledged meanwhile),
then every result is sent in input order, keyed by article id: ``FingerprintedArticle`` to
``fingerprinted`` (without the fields the story stage does not read: ``fingerprinted_omits``),
other languages to ``non_arabic``, a ``Rejection`` (also for records that are not valid
``RawArticle`` JSON) to ``rejected``, through ``monitor.stream.outbox.deliver``: the batch
waits until the broker has every record, and an article whose record cannot be produced
(too large) gets a ``record_too_large`` rejection instead. Offsets are acknowledged after
that.

Records go straight to the app's producer (the one Faust flushes before it commits offsets)
rather than through ``Topic.send``, whose future, callbacks and sensors per record cost about
0.05 ms of CPU each (measured against a local broker), some 5 % of this agent's CPU.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from faust.types import EventT, StreamT

from monitor.core.clean import STAGE as CLEAN_STAGE
from monitor.core.records import (
    CleanArticle,
    FingerprintedArticle,
    Rejection,
    fingerprinted_omits,
)
from monitor.stages.clean import clean_batch
from monitor.stages.fingerprint import STAGE as FINGERPRINT_STAGE
from monitor.stores.fingerprints import FingerprintStore, redis_fingerprint_store
from monitor.stores.templates import RedisTemplateStore, redis_template_store
from monitor.stream.app import MonitorApp, redis_client, topic
from monitor.stream.clean_agent import BATCH_SIZE, BATCH_WITHIN, decode_raw, goes_on
from monitor.stream.fingerprint_agent import fingerprint_until_done
from monitor.stream.outbox import (
    Outgoing,
    article_record,
    article_rejection,
    deliver,
    rejection_record,
)

__all__ = ["register"]

log = logging.getLogger(__name__)

_Result = FingerprintedArticle | CleanArticle | Rejection


def _destination(result: _Result) -> str:
    if isinstance(result, FingerprintedArticle):
        return "fingerprinted"
    if isinstance(result, Rejection):
        return "rejected"
    return "non_arabic"


def _encode(result: _Result) -> bytes:
    if isinstance(result, FingerprintedArticle):
        return result.model_dump_json(exclude=fingerprinted_omits(result)).encode("utf-8")
    return result.model_dump_json().encode("utf-8")


def outgoing(result: _Result, outputs: dict[str, str]) -> Outgoing:
    """``result`` as the record of its topic (``outputs``: names in ``TOPICS`` -> topic
    names); should an article's record not fit, its rejection goes to ``rejected``."""
    if isinstance(result, Rejection):
        return rejection_record(outputs["rejected"], result)
    article = result.article if isinstance(result, FingerprintedArticle) else result
    stage = FINGERPRINT_STAGE if isinstance(result, FingerprintedArticle) else CLEAN_STAGE
    return article_record(
        outputs[_destination(result)],
        article.id.encode("utf-8"),
        _encode(result),
        rejected_topic=outputs["rejected"],
        rejection_of=functools.partial(article_rejection, article, stage),
    )


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs: dict[str, str] = {
        name: topic(app, name).get_topic_name()
        for name in ("fingerprinted", "non_arabic", "rejected")
    }
    templates: RedisTemplateStore | None = None
    fingerprints: FingerprintStore | None = None

    @app.agent(topic(app, "raw"), name=f"{app.conf.id}.prep")
    async def prep(stream: StreamT[bytes]) -> None:
        nonlocal templates, fingerprints
        batch: Sequence[EventT]
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            BATCH_SIZE, within=BATCH_WITHIN
        ):
            if templates is None or fingerprints is None:
                client = redis_client(app)
                templates = redis_template_store(client, settings)
                fingerprints = redis_fingerprint_store(client, settings)
            raws, rejections = decode_raw(batch)
            results: list[_Result | None] = list(rejections)
            cleaned = await clean_batch(raws, templates, settings)
            arabic = [result for result in cleaned if goes_on(result)]
            judged = iter(await fingerprint_until_done(arabic, fingerprints, settings))
            in_order = iter(cleaned)
            for index, result in enumerate(results):
                if result is None:
                    found = next(in_order)
                    results[index] = next(judged) if goes_on(found) else found
            # Sent only once the whole batch is done: the records of a batch share produce
            # requests, and the batch's offsets are acknowledged once the broker has them.
            producer = await app.maybe_start_producer()
            await deliver(
                producer, [outgoing(result, outputs) for result in results if result is not None]
            )
