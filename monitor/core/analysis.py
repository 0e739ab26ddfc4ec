"""An article's story analysis as a record, and back: the hand-over between two processes.

``monitor.core.stories.analyse`` (tokens, content terms, entities, markers of every
sentence) is the costly half of the story stage and needs no story state, so the service
computes it in the partitioned fingerprint stage and ships it in
``FingerprintedArticle.analysis``; the single story process rebuilds the features from it
(term hashes and weights only), with exactly the result of analysing the text there. The
character half of the article's sketch (``stories.text_sketch``: n-gram hashing, fixed IDF
weights, a sort; a third of what rebuilding the features cost the story process) travels
with it, its weights as exact 64-bit floats.

On the wire a row's terms are one space-joined string (a term never holds whitespace) and
its hashes are base64 of packed 32-bit integers: measured on the 2013 stream, the analysis
JSON is a quarter smaller and the story process parses and unpacks it in about half the
time of nested lists of strings and decimal integers.

>>> from monitor.core.arabic import normalize
>>> from monitor.core.stories import analyse, article_features
>>> title, body = normalize("بوتين يصل إلى بيونغ يانغ"), [normalize("وصل بوتين الثلاثاء 18 يونيو")]
>>> record = analysis_record(analyse(title, body))
>>> record.markers
[[], ['الثلاثاء', '18', 'يونيو']]
>>> record.terms[1]
'وصل بوتين يونيو'
>>> features_from_record(record).vector == article_features(title, body).vector
True
"""

from __future__ import annotations

import sys
from array import array
from binascii import a2b_base64, b2a_base64
from collections.abc import Sequence
from typing import Any

from monitor.core.arabic import normalize
from monitor.core.novelty import read_sentences
from monitor.core.records import ArticleAnalysis, CleanArticle
from monitor.core.stories import (
    ArticleFeatures,
    ArticleText,
    SentenceText,
    features_of,
    text_sketch,
)

__all__ = [
    "analysis_record",
    "features_from_record",
    "match_texts",
    "pack_hashes",
    "pack_sketch",
    "read_article",
    "text_from_record",
    "unpack_hashes",
    "unpack_sketch",
]

_HASH_TYPE = "I"
"""``array`` type of a 32-bit hash (unsigned int: 4 bytes wherever CPython runs)."""
_BIG_ENDIAN = sys.byteorder == "big"
assert array(_HASH_TYPE).itemsize == 4


def pack_hashes(hashes: list[int]) -> str:
    """``hashes`` (32-bit, unsigned) as base64 of their little-endian bytes.

    >>> pack_hashes([1, 2**32 - 1])
    'AQAAAP////8='
    """
    packed = array(_HASH_TYPE, hashes)
    if _BIG_ENDIAN:
        packed.byteswap()
    return b2a_base64(packed.tobytes(), newline=False).decode("ascii")


def unpack_hashes(packed: str) -> list[int]:
    """The hashes ``pack_hashes`` packed (``ValueError`` if ``packed`` is not such a string).

    >>> unpack_hashes(pack_hashes([7, 3_000_000_000]))
    [7, 3000000000]
    """
    values = array(_HASH_TYPE, a2b_base64(packed, strict_mode=True))
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def pack_sketch(chars: dict[int, float]) -> str:
    """A character sketch (``text_sketch``: 32-bit grams -> weights) as base64 of its grams
    (unsigned 32-bit) and then its weights (64-bit floats: exact), little-endian, in order.

    >>> unpack_sketch(pack_sketch({7: 0.5, 3_000_000_000: 0.1}))
    {7: 0.5, 3000000000: 0.1}
    """
    grams = array(_HASH_TYPE, chars)
    weights = array("d", chars.values())
    if _BIG_ENDIAN:
        grams.byteswap()
        weights.byteswap()
    return b2a_base64(grams.tobytes() + weights.tobytes(), newline=False).decode("ascii")


