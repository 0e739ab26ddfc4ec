"""Fingerprints: shingle hashing, bottom-k sketches and containment estimates."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.arabic import normalize
from monitor.core.fingerprint import (
    FingerprintParams,
    containment,
    fingerprint_text,
    key_of,
    shingle_hashes,
    word_hash,
)

WORDS = st.lists(
    st.sampled_from([f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(40)]),
    min_size=0,
    max_size=300,
)
BODY = (
    "وصف المستشار الدبلوماسي للرئيس الروسي زيارة بوتين بأنها لحظة مهمة للبلدين الخاضعين "
    "لعقوبات غربية معربا عن أمله في توقيع اتفاقية شراكة استراتيجية وذكر أنه سيتم التوقيع على "
    "وثائق مهمة للغاية تشير إلى إمكانية إبرام اتفاقية شراكة استراتيجية شاملة بين البلدين "
    "وتوقع أن يتم اتخاذ القرار النهائي بشأن توقيعها خلال الساعات المقبلة في العاصمة"
)
OTHER = (
    "أعلنت وزارة المالية المصرية اليوم عن طرح أذون خزانة جديدة بقيمة خمسة مليارات جنيه "
    "لتمويل عجز الموازنة العامة للدولة وقال مسؤول في الوزارة إن الطرح يأتي في إطار خطة "
    "الحكومة لخفض تكلفة الدين العام خلال العام المالي المقبل وسط توقعات بتراجع الفائدة"
)


@given(WORDS, st.integers(min_value=1, max_value=5))
def test_shingle_hashes_are_sorted_distinct_and_one_per_distinct_shingle(
    words: list[str], width: int
) -> None:
    hashes = shingle_hashes(words, width)
    assert hashes.dtype == np.uint64
    assert (np.diff(hashes.astype(np.float64)) > 0).all()
    if not words:
        assert hashes.size == 0
        return
    effective = min(width, len(words))
    distinct = {tuple(words[i : i + effective]) for i in range(len(words) - effective + 1)}
    assert hashes.size == len(distinct)


@given(WORDS, st.integers(min_value=1, max_value=5))
def test_shingle_hashes_of_known_word_hashes_are_the_same(words: list[str], width: int) -> None:
    """A prep worker hands ``shingle_hashes`` the words' hashes from their word facts
    (``entities.word_facts``): the same shingles as hashing each word there."""
    from monitor.core.entities import word_facts

    given_hashes = [fact[5] for fact in word_facts(words)]
    assert given_hashes == [word_hash(word) for word in words]
    assert (
        shingle_hashes(words, width, given_hashes).tolist() == shingle_hashes(words, width).tolist()
    )


def test_shingles_depend_on_word_order_not_only_on_words() -> None:
    assert set(shingle_hashes(["a", "b", "c"]).tolist()) != set(
        shingle_hashes(["c", "b", "a"]).tolist()
    )


@settings(max_examples=50)
@given(WORDS, st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=60))
def test_stored_sketch_is_every_hash_up_to_its_bound(words: list[str], rate: int, cap: int) -> None:
    params = FingerprintParams(sample_rate=rate, min_samples=3, max_stored_samples=cap)
    fingerprint = fingerprint_text(" ".join(words), params)
    hashes = shingle_hashes(words, params.shingle_words)
    assert fingerprint.shingles == hashes.size
    assert fingerprint.stored <= fingerprint.samples.size <= params.max_query_samples
    assert fingerprint.stored <= cap
    if fingerprint.stored:
        expected = hashes[hashes <= np.uint64(fingerprint.bound)]
        assert (fingerprint.stored_samples == expected).all()
    # short texts still get a sketch
    assert fingerprint.stored >= min(hashes.size, params.min_samples, cap)


def test_sample_rate_sets_the_sketch_size_of_long_texts() -> None:
    words = [f"w{i:04d}".translate(str.maketrans("0123456789", "abcdefghij")) for i in range(4000)]
    fingerprint = fingerprint_text(
        " ".join(words), FingerprintParams(sample_rate=8, max_query_samples=96)
    )
    assert fingerprint.stored == 48  # capped
    assert 400 < fingerprint.shingles / 8 < 600
    assert fingerprint.samples.size == 96  # lookups capped too


def test_spelling_variants_give_the_same_fingerprint_after_normalisation() -> None:
    variant = BODY.replace("ة", "ه").replace("أ", "ا").replace("إ", "ا") + " ١٩"
    original = fingerprint_text(normalize(BODY + " 19"))
    changed = fingerprint_text(normalize(variant))
    assert (original.samples == changed.samples).all()
    assert original.content_key == changed.content_key


def test_containment_recognises_a_short_copy_inside_a_long_article() -> None:
    params = FingerprintParams(sample_rate=2)
    short = fingerprint_text(normalize(BODY), params)
    long = fingerprint_text(normalize(OTHER + " " + BODY + " " + OTHER[::-1]), params)
    unrelated = fingerprint_text(normalize(OTHER), params)
    assert containment(short.samples, long.stored_samples, long.bound) >= 0.9
    assert containment(short.samples, unrelated.stored_samples, unrelated.bound) == 0.0
    # the long article is mostly not inside the short one
    assert containment(long.samples, short.stored_samples, short.bound) < 0.7


def test_fingerprint_round_trips_through_pickle() -> None:
    # The prep workers send fingerprints to the deciding process pickled.
    fingerprint = fingerprint_text(normalize(BODY), content_key=7, locators=[("wire", "a1")])
    back = pickle.loads(pickle.dumps(fingerprint, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.samples.dtype == fingerprint.samples.dtype
    assert back.samples.tolist() == fingerprint.samples.tolist()
    assert (back.stored, back.shingles, back.content_key, back.locator_keys) == (
        fingerprint.stored,
        fingerprint.shingles,
        fingerprint.content_key,
        fingerprint.locator_keys,
    )
    assert back.locator_keys


def test_empty_text_has_an_empty_sketch() -> None:
    fingerprint = fingerprint_text("")
    assert fingerprint.stored == 0 and fingerprint.samples.size == 0 and fingerprint.bound == 0
    assert containment(fingerprint.samples, fingerprint.samples, 0) == 0.0


def test_keys_separate_their_parts() -> None:
    assert key_of("u", "ab", "c") != key_of("u", "a", "bc")
    assert fingerprint_text("x", locators=[("u", "o", "https://a")]).locator_keys == (
        key_of("u", "o", "https://a"),
    )
