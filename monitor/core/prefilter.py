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
from collections.abc import Callable, Iterable
from itertools import chain, compress
from re import _constants as constants  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "AnyBranch",
    "Prefiltered",
    "alternatives_needs",
    "branch_sources",
    "necessary_words",
    "words_pattern",
]

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
    ``necessary_words``, and otherwise by a pattern of only the alternatives the text holds
    the words of.

    A pattern ``a|b|...`` tries its alternatives in order at each position; one that cannot
    match anywhere in the text (it lacks a word every match of it contains) never wins
    anywhere, so the pattern of the other alternatives, in their order, finds the same
    matches (``search``, and ``sub``, which reads only the original text). For a sentence
    holding the key words of one or two of a dozen set phrases, that pattern tries one or
    two alternatives at each position instead of all (built once per such choice).
    """

    __slots__ = (
        "_alternatives",
        "_branches",
        "_candidates",
        "_hint",
        "_hint_search",
        "_narrowed",
        "pattern",
    )

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        words = necessary_words(pattern)
        # Without the words that hold another (found only where that one is); looked for by
        # one pattern when they are many (``words_pattern``), else by substring tests.
        self._hint = _fewest(words) if words else None
        self._hint_search = _search_of(words_pattern(self._hint or ()))
        needs = alternatives_needs(pattern)
        self._alternatives = (
            None if needs is None else tuple(tuple(map(_fewest, need)) for need in needs)
        )
        # The alternatives' sources, when they can be searched alone (no groups, no flags
        # of their own) and are the alternatives the needs were read of.
        sources = branch_sources(pattern) if self._alternatives is not None else None
        if sources is not None and len(sources) != len(self._alternatives or ()):
            sources = None
        self._branches = sources
        self._narrowed: dict[tuple[int, ...], re.Pattern[str] | None] = {}
        # Key word -> the alternatives that may match where it is: those needing a word of
        # a set of theirs that holds it (a word left out of the key words holds one kept).
        self._candidates: dict[str, tuple[int, ...]] = {}
        if self._hint is not None and needs is not None:
            for word in self._hint:
                self._candidates[word] = tuple(
                    index
                    for index, need in enumerate(needs)
                    if any(word in held for words in need for held in words)
                )

    def _holds_a_key_word(self, text: str) -> bool:
        if self._hint_search is None:
            return any(map(text.__contains__, self._hint or ()))
        return self._hint_search(text) is not None

    def possible(self, text: str) -> bool:
        """False when ``pattern`` cannot match anywhere in ``text``."""
        return self.narrowed(text) is not None

    def narrowed(self, text: str) -> re.Pattern[str] | None:
        """A pattern with ``pattern``'s matches in ``text`` (``None``: it has none)."""
        if self._hint is None:
            return self.pattern
        if not self._holds_a_key_word(text):
            return None
        if self._alternatives is None:
            return self.pattern
        contains = text.__contains__
        present = compress(self._hint, map(contains, self._hint))
        # Only the alternatives a key word present may belong to are checked in full.
        candidates = self._candidates
        alternatives = self._alternatives
        kept = tuple(
            index
            for index in sorted(set(chain.from_iterable(map(candidates.__getitem__, present))))
            if all(any(map(contains, words)) for words in alternatives[index])
        )
        if self._branches is None:
            return self.pattern if kept else None
        try:
            return self._narrowed[kept]
        except KeyError:
            pass
        if len(self._narrowed) >= _MAX_NARROWED:
            self._narrowed.clear()
        found = (
            re.compile("|".join(self._branches[index] for index in kept), self.pattern.flags)
            if kept
            else None
        )
        self._narrowed[kept] = found
        return found

    def search(self, text: str) -> re.Match[str] | None:
        pattern = self.narrowed(text)
        return None if pattern is None else pattern.search(text)

    def sub(self, replacement: str, text: str) -> str:
        pattern = self.narrowed(text)
        return text if pattern is None else pattern.sub(replacement, text)


_MAX_NARROWED = 1024
"""Narrowed patterns a ``Prefiltered`` keeps (one per choice of alternatives seen)."""


_MAX_WORDS = 512
"""Most plain words a branch is read as (``_words_of``); a branch of more is searched."""


