"""Bounded memo tables for per-word answers that never change (term of a token, can it
start an entity, ...): each distinct word is worked out once, later lookups are C-level.

>>> lengths: dict[str, int] = {}
>>> remember(lengths, ["بوتين", "كيم", "بوتين"], len, limit=10)
>>> sorted(lengths.items())
[('بوتين', 5), ('كيم', 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["remember"]

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
