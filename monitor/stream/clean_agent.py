"""Faust agent of the clean stage: ``raw`` -> ``clean`` | ``non_arabic`` | ``rejected``.

Reads ``RawArticle`` JSON keyed by article id, runs ``monitor.stages.clean.clean_stage`` with
the Redis template store, and writes the result, keyed by article id, to ``clean`` (Arabic),
``non_arabic`` (any other language: kept for operators and other pipelines, not dropped) or
``rejected`` (a ``Rejection``; also for records that are not valid ``RawArticle`` JSON, so a
poison message never stops the partition).
"""

from __future__ import annotations

import logging

from faust.types import StreamT, TopicT
from pydantic import ValidationError

from monitor.core.clean import STAGE
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.metrics import ARTICLES_REJECTED
from monitor.stages.clean import clean_stage
from monitor.stores.templates import RedisTemplateStore, template_store_settings
from monitor.stream.app import MonitorApp, redis_client, topic

__all__ = ["destination", "register"]

log = logging.getLogger(__name__)


def destination(result: CleanArticle | Rejection) -> str:
    """Name (in ``TOPICS``) of the topic a clean-stage result goes to.

    >>> destination(Rejection(id="a", outlet="o", stage="clean", reason="empty"))
    'rejected'
    """
    if isinstance(result, Rejection):
        return "rejected"
    return "clean" if result.language == "ar" else "non_arabic"


def _invalid(key: bytes | None, error: ValidationError) -> Rejection:
    ARTICLES_REJECTED.labels(stage=STAGE, reason="invalid_record").inc()
    article_id = key.decode("utf-8", errors="replace") if key else ""
    log.warning("invalid raw record %r: %s", article_id, error.errors()[:1])
    return Rejection(
        id=article_id, outlet="", stage=STAGE, reason="invalid_record", detail=str(error)[:500]
    )


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs: dict[str, TopicT] = {
        name: topic(app, name) for name in ("clean", "non_arabic", "rejected")
    }
    store: RedisTemplateStore | None = None

    @app.agent(topic(app, "raw"), name=f"{app.conf.id}.clean")
    async def clean(stream: StreamT[bytes]) -> None:
        nonlocal store
        async for key, value in stream.items():
            if store is None:
                store = RedisTemplateStore(
                    redis_client(app),
                    key_prefix=settings.redis.key_prefix,
                    **template_store_settings(settings.clean),
                )
            try:
                raw = RawArticle.model_validate_json(value)
            except ValidationError as error:
                result: CleanArticle | Rejection = _invalid(key, error)
            else:
                result = await clean_stage(raw, store, settings)
            out_key = key or result.id.encode("utf-8")
            await outputs[destination(result)].send(
                key=out_key, value=result.model_dump_json().encode("utf-8")
            )
