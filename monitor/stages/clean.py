"""The clean stage: raw article -> clean article (Arabic or not) or a rejection.

Counts the article's short lines in the outlet's template store (one store call), applies
the template learned so far, records metrics and stamps ``trace['cleaned']``. Routing is
the caller's job: ``CleanArticle.language != 'ar'`` goes to ``non_arabic``, a ``Rejection``
to ``rejected``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError

from monitor.core.clean import STAGE, finish_article, prepare_article
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.metrics import (
    ARTICLES_CLEANED,
    ARTICLES_REJECTED,
    BOILERPLATE_LINES_REMOVED,
    NON_ARABIC_ARTICLES,
    REDIS_ERRORS,
    STAGE_SECONDS,
)
from monitor.settings import Settings
from monitor.stores.templates import TemplateStore

__all__ = ["clean_stage"]

log = logging.getLogger(__name__)
_CLEAN_SECONDS = STAGE_SECONDS.labels(stage=STAGE)
_CHILDREN: dict[tuple[object, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    # ``labels()`` costs a lock and a tuple build per call: the children are kept instead.
    key = (metric, *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


async def clean_stage(
    raw: RawArticle, templates: TemplateStore, settings: Settings
) -> CleanArticle | Rejection:
    """Clean ``raw``; never raises for bad input (a ``Rejection`` comes back instead)."""
    started = time.perf_counter()
    prepared = prepare_article(raw, settings.clean)
    if isinstance(prepared, Rejection):
        result: CleanArticle | Rejection = prepared
    else:
        try:
            template = await templates.observe(raw.outlet, prepared.template_keys)
        except (TimeoutError, RedisError, OSError):
            # Templates only sharpen cleaning: an article is still cleaned by the line rules
            # when the store is unreachable, rather than stalling the stream.
            log.warning("template store unavailable for %s", raw.outlet, exc_info=True)
            REDIS_ERRORS.labels(operation="template_observe").inc()
            template = None
        result = finish_article(prepared, template, settings.clean)
    result.trace["cleaned"] = time.time()
    _CLEAN_SECONDS.observe(time.perf_counter() - started)
    if isinstance(result, Rejection):
        ARTICLES_REJECTED.labels(stage=STAGE, reason=result.reason).inc()
        log.info(
            "rejected article %s from %s: %s (%s)",
            result.id,
            result.outlet,
            result.reason,
            result.detail,
        )
        return result
    _child(ARTICLES_CLEANED, result.outlet, result.language).inc()
    if result.language != "ar":
        NON_ARABIC_ARTICLES.labels(language=result.language).inc()
    for removal in result.removed:
        _child(BOILERPLATE_LINES_REMOVED, removal.reason).inc()
    return result