class AnyBranch:
    """Whether ``pattern`` matches anywhere in a text (``found``), branch by branch.

    A pattern ``a|b|...`` matches somewhere when one of its branches does. A branch that is
    only a choice of plain words (``(?:طالب|دعا|خط[ةط]|...)``) matches where one of them is a
    substring: tested by ``str.__contains__`` mapped in C, several times quicker than ``re``,
    which tries every branch at every position of the text. The other branches are searched
    as patterns of their own (each then tries only its own alternatives). The branches are
    read from the pattern when this is built (so edits of the pattern take effect as they
    are); a pattern that cannot be split for sure (``branch_sources``) is searched whole.
    """

    __slots__ = ("_others", "_word_search", "_words", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        words: list[str] = []
        others: list[re.Pattern[str]] = []
        sources = branch_sources(pattern)
        if sources is None:  # searched whole
            sources, others = [], [pattern]
        for source in sources:
            found = _words_of(source, pattern.flags)
            if found is None:
                others.append(re.compile(source, pattern.flags))
            else:
                words += found
        self._words = _fewest(words)
        self._word_search = _search_of(words_pattern(self._words))
        self._others = tuple(others)

    def found(self, text: str) -> bool:
        """``self.pattern.search(text) is not None``."""
        if self._word_search is None:
            if any(map(text.__contains__, self._words)):
                return True
        elif self._word_search(text) is not None:
            return True
        return any(other.search(text) is not None for other in self._others)


_TRIE_MIN_WORDS = 8
"""Fewer words than this are tested one by one (a pattern's call costs as much)."""


def words_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern found in a text exactly where one of ``words`` (none empty) is a substring,
    when they are many (``None`` for fewer than ``_TRIE_MIN_WORDS``: test them one by one).

    ``pattern.search(text) is not None`` is ``any(map(text.__contains__, words))`` by one
    search of a pattern shaped as the words' trie (``(?:ط(?:الب|لب)|د(?:عا|عت))``): ``re``
    skips the positions whose letter starts no word and at each other one follows a single
    branch, where the substring tests scan the text once per word (a quarter to a half
    quicker for 40-70 words on the stream's sentences)."""
    unique = tuple(dict.fromkeys(words))
    if len(unique) < _TRIE_MIN_WORDS or "" in unique:
        return None
    return re.compile(_trie_source(unique))


def _search_of(pattern: re.Pattern[str] | None) -> Callable[[str], re.Match[str] | None] | None:
    return None if pattern is None else pattern.search


def _trie_source(words: Iterable[str]) -> str:
    """A pattern that matches where one of ``words`` (none empty) starts: their trie, a word
    that starts another ending in an optional group."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def source(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + source(child) for char, child in node.items() if char]
        if not branches:
            return ""
        joined = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{joined})?" if "" in node else joined

    return source(trie)


def _fewest(words: Iterable[str]) -> tuple[str, ...]:
    """``words`` less those that hold another (found only where that one is), in order; one
    of them is a substring of a text exactly when one of ``words`` is."""
    unique = list(dict.fromkeys(words))
    return tuple(w for w in unique if not any(v != w and v in w for v in unique))


def branch_sources(pattern: re.Pattern[str]) -> list[str] | None:
    """The source of each top-level branch of ``pattern`` (``a|b`` -> ``["a", "b"]``), or
    ``None`` when it cannot be split for sure: flags that change how the source reads, groups
    (a branch alone would number them otherwise), or a piece that is no pattern alone."""
    source = pattern.pattern
    if (
        not isinstance(source, str)
        or pattern.flags & (re.VERBOSE | re.IGNORECASE | re.MULTILINE | re.DOTALL | re.ASCII)
        or pattern.groups
        or "(?#" in source  # a comment may hold any character
    ):
        return None
    pieces: list[str] = []
    depth, start, index, in_class = 0, 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += source.startswith("^", index + 1)  # [^]...] and []...]: ] is a member
            index += source.startswith("]", index + 1)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            pieces.append(source[start:index])
            start = index + 1
        index += 1
    pieces.append(source[start:])
    try:
        # A split inside a class or a group leaves a piece that does not compile; a piece
        # with a flag of its own ((?i) at its start) could change the others: refused.
        if any(re.compile(piece).groups or _GLOBAL_FLAGS.match(piece) for piece in pieces):
            return None
    except re.error:
        return None
    return pieces


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")
"""Inline flags for the whole pattern (``(?i)``), at a piece's start."""


def _words_of(source: str, flags: int) -> list[str] | None:
    """The plain words a pattern matches, when it matches exactly those (a choice of
    literals: ``(?:دعا|دعت)``, ``خط[ةط]``), at most ``_MAX_WORDS``; else ``None``."""
    try:
        tree = parser.parse(source, flags)
    except Exception:  # an unknown parse tree: searched as a pattern
        return None
    return _expand(list(tree))


def _expand(items: list[tuple[Any, Any]]) -> list[str] | None:
    words = [""]
    for op, av in items:
        if op is constants.LITERAL:
            tails = [chr(av)]
        elif op is constants.IN and av and all(kind is constants.LITERAL for kind, _ in av):
            tails = [chr(code) for _, code in av]
        elif op is constants.SUBPATTERN and not av[1] and not av[2]:
            found = _expand(list(av[3]))
            if found is None:
                return None
            tails = found
        elif op is constants.BRANCH:
            tails = []
            for branch in av[1]:
                found = _expand(list(branch))
                if found is None:
                    return None
                tails += found
        else:
            return None
        words = [word + tail for word in words for tail in tails]
        if len(words) > _MAX_WORDS:
            return None
    return words
