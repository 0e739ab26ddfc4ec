"""Stories: what an article is about, how alike an article and a story are, story state.

An article's *features* are a weighted vector of its content terms (title terms count
double) and the entities it names (``@KIND:name``, boosted), plus its title features. A
story keeps the bounded sum of its articles' vectors (``centroid``), its title features,
the entities it has named, and what it has reported (sentence fingerprints, terms, numbers:
see ``monitor.core.novelty``).

``similarity(article, story)`` = ``BODY_WEIGHT`` x cosine(article vector, story centroid)
+ ``TITLE_WEIGHT`` x share of the article's title features (weighted by IDF) the story has
in its titles or names. It is multiplied by a time decay: a story cools as it stays idle
(half-life ``StorySettings.half_life_hours``, never below ``StorySettings.decay_floor``).
The same function and threshold serve the story stage and ``monitor similarity``.

>>> from monitor.core.arabic import normalize
>>> a = article_features(normalize("بوتين يزور كوريا الشمالية"), [normalize("يزور الرئيس الروسي بيونغ يانغ")])
>>> story = new_story_state("s1", "بوتين يزور كوريا الشمالية", a, now=0.0, sentences=[])
>>> b = article_features(normalize("وصول بوتين إلى بيونج يانج"), [normalize("وصل بوتين إلى كوريا الشمالية")])
>>> round(similarity(b, story).score, 2) > 0.3
True
"""

from __future__ import annotations

import math
from collections import Counter, _count_elements  # type: ignore[attr-defined]
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import (
    accumulate,
    chain,
    compress,
    islice,
    repeat,
    starmap,
    takewhile,
)
from operator import add, attrgetter, is_, itemgetter, lt, mul, truediv
from sys import intern
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from xxhash import xxh32_intdigest

from monitor.core.arabic import tokens
from monitor.core.counts import count_markers_at
from monitor.core.entities import (
    FactColumns,
    entities_at,
    entity_weight,
    fact_columns,
    word_facts,
)
from monitor.core.memo import recall, remember
from monitor.core.terms import NO_TERM_HASH, document_frequencies, idf, idf_table, term_hash
from monitor.tablecache import cached_arrays

__all__ = [
    "ArticleFeatures",
    "ArticleText",
    "Matcher",
    "SentenceText",
    "Similarity",
    "StoryState",
    "Weighing",
    "absorb_story",
    "analyse",
    "analyse_sentence",
    "analyse_tokens",
    "analyse_words",
    "article_features",
    "decay",
    "features_of",
    "index_keys",
    "learn_sketch_grams",
    "lookup_keys",
    "merge_article",
    "new_story_state",
    "raw_similarity",
    "similarity",
    "term_hashes",
    "terms_of",
    "text_sketch",
    "weighing_of",
]

BODY_WEIGHT = 0.6
TITLE_WEIGHT = 0.4
ENTITY_BOOST = 1.5
TITLE_TERM_BOOST = 2
ARTICLE_FEATURES = 60
CENTROID_FEATURES = 120
TITLE_FEATURES = 20
STORY_ENTITIES = 60
BODY_SENTENCES = 12
"""Only the lead of an article describes its story: long articles drift to background."""
SKETCH_SENTENCES = 3
"""Sentences of the lead (after the title) that an article's character sketch covers."""
assert SKETCH_SENTENCES <= BODY_SENTENCES  # ``features_of`` counts them as the lead's first
SKETCH_GRAMS = 80
"""Heaviest character n-grams kept in an article's sketch."""
STORY_SKETCHES = 8
"""Sketches of its most recent articles a story keeps (the nearest earlier article)."""
NEAREST_CANDIDATES = 6
"""Candidate stories (the best by centroid) whose recent articles are compared one by one."""
HEADLINE_COUNTS = 24
"""What its headlines counted a story keeps (the most recent)."""
GRAM_SIZES = (3, 4, 5)
NEAREST_SCALE = 1.36
"""Nearest-article cosine -> similarity: 0.22, where same-story pairs of real timelines part
from the nearest other story, scores as the join threshold 0.3."""
DECAY_GRACE_HOURS = 48.0
"""A story idle this long does not cool yet: crawls come in batches hours apart."""
LOOKUP_KEYS = 12
MIN_KEY_IDF = 2.0
"""Index keys rarer than this (IDF) only: ``مصر`` in an Egyptian stream points nowhere."""


def _by_fields(self: Any) -> tuple[Any, ...]:
    """``__reduce__`` of a slots dataclass: pickled as its constructor's arguments, a quarter
    quicker to load than the default (the embedded pipeline's workers send thousands)."""
    return type(self), tuple(map(self.__getattribute__, self.__slots__))


@dataclass(slots=True)
class SentenceText:
    """One normalised sentence, analysed once for similarity and novelty."""

    __reduce__ = _by_fields

    terms: list[str]
    entities: list[str]
    fingerprint: list[int]
    """Sorted hashes of ``terms`` (``monitor.core.novelty.fingerprint_of``)."""
    markers: list[str]
    """Its numbers and weekday/month names (``DATE_WORDS``), in order: the dated facts; then
    its counts (``monitor.core.counts``: ``#death:19``)."""
    actions: list[str] | None = None
    """The actions it reports as done, read with its original spelling
    (``monitor.core.novelty.read_sentences``, by the prep workers); None: not read yet (the
    story stage reads them when it needs them)."""
    background: bool | None = None
    """Whether it recalls what happened before (``read_sentences``); None: not read yet."""


_ROW_FIELDS = attrgetter(*SentenceText.__slots__)
"""A ``SentenceText``'s fields as a tuple, in its constructor's order (one C call)."""


