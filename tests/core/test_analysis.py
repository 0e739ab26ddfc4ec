"""The record form of an article's story analysis: what crosses from the fingerprint stage
to the story stage must rebuild exactly the features the story stage would compute."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core import novelty
from monitor.core.analysis import (
    analysis_record,
    features_from_record,
    match_texts,
    pack_hashes,
    pack_sketch,
    read_article,
    text_from_record,
    unpack_hashes,
    unpack_sketch,
)
from monitor.core.clean import clean_article
from monitor.core.records import (
    ArticleAnalysis,
    CleanArticle,
    FingerprintedArticle,
    RawArticle,
    fingerprinted_omits,
)
from monitor.core.stories import analyse, article_features

SEEDS = Path(__file__).parent.parent / "data" / "seeds"


def seeds() -> list[CleanArticle]:
    cleaned = []
    for path in sorted(SEEDS.glob("0*.txt")):
        result = clean_article(
            RawArticle(id=path.name[:3], outlet="o", text=path.read_text(encoding="utf-8"))
        )
        assert isinstance(result, CleanArticle)
        cleaned.append(result)
    return cleaned


@pytest.mark.parametrize("index", range(5))
def test_features_rebuilt_from_the_json_record_equal_the_computed_ones(index: int) -> None:
    article = seeds()[index]
    record = analysis_record(analyse(article.match_title, article.match_sentences))
    wire = FingerprintedArticle(article=article, kind="new", analysis=record).model_dump_json()
    received = FingerprintedArticle.model_validate_json(wire).analysis
    assert received is not None
    rebuilt = features_from_record(received)
    computed = article_features(article.match_title, article.match_sentences)
    assert rebuilt.vector == computed.vector
    assert rebuilt.title == computed.title
    assert rebuilt.entities == computed.entities
    assert rebuilt.title_entities == computed.title_entities
    assert rebuilt.text == computed.text  # terms, entities, hashes and markers per sentence
    # The character sketch travels exactly (weights and order); without it, it is computed.
    assert list(rebuilt.sketch.items()) == list(computed.sketch.items())
    received.sketch = None
    assert list(features_from_record(received).sketch.items()) == list(computed.sketch.items())


def test_a_damaged_sketch_is_refused() -> None:
    with pytest.raises(ValueError):
        unpack_sketch("AQAAAA==")  # 4 bytes: a gram without its weight
    assert unpack_sketch(pack_sketch({})) == {}


def test_markers_keep_numbers_and_date_words_in_order() -> None:
    text = analyse("", ["وصل الوفد الثلاثاء 18 يونيو ومعه 3 وزراء"])
    assert text.sentences[0].markers == ["الثلاثاء", "18", "يونيو", "3"]


def test_a_record_whose_columns_disagree_is_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        text_from_record(
            ArticleAnalysis(
                terms=["a", "b"],
                hashes=[pack_hashes([1]), pack_hashes([2])],
                entities=[[]],
                markers=[[], []],
            )
        )
    with pytest.raises(ValueError, match="empty"):
        text_from_record(ArticleAnalysis(terms=[], hashes=[], entities=[], markers=[]))


@pytest.mark.parametrize("packed", ["AQAA", "AQAAAP////8", "!!!!!!!!", "AQAAAA==AQAAAA=="])
def test_hashes_that_are_not_packed_hashes_are_refused(packed: str) -> None:
    with pytest.raises(ValueError):
        unpack_hashes(packed)
    with pytest.raises(ValueError):
        text_from_record(ArticleAnalysis(terms=[""], hashes=[packed], entities=[[]], markers=[[]]))


def test_packed_hashes_keep_every_32_bit_value_and_their_order() -> None:
    hashes = [0, 1, 255, 256, 2**31, 3_000_000_000, 2**32 - 1]
    assert unpack_hashes(pack_hashes(hashes)) == hashes
    assert unpack_hashes(pack_hashes([])) == []


def test_a_title_without_terms_is_an_empty_row() -> None:
    text = analyse("", ["وصل بوتين إلى بيونغ يانغ"])
    record = analysis_record(text)
    assert record.terms[0] == "" and record.hashes[0] == ""
    assert text_from_record(record) == text


@pytest.mark.parametrize("index", range(5))
def test_a_slim_record_rebuilds_the_normalised_text_and_the_features(index: int) -> None:
    """What the story stage falls back on when it cannot use a record's analysis."""
    article = seeds()[index]
    record = analysis_record(analyse(article.match_title, article.match_sentences))
    item = FingerprintedArticle(article=article, kind="new", analysis=record)
    wire = item.model_dump_json(exclude=fingerprinted_omits(item))
    received = FingerprintedArticle.model_validate_json(wire).article
    assert received.match_sentences == [] and received.match_title == ""
    assert match_texts(received) == (article.match_title, article.match_sentences)
    assert match_texts(article) == (article.match_title, article.match_sentences)


