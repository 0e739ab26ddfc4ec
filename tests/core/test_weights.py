"""Term weights learn from the stream: a news beat's words weigh less once the stream shows
how common they are."""

from __future__ import annotations

import pytest

from monitor.core.arabic import normalize
from monitor.core.stories import article_features, new_story_state, similarity
from monitor.core.weights import DOCUMENTS_FIELD, TermCounts, counted_terms


def features(title: str, body: str):  # type: ignore[no-untyped-def]
    return article_features(normalize(title), [normalize(body)])


ASSIUT = features(
    "ضبط 2251 مخالفة مرورية في حملة أمنية بأسيوط",
    "ضبطت الإدارة العامة للمرور بأسيوط 2251 مخالفة مرورية متنوعة خلال حملة أمنية.",
)
GIZA = features(
    "ضبط 13 ألف مخالفة مرورية في حملة بالجيزة",
    "أسفرت حملة مرورية بالجيزة عن ضبط 13 ألف مخالفة مرورية وسحب رخص 40 سائقا.",
)


def test_an_empty_table_keeps_the_background_weights() -> None:
    assert TermCounts().reweigh(ASSIUT) is ASSIUT


def test_a_beat_seen_often_links_two_of_its_events_less() -> None:
    story = new_story_state("s", "t", ASSIUT, now=0.0, sentences=[])
    before = similarity(GIZA, story).raw
    counts = TermCounts()
    for day in range(60):
        beat = features(
            f"ضبط {100 + day} مخالفة مرورية في حملة أمنية",
            f"أسفرت حملة أمنية عن ضبط {100 + day} مخالفة مرورية متنوعة.",
        )
        counts.add(counted_terms(beat))
    assert counts.idf("مخالفه") < TermCounts().idf("مخالفه")
    seen = new_story_state("s", "t", counts.reweigh(ASSIUT), now=0.0, sentences=[])
    after = similarity(counts.reweigh(GIZA), seen).raw
    assert after < before


def test_stored_table_round_trip() -> None:
    counts = TermCounts()
    counts.add(["منطاد", "الاقصر"])
    counts.add(["منطاد"])
    table = {"": counts.documents, **counts.counts}
    again = TermCounts.from_table(table)
    assert again.documents == 2 and again.counts == {"منطاد": 2, "الاقصر": 1}
    assert again.idf("منطاد") == counts.idf("منطاد")


def test_weighing_worked_out_beforehand_gives_the_weights_of_working_it_out_then() -> None:
    """The prep workers ship what weighing reads (``Weighing``); without it, the story stage
    works it out, to the same bits and in the same order."""
    from dataclasses import replace

    from monitor.core.stories import _word_key, sketch_cosine

    counts = TermCounts()
    counts.add(counted_terms(GIZA))
    counts.add(["مخالفه", "حمله"])
    for article in (ASSIUT, GIZA):
        assert article.weighing is not None
        bare = replace(article, weighing=None)
        assert counted_terms(bare) == counted_terms(article)
        shipped, worked_out = counts.reweigh(article), counts.reweigh(bare)
        assert list(shipped.vector.items()) == list(worked_out.vector.items())
        assert list(shipped.title.items()) == list(worked_out.title.items())
        assert list(shipped.sketch.items()) == list(worked_out.sketch.items())
        assert shipped.vector != article.vector  # the counts changed something
        assert set(shipped.sketch) == set(article.sketch)
        assert sketch_cosine(shipped.sketch, shipped.sketch) == pytest.approx(1.0)
        # Word keys come first in an article's sketch, then its character grams.
        words = [_word_key(key) for key in article.vector]
        assert list(article.sketch)[: len(words)] == words


def test_counting_adds_one_per_term_as_a_loop_does() -> None:
    counts = TermCounts.from_table({DOCUMENTS_FIELD: 3, "قصف": 2})
    expected = dict(counts.counts)
    for terms in (["قصف", "غزه"], [], ["غزه", "رفح"]):
        counts.add(terms)
        for term in terms:
            expected[term] = expected.get(term, 0) + 1
    assert counts.counts == expected and list(counts.counts) == list(expected)
    assert counts.documents == 6


def test_reweighed_features_are_a_replace_of_the_weights() -> None:
    """Built directly, they are what ``dataclasses.replace`` of the reweighed fields gives:
    every other field kept (a field added later must be added there too)."""
    import dataclasses

    counts = TermCounts()
    counts.add(counted_terms(GIZA))
    reweighed = counts.reweigh(ASSIUT)
    changed = {"vector", "title", "sketch", "weighing"}
    kept = {f.name for f in dataclasses.fields(ASSIUT)} - changed
    assert reweighed == dataclasses.replace(
        ASSIUT, **{name: getattr(reweighed, name) for name in changed}
    )
    assert all(getattr(reweighed, name) is getattr(ASSIUT, name) for name in kept)
    assert reweighed.weighing is None