@dataclass(slots=True)
class ArticleText:
    title: SentenceText
    sentences: list[SentenceText]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as a list of row tuples, title first, rebuilt by one call
        (``_text_of_rows``): a row is read out by ``attrgetter`` in C where a ``__reduce__``
        per row was a Python call, the costly part of pickling an analysis (the embedded
        pipeline's workers send one per article)."""
        return _text_of_rows, ([_ROW_FIELDS(self.title), *map(_ROW_FIELDS, self.sentences)],)


def _text_of_rows(rows: list[tuple[Any, ...]]) -> ArticleText:
    """The ``ArticleText`` whose rows (title first) ``ArticleText.__reduce__`` packed."""
    made = list(starmap(SentenceText, rows))
    return ArticleText(made[0], made[1:])


def analyse_sentence(normalized: str) -> SentenceText:
    return analyse(normalized, []).title


def term_hashes(terms: list[str]) -> list[int]:
    """Sorted distinct 32-bit hashes of ``terms``: a sentence's order-free fingerprint."""
    return sorted(set(map(term_hash, terms)))


def analyse(match_title: str, match_sentences: list[str]) -> ArticleText:
    """Tokens, content terms and entities of a normalised title and its sentences."""
    return analyse_tokens([tokens(match_title), *map(tokens, match_sentences)])


def analyse_tokens(token_lists: list[list[str]]) -> ArticleText:
    """``analyse`` of the ``tokens`` of the title and of each sentence, when known."""
    return analyse_words(token_lists)[0]


def analyse_words(
    token_lists: list[list[str]], columns: FactColumns | None = None
) -> tuple[ArticleText, list[Sequence[str]]]:
    """``analyse_tokens``, and the term of each token (``terms.term_of``: ``""`` for none)
    row by row, read off the same word facts (novelty reads some rows word by word: it then
    looks no word up again). ``columns``: the ``fact_columns`` of the ``word_facts`` of the
    tokens one row after the other, when known."""
    # The facts of every word of the article in one pass: one table probe per word, then
    # turned into one column per fact (one C call), which each row slices: no per-word
    # ``itemgetter`` call for each of the four facts.
    if columns is None:
        columns = fact_columns(word_facts(list(chain.from_iterable(token_lists))))
    term_of, hash_of, is_marker, can_start, counts_from, _ = columns
    rows: list[SentenceText] = []
    row_terms: list[Sequence[str]] = []
    end = 0
    for words in token_lists:
        start, end = end, end + len(words)
        terms = term_of[start:end]
        row_terms.append(terms)
        hashes = set(hash_of[start:end])
        hashes.discard(NO_TERM_HASH)
        markers = list(compress(words, is_marker[start:end]))
        if True in counts_from[start:end]:  # a word a count can start at (few sentences)
            markers += count_markers_at(
                words, list(compress(range(len(words)), counts_from[start:end]))
            )
        rows.append(
            SentenceText(
                list(filter(None, terms)),
                entities_at(words, list(compress(range(len(words)), can_start[start:end]))),
                sorted(hashes),
                markers,
            )
        )
    return ArticleText(rows[0], rows[1:]), row_terms


@dataclass(slots=True)
class Weighing:
    """What ``monitor.core.weights`` reads of an article's features to weigh them with the
    stream's term counts, worked out from the fixed tables with the features (by the prep
    workers), so that the story stage only looks up the running counts."""

    __reduce__ = _by_fields

    terms: list[str]
    """The vector's keys whose weight follows the stream (words with a positive fixed IDF),
    in the vector's order."""
    fixed: list[float]
    """Their fixed IDF (``idf_table``)."""
    seen: list[int]
    """Their background document frequency + 1."""
    title_terms: list[str]
    """The title's keys that are words, in its order."""
    title_seen: list[int]
    """Their background document frequency + 1."""
    counted: list[str]
    """The terms the article adds to the stream's counts (``weights.counted_terms``)."""
    word_keys: list[int]
    """The sketch key of each vector key, in the vector's order (``_word_key``)."""
    chars_from: int
    """Where the character half of ``ArticleFeatures.sketch`` starts (its word half first)."""


@dataclass(slots=True)
class ArticleFeatures:
    vector: dict[str, float]
    """Unit-length vector: terms and ``@entity`` keys -> weight."""
    title: dict[str, float]
    """Title terms and ``@entity`` keys -> IDF weight."""
    entities: Counter[str]
    """Entity key -> mentions in the article (title and body)."""
    title_entities: set[str]
    text: ArticleText
    sketch: dict[int, float] = field(default_factory=dict)
    """Unit-length character n-gram vector of the title and lead (``char_sketch``)."""
    weighing: Weighing | None = None
    """How to weigh it with the stream's counts (``weighing_of``); None: worked out then."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields (``_features_of_fields``), the weighing's as a list, where
        its word keys, the keys the sketch starts with (as ``_article_sketch`` builds it),
        are only counted: the loading process takes them from the sketch rather than
        decoding the same 60 large integers twice (the embedded pipeline's workers send one
        per article to the deciding process)."""
        weighing = self.weighing
        packed: list[Any] | None = None
        if weighing is not None:
            packed = list(_WEIGHING_FIELDS(weighing))
            keys = weighing.word_keys
            if keys == list(islice(self.sketch, len(keys))):
                packed[_WORD_KEYS_AT] = len(keys)
        return _features_of_fields, (
            self.vector, self.title, self.entities, self.title_entities, self.text, self.sketch,
            packed,
        )  # fmt: skip


_WEIGHING_FIELDS = attrgetter(*Weighing.__slots__)
_WORD_KEYS_AT = Weighing.__slots__.index("word_keys")


def _features_of_fields(
    vector: dict[str, float],
    title: dict[str, float],
    entities: Counter[str],
    title_entities: set[str],
    text: ArticleText,
    sketch: dict[int, float],
    weighing: list[Any] | None,
) -> ArticleFeatures:
    """The ``ArticleFeatures`` that ``ArticleFeatures.__reduce__`` packed."""
    if weighing is not None:
        keys = weighing[_WORD_KEYS_AT]
        if isinstance(keys, int):  # the sketch's first keys
            weighing[_WORD_KEYS_AT] = list(islice(sketch, keys))
    return ArticleFeatures(
        vector, title, entities, title_entities, text, sketch,
        None if weighing is None else Weighing(*weighing),
    )  # fmt: skip


@dataclass(slots=True)
class Similarity:
    score: float
    """Decayed similarity, compared with ``same_story_threshold``."""
    raw: float
    """Before time decay."""
    body: float
    title: float
    decay: float
    nearest: float = 0.0
    """Cosine of the article's sketch and the nearest of the story's recent articles."""
    shared_entities: list[str] = field(default_factory=list)
    shared_title: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "raw": round(self.raw, 4),
            "body": round(self.body, 4),
            "title": round(self.title, 4),
            "nearest": round(self.nearest, 4),
            "decay": round(self.decay, 4),
            "shared_entities": self.shared_entities[:8],
            "shared_title": self.shared_title[:8],
        }