def unpack_sketch(packed: str) -> dict[int, float]:
    """The sketch ``pack_sketch`` packed (``ValueError`` if ``packed`` is not such a string)."""
    raw = a2b_base64(packed, strict_mode=True)
    if len(raw) % 12:
        raise ValueError(f"a packed sketch of {len(raw)} bytes (not 12 per gram)")
    count = len(raw) // 12
    grams = array(_HASH_TYPE, raw[: 4 * count])
    weights = array("d", raw[4 * count :])
    if _BIG_ENDIAN:
        grams.byteswap()
        weights.byteswap()
    return dict(zip(grams.tolist(), weights.tolist(), strict=True))


def analysis_record(text: ArticleText) -> ArticleAnalysis:
    """The record form of an analysed article (title first), with its character sketch and,
    when every row was read (``read_article``), novelty's reading of each row."""
    rows = [text.title, *text.sentences]
    read = all(row.actions is not None and row.background is not None for row in rows)
    actions = [row.actions or [] for row in rows] if read else None
    background = [bool(row.background) for row in rows] if read else None
    return ArticleAnalysis.model_construct(
        terms=[" ".join(row.terms) for row in rows],
        hashes=[pack_hashes(row.fingerprint) for row in rows],
        entities=[row.entities for row in rows],
        markers=[row.markers for row in rows],
        sketch=pack_sketch(text_sketch(text)),
        actions=actions,
        background=background,
    )


def read_article(
    article: CleanArticle,
    text: ArticleText,
    words: list[list[str]] | None = None,
    terms: list[Sequence[str]] | None = None,
) -> ArticleText:
    """``text`` (the analysis of ``article``) with novelty's reading of each sentence from its
    original spelling (``monitor.core.novelty.read_sentences``): work of the article alone,
    done where the work is shared rather than by the single story process. ``words``: the
    tokens of its ``match_title`` and each of its ``match_sentences``, when known (the
    normalised forms of its title and sentences: novelty reads some of them word by word);
    ``terms``: with them, each token's term (``stories.analyse_words``)."""
    read_sentences([article.title, *article.sentences], [text.title, *text.sentences], words, terms)
    return text


def text_from_record(record: ArticleAnalysis) -> ArticleText:
    """The analysed article a record describes (``ValueError`` if its columns disagree or a
    row's hashes are not packed hashes)."""
    columns: list[list[Any]] = [record.terms, record.hashes, record.entities, record.markers]
    readings: list[list[Any]] = [c for c in (record.actions, record.background) if c is not None]
    if len({len(column) for column in columns + readings}) != 1 or not record.terms:
        raise ValueError(
            "analysis columns differ in length or are empty: "
            f"{[len(column) for column in columns]} rows of terms, hashes, entities, markers, "
            f"{[len(column) for column in readings]} of actions and background read"
        )
    rows = [
        SentenceText(terms.split(), entities, unpack_hashes(hashes), markers)
        for terms, hashes, entities, markers in zip(*columns, strict=True)
    ]
    if record.actions is not None and record.background is not None:
        for row, actions, background in zip(rows, record.actions, record.background, strict=True):
            row.actions, row.background = actions, background
    return ArticleText(rows[0], rows[1:])


def features_from_record(record: ArticleAnalysis) -> ArticleFeatures:
    """``article_features`` of the article the record was made from (``ValueError`` if the
    record is damaged)."""
    chars = unpack_sketch(record.sketch) if record.sketch is not None else None
    return features_of(text_from_record(record), chars)


def match_texts(article: CleanArticle) -> tuple[str, list[str]]:
    """The article's normalised title and sentences (``match_title``, ``match_sentences``),
    also from a ``fingerprinted`` record that left them out (``fingerprinted_omits``).

    For a story stage that cannot use the record's analysis. A clean article's normalised
    forms are ``normalize`` of its title and sentences (and a sentence that normalises to
    nothing is dropped from both lists), so recomputing them gives the same text.
    """
    match_title = article.match_title or normalize(article.title)
    if article.match_sentences or not article.sentences:
        return match_title, article.match_sentences
    return match_title, [normalize(sentence) for sentence in article.sentences]
