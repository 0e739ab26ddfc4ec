"""Term weights learn from the stream: a news beat's words weigh less once the stream shows
how common they are."""

from __future__ import annotations

from monitor.core.arabic import normalize
from monitor.core.stories import article_features, new_story_state, similarity
from monitor.core.weights import TermCounts, counted_terms


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