@dataclass(slots=True)
class StoryState:
    """Everything the monitor remembers about a story; every collection is bounded."""

    id: str
    title: str
    created: float
    updated: float
    articles: int = 0
    centroid: dict[str, float] = field(default_factory=dict)
    centroid_norm: float = 0.0
    title_features: dict[str, float] = field(default_factory=dict)
    entities: dict[str, float] = field(default_factory=dict)
    title_entities: dict[str, int] = field(default_factory=dict)
    headline_counts: list[str] = field(default_factory=list)
    """What its headlines counted (``monitor.core.counts.headline_counts``: ``لتر:55000``,
    and the tolls they gave, ``#death:5``), the most recent ``HEADLINE_COUNTS``: a headline
    counting the same things otherwise tells another incident; one giving the same toll
    tells this one."""
    sentences: list[list[int]] = field(default_factory=list)
    """Fingerprints (hashed term sets) of the sentences the story has reported."""
    seen_terms: list[int] = field(default_factory=list)
    """Hashed terms the story has reported (bounded, most recent kept)."""
    numbers: list[str] = field(default_factory=list)
    """Markers of what it reported, least recently mentioned first (bounded): numbers and
    date words, counts (``#death:19``), kinds of event done (``act:arrest``), planned
    (``plan:meeting``) and done again (``again:incident``), and positions organisations took
    (``pos:boycott:حزب الوفد``)."""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """Outlets that carried the story: {outlet, article, title, url, published}."""
    merged_into: str | None = None
    """The story this one was merged into (it then only forwards to it)."""
    sketches: list[dict[int, float]] = field(default_factory=list)
    """Sketches of the story's most recent articles (``STORY_SKETCHES``): an article close
    to any one of them is close to the story, however far the story has drifted since."""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryState:
        sketches = data.get("sketches")
        if sketches:  # JSON object keys are strings
            data = {**data, "sketches": [{int(k): v for k, v in s.items()} for s in sketches]}
        return cls(**data)

    def core_entities(self, limit: int = 4) -> list[str]:
        """What the story is about: the entities of its titles, else its most named ones."""
        if self.title_entities:
            top = max(self.title_entities.values())
            ranked = sorted(self.title_entities, key=self.title_entities.__getitem__, reverse=True)
            core = [k for k in ranked if self.title_entities[k] * 3 >= top][:limit]
        else:
            core = []
        if len(core) < 2:
            for key in sorted(self.entities, key=self.entities.__getitem__, reverse=True):
                if key not in core:
                    core.append(key)
                if len(core) >= 3:
                    break
        return core


def _norm(vector: dict[str, float]) -> float:
    # The products of a generator's ``v * v``, summed in the same order, mapped in C.
    values = vector.values()
    return math.sqrt(sum(map(mul, values, values)))


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = _norm(vector)
    if not norm:
        return {}
    return dict(zip(vector, map(truediv, vector.values(), repeat(norm)), strict=True))


def _top(vector: dict[str, float], limit: int) -> dict[str, float]:
    if len(vector) <= limit:
        return vector
    # reverse=True keeps ties in insertion order, like sorting on the negated weight
    heaviest = sorted(vector, key=vector.__getitem__, reverse=True)[:limit]
    return dict(zip(heaviest, map(vector.__getitem__, heaviest), strict=True))


def article_features(match_title: str, match_sentences: list[str]) -> ArticleFeatures:
    """Features of an article from its normalised title and sentences."""
    return features_of(analyse(match_title, match_sentences))


def features_of(text: ArticleText, chars: dict[int, float] | None = None) -> ArticleFeatures:
    """Features of an analysed article (the lead sentences and the title). ``chars``: its
    ``text_sketch``, when already computed (the service's prep stage ships it).

    The same values, in the same order, as the straightforward composition (``_top``,
    ``_unit``, ``_article_sketch`` of ``text_sketch``, ``weighing_of``; tested against it),
    with fewer passes: ``1 + log(count)`` of the small whole counts from a table, the word
    keys read from their memo without a set when all are known, the character half halved
    by numpy on its array (the same IEEE products) and where it starts known, not searched."""
    title_entity_list = text.title.entities
    lead = text.sentences[:BODY_SENTENCES]
    # Whole counts are exact as floats, so counting in C gives the same weights; counting
    # the chained lists at once counts (and orders) as updating sentence by sentence.
    entities: Counter[str] = Counter()
    _count_elements(entities, chain(title_entity_list, *[sentence.entities for sentence in lead]))
    title_terms = text.title.terms
    counts: dict[str, float] = {}
    sketched: dict[str, int] | None = None
    if chars is None:
        # The character sketch's sentences (the first of the lead) counted once for both:
        # the lead's counts are theirs, then the rest's.
        sketched = {}
        _count_elements(
            sketched, chain.from_iterable([sentence.terms for sentence in lead[:SKETCH_SENTENCES]])
        )
        counts.update(sketched)
        _count_elements(
            counts, chain.from_iterable([sentence.terms for sentence in lead[SKETCH_SENTENCES:]])
        )
        for term in title_terms:
            sketched[term] = sketched.get(term, 0) + TITLE_TERM_BOOST
    else:
        _count_elements(counts, chain.from_iterable([sentence.terms for sentence in lead]))
    for term in title_terms:
        counts[term] = counts.get(term, 0.0) + TITLE_TERM_BOOST
    idf_of, unseen_idf = idf_table()
    # (1 + log(count)) * idf per term, the same operations mapped in C instead of a loop;
    # 1 + log(count) of a whole count below ``_LOGGED`` from its table (a float count finds
    # the int of the same value).
    try:
        logged = list(map(_ONE_PLUS_LOG.__getitem__, counts.values()))
    except KeyError:
        logged = list(map(add, repeat(1.0), map(math.log, counts.values())))
    # Each term's IDF looked up once in the large table: the title's and the weighing's
    # (the vector's words) are read from the article's own small one.
    fixed = dict(zip(counts, map(idf_of.get, counts, repeat(unseen_idf)), strict=True))
    vector = dict(zip(counts, map(mul, logged, fixed.values()), strict=True))
    for key, count in entities.items():
        name, weight = _entity_key(key)
        vector[name] = (1.0 + math.log(count)) * weight * ENTITY_BOOST
    title = dict(zip(title_terms, map(fixed.__getitem__, title_terms), strict=True))
    for key in title_entity_list:
        name, weight = _entity_key(key)
        title[name] = weight * ENTITY_BOOST
    unit_vector = _unit(_top(vector, ARTICLE_FEATURES))
    try:  # every key known (the usual article): no set of them
        word_keys = list(map(_WORD_KEYS.__getitem__, unit_vector))
    except KeyError:
        word_keys = _word_keys(unit_vector)
    grams: list[int] | None = None
    if sketched is not None:
        weighed = _char_weights_of(sketched)
        if weighed is not None and unit_vector:
            grams, weights = weighed[0].tolist(), (weighed[1] * _HALF).tolist()
        else:
            chars = {} if weighed is None else _sketch_dict(*weighed)
    if grams is not None:  # both halves: the words, then the characters (``_article_sketch``)
        sketch = dict(zip(word_keys, map(mul, unit_vector.values(), repeat(_HALF)), strict=True))
        chars_from = len(sketch)
        sketch.update(zip(grams, weights, strict=True))
    else:
        assert chars is not None
        sketch = _article_sketch(unit_vector, chars, word_keys)
        chars_from = _chars_from(sketch)
    return ArticleFeatures(
        vector=unit_vector,
        title=title,
        entities=entities,
        title_entities=set(title_entity_list),
        text=text,
        sketch=sketch,
        weighing=_weighing(unit_vector, title, word_keys, chars_from, fixed),
    )


