"""Classify an article against recently seen ones: ``exact``, ``reprint``, ``revision`` or ``new``.

The fingerprint store (``monitor.stores.fingerprints``) answers, for one article, in one
atomic step: which stored article had the same content key, which had the same page locator
(outlet + URL or GUID), and which stored articles share sketch samples with it (how many, and
each one's sketch size and bound). This module turns that answer into a decision:

* ``exact``: the same normalised content was seen (any outlet). Dropped downstream.
* ``revision``: the same outlet already published it: same URL/GUID, or a near copy from
  the same outlet. It goes on to novelty detection (an update may carry news).
* ``reprint``: a near copy of an article from another outlet (wire copy). Dropped downstream.
* ``new``: none of the above.

Near copies are judged by *containment*, not Jaccard: outlets trim or add paragraphs, so a
short wire copy inside a long article (which added analysis) is a reprint even though their
Jaccard similarity is low. The overlap is the larger of the two containments, estimated on
the hash range both bottom-k sketches cover.

>>> import numpy as np
>>> stored = StoredArticle(sid=1, id="a1", outlet="wire", stored=10, bound=10 * 2**59, inserted=0.0)
>>> match = MatchResult(candidates=(Candidate(stored, shared=8),))
>>> samples = np.arange(1, 11, dtype=np.uint64) * np.uint64(2**59)  # the same hash range
>>> overlap_with(samples, match.candidates[0]).containment
0.8
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.core.fingerprint import Fingerprint, Hashes
from monitor.core.records import CleanArticle, FingerprintedArticle

__all__ = [
    "MIN_COMPARABLE",
    "Candidate",
    "MatchResult",
    "Overlap",
    "StoredArticle",
    "classify",
    "overlap_with",
]


MIN_COMPARABLE = 4
"""Samples a containment must be measured on (in the range both sketches cover)."""


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What the store keeps per article: enough to name the match and size its sketch."""

    sid: int
    id: str
    outlet: str
    stored: int
    bound: int
    inserted: float


@dataclass(frozen=True, slots=True)
class Candidate:
    article: StoredArticle
    shared: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The store's answer for one article (looked up before the article was added)."""

    exact: StoredArticle | None = None
    same_locator: StoredArticle | None = None
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    sid: int | None = None


@dataclass(frozen=True, slots=True)
class Overlap:
    containment: float
    """max(share of the new text inside the stored one, share of the stored one inside it)."""
    new_in_stored: float
    stored_in_new: float
    jaccard: float
    shared: int


def overlap_with(samples: Hashes, candidate: Candidate) -> Overlap:
    """Estimate containments and Jaccard between a query sketch and a stored sketch."""
    stored = candidate.article
    if samples.size == 0 or stored.stored == 0:
        return Overlap(0.0, 0.0, 0.0, 0.0, candidate.shared)
    query_bound = int(samples[-1])
    bound = min(query_bound, stored.bound)
    new_count = int(np.searchsorted(samples, np.uint64(bound), side="right"))
    if query_bound >= stored.bound:
        stored_count = float(stored.stored)
    else:
        # Hashes are uniform: the stored sketch's share below our bound is about bound/τ.
        stored_count = stored.stored * (query_bound / stored.bound)
    shared = min(candidate.shared, new_count)
    # A containment measured on a handful of comparable samples is noise (e.g. a short text
    # against the few samples a capped long sketch keeps in its range): not evidence.
    new_in_stored = shared / new_count if new_count >= MIN_COMPARABLE else 0.0
    stored_in_new = min(1.0, shared / stored_count) if stored_count >= MIN_COMPARABLE else 0.0
    union = new_count + stored_count - shared
    jaccard = shared / union if union > 0 else 0.0
    return Overlap(
        containment=max(new_in_stored, stored_in_new),
        new_in_stored=new_in_stored,
        stored_in_new=stored_in_new,
        jaccard=jaccard,
        shared=shared,
    )


def _describe(stored: StoredArticle) -> dict[str, Any]:
    return {"matched_id": stored.id, "matched_outlet": stored.outlet}


def classify(
    article: CleanArticle,
    fingerprint: Fingerprint,
    match: MatchResult,
    threshold: float,
    min_shared: int = 3,
) -> FingerprintedArticle:
    """Decide how ``article`` relates to the recent articles the store reported.

    ``threshold`` is the containment above which two texts are near copies; candidates
    sharing fewer than ``min_shared`` samples are ignored (one shared shingle is chance).
    """
    if match.exact is not None:
        return FingerprintedArticle(
            article=article,
            kind="exact",
            overlap=1.0,
            reasons={"rule": "same_content", "content_hash": article.content_hash},
            **_describe(match.exact),
        )
    if match.same_locator is not None:
        return FingerprintedArticle(
            article=article,
            kind="revision",
            reasons={"rule": "same_url_or_guid"},
            **_describe(match.same_locator),
        )
    scored = sorted(
        (
            (overlap_with(fingerprint.samples, candidate), candidate)
            for candidate in match.candidates
            if candidate.shared >= min_shared
        ),
        key=lambda pair: (pair[0].containment, pair[0].shared),
        reverse=True,
    )
    near = [
        (overlap, candidate) for overlap, candidate in scored if overlap.containment >= threshold
    ]
    same_outlet = [pair for pair in near if pair[1].article.outlet == article.outlet]
    chosen = same_outlet[0] if same_outlet else (near[0] if near else None)
    if chosen is None:
        best = scored[0][0].containment if scored else 0.0
        return FingerprintedArticle(
            article=article,
            kind="new",
            overlap=best,
            reasons={
                "rule": "no_near_copy",
                "best_containment": round(best, 4),
                "samples": int(fingerprint.samples.size),
                "threshold": threshold,
            },
        )
    overlap, candidate = chosen
    kind = "revision" if same_outlet else "reprint"
    return FingerprintedArticle(
        article=article,
        kind=kind,
        overlap=overlap.containment,
        reasons={
            "rule": "same_outlet_near_copy" if same_outlet else "other_outlet_near_copy",
            "containment": round(overlap.containment, 4),
            "new_in_matched": round(overlap.new_in_stored, 4),
            "matched_in_new": round(overlap.stored_in_new, 4),
            "jaccard": round(overlap.jaccard, 4),
            "shared_samples": overlap.shared,
            "samples": int(fingerprint.samples.size),
            "threshold": threshold,
        },
        **_describe(candidate.article),
    )
