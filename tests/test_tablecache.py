"""Derived tables kept on disk: what is read back is what would be computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor import tablecache
from monitor.core import stories
from monitor.core.terms import document_frequencies
from monitor.tablecache import cached_arrays


def _counting(calls: list[int]) -> dict[str, np.ndarray]:
    calls.append(1)
    return {"a": np.array([3, 1, 2], dtype=np.uint32), "b": np.array([0.5, 0.25])}


def test_computed_once_then_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CACHE", str(tmp_path))
    calls: list[int] = []
    first = cached_arrays("t", b"key", lambda: _counting(calls))
    second = cached_arrays("t", b"key", lambda: _counting(calls))
    assert calls == [1]
    for name in ("a", "b"):
        assert second[name].dtype == first[name].dtype
        assert np.array_equal(second[name], first[name])
    cached_arrays("t", b"other key", lambda: _counting(calls))
    assert calls == [1, 1]  # another key: another table


def test_damaged_or_unwritable_cache_only_computes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_CACHE", str(tmp_path))
    calls: list[int] = []
    cached_arrays("t", b"key", lambda: _counting(calls))
    (stored,) = (tmp_path / "tables").iterdir()
    stored.write_bytes(b"not an npz")
    assert list(cached_arrays("t", b"key", lambda: _counting(calls))["a"]) == [3, 1, 2]
    assert calls == [1, 1]
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("MONITOR_CACHE", str(blocked))  # a file: no directory under it
    assert list(cached_arrays("t", b"key", lambda: _counting(calls))["a"]) == [3, 1, 2]


def test_gram_table_from_cache_is_the_computed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_CACHE", str(tmp_path))
    monkeypatch.setattr(stories, "_GRAM_IDF", None)
    computed = stories.gram_idf_table()
    assert list((tmp_path / "tables").iterdir())
    monkeypatch.setattr(stories, "_GRAM_IDF", None)
    monkeypatch.setattr(stories, "_gram_document_counts", lambda: pytest.fail("recomputed"))
    cached = stories.gram_idf_table()
    assert cached[0].dtype == computed[0].dtype == np.uint32
    assert np.array_equal(cached[0], computed[0])
    assert np.array_equal(cached[1], computed[1])  # the same IDF, bit for bit
    assert cached[2] == computed[2]
    assert tablecache.cache_dir() == tmp_path


def test_vocabulary_gram_keys_are_the_words_grams() -> None:
    # The keys of a bundled word's grams are its hashed grams, each with the code of its IDF.
    known, idf, _ = stories.gram_idf_table()
    _, idf_of_code, _ = stories._gram_codes()
    words, places, ends = stories._vocabulary_grams()
    vocabulary = list(document_frequencies()[1])
    assert list(words) == vocabulary
    every_key = np.frombuffer(places, dtype=stories._PLACE)  # kept as bytes, as in _GRAMS
    for word in vocabulary[:300] + vocabulary[-300:]:
        index = words[word]
        start = ends[index - 1] if index else 0
        keys = every_key[start : ends[index]]
        hashes = keys >> stories._CODE_BITS
        assert sorted(hashes.tolist()) == stories._gram_hashes(word)
        weights = idf_of_code[keys & stories._CODE_MASK]
        assert weights.tolist() == idf[np.searchsorted(known, hashes)].tolist()  # bit for bit
    # A sketch of such words is the sketch of the same words learnt from scratch.
    terms = vocabulary[1000:1040]
    sketch = stories.char_sketch(terms[:5], [terms[5:]])
    stories._GRAMS.clear()
    stories._VOCABULARY_GRAMS = ({}, places, ends)
    try:
        assert list(stories.char_sketch(terms[:5], [terms[5:]]).items()) == list(sketch.items())
    finally:
        stories._GRAMS.clear()
        stories._VOCABULARY_GRAMS = (words, places, ends)