_ENTITY_KEYS: dict[str, tuple[str, float]] = {}
"""Entity key -> (its vector key ``@key``, ``entity_weight``) for the entities seen (bounded
like ``memo.recall``): worked out once per entity, not once per mention."""
_ENTITY_KEYS_MAX = 500_000


def _entity_key(key: str) -> tuple[str, float]:
    try:
        return _ENTITY_KEYS[key]
    except KeyError:
        return recall(_ENTITY_KEYS, key, _entity_key_of, _ENTITY_KEYS_MAX)


def _entity_key_of(key: str) -> tuple[str, float]:
    return "@" + key, entity_weight(key)


_LOGGED = 4096
_ONE_PLUS_LOG: Final[dict[float, float]] = {
    count: 1.0 + math.log(count) for count in range(1, _LOGGED)
}
"""``1 + log(count)`` of the whole counts below ``_LOGGED`` (``features_of``)."""


def weighing_of(features: ArticleFeatures, word_keys: list[int] | None = None) -> Weighing:
    """What weighing ``features`` with the stream's counts reads of them (``Weighing``).
    ``word_keys``: the ``_word_keys`` of its vector, when known."""
    vector = features.vector
    return _weighing(
        vector,
        features.title,
        _word_keys(vector) if word_keys is None else word_keys,
        _chars_from(features.sketch),
    )


def _weighing(
    vector: dict[str, float],
    title: dict[str, float],
    word_keys: list[int],
    chars_from: int,
    fixed: dict[str, float] | None = None,
) -> Weighing:
    """``fixed``: the IDF (``idf_table``) of every word of ``vector``, when known."""
    _, frequencies = document_frequencies()
    # Loops mapped in C (the service's story process works this out from each record).
    words = terms_of(vector)
    if fixed is None:
        idf_of, unseen = idf_table()
        fixed_all = list(map(idf_of.get, words, repeat(unseen)))
    else:
        fixed_all = list(map(fixed.__getitem__, words))
    positive = list(map(lt, repeat(0.0), fixed_all))
    terms = list(compress(words, positive))
    title_terms = terms_of(title)
    return Weighing(
        terms=terms,
        fixed=list(compress(fixed_all, positive)),
        seen=list(map(add, map(frequencies.get, terms, repeat(0)), repeat(1))),
        title_terms=title_terms,
        title_seen=list(map(add, map(frequencies.get, title_terms, repeat(0)), repeat(1))),
        # Distinct, in order: the vector's words, then the title's.
        counted=list(dict.fromkeys(chain(words, title_terms))),
        word_keys=word_keys,
        chars_from=chars_from,
    )


def _chars_from(sketch: dict[int, float]) -> int:
    """Where the character half of an article's sketch starts: after its word half (as
    ``_article_sketch`` builds it), else -1 (the halves interleave: read key by key)."""
    words = len(list(takewhile(_WORD_KEY_OFFSET.__le__, sketch)))
    if max(islice(sketch, words, None), default=0) >= _WORD_KEY_OFFSET:
        return -1
    return words


def terms_of(vector: dict[str, float]) -> list[str]:
    """The keys of ``vector`` that are words (not ``@entity`` keys), in order."""
    # A comprehension: twice as quick as filterfalse with a methodcaller per key.
    return [key for key in vector if key[:1] != "@"]


_GRAMS: dict[str, bytes] = {}
"""Term -> its distinct grams as keys (``_learn_grams``), for the terms seen (bounded): the
bytes of 64-bit integers, so that a sketch joins an article's in one C call (``bytes.join``)
where ``np.concatenate`` of as many small arrays cost six times as much. A gram's key is its
hash above ``_CODE_BITS`` bits that say its IDF (``_gram_codes``): sorted, an article's keys
fall in runs of one gram each, whose hash and IDF are read off the key without looking the
gram up in the large table (a random read of two megabytes per gram)."""
_PLACE = np.dtype(np.int64)
"""The type of a key in ``_GRAMS`` (native byte order)."""
_CODE_BITS = 20
_CODE_MASK = (1 << _CODE_BITS) - 1
_GRAMS_MAX = 500_000


def _gram_hashes(term: str) -> list[int]:
    """Hashed character 3-5 grams of a term, its edges marked (sorted: deterministic)."""
    return sorted(_distinct_grams(term))


def _distinct_grams(term: str) -> list[int]:
    """``_gram_hashes`` of a term in no particular order (a sketch sorts them anyway)."""
    padded = f" {term} "
    grams = {padded[i : i + n] for n in GRAM_SIZES for i in range(len(padded) - n + 1)}
    return list(map(xxh32_intdigest, grams))


def _learn_grams(terms: list[str]) -> None:
    """Put each of ``terms`` not in ``_GRAMS`` there, with its distinct grams as keys (its
    hash, shifted, and the code of its IDF: ``_gram_codes``); so a sketch looks up no gram
    in the table, and new terms are looked up together (bounded like ``memo.remember``)."""
    unseen = set(terms).difference(_GRAMS)
    if not unseen:
        return
    if len(_GRAMS) + len(unseen) > _GRAMS_MAX:
        _GRAMS.clear()
        unseen = set(terms)
    # The bundled vocabulary's words have their keys already.
    words, keys_of, ends_of = _vocabulary_grams()
    new: list[str] = []
    for term in unseen:
        index = words.get(term)
        if index is None:
            new.append(term)
        else:
            start = ends_of[index - 1] if index else 0
            _GRAMS[term] = keys_of[start * _PLACE.itemsize : ends_of[index] * _PLACE.itemsize]
    if not new:
        return
    hashes = [_distinct_grams(term) for term in new]
    flat = np.fromiter(chain.from_iterable(hashes), dtype=np.uint32)
    known = gram_idf_table()[0]
    place_keys, _, unseen_code = _gram_codes()
    where = np.minimum(np.searchsorted(known, flat), len(known) - 1)
    keys = np.where(
        known[where] == flat, place_keys[where], (flat.astype(np.int64) << _CODE_BITS) | unseen_code
    )
    ends = list(accumulate(map(len, hashes)))
    for term, start, end in zip(new, [0, *ends], ends, strict=False):
        _GRAMS[term] = keys[start:end].astype(_PLACE, copy=False).tobytes()


