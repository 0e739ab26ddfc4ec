"""Term weights that learn from the stream.

The bundled document frequencies come from a background corpus (``scripts/build_df.py``), so
the words of a news beat (traffic fines, court sessions, police campaigns) weigh as much as
rare words until the stream shows how common they are. ``TermCounts`` adds the articles
seen so far to the background table; the story stage reweighs each article with it before
matching and counts the article after its decision (one writer, so both modes decide alike).

>>> from monitor.core.arabic import normalize
>>> from monitor.core.stories import article_features
>>> counts = TermCounts()
>>> beat = article_features(normalize("ضبط 13 ألف مخالفة مرورية"), [])
>>> before = counts.idf("مخالفه")
>>> for _ in range(50):
...     counts.add(counted_terms(beat))
>>> counts.idf("مخالفه") < before
True
"""

from __future__ import annotations

import math
from collections import _count_elements  # type: ignore[attr-defined]
from collections.abc import Iterable
from itertools import filterfalse, repeat
from operator import add, methodcaller, mul, sub, truediv

from monitor.core.stories import ArticleFeatures, resketch, weighing_of
from monitor.core.terms import document_frequencies

__all__ = ["TermCounts", "counted_terms"]

DOCUMENTS_FIELD = ""
"""The field of a stored table that counts the documents (no term is empty)."""


class TermCounts:
    """Articles seen, and per term how many of them held it (in their top features)."""

    __slots__ = ("counts", "documents")

    def __init__(self, documents: int = 0, counts: dict[str, int] | None = None) -> None:
        self.documents = documents
        self.counts: dict[str, int] = counts if counts is not None else {}

    @classmethod
    def from_table(cls, table: dict[str, int]) -> TermCounts:
        """From a stored table (``DOCUMENTS_FIELD`` -> documents, term -> count)."""
        counts = dict(table)
        documents = counts.pop(DOCUMENTS_FIELD, 0)
        return cls(documents, counts)

    def idf(self, term: str) -> float:
        """The term's IDF over the background documents and the stream's."""
        background_documents, background = document_frequencies()
        return math.log(background_documents + self.documents + 1) - math.log(
            background.get(term, 0) + self.counts.get(term, 0) + 1
        )

    def add(self, terms: Iterable[str]) -> None:
        """Count one article holding ``terms`` (distinct)."""
        # ``counts[term] = counts.get(term, 0) + 1`` per term, in C (``Counter``'s loop).
        _count_elements(self.counts, terms)
        self.documents += 1

    def reweigh(self, features: ArticleFeatures) -> ArticleFeatures:
        """``features`` with term weights from this table (entity weights kept)."""
        if not self.documents:
            return features  # the background table alone: the weights they have
        weighing = features.weighing
        if weighing is None:
            weighing = weighing_of(features)
        background_documents, _ = document_frequencies()
        total = math.log(background_documents + self.documents + 1)
        # Per word, its weight (1 + log tf) * fixed IDF with the running IDF swapped in:
        # weight * ((total - log(background df + count + 1)) / fixed IDF), the operations of
        # a loop over the vector mapped in C (the fixed parts come with the features).
        counts = map(self.counts.get, weighing.terms, repeat(0))
        running = map(sub, repeat(total), map(math.log, map(add, weighing.seen, counts)))
        vector = dict(features.vector)
        vector.update(
            zip(
                weighing.terms,
                map(
                    mul,
                    map(features.vector.__getitem__, weighing.terms),
                    map(truediv, running, weighing.fixed),
                ),
                strict=True,
            )
        )
        # The same products summed in the same order as a generator would, mapped in C.
        values = list(vector.values())
        norm = math.sqrt(sum(map(mul, values, values)))
        if norm:
            vector = dict(zip(vector, map(truediv, values, repeat(norm)), strict=True))
        title = dict(features.title)
        title_counts = map(self.counts.get, weighing.title_terms, repeat(0))
        title.update(
            zip(
                weighing.title_terms,
                map(sub, repeat(total), map(math.log, map(add, weighing.title_seen, title_counts))),
                strict=True,
            )
        )
        # ``dataclasses.replace`` of these fields, built directly (it reads every field by
        # name in Python first).
        return ArticleFeatures(
            vector=vector,
            title=title,
            entities=features.entities,
            title_entities=features.title_entities,
            text=features.text,
            sketch=resketch(features.sketch, vector, weighing),
            weighing=None,  # of the weights before: not of these
        )


def counted_terms(features: ArticleFeatures) -> list[str]:
    """The terms an article adds to ``TermCounts``: its top features' and title's words."""
    if features.weighing is not None:
        return features.weighing.counted
    # Filtered in C: entity keys are the ones starting with "@".
    terms = dict.fromkeys(filterfalse(_is_entity_key, features.vector))
    terms.update(dict.fromkeys(filterfalse(_is_entity_key, features.title)))
    return list(terms)


_is_entity_key = methodcaller("startswith", "@")