def test_fingerprinted_records_leave_out_what_the_story_stage_never_reads() -> None:
    article = seeds()[0]
    analysed = FingerprintedArticle(
        article=article,
        kind="new",
        analysis=analysis_record(analyse(article.match_title, article.match_sentences)),
        reasons={"rule": "new"},
    )
    received = FingerprintedArticle.model_validate_json(
        analysed.model_dump_json(exclude=fingerprinted_omits(analysed))
    )
    kept = received.article
    assert (kept.title, kept.sentences, kept.trace) == (
        article.title,
        article.sentences,
        article.trace,
    )
    assert received.analysis == analysed.analysis
    assert not (kept.paragraphs or kept.match_text or kept.removed or received.reasons)
    copy = FingerprintedArticle(article=article, kind="exact", matched_id="x", overlap=1.0)
    received = FingerprintedArticle.model_validate_json(
        copy.model_dump_json(exclude=fingerprinted_omits(copy))
    )
    assert (received.matched_id, received.overlap, received.article.title) == (
        "x",
        1.0,
        article.title,
    )
    assert not (received.article.sentences or received.article.match_sentences)
    # A reprint is judged for what it adds: its sentences travel.
    reprint = FingerprintedArticle(article=article, kind="reprint", matched_id="x", overlap=0.9)
    received = FingerprintedArticle.model_validate_json(
        reprint.model_dump_json(exclude=fingerprinted_omits(reprint))
    )
    assert received.article.sentences == article.sentences
    # Without an analysis the story stage analyses the normalised text itself.
    bare = FingerprintedArticle(article=article, kind="revision")
    received = FingerprintedArticle.model_validate_json(
        bare.model_dump_json(exclude=fingerprinted_omits(bare))
    )
    assert received.article.match_sentences == article.match_sentences
    assert received.article.match_title == article.match_title


@pytest.mark.parametrize("index", range(5))
def test_the_sentence_reading_travels_and_is_what_the_story_stage_reads(index: int) -> None:
    """Novelty's reading of each sentence alone (actions done, background), worked out by the
    prep worker, reaches the story stage as computed there from the originals."""
    article = seeds()[index]
    text = read_article(article, analyse(article.match_title, article.match_sentences))
    wire = FingerprintedArticle(
        article=article, kind="new", analysis=analysis_record(text)
    ).model_dump_json()
    received = FingerprintedArticle.model_validate_json(wire).analysis
    assert received is not None and received.actions is not None
    rebuilt = text_from_record(received)
    assert rebuilt == text
    bare = analyse(article.match_title, article.match_sentences)
    originals = [article.title, *article.sentences]
    for original, read, unread in zip(originals, [rebuilt.title, *rebuilt.sentences],
                                      [bare.title, *bare.sentences], strict=True):  # fmt: skip
        assert unread.actions is None and unread.background is None
        assert read.actions == novelty._sentence_actions(original, unread)
        assert read.background == novelty._is_background(original)


def test_a_record_without_the_reading_leaves_it_to_the_story_stage() -> None:
    article = seeds()[0]
    record = analysis_record(analyse(article.match_title, article.match_sentences))
    assert record.actions is None and record.background is None
    rebuilt = text_from_record(record)
    assert all(row.actions is None for row in [rebuilt.title, *rebuilt.sentences])
    read = analysis_record(
        read_article(article, analyse(article.match_title, article.match_sentences))
    )
    assert read.actions is not None
    read.background = read.background[:-1] if read.background else [True]
    with pytest.raises(ValueError, match="differ"):
        text_from_record(read)
