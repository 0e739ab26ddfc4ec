"""The record form of an article's story analysis: what crosses from the fingerprint stage
to the story stage must rebuild exactly the features the story stage would compute."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.analysis import analysis_record, features_from_record, text_from_record
from monitor.core.clean import clean_article
from monitor.core.records import ArticleAnalysis, CleanArticle, FingerprintedArticle, RawArticle
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


def test_markers_keep_numbers_and_date_words_in_order() -> None:
    text = analyse("", ["وصل الوفد الثلاثاء 18 يونيو ومعه 3 وزراء"])
    assert text.sentences[0].markers == ["الثلاثاء", "18", "يونيو", "3"]


def test_a_record_whose_columns_disagree_is_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        text_from_record(
            ArticleAnalysis(
                terms=[["a"], ["b"]], hashes=[[1], [2]], entities=[[]], markers=[[], []]
            )
        )
    with pytest.raises(ValueError, match="empty"):
        text_from_record(ArticleAnalysis(terms=[], hashes=[], entities=[], markers=[]))
