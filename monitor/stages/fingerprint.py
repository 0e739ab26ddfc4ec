"""The fingerprint stage: clean article -> fingerprinted article (exact, reprint, revision, new).

Fingerprints the normalised body (``CleanArticle.match_text``, never stemmed), asks the
fingerprint store for recent matches and adds the article in the same atomic step, then
classifies with ``monitor.core.duplicates.classify``. With ``with_analysis`` (the service's
agents) articles that go on to novelty detection (all but ``exact`` copies) also get their story
analysis (``FingerprintedArticle.analysis``, see ``monitor.core.analysis``): this stage is
partitioned, the story stage is one process. Records ``DUPLICATES{kind,outlet}``,
``STAGE_SECONDS{stage="fingerprint"}`` and stamps ``trace['fingerprinted']``.

A Redis failure is counted in ``REDIS_ERRORS{operation="fingerprint"}``, logged, and raised
as :class:`FingerprintStoreUnavailable`: the caller must not acknowledge the article, so it
is processed again once Redis is back (never silently passed on as "new").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from monitor.core.analysis import analysis_record, read_article
from monitor.core.duplicates import MatchResult, classify
from monitor.core.fingerprint import (
    Fingerprint,
    FingerprintParams,
    fingerprint_text,
    fingerprint_tokens,
    key_of,
)
from monitor.core.records import CleanArticle, FingerprintedArticle
from monitor.core.stories import analyse
from monitor.metrics import DUPLICATES, REDIS_ERRORS, STAGE_SECONDS
from monitor.settings import Settings
from monitor.stages import labelled, store_errors
from monitor.stores.fingerprints import FingerprintStore

__all__ = [
    "STAGE",
    "FingerprintStoreUnavailable",
    "article_fingerprint",
    "fingerprint_batch",
    "fingerprint_stage",
]

STAGE = "fingerprint"
log = logging.getLogger(__name__)
_FINGERPRINT_SECONDS = STAGE_SECONDS.labels(stage=STAGE)


class FingerprintStoreUnavailable(RuntimeError):
    """The fingerprint store (Redis) failed; the article must be retried, not acknowledged."""


def article_fingerprint(
    article: CleanArticle,
    params: FingerprintParams,
    words: Sequence[str] | None = None,
    word_hashes: Sequence[int] | None = None,
) -> Fingerprint:
    """The fingerprint of ``article``: its body sketch, content key and page locators.

    ``words``: the tokens of ``article.match_text``, when known (they are those of its
    ``match_sentences`` one after the other: the text joins them with spaces);
    ``word_hashes``: with them, each one's ``monitor.core.fingerprint.word_hash``.
    """
    locators = [("u", article.outlet, article.url)] if article.url else []
    if article.guid:
        locators.append(("g", article.outlet, article.guid))
    content_key = key_of("c", article.content_hash)
    if words is not None:
        return fingerprint_tokens(
            words, params, content_key=content_key, locators=locators, word_hashes=word_hashes
        )
    return fingerprint_text(article.match_text, params, content_key=content_key, locators=locators)


_ANALYSED_KINDS = frozenset({"new", "revision", "reprint"})
"""Kinds the story stage judges for novelty (copies only take their original's story)."""


def _finish(
    article: CleanArticle,
    fingerprint: Fingerprint,
    match: MatchResult,
    settings: Settings,
    with_analysis: bool,
) -> FingerprintedArticle:
    result = classify(
        article,
        fingerprint,
        match,
        threshold=settings.fingerprint.threshold,
        min_shared=settings.fingerprint.min_shared,
    )
    if with_analysis and result.kind in _ANALYSED_KINDS:
        text = read_article(article, analyse(article.match_title, article.match_sentences))
        result.analysis = analysis_record(text)
    result.article.trace["fingerprinted"] = time.time()
    labelled(DUPLICATES, result.kind, article.outlet).inc()
    return result


async def fingerprint_batch(
    articles: Sequence[CleanArticle],
    store: FingerprintStore,
    settings: Settings,
    fingerprints: Sequence[Fingerprint] | None = None,
    *,
    with_analysis: bool = False,
    now: float | None = None,
) -> list[FingerprintedArticle]:
    """Fingerprint many articles with one store round trip; results in input order.

    Later articles of the batch are matched against earlier ones, as if sent one by one.
    ``fingerprints``: the articles' ``article_fingerprint``s, when already computed (the
    embedded pipeline computes them in another process). ``with_analysis``: attach the story
    analysis to the articles the story stage will judge. ``now``: the store's clock (default:
    the wall clock).
    """
    if not articles:
        return []
    started = time.perf_counter()
    if fingerprints is None:
        params = FingerprintParams.from_settings(settings.fingerprint)
        fingerprints = [article_fingerprint(article, params) for article in articles]
    try:
        if len(articles) == 1:
            matches = [
                await store.match_and_add(articles[0].id, articles[0].outlet, fingerprints[0], now)
            ]
        else:
            matches = await store.match_and_add_many(
                [(a.id, a.outlet, fp) for a, fp in zip(articles, fingerprints, strict=True)], now
            )
    except store_errors() as exc:
        REDIS_ERRORS.labels(operation=STAGE).inc()
        log.error(
            "fingerprint store unavailable for %d article(s) (first %s): %s",
            len(articles),
            articles[0].id,
            exc,
        )
        raise FingerprintStoreUnavailable(f"fingerprint store unavailable: {exc}") from exc
    results = [
        _finish(article, fingerprint, match, settings, with_analysis)
        for article, fingerprint, match in zip(articles, fingerprints, matches, strict=True)
    ]
    share = (time.perf_counter() - started) / len(results)
    for _ in results:
        _FINGERPRINT_SECONDS.observe(share)
    return results


async def fingerprint_stage(
    article: CleanArticle,
    store: FingerprintStore,
    settings: Settings,
    fingerprint: Fingerprint | None = None,
    now: float | None = None,
) -> FingerprintedArticle:
    """Classify one article against recent ones (and remember it)."""
    precomputed = [fingerprint] if fingerprint is not None else None
    (result,) = await fingerprint_batch([article], store, settings, precomputed, now=now)
    return result
