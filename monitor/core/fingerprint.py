"""Fingerprints of article text: an exact-content key and a containment sketch of shingles.

Near duplicates are found from *word shingles* (runs of ``shingle_words`` normalised tokens,
never stemmed). Each shingle is hashed to 64 bits (tokens with xxhash, shingles combined and
mixed with numpy, all vectorised). The sketch keeps the *bottom-k* hash values, where k grows
with the text: every hash below ``2**64 / sample_rate`` is kept, clipped to at least
``min_samples`` and at most a cap. Because a sketch is always "all hashes of the text below
a bound τ", two sketches can be compared on the range below the smaller bound, which
estimates not only Jaccard similarity but *containment*: a short wire copy inside a long
article that added analysis is recognised.

Why not MinHash-LSH or SimHash (measured with ``benchmarks/reprint_eval.py``): the seed wire
copies (000 in 004, cleaned) have a 3-shingle Jaccard of only 0.12 but a containment of
0.42, and a same-topic article (001) has 0.06 / 0.17. Reprints that trim and add text sit
at Jaccard 0.05-0.2, where LSH bands cannot prune candidates (r=1 rows would be needed) and
a whole-document SimHash is dominated by the added text. The sketch's index entries are the
samples themselves, so candidate generation and the containment estimate are one lookup.

Parameters (``benchmarks/reprint_eval.py``: 1,991 synthetic reprints and 5,000 hard negatives
from the 2013 stream): 2-word shingles give 3.6-18.6% false positives (shared phrases);
4-word shingles reach recall 0.992 at no false positive but estimate the seed wire copy at
0.25-0.29, under any safe threshold; 3-word shingles, one in 4 sampled, threshold 0.3, at
least 16 samples, 3 shared, lookups of up to 256 samples give recall 0.9915 at 0.04% false
positives (the ``Settings.fingerprint`` defaults). Capping lookups at 96 samples tripled the
false positives (the stored sketch's share in range must then be extrapolated).

Known limit: the stored sketch is capped at ``max_stored_samples`` (48: Redis memory), so a
short item inside a very long digest (2,000+ shingles) has too few comparable samples to be
recognised against the digest itself (it still is against the item's other copies).

>>> from monitor.core.arabic import normalize
>>> params = FingerprintParams(shingle_words=3, sample_rate=4, min_samples=4)
>>> text = normalize("قال الرئيس الروسي فلاديمير بوتين إن الزيارة مهمة للغاية للبلدين الجارين")
>>> a = fingerprint_text(text, params)
>>> b = fingerprint_text(text + " " + normalize("وأضاف أن الاتفاقية ستوقع غدا في العاصمة"), params)
>>> containment(a.samples, b.samples, b.bound)  # all of a is inside b
1.0
>>> a.shingles  # 11 words: 9 three-word shingles
9
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from monitor.core.arabic import tokens as word_tokens
from monitor.settings import FingerprintSettings

__all__ = [
    "Fingerprint",
    "FingerprintParams",
    "bound_of",
    "containment",
    "fingerprint_text",
    "fingerprint_tokens",
    "key_of",
    "shingle_hashes",
]

Hashes = npt.NDArray[np.uint64]

_MASK64 = (1 << 64) - 1
_SHINGLE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class FingerprintParams:
    """How texts are shingled and sampled (``Settings.fingerprint`` holds the defaults)."""

    shingle_words: int = 3
    sample_rate: int = 4
    min_samples: int = 16
    max_stored_samples: int = 48
    max_query_samples: int = 256

    @classmethod
    def from_settings(cls, settings: FingerprintSettings) -> FingerprintParams:
        return cls(
            shingle_words=settings.shingle_words,
            sample_rate=settings.sample_rate,
            min_samples=settings.min_samples,
            max_stored_samples=settings.max_stored_samples,
            max_query_samples=settings.max_query_samples,
        )


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the duplicate index needs to know about one text.

    ``samples`` are the sketch hashes in ascending order, as many as a lookup uses;
    the first ``stored`` of them are what the index keeps for later articles, so the stored
    sketch is "every shingle hash ``<= bound``".
    """

    samples: Hashes
    stored: int
    shingles: int
    content_key: int = 0
    locator_keys: tuple[int, ...] = field(default_factory=tuple)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its constructor's arguments: a frozen dataclass's default state is set
        back field by field through ``dataclasses.fields`` (the embedded pipeline's workers
        send one per article)."""
        return Fingerprint, (
            self.samples, self.stored, self.shingles, self.content_key, self.locator_keys
        )  # fmt: skip

    @property
    def bound(self) -> int:
        """Largest stored hash (the τ of the stored bottom-k sketch); 0 for empty text."""
        return int(self.samples[self.stored - 1]) if self.stored else 0

    @property
    def stored_samples(self) -> Hashes:
        return self.samples[: self.stored]


_SHIFT_30 = np.uint64(30)
_SHIFT_27 = np.uint64(27)
_SHIFT_31 = np.uint64(31)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(values: Hashes) -> Hashes:
    """The splitmix64 finaliser: a cheap full-avalanche mix of 64-bit values (in place)."""
    # In place: a text's few hundred values cost more in array allocations than in arithmetic.
    values ^= values >> _SHIFT_30
    values *= _MIX_1
    values ^= values >> _SHIFT_27
    values *= _MIX_2
    values ^= values >> _SHIFT_31
    return values


word_hash = xxhash.xxh3_64_intdigest
"""The 64-bit hash of one word, which shingles combine (``shingle_hashes``)."""


def shingle_hashes(
    words: Sequence[str], shingle_words: int = 3, word_hashes: Sequence[int] | None = None
) -> Hashes:
    """Distinct 64-bit hashes of the ``shingle_words``-word shingles of ``words``, sorted.
    ``word_hashes``: the ``word_hash`` of each of ``words``, when known.

    A text shorter than one shingle gives one hash of all its words.

    >>> shingle_hashes(["a", "b", "c", "d"], 3).size
    2
    >>> bool((shingle_hashes(["a", "b", "c"], 2) == shingle_hashes(["a", "b", "c"], 2)).all())
    True
    """
    if not words:
        return np.empty(0, dtype=np.uint64)
    token_hashes = np.fromiter(
        map(word_hash, words) if word_hashes is None else word_hashes,
        dtype=np.uint64,
        count=len(words),
    )
    width = min(shingle_words, len(words))
    count = len(words) - width + 1
    combined = token_hashes[:count].copy()
    with np.errstate(over="ignore"):
        for offset in range(1, width):
            combined *= _SHINGLE_MULTIPLIER
            combined ^= token_hashes[offset : offset + count]
        mixed = _splitmix64(combined)
    # Sorting and dropping repeats: a third of np.unique's time on a few hundred values.
    mixed.sort()
    if mixed.size > 1:
        distinct = mixed[1:] != mixed[:-1]
        if not distinct.all():
            mixed = mixed[np.concatenate(([True], distinct))]
    return mixed


def _sketch_sizes(hashes: Hashes, params: FingerprintParams) -> tuple[int, int]:
    """(query, stored) sample counts: the hashes below the sampling bound, clipped."""
    below = int(np.searchsorted(hashes, np.uint64(_MASK64 // params.sample_rate), side="right"))
    wanted = max(below, params.min_samples)
    query = min(hashes.size, params.max_query_samples, wanted)
    return query, min(query, params.max_stored_samples)


def key_of(*parts: str) -> int:
    """A 64-bit key for an exact identity (content hash, outlet+URL, ...).

    >>> key_of("u", "youm7", "https://x/1") == key_of("u", "youm7", "https://x/1")
    True
    """
    return xxhash.xxh3_64_intdigest("\x1f".join(parts))


def fingerprint_text(
    normalized: str,
    params: FingerprintParams | None = None,
    *,
    content_key: int | None = None,
    locators: Sequence[tuple[str, ...]] = (),
) -> Fingerprint:
    """Fingerprint of normalised text (``monitor.core.arabic.normalize`` output).

    ``content_key`` defaults to a hash of the text; ``locators`` (e.g. ``("u", outlet, url)``)
    become exact identity keys used to recognise revisions of the same page.
    """
    return fingerprint_tokens(
        word_tokens(normalized),
        params,
        content_key=key_of("c", normalized) if content_key is None else content_key,
        locators=locators,
    )


def fingerprint_tokens(
    words: Sequence[str],
    params: FingerprintParams | None = None,
    *,
    content_key: int,
    locators: Sequence[tuple[str, ...]] = (),
    word_hashes: Sequence[int] | None = None,
) -> Fingerprint:
    """``fingerprint_text`` of the text whose ``monitor.core.arabic.tokens`` are ``words``
    (for a caller that has them already; ``word_hashes``: their ``word_hash``, if known)."""
    params = params or FingerprintParams()
    hashes = shingle_hashes(words, params.shingle_words, word_hashes)
    query, stored = _sketch_sizes(hashes, params)
    return Fingerprint(
        samples=hashes[:query],
        stored=stored,
        shingles=int(hashes.size),
        content_key=content_key,
        locator_keys=tuple(key_of(*locator) for locator in locators),
    )


def bound_of(samples: Hashes, stored: int) -> int:
    return int(samples[stored - 1]) if stored else 0


def containment(inner: Hashes, outer_stored: Hashes, outer_bound: int) -> float:
    """Estimated share of ``inner``'s shingles that also occur in the ``outer`` text.

    Only hashes up to both sketches' bounds are comparable; returns 0.0 when none are.
    """
    bound = min(outer_bound, int(inner[-1])) if inner.size else 0
    comparable = inner[inner <= np.uint64(bound)]
    if comparable.size == 0:
        return 0.0
    shared = np.intersect1d(comparable, outer_stored, assume_unique=True).size
    return shared / comparable.size
