"""An article's story analysis as a record, and back: the hand-over between two processes.

``monitor.core.stories.analyse`` (tokens, content terms, entities, markers of every
sentence) is the costly half of the story stage and needs no story state, so the service
computes it in the partitioned fingerprint stage and ships it in
``FingerprintedArticle.analysis``; the single story process rebuilds the features from it
(term hashes and weights only), with exactly the result of analysing the text there.

>>> from monitor.core.arabic import normalize
>>> from monitor.core.stories import analyse, article_features
>>> title, body = normalize("بوتين يصل إلى بيونغ يانغ"), [normalize("وصل بوتين الثلاثاء 18 يونيو")]
>>> record = analysis_record(analyse(title, body))
>>> record.markers
[[], ['الثلاثاء', '18', 'يونيو']]
>>> features_from_record(record).vector == article_features(title, body).vector
True
"""

from __future__ import annotations

from monitor.core.records import ArticleAnalysis
from monitor.core.stories import (
    ArticleFeatures,
    ArticleText,
    SentenceText,
    features_of,
)

__all__ = ["analysis_record", "features_from_record", "text_from_record"]


def analysis_record(text: ArticleText) -> ArticleAnalysis:
    """The record form of an analysed article (title first)."""
    rows = [text.title, *text.sentences]
    return ArticleAnalysis.model_construct(
        terms=[row.terms for row in rows],
        hashes=[row.fingerprint for row in rows],
        entities=[row.entities for row in rows],
        markers=[row.markers for row in rows],
    )


def text_from_record(record: ArticleAnalysis) -> ArticleText:
    """The analysed article a record describes (``ValueError`` if its columns disagree)."""
    columns = (record.terms, record.hashes, record.entities, record.markers)
    if len({len(column) for column in columns}) != 1 or not record.terms:
        raise ValueError(
            "analysis columns differ in length or are empty: "
            f"{[len(column) for column in columns]} rows of terms, hashes, entities, markers"
        )
    rows = [
        SentenceText(terms, entities, hashes, markers)
        for terms, hashes, entities, markers in zip(*columns, strict=True)
    ]
    return ArticleText(rows[0], rows[1:])


def features_from_record(record: ArticleAnalysis) -> ArticleFeatures:
    """``article_features`` of the article the record was made from."""
    return features_of(text_from_record(record))
