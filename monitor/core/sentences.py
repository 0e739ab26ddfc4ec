"""Sentence splitting for Arabic (and Latin-script) news text, on the original orthography.

Boundaries are newlines and ``. ! ? ؟`` followed by whitespace (closing quotes and brackets
stay with their sentence). Not boundaries:

* a dot inside a token: decimals (``3.5``), URLs, dotted abbreviations (``أ.ش.أ``, ``U.S.``);
* a dot after a one-letter token (initials: ``د.``, ``م.``, ``J.``) or a known abbreviation
  (``Dr.``, ``Mr.``, ``No.``, ``ش.م.م.``);
* runs of dots and ``…``: Arabic news uses ``..`` as a pause inside headlines and leads
  (``حفل غنائي على شرفه.. بينما``);
* ``؛`` and ``;``: Arabic writers use them inside a sentence before a reason or a clause;
* punctuation inside a quote that closes later on the same line (``قال: "لن نقبل. أبداً"``),
  so a sentence never starts with a lone closing quote.

>>> split_sentences('قال د. أحمد إن النمو بلغ 3.5 في المئة. وأضاف: "لن نتراجع. أبداً".\\nالقاهرة - أ.ش.أ')
['قال د. أحمد إن النمو بلغ 3.5 في المئة.', 'وأضاف: "لن نتراجع. أبداً".', 'القاهرة - أ.ش.أ']
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

_CANDIDATE = re.compile(r"[.!?؟…]+[\"'»”’)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "mt",
        "ft",
        "د",
        "م",
        "ص",
        "ق",
        "ه",
        "ج",
        "ش",
        "ت",
        "أ",
    ]
)
_LEADING_JUNK = "\"'«“‘([{-–—"
_QUOTE_PAIRS = (("«", "»"), ("“", "”"))
_QUOTE_LOOKAHEAD = 300
_HAS_WORD = re.compile(r"\w")


def _inside_open_quote(segment: str) -> bool:
    for opening, closing in _QUOTE_PAIRS:
        if segment.count(opening) > segment.count(closing):
            return True
    return segment.count('"') % 2 == 1


def _closes_later(rest: str) -> bool:
    window = rest[:_QUOTE_LOOKAHEAD]
    return any(mark in window for mark in ('"', "»", "”"))


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip(_LEADING_JUNK)
    if not word:
        return False
    if "." in word:  # أ.ش.أ  U.S  ش.م.م : a dotted abbreviation, its last dot included
        return all(part.isalpha() and len(part) <= 3 for part in word.split("."))
    return (len(word) == 1 and word.isalpha()) or word.lower() in _ABBREVIATIONS


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(line):
        punctuation = match.group().rstrip("\"'»”’)]")
        end = match.end()
        if punctuation.startswith("..") or "…" in punctuation:
            continue
        if punctuation == "." and _ends_in_abbreviation(line, match.start()):
            continue
        segment = line[start:end]
        if _inside_open_quote(segment) and _closes_later(line[end:]):
            continue
        pieces.append(segment)
        start = end
    pieces.append(line[start:])
    return pieces


def _ends_in_abbreviation(line: str, dot: int) -> bool:
    head = line[:dot].rstrip()  # "أ . ش . أ": the dot may stand apart from its letter
    return _is_abbreviation(head[head.rfind(" ") + 1 :])


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in its original spelling, stripped, without empty ones."""
    sentences: list[str] = []
    for line in text.splitlines():
        for piece in _split_line(line):
            piece = piece.strip()
            if piece and _HAS_WORD.search(piece):
                sentences.append(piece)
    return sentences
