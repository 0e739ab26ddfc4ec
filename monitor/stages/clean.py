"""The clean stage: raw article -> clean article (Arabic or not) or a rejection.

Counts the article's short lines in the outlet's template store (one store call), applies
the template learned so far, records metrics and stamps ``trace['cleaned']``. Routing is
the caller's job: what ``goes_on`` (an Arabic article) goes on to the fingerprint stage, an
article in another language to ``non_arabic``, a ``Rejection`` to ``rejected``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TypeGuard

from monitor.core.boilerplate import TemplateLines
from monitor.core.clean import (
    STAGE,
    PreparedArticle,
    finish_article,
    finish_articles,
    prepare_article,
    prepare_articles,
)
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.metrics import (
    ARTICLES_CLEANED,
    ARTICLES_REJECTED,
    BOILERPLATE_LINES_REMOVED,
    FEED_ERRORS,
    NON_ARABIC_ARTICLES,
    REDIS_ERRORS,
    STAGE_SECONDS,
)
from monitor.settings import Settings
from monitor.stages import labelled, store_errors
from monitor.stores.templates import Observation, TemplateStore

__all__ = [
    "clean_batch",
    "clean_stage",
    "finish_batch",
    "goes_on",
    "observe_templates",
    "prepare_batch",
    "template_observations",
]

log = logging.getLogger(__name__)
_CLEAN_SECONDS = STAGE_SECONDS.labels(stage=STAGE)


def goes_on(result: CleanArticle | Rejection) -> TypeGuard[CleanArticle]:
    """Whether a clean-stage result goes on to the fingerprint stage: an Arabic article.

    >>> goes_on(Rejection(id="a", outlet="o", stage="clean", reason="empty"))
    False
    """
    return isinstance(result, CleanArticle) and result.language == "ar"


async def clean_stage(
    raw: RawArticle, templates: TemplateStore, settings: Settings
) -> CleanArticle | Rejection:
    """Clean ``raw``; never raises for bad input (a ``Rejection`` comes back instead)."""
    started = time.perf_counter()
    prepared = prepare_article(raw, settings.clean)
    _record_repair(prepared)
    if isinstance(prepared, Rejection):
        result: CleanArticle | Rejection = prepared
    else:
        try:
            # By id: an article cleaned again (a redelivery) is not counted twice.
            template = await templates.observe(raw.outlet, prepared.template_keys, raw.id)
        except store_errors():
            # Templates only sharpen cleaning: an article is still cleaned by the line rules
            # when the store is unreachable, rather than stalling the stream.
            log.warning("template store unavailable for %s", raw.outlet, exc_info=True)
            REDIS_ERRORS.labels(operation="template_observe").inc()
            template = None
        result = finish_article(prepared, template, settings.clean)
    return _record(result, time.perf_counter() - started)


async def clean_batch(
    raws: Sequence[RawArticle], templates: TemplateStore, settings: Settings
) -> list[CleanArticle | Rejection]:
    """``clean_stage`` for many articles, in order, with one template store round trip when
    the store has ``observe_many`` (later articles see earlier ones, as one by one)."""
    started = time.perf_counter()
    prepared = prepare_batch(raws, settings)
    answers = await observe_templates(templates, template_observations(prepared))
    return finish_batch(prepared, answers, settings, started)


def prepare_batch(
    raws: Sequence[RawArticle], settings: Settings
) -> list[PreparedArticle | Rejection]:
    """The first half of ``clean_batch``, which needs no store: checks and text extraction."""
    prepared = prepare_articles(list(raws), settings.clean)
    for item in prepared:
        _record_repair(item)
    return prepared


def template_observations(
    prepared: Sequence[PreparedArticle | Rejection],
) -> list[Observation]:
    """What the template store is told of ``prepared``: (outlet, short-line keys, article id)
    per article that was not rejected, in order."""
    return [
        Observation(item.raw.outlet, item.template_keys, item.raw.id)
        for item in prepared
        if not isinstance(item, Rejection)
    ]


async def observe_templates(
    templates: TemplateStore, observations: Sequence[Observation]
) -> list[TemplateLines | None]:
    """The template store's answer per observation, in order (one round trip with
    ``observe_many``); ``None`` for each when the store is unreachable."""
    if not observations:
        return []
    try:
        observe_many = getattr(templates, "observe_many", None)
        if observe_many is not None:
            return list(await observe_many(observations))
        return [await templates.observe(*observation) for observation in observations]
    except store_errors():
        log.warning(
            "template store unavailable for %d article(s)", len(observations), exc_info=True
        )
        REDIS_ERRORS.labels(operation="template_observe").inc()
        return [None] * len(observations)


def finish_batch(
    prepared: Sequence[PreparedArticle | Rejection],
    answers: Sequence[TemplateLines | None],
    settings: Settings,
    started: float,
) -> list[CleanArticle | Rejection]:
    """The second half of ``clean_batch``: ``answers`` are the template store's, one per
    article of ``prepared`` that was not rejected; ``started`` the ``perf_counter`` when
    the batch began (for the stage's timing)."""
    # Every step of finishing for all the articles before the next (``finish_articles``).
    finished = iter(
        finish_articles(
            [item for item in prepared if not isinstance(item, Rejection)],
            answers,
            settings.clean,
        )
    )
    results: list[CleanArticle | Rejection] = [
        item if isinstance(item, Rejection) else next(finished) for item in prepared
    ]
    share = (time.perf_counter() - started) / max(1, len(results))
    return [_record(result, share) for result in results]


def _record_repair(prepared: PreparedArticle | Rejection) -> None:
    if isinstance(prepared, PreparedArticle) and prepared.charset_repair is not None:
        repair = prepared.charset_repair
        # A feed error the clean stage finds (the feed's text is mojibake): shown with the
        # feed's other errors, where an operator looks for a feed's trouble.
        FEED_ERRORS.labels(feed=prepared.raw.feed or "none", kind="mojibake").inc()
        log.warning(
            "article %s from %s was mojibake (Arabic %s read as %s): decoded again",
            prepared.raw.id,
            prepared.raw.outlet,
            repair.charset,
            repair.misread_as,
        )


def _record(result: CleanArticle | Rejection, seconds: float) -> CleanArticle | Rejection:
    result.trace["cleaned"] = time.time()
    _CLEAN_SECONDS.observe(seconds)
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
    labelled(ARTICLES_CLEANED, result.outlet, result.language).inc()
    if not goes_on(result):
        NON_ARABIC_ARTICLES.labels(language=result.language).inc()
    for removal in result.removed:
        labelled(BOILERPLATE_LINES_REMOVED, removal.reason).inc()
    return result
