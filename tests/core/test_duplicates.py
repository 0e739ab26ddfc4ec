"""Duplicate classification: the core rules, the seeds, and a labelled sample of real pairs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from monitor.core.clean import clean_article
from monitor.core.duplicates import Candidate, MatchResult, StoredArticle, classify, overlap_with
from monitor.core.fingerprint import FingerprintParams, fingerprint_text
from monitor.core.records import CleanArticle, RawArticle
from monitor.settings import Settings
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stores.fingerprints import memory_fingerprint_store

DATA = Path(__file__).parent.parent / "data"
SEEDS = DATA / "seeds"
PARAMS = FingerprintParams()
THRESHOLD = Settings().fingerprint.threshold


def article(text: str, outlet: str = "o", article_id: str = "a", **fields: object) -> CleanArticle:
    result = clean_article(RawArticle(id=article_id, outlet=outlet, text=text, **fields))  # type: ignore[arg-type]
    assert isinstance(result, CleanArticle)
    return result


def stored_like(text: str, outlet: str, article_id: str = "old") -> StoredArticle:
    fingerprint = fingerprint_text(article(text).match_text, PARAMS)
    return StoredArticle(
        sid=7,
        id=article_id,
        outlet=outlet,
        stored=fingerprint.stored,
        bound=fingerprint.bound,
        inserted=0.0,
    )


def candidate_for(new_text: str, old_text: str, outlet: str) -> tuple[CleanArticle, MatchResult]:
    """The match result a store would give for new_text with old_text stored."""
    new = article(new_text, outlet="new-outlet")
    new_fp = fingerprint_text(new.match_text, PARAMS)
    old_fp = fingerprint_text(article(old_text).match_text, PARAMS)
    shared = np.intersect1d(new_fp.samples, old_fp.stored_samples).size
    return new, MatchResult(candidates=(Candidate(stored_like(old_text, outlet), shared),))


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def test_exact_content_wins_over_everything() -> None:
    new = article(seed("000"))
    old = stored_like(seed("000"), "wire")
    result = classify(
        new, fingerprint_text(new.match_text), MatchResult(exact=old, same_locator=old), THRESHOLD
    )
    assert (result.kind, result.matched_id, result.matched_outlet) == ("exact", "old", "wire")
    assert result.reasons["rule"] == "same_content"


def test_same_page_of_the_same_outlet_is_a_revision_whatever_the_text() -> None:
    new = article(seed("001"), outlet="youm7")
    old = stored_like(seed("002"), "youm7")
    result = classify(
        new, fingerprint_text(new.match_text), MatchResult(same_locator=old), THRESHOLD
    )
    assert result.kind == "revision" and result.reasons["rule"] == "same_url_or_guid"


def test_wire_copy_inside_a_longer_article_of_another_outlet_is_a_reprint() -> None:
    new, match = candidate_for(seed("004"), seed("000"), outlet="khaleejion24")
    result = classify(new, fingerprint_text(new.match_text, PARAMS), match, THRESHOLD)
    assert result.kind == "reprint"
    assert result.matched_outlet == "khaleejion24"
    # Jaccard is low (004 adds analysis and another story); containment carries it
    assert result.reasons["jaccard"] < THRESHOLD <= result.overlap
    assert result.reasons["matched_in_new"] == pytest.approx(result.overlap, abs=1e-4)


def test_the_same_near_copy_from_the_same_outlet_is_a_revision() -> None:
    new, match = candidate_for(seed("004"), seed("000"), outlet="new-outlet")
    result = classify(new, fingerprint_text(new.match_text, PARAMS), match, THRESHOLD)
    assert result.kind == "revision" and result.reasons["rule"] == "same_outlet_near_copy"


def test_same_story_by_other_words_is_new() -> None:
    new, match = candidate_for(seed("001"), seed("000"), outlet="khaleejion24")
    assert match.candidates[0].shared >= 2  # they do share some shingles
    result = classify(new, fingerprint_text(new.match_text, PARAMS), match, THRESHOLD)
    assert result.kind == "new" and result.matched_id is None
    assert 0 < result.reasons["best_containment"] < THRESHOLD


def test_candidates_sharing_too_few_samples_are_ignored() -> None:
    new, match = candidate_for(seed("000"), seed("000"), outlet="wire")
    full = classify(new, fingerprint_text(new.match_text, PARAMS), match, THRESHOLD)
    assert full.kind == "reprint" and full.overlap == pytest.approx(1.0)
    shared = match.candidates[0].shared
    ignored = classify(
        new, fingerprint_text(new.match_text, PARAMS), match, THRESHOLD, min_shared=shared + 1
    )
    assert ignored.kind == "new"


def test_overlap_compares_only_the_range_both_sketches_cover() -> None:
    samples = np.arange(1, 21, dtype=np.uint64) * np.uint64(2**58)  # 20 samples up to 20*2**58
    # stored sketch: 10 samples up to 10*2**58, all shared: the stored text is inside the new one
    inside = StoredArticle(sid=1, id="s", outlet="o", stored=10, bound=10 * 2**58, inserted=0)
    overlap = overlap_with(samples, Candidate(inside, shared=10))
    assert overlap.stored_in_new == 1.0 and overlap.new_in_stored == 1.0
    # stored sketch covers twice our range: only about half of it is comparable
    wide = StoredArticle(sid=1, id="s", outlet="o", stored=40, bound=40 * 2**58, inserted=0)
    overlap = overlap_with(samples, Candidate(wide, shared=10))
    assert overlap.new_in_stored == 0.5 and overlap.stored_in_new == 0.5


async def test_seeds_in_publication_order_only_the_wire_copy_is_a_reprint() -> None:
    settings = Settings()
    store = memory_fingerprint_store(settings)
    published = datetime(2024, 6, 18, tzinfo=UTC)
    kinds = {}
    for prefix in ["002", "001", "000", "004", "003"]:
        result = await fingerprint_stage(
            article(seed(prefix), outlet=f"outlet{prefix}", article_id=prefix, published=published),
            store,
            settings,
        )
        kinds[prefix] = (result.kind, result.matched_id)
        assert "fingerprinted" in result.article.trace
    assert kinds == {
        "002": ("new", None),
        "001": ("new", None),
        "000": ("new", None),
        "004": ("reprint", "000"),
        "003": ("new", None),
    }


def from_record(record: dict[str, str]) -> CleanArticle:
    return article(
        record["text"], outlet=record["outlet"], article_id=record["id"], title=record["title"]
    )


def labelled_pairs() -> list[dict[str, object]]:
    with (DATA / "reprint_pairs.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


async def test_labelled_sample_recall_and_false_positives() -> None:
    """Pairs made by ``benchmarks/reprint_eval.py --write-sample`` from the 2013 stream."""
    settings = Settings()
    detected = missed = false_positives = negatives = 0
    for pair in labelled_pairs():
        store = memory_fingerprint_store(settings)
        first, second = pair["first"], pair["second"]
        assert isinstance(first, dict) and isinstance(second, dict)
        await fingerprint_stage(from_record(first), store, settings)
        result = await fingerprint_stage(from_record(second), store, settings)
        if pair["label"] == "reprint":
            if result.kind in ("reprint", "exact"):
                detected += 1
            else:
                missed += 1
        else:
            negatives += 1
            false_positives += result.kind != "new"
    assert detected + missed >= 30 and negatives >= 30
    assert detected / (detected + missed) >= 0.95
    assert false_positives == 0