def learn_sketch_grams(texts: list[ArticleText]) -> None:
    """Learn the grams of the terms the character sketches of ``texts`` read (title and
    first ``SKETCH_SENTENCES`` sentences) that are not known yet, all in one go: a prep
    worker does, for a chunk of articles, before their features (the sketches then find
    every term known, and are the same)."""
    rows = [row for text in texts for row in (text.title, *text.sentences[:SKETCH_SENTENCES])]
    _learn_grams(list(chain.from_iterable([row.terms for row in rows])))


def char_sketch(title_terms: list[str], lead: list[list[str]]) -> dict[int, float]:
    """Character n-gram vector of an article's title and lead terms, unit length.

    Each gram weighs its IDF (``gram_idf_table``) times ``1 + log`` of how often the
    article's terms hold it (title terms count twice), so spellings of one transliterated
    name (فيرغسون, فيرجسون) share most of their weight where exact terms share nothing.
    The ``SKETCH_GRAMS`` heaviest grams are kept (ties: the lower hash).

    >>> from monitor.core.arabic import normalize
    >>> a = char_sketch([normalize("فيرغسون")], [])
    >>> b = char_sketch([normalize("فيرجسون")], [])
    >>> c = char_sketch([normalize("بوتين")], [])
    >>> sketch_cosine(a, b) > 0, sketch_cosine(a, c)
    (True, 0)
    """
    weighed = _char_weights(title_terms, lead)
    return {} if weighed is None else _sketch_dict(*weighed)


def _sketch_dict(
    grams: npt.NDArray[np.generic], weights: npt.NDArray[np.float64]
) -> dict[int, float]:
    return dict(zip(grams.tolist(), weights.tolist(), strict=True))


def _char_weights(
    title_terms: list[str], lead: list[list[str]]
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]] | None:
    """``char_sketch`` as arrays (its grams, their unit weights), or None (an empty one)."""
    counts: dict[str, int] = {}
    _count_elements(counts, chain.from_iterable(lead))
    for term in title_terms:
        counts[term] = counts.get(term, 0) + TITLE_TERM_BOOST
    return _char_weights_of(counts)


def _char_weights_of(
    counts: dict[str, int],
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.float64]] | None:
    """``_char_weights`` of the terms' counts (title terms counted ``TITLE_TERM_BOOST`` more)."""
    if not counts:
        return None
    if not counts.keys() <= _GRAMS.keys():  # (a probe per term, no set)
        _learn_grams(list(counts))
    # Each term's grams as many times as the term occurs (its bytes repeated), one array;
    # sorted, the order they were joined in does not matter.
    joined = b"".join(map(mul, map(_GRAMS.__getitem__, counts), counts.values()))
    keys = np.sort(np.frombuffer(joined, dtype=_PLACE))
    # Distinct keys (grams) and how many times each occurs (``np.unique``, without its
    # checks); each gram's hash and IDF read off its key. The grams come in the order of
    # their hashes, known and unknown mixed: the heaviest are chosen by (weight, hash) all
    # the same, with the same weights.
    edges = np.empty(keys.size + 1, dtype=bool)
    edges[0] = edges[-1] = True
    np.not_equal(keys[1:], keys[:-1], out=edges[1:-1])
    starts = np.flatnonzero(edges)
    keys, tf = keys[starts[:-1]], np.diff(starts)
    grams = keys >> _CODE_BITS
    weights = _gram_codes()[1][keys & _CODE_MASK] * (1.0 + np.log(tf))
    order = _heaviest(grams, weights, SKETCH_GRAMS)
    kept = weights[order]
    norm = math.sqrt(np.dot(kept, kept))  # as np.sqrt: IEEE square root, without numpy's
    if not norm:  # scalar overhead
        return None
    return grams[order], kept / norm


def _heaviest(
    grams: npt.NDArray[np.integer[Any]], weights: npt.NDArray[np.float64], limit: int
) -> npt.NDArray[np.intp]:
    """Indexes of the ``limit`` heaviest of distinct ``grams``, heaviest first (ties: the
    lower gram): the first ``limit`` of a sort on (-weight, gram), sorting only the grams
    at least as heavy as the ``limit``-th heaviest (ties with it included) instead of all.

    >>> _heaviest(np.array([5, 3, 9, 1]), np.array([0.5, 0.9, 0.5, 0.1]), 2).tolist()
    [1, 0]
    """
    if weights.size <= limit:
        return np.lexsort((grams, -weights))
    floor = np.partition(weights, weights.size - limit)[weights.size - limit]
    (among,) = np.nonzero(weights >= floor)
    return among[np.lexsort((grams[among], -weights[among]))[:limit]]


_GRAM_IDF: tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64], float] | None = None


def gram_idf_table() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64], float]:
    """(sorted gram hashes, their IDF, the IDF of an unseen gram), from the bundled word
    document frequencies (a gram is in at most as many documents as the words holding it).

    The grams' document frequencies take 1.3 s of Python to count: they are kept on disk
    between runs (``monitor.tablecache``, keyed by the bundled table's bytes)."""
    global _GRAM_IDF, _GRAM_CODES, _VOCABULARY_GRAMS
    if _GRAM_IDF is None:
        documents, frequencies = document_frequencies()
        source = resources.files("monitor.data").joinpath("df.json").read_bytes()
        table = cached_arrays("gram_df", _GRAM_TABLE_VERSION + source, _gram_document_counts)
        known, df = table["grams"].astype(np.uint32), table["documents"].astype(np.int64)
        counts = np.minimum(df.astype(np.float64), documents)
        _GRAM_IDF = (known, np.log((documents + 1) / (counts + 1)), math.log(documents + 1))
        # Each distinct IDF once (a few thousand), then the unseen grams' own: a gram's
        # code is its IDF's index here.
        values, codes = np.unique(_GRAM_IDF[1], return_inverse=True)
        assert values.size < _CODE_MASK
        place_keys = (known.astype(np.int64) << _CODE_BITS) | codes.astype(np.int64)
        _GRAM_CODES = (place_keys, np.append(values, _GRAM_IDF[2]), values.size)
        _VOCABULARY_GRAMS = (
            dict(zip(frequencies, range(len(frequencies)), strict=True)),
            place_keys[table["word_places"]].astype(_PLACE).tobytes(),
            table["word_ends"].astype(np.int64).tolist(),
        )
    return _GRAM_IDF


_GRAM_CODES: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int] | None = None
"""The key (``_GRAMS``) of each gram of ``gram_idf_table`` (by place), the IDF of each code
(the last: an unseen gram's) and the unseen grams' code."""


def _gram_codes() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]:
    if _GRAM_CODES is None:
        gram_idf_table()
    assert _GRAM_CODES is not None
    return _GRAM_CODES


