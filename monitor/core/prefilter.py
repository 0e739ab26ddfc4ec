"""A quick test before a slow regular expression: the literal words it cannot match without.

Python's ``re`` tries every alternative of a pattern at every position of the text; a
pattern of a dozen set phrases, each behind a look-behind (``(?<!\\S)\\S{0,2}ضبط\\s+...``),
costs tens of microseconds per sentence, though few sentences hold any of its key words.
``necessary_words(pattern)`` reads the pattern (its parse tree, when the module is
imported: edits of the pattern take effect as they are) for literal strings one of which
every match contains, and ``Prefiltered`` searches the text for those first (a scan of
plain alternatives of literals, which ``re`` runs at C speed) and runs the pattern itself
only when one is there. The answers are the pattern's own.

>>> import re
>>> pattern = re.compile(r"(?<!\\S)\\S{0,2}ضبط\\s+(?:النفس|الأسعار)|(?:عند|سعر)\\s+(?:الإغلاق|الاغلاق)")
>>> sorted(necessary_words(pattern))
['إغلاق', 'اغلاق', 'ضبط']
>>> quick = Prefiltered(pattern)
>>> quick.search("دعا إلى ضبط النفس") is not None, quick.search("وصل الوفد") is None
(True, True)
>>> quick.sub(" ", "سعر الإغلاق اليوم")
'  اليوم'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as constants  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

__all__ = ["Prefiltered", "alternatives_needs", "necessary_words"]

_REPEATS = {
    constants.MAX_REPEAT,
    constants.MIN_REPEAT,
    getattr(constants, "POSSESSIVE_REPEAT", None),
}


def necessary_words(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Non-empty literal strings such that any match of ``pattern`` contains one of them, or
    ``None`` when the pattern does not say (a case-blind pattern, a bare ``\\w+``)."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE) or not isinstance(pattern.pattern, str):
        return None
    try:
        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # an unknown parse tree: no shortcut
        return None
    return _of_sequence(list(tree))


def _of_sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """Of a sequence of parse items every one of which a match goes through: the most telling
    (longest shortest word) of the word sets its items need."""
    found = _needs(items)
    if not found:
        return None
    return max(found, key=lambda words: (min(map(len, words)), -len(words)))


def _needs(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """The word sets a match of a sequence of parse items needs a word of, each."""
    found: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            found.append(frozenset(["".join(run)]))
            run = []
        needed = _of_item(op, av)
        if needed is not None:
            found.append(needed)
    return found


def alternatives_needs(pattern: re.Pattern[str]) -> list[list[frozenset[str]]] | None:
    """Per alternative of ``pattern`` (the whole, unless it is ``a|b|...``), the word sets a
    match of it needs a word of, each; ``None`` when some alternative needs none."""
    if necessary_words(pattern) is None:
        return None
    tree = list(parser.parse(pattern.pattern, pattern.flags))
    branches = tree[0][1][1] if len(tree) == 1 and tree[0][0] is constants.BRANCH else [tree]
    needs = [_needs(list(branch)) for branch in branches]
    return needs if all(needs) else None


def _of_item(op: Any, av: Any) -> frozenset[str] | None:
    if op is constants.SUBPATTERN:
        _group, add_flags, _del_flags, sequence = av
        if add_flags & (re.IGNORECASE | re.VERBOSE):
            return None
        return _of_sequence(list(sequence))
    if op is constants.BRANCH:
        return _union(_of_sequence(list(branch)) for branch in av[1])
    if op in _REPEATS:
        low, _high, sequence = av
        return _of_sequence(list(sequence)) if low >= 1 else None
    if op is constants.IN and av and all(kind is constants.LITERAL for kind, _ in av):
        return frozenset(chr(code) for _, code in av)
    return None  # a look-around, a class, a back-reference, ...: nothing to rely on


def _union(sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    words: set[str] = set()
    for found in sets:
        if found is None:
            return None  # a branch that needs no word: the whole needs none
        words |= found
    return frozenset(words)


class Prefiltered:
    """``pattern``'s ``search`` and ``sub``, answered at once for a text without any of its
    ``necessary_words``."""

    __slots__ = ("_alternatives", "_hint", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        words = necessary_words(pattern)
        # Longest first: an alternative of literals is tried in order (only found or not
        # matters here, which any order answers alike).
        self._hint = (
            re.compile("|".join(map(re.escape, sorted(words, key=lambda w: (-len(w), w)))))
            if words
            else None
        )
        self._alternatives = alternatives_needs(pattern)

    def possible(self, text: str) -> bool:
        """False when ``pattern`` cannot match anywhere in ``text``."""
        if self._hint is None:
            return True
        if self._hint.search(text) is None:
            return False
        # Then alternative by alternative: a word of each set it needs (substring tests).
        return self._alternatives is None or any(
            all(any(word in text for word in words) for words in needs)
            for needs in self._alternatives
        )

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.possible(text) else None

    def sub(self, replacement: str, text: str) -> str:
        return self.pattern.sub(replacement, text) if self.possible(text) else text
