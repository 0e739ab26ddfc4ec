"""Bounded memo tables: each key worked out once, memory bounded on a stream of new keys."""

from __future__ import annotations

from monitor.core.memo import remember


def test_each_key_is_computed_once() -> None:
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    memo: dict[str, int] = {}
    remember(memo, ["ab", "abc", "ab"], compute, limit=10)
    remember(memo, ["abc", "abcd"], compute, limit=10)
    assert sorted(calls) == ["ab", "abc", "abcd"]
    assert memo == {"ab": 2, "abc": 3, "abcd": 4}


def test_a_memo_that_would_outgrow_its_limit_starts_again_with_the_keys_asked() -> None:
    memo = {"old1": 1, "old2": 2}
    remember(memo, ["new", "old1"], len, limit=2)
    assert memo == {"new": 3, "old1": 4}