_VOCABULARY_GRAMS: tuple[dict[str, int], bytes, list[int]] | None = None
"""The bundled vocabulary's words (-> their rank in ``document_frequencies``), the keys of
their grams one word after the other (as in ``_GRAMS``), and where each word's end (in
keys)."""


def _vocabulary_grams() -> tuple[dict[str, int], bytes, list[int]]:
    gram_idf_table()
    assert _VOCABULARY_GRAMS is not None
    return _VOCABULARY_GRAMS


_GRAM_TABLE_VERSION = (
    f"xxh32 of ' term ' {GRAM_SIZES}-grams, per word once; each word's gram places, v2|".encode()
)
"""How ``_gram_document_counts`` derives its table: part of its cache key."""


def _gram_document_counts() -> dict[str, npt.NDArray[np.generic]]:
    """Sorted gram hashes and, per gram, the documents holding a word that holds it; and
    per word of the table, in its order, the places of its distinct grams among them
    (``word_places``, ``word_ends``: where each word's places end)."""
    _, frequencies = document_frequencies()
    df: dict[int, int] = {}
    grams_of: list[list[int]] = []
    for word, count in frequencies.items():
        grams = _gram_hashes(word)
        grams_of.append(grams)
        for gram in grams:
            df[gram] = df.get(gram, 0) + count
    known = np.array(sorted(df), dtype=np.uint32)
    flat = np.fromiter(chain.from_iterable(grams_of), dtype=np.uint32)
    return {
        "grams": known,
        "documents": np.array([df[g] for g in known.tolist()], np.int64),
        "word_places": np.searchsorted(known, flat).astype(np.int32),
        "word_ends": np.array(list(accumulate(map(len, grams_of))), np.int64),
    }


_WORD_KEYS: dict[str, int] = {}
_WORD_KEY_OFFSET = 1 << 32
"""Word keys of a sketch live above the 32-bit character n-gram hashes."""
_HALF = math.sqrt(0.5)


def _word_key(key: str) -> int:
    return _WORD_KEY_OFFSET + xxh32_intdigest(key)


def text_sketch(text: ArticleText) -> dict[int, float]:
    """The character half of an analysed article's sketch: ``char_sketch`` of its title and
    first ``SKETCH_SENTENCES`` sentences (fixed tables only: no story state)."""
    return char_sketch(
        text.title.terms, [sentence.terms for sentence in text.sentences[:SKETCH_SENTENCES]]
    )


def _word_keys(vector: dict[str, float]) -> list[int]:
    """The sketch key (``_word_key``) of each key of ``vector``, in order."""
    keys = list(vector)
    found: list[int | None] = list(map(_WORD_KEYS.get, keys))
    # The keys not known yet worked out in place (``memo.recall``: no set of the keys).
    for index in compress(range(len(found)), map(is_, found, repeat(None))):
        found[index] = recall(_WORD_KEYS, keys[index], _word_key, _GRAMS_MAX)
    return found  # type: ignore[return-value]


def _article_sketch(
    vector: dict[str, float], chars: dict[int, float], word_keys: list[int] | None = None
) -> dict[int, float]:
    """The article's words (``vector``) and character n-grams (``text_sketch``), one unit
    vector: the cosine of two sketches is the mean of their word and character cosines.
    ``word_keys``: the ``_word_keys`` of ``vector``, when known."""
    keys = _word_keys(vector) if word_keys is None else word_keys
    # The products of a loop, mapped in C (a key met twice keeps its first place and its
    # last weight, as in a loop).
    sketch = dict(zip(keys, map(mul, vector.values(), repeat(_HALF)), strict=True))
    if not chars or not sketch:
        return _unit(sketch | chars)  # type: ignore[arg-type,return-value,operator]
    sketch.update(zip(chars, map(mul, chars.values(), repeat(_HALF)), strict=True))
    return sketch


def resketch(
    sketch: dict[int, float], vector: dict[str, float], weighing: Weighing | None = None
) -> dict[int, float]:
    """``sketch`` with its word half taken from ``vector`` (a reweighted unit vector, its
    keys those the sketch was made with) and its character half kept. ``weighing``: the
    article's (``weighing_of``), when known: its word keys and where its characters start."""
    if not vector or not sketch:
        return sketch
    if weighing is not None and weighing.chars_from >= 0:
        chars = dict(islice(sketch.items(), weighing.chars_from, None))
        word_keys: list[int] = weighing.word_keys
    else:
        chars = {gram: weight for gram, weight in sketch.items() if gram < _WORD_KEY_OFFSET}
        remember(_WORD_KEYS, list(vector), _word_key, _GRAMS_MAX)
        word_keys = list(map(_WORD_KEYS.__getitem__, vector))
    if not chars:
        words: dict[Any, float] = dict(zip(word_keys, vector.values(), strict=True))
        return _unit(words)  # type: ignore[return-value]
    # The same products, set in the same order (a repeated key keeps its first place and
    # its last weight), in C.
    chars.update(zip(word_keys, map(mul, vector.values(), repeat(_HALF)), strict=True))
    return chars


def sketch_cosine(a: dict[int, float], b: dict[int, float]) -> float:
    """Cosine of two unit-length sketches."""
    if len(b) < len(a):
        a, b = b, a
    shared = a.keys() & b.keys()
    return sum(map(mul, map(a.__getitem__, shared), map(b.__getitem__, shared)))


def decay(idle_hours: float, half_life_hours: float, floor: float) -> float:
    """How much a story idle for ``idle_hours`` still attracts articles (1.0 when fresh).

    >>> decay(0, 24, 0.5), decay(48 + 24, 24, 0.5), decay(1e6, 24, 0.5)
    (1.0, 0.75, 0.5)
    """
    idle_hours -= DECAY_GRACE_HOURS
    if idle_hours <= 0 or half_life_hours <= 0:
        return 1.0
    return floor + (1.0 - floor) * 0.5 ** (idle_hours / half_life_hours)


def similarity(
    article: ArticleFeatures,
    story: StoryState,
    *,
    idle_hours: float = 0.0,
    half_life_hours: float = 24.0,
    decay_floor: float = 0.5,
) -> Similarity:
    """How likely ``article`` reports the same event as ``story`` (0..1)."""
    return Matcher(article).similarity(
        story, idle_hours=idle_hours, half_life_hours=half_life_hours, decay_floor=decay_floor
    )


def raw_similarity(article: ArticleFeatures, story: StoryState) -> float:
    """``similarity(article, story).raw`` without the explanation (cheap, for ranking)."""
    return Matcher(article).raw(story)


