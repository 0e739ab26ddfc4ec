"""Faust agent of the clean stage: ``raw`` -> ``clean`` | ``non_arabic`` | ``rejected``.

Reads ``RawArticle`` JSON keyed by article id in batches (``monitor.stream.batching``), runs
``monitor.stages.clean.clean_batch`` with the Redis template store (one round trip a batch)
and writes each result, keyed by article id, in input order, to ``clean`` (Arabic),
``non_arabic`` (any other language: kept for operators and other pipelines, not dropped) or
``rejected`` (a ``Rejection``; also for records that are not valid ``RawArticle`` JSON).
"""

from __future__ import annotations

from collections.abc import Sequence

from faust.types import EventT

from monitor.core.clean import STAGE
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.settings import Settings
from monitor.stages.clean import clean_batch
from monitor.stores.templates import RedisTemplateStore, TemplateStore, redis_template_store
from monitor.stream.app import MonitorApp, redis_client
from monitor.stream.batching import (
    batch_agent,
    on_first_use,
    read_batch,
    result_record,
    topic_names,
)
from monitor.stream.outbox import Outgoing

__all__ = ["clean_records", "register", "template_store"]


def template_store(app: MonitorApp) -> RedisTemplateStore:
    """The template store of the app's agents, on its Redis client."""
    return redis_template_store(redis_client(app), app.settings)


async def clean_records(
    batch: Sequence[EventT], templates: TemplateStore, settings: Settings
) -> list[CleanArticle | Rejection]:
    """The clean-stage result of every ``raw`` record of ``batch``, in input order (a record
    that is not a valid ``RawArticle`` is its rejection)."""
    read = read_batch(batch, RawArticle, STAGE, "raw")
    cleaned = iter(
        await clean_batch(
            [item for item in read if isinstance(item, RawArticle)], templates, settings
        )
    )
    return [next(cleaned) if isinstance(item, RawArticle) else item for item in read]


def register(app: MonitorApp) -> None:
    outputs = topic_names(app, "clean", "non_arabic", "rejected")
    templates = on_first_use(lambda: template_store(app))

    async def clean(batch: Sequence[EventT]) -> list[Outgoing]:
        results = await clean_records(batch, templates(), app.settings)
        return [result_record(result, outputs) for result in results]

    batch_agent(app, "raw", "clean", clean)
