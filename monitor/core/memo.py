"""Bounded memo tables for per-word answers that never change (term of a token, can it
start an entity, ...): each distinct word is worked out once, later lookups are C-level.

>>> lengths: dict[str, int] = {}
>>> remember(lengths, ["بوتين", "كيم", "بوتين"], len, limit=10)
>>> sorted(lengths.items())
[('بوتين', 5), ('كيم', 3)]
>>> recall(lengths, "كوريا", len, limit=10), len(lengths)
(5, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["recall", "remember"]

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], keys: Sequence[K], compute: Callable[[K], V], limit: int) -> None:
    """Add ``compute(key)`` for each of ``keys`` not in ``memo`` yet. A memo that would grow
    past ``limit`` entries is emptied first (then holds only ``keys``), so memory stays bounded
    on an endless stream of new words."""
    unseen = set(keys).difference(memo)  # probes the dict per key, never walks it
    if not unseen:
        return
    if len(memo) + len(unseen) > limit:
        memo.clear()
        unseen = set(keys)
    for key in unseen:
        memo[key] = compute(key)


def recall(memo: dict[K, V], key: K, compute: Callable[[K], V], limit: int) -> V:
    """``memo[key]``, computed and added first when missing: ``remember`` for one key, without
    building a set of one (a memo that is full is emptied first, as there)."""
    try:
        return memo[key]
    except KeyError:
        pass
    if len(memo) >= limit:
        memo.clear()
    value = memo[key] = compute(key)
    return value