class Matcher:
    """Similarity of one article to many stories, with the article's side computed once.

    The sums add the same terms in the same order as a direct computation, so the scores
    are bit for bit those of ``similarity`` (decisions compare them with thresholds).
    Ranking asks for a story's overlap and nearest sketch up to three times (shortlist,
    ranking, explanation): each is computed once per story state (a story changes by new
    collections, ``merge_article``, ``absorb_story``: a changed one is computed again).
    """

    __slots__ = ("_nearest", "_overlaps", "_title", "_title_total", "_vector", "article")

    def __init__(self, article: ArticleFeatures) -> None:
        self.article = article
        # Interned like the stories' keys (``merge_article``): a shared key is then found by
        # identity, without comparing the text of a string elsewhere in memory (that cost
        # more than the rest of the comparison). The article keeps the interned copy (equal
        # keys, same order, same weights): ``merge_article`` then interns each key again by
        # a flag test instead of a probe of the interned strings.
        vector = article.vector
        self._vector = article.vector = dict(zip(map(intern, vector), vector.values(), strict=True))
        title = article.title
        self._title_total = sum(title.values())
        # (key, weight, entity key for "@" keys): slicing per story would make new strings
        # whose hashes are computed again every time.
        self._title = [
            (intern(key), weight, intern(key[1:]) if key[:1] == "@" else None)
            for key, weight in title.items()
        ]
        # Story id -> (the story's state the entry was computed for, its objects compared
        # by identity; the result): a changed story is computed again.
        self._overlaps: dict[int, _OverlapMemo] = {}
        self._nearest: dict[
            int, tuple[StoryState, list[dict[int, float]], dict[int, float], float]
        ] = {}

    def nearest(self, story: StoryState) -> float:
        """Cosine of the article's sketch and the nearest sketch of the story."""
        sketch = self.article.sketch
        if not sketch:
            return 0.0
        sketches = story.sketches
        known = self._nearest.get(id(story))
        if known is not None and known[0] is story and known[1] is sketches and known[2] is sketch:
            return known[3]
        # ``sketch_cosine`` of each, inline: the same sets, products and sums.
        nearest = 0.0
        first = True
        size = len(sketch)
        for other in sketches:
            if len(other) < size:
                shared = other.keys() & sketch.keys()
            else:
                shared = sketch.keys() & other.keys()
            cosine = sum(map(mul, map(sketch.__getitem__, shared), map(other.__getitem__, shared)))
            if first or cosine > nearest:
                nearest, first = cosine, False
        self._nearest[id(story)] = (story, sketches, sketch, nearest)
        return nearest

    def raw(self, story: StoryState) -> float:
        """``similarity(article, story).raw``."""
        memo = self._overlap_memo(story)
        nearest = NEAREST_SCALE * self.nearest(story)
        combined = memo[_COMBINED]
        return min(1.0, combined if combined >= nearest else nearest)

    def centroid_raw(self, story: StoryState) -> float:
        """``raw`` without the nearest article: a cheaper score to shortlist stories by."""
        return self._overlap_memo(story)[_CENTROID_RAW]

    def overlap(self, story: StoryState) -> tuple[float, float, list[str]]:
        """(body cosine, weighted share of title features, the shared title features)."""
        memo = self._overlap_memo(story)
        return memo[_BODY], memo[_TITLE], list(memo[_SHARED])

    def _overlap_memo(self, story: StoryState) -> _OverlapMemo:
        """The overlap's memo entry for ``story`` as it is now (computed when it is not)."""
        known = self._overlaps.get(id(story))
        if (
            known is not None
            and known[0] is story
            and known[1] is story.centroid
            and known[2] is story.centroid_norm
            and known[3] is story.title_features
            and known[4] is story.title_entities
        ):
            return known
        # ``_body`` and the title's share, inline (one call per story instead of three).
        centroid, titles, entities = story.centroid, story.title_features, story.title_entities
        norm = story.centroid_norm
        state = (story, centroid, norm, titles, entities)
        if not norm:
            norm = _norm(centroid)
        if norm:
            vector = self._vector
            shared_keys = vector.keys() & centroid.keys()
            products = map(
                mul, map(vector.__getitem__, shared_keys), map(centroid.__getitem__, shared_keys)
            )
            body = sum(products) / norm
        else:
            body = 0.0
        shared_title: list[str] = []
        shared = 0.0
        for key, weight, entity in self._title:
            if key in titles or (entity is not None and entity in entities):
                shared_title.append(key)
                shared += weight
        total = self._title_total
        title = shared / total if total else 0.0
        combined = BODY_WEIGHT * body + TITLE_WEIGHT * title
        memo: _OverlapMemo = (
            # ``_combine(body, title, 0.0)``: ``combined`` is its first term, the nearest 0.
            *state, body, title, shared_title, combined, min(1.0, max(combined, 0.0))
        )  # fmt: skip
        self._overlaps[id(story)] = memo
        return memo

    def similarity(
        self,
        story: StoryState,
        *,
        idle_hours: float = 0.0,
        half_life_hours: float = 24.0,
        decay_floor: float = 0.5,
    ) -> Similarity:
        """``similarity(article, story, ...)``."""
        body, title, shared_title = self.overlap(story)
        nearest = self.nearest(story)
        raw = _combine(body, title, nearest)
        factor = decay(idle_hours, half_life_hours, decay_floor)
        story_entities = story.entities
        shared_entities = sorted(
            (key for key in self.article.entities if key in story_entities),
            key=lambda key: -story_entities[key],
        )
        return Similarity(
            score=raw * factor,
            raw=raw,
            body=body,
            title=title,
            decay=factor,
            nearest=nearest,
            shared_entities=shared_entities,
            shared_title=[key.lstrip("@") for key in shared_title],
        )


_OverlapMemo = tuple[
    StoryState, dict[str, float], float, dict[str, float], dict[str, int],
    float, float, list[str], float, float,
]  # fmt: skip
"""``Matcher``'s memo of a story's overlap: the story and the objects its overlap reads,
then (body, title, shared title features, centroid score, ``centroid_raw``)."""
_BODY: Final = 5
_TITLE: Final = 6
_SHARED: Final = 7
_COMBINED: Final = 8
_CENTROID_RAW: Final = 9


def _combine(body: float, title: float, nearest: float) -> float:
    """The story similarity: the centroid's (body and title) or the nearest article's."""
    return min(1.0, max(BODY_WEIGHT * body + TITLE_WEIGHT * title, NEAREST_SCALE * nearest))


def new_story_state(
    story_id: str,
    title: str,
    article: ArticleFeatures,
    *,
    now: float,
    sentences: list[list[int]],
    headline_counts: Sequence[str] = (),
) -> StoryState:
    """A one-article story (its reported sentences are ``sentences``; what its headline
    counts, ``headline_counts``)."""
    state = StoryState(id=story_id, title=title, created=now, updated=now)
    merge_article(state, article, now=now, headline_counts=headline_counts)
    state.sentences = list(sentences)
    return state


def merge_article(
    state: StoryState,
    article: ArticleFeatures,
    *,
    now: float,
    anchor: bool = True,
    headline_counts: Sequence[str] = (),
) -> None:
    """Fold an article's features and what its headline counts into the story (bounded);
    an ``anchor`` also becomes one of the recent articles later ones are compared with
    (``Matcher.nearest``)."""
    # Keys are interned (see ``Matcher``); a key already there keeps its string.
    centroid = dict(state.centroid)
    for key, weight in article.vector.items():
        centroid[intern(key)] = centroid.get(key, 0.0) + weight
    state.centroid = _top(centroid, CENTROID_FEATURES)
    state.centroid_norm = _norm(state.centroid)
    titles = dict(state.title_features)
    for key, weight in article.title.items():
        titles[intern(key)] = titles.get(key, 0.0) + weight
    state.title_features = _top(titles, TITLE_FEATURES)
    entities = dict(state.entities)
    for key, count in article.entities.items():
        entities[intern(key)] = entities.get(key, 0.0) + count
    state.entities = _top(entities, STORY_ENTITIES)
    title_entities = dict(state.title_entities)
    # Sorted: a set's order varies with the hash seed, and ties in these counts pick the
    # story's core entities, so replays must not depend on it.
    for key in sorted(article.title_entities):
        title_entities[key] = title_entities.get(key, 0) + 1
    # reverse=True keeps ties in their order, as sorting on the negated count did.
    state.title_entities = dict(sorted(title_entities.items(), key=_COUNT, reverse=True)[:12])
    if anchor and article.sketch:
        state.sketches = [*state.sketches, article.sketch][-STORY_SKETCHES:]
    if headline_counts:
        state.headline_counts = _recent(state.headline_counts, headline_counts)
    state.articles += 1
    state.updated = max(state.updated, now)


_COUNT = itemgetter(1)


def _recent(kept: list[str], added: Sequence[str]) -> list[str]:
    """``kept`` then ``added``, each once (at its latest place), the last ``HEADLINE_COUNTS``."""
    latest_first = list(dict.fromkeys(reversed([*kept, *added])))
    return latest_first[:HEADLINE_COUNTS][::-1]


def absorb_story(into: StoryState, other: StoryState) -> None:
    """Fold the summary of ``other`` into ``into`` (two fragments of one story become one);
    ``other`` is left a forwarding record (``merged_into``). Memories merge in
    ``monitor.core.novelty.merge_reported``."""
    centroid = dict(into.centroid)
    for key, weight in other.centroid.items():
        centroid[key] = centroid.get(key, 0.0) + weight
    into.centroid = _top(centroid, CENTROID_FEATURES)
    into.centroid_norm = _norm(into.centroid)
    titles = dict(into.title_features)
    for key, weight in other.title_features.items():
        titles[key] = titles.get(key, 0.0) + weight
    into.title_features = _top(titles, TITLE_FEATURES)
    entities = dict(into.entities)
    for key, count in other.entities.items():
        entities[key] = entities.get(key, 0.0) + count
    into.entities = _top(entities, STORY_ENTITIES)
    title_entities = dict(into.title_entities)
    for key in sorted(other.title_entities):
        title_entities[key] = title_entities.get(key, 0) + other.title_entities[key]
    into.title_entities = dict(sorted(title_entities.items(), key=lambda kv: -kv[1])[:12])
    half = STORY_SKETCHES // 2
    into.sketches = other.sketches[-half:] + into.sketches[-(STORY_SKETCHES - half) :]
    into.headline_counts = _recent(into.headline_counts, other.headline_counts)
    into.articles += other.articles
    into.created = min(into.created, other.created)
    into.updated = max(into.updated, other.updated)
    other.merged_into = into.id
    other.sketches = []


def lookup_keys(article: ArticleFeatures, limit: int = LOOKUP_KEYS) -> list[str]:
    """Index keys under which candidate stories for ``article`` are looked up."""
    keys = _strongest_telling(article.vector, limit)
    for key in article.title:
        if key not in keys and _key_is_telling(key):
            keys.append(key)
    return keys


def index_keys(state: StoryState, limit: int = 2 * LOOKUP_KEYS) -> list[str]:
    """Index keys under which a story is filed (its strongest features)."""
    keys = _strongest_telling(state.centroid, limit)
    # ``lookup_keys``' loop, with a set for the list's membership and the answers of
    # ``_key_is_telling`` read from its table (a call per key only for a key not in it).
    known = set(keys)
    telling = _TELLING.get
    for key in state.title_features:
        if key not in known:
            answer = telling(key)
            if answer is None:
                answer = _key_is_telling(key)
            if answer:
                keys.append(key)
    return keys


def _strongest_telling(vector: dict[str, float], limit: int) -> list[str]:
    """The ``limit`` heaviest telling keys of ``vector``, heaviest first (stable on ties)."""
    # Filtering first keeps the order of the rest, and reverse=True keeps ties in that
    # order (like sorting on the negated weight): the same keys as sorting, then filtering.
    weight = vector.__getitem__
    try:
        strongest = sorted(filter(_TELLING.__getitem__, vector), key=weight, reverse=True)
    except KeyError:  # a key seen for the first time (the usual case probes each key once)
        strongest = sorted(compress(vector, _learn_telling(vector)), key=weight, reverse=True)
    del strongest[limit:]
    return strongest


def _learn_telling(vector: dict[str, float]) -> list[bool]:
    """Whether each key of ``vector`` is telling (``_is_telling``), in order: the keys not in
    ``_TELLING`` yet worked out and put there (interned), in place (no set of the keys)."""
    keys = list(vector)
    found: list[bool | None] = list(map(_TELLING.get, keys))
    for index in compress(range(len(found)), map(is_, found, repeat(None))):
        key = keys[index]
        if len(_TELLING) >= _TELLING_MAX:
            _TELLING.clear()  # bounded, as ``memo.recall``
        found[index] = _TELLING[intern(key)] = _is_telling(key)
    return found  # type: ignore[return-value]


_TELLING: dict[str, bool] = {}
_TELLING_MAX = 500_000


def _is_telling(key: str) -> bool:
    if key.startswith("@"):
        return entity_weight(key[1:]) >= MIN_KEY_IDF
    return idf(key) >= MIN_KEY_IDF


def _key_is_telling(key: str) -> bool:
    # Weights come from fixed tables, so the answer per key never changes: computed once.
    telling = _TELLING.get(key)
    if telling is None:
        telling = _is_telling(key)
        if len(_TELLING) >= _TELLING_MAX:
            _TELLING.clear()
        _TELLING[key] = telling
    return telling
