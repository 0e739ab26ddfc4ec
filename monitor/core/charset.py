"""Text whose declared charset is wrong: find the real one and decode again.

Arabic sites often serve windows-1256 or ISO-8859-6 while the HTTP header or the XML/HTML
declaration says UTF-8. Two things then go wrong, and each has its repair here:

- The bytes are not UTF-8 at all, and a lenient decoder falls back to windows-1252 (feedparser)
  or to replacement characters (a page). ``decode_declared`` tries the declared charsets
  strictly and, when none fits, asks charset-normalizer (a well-kept detector) what the bytes
  are.
- The text was decoded with the wrong single-byte charset somewhere upstream and is now
  Latin mojibake («ÃÚáäÊ æÒÇÑÉ ÇáÕÍÉ» for «أعلنت وزارة الصحة»), possibly re-encoded as valid
  UTF-8. ``find_mojibake`` recognises it (most letters in the Latin-1 range, none Arabic),
  takes it back to bytes through windows-1252 or Latin-1 and finds the charset those bytes
  really are in (windows-1256, ISO-8859-6 or UTF-8); ``MojibakeRepair.apply`` redoes it.

Pure functions, no I/O.

>>> repair = find_mojibake("ÃÚáäÊ æÒÇÑÉ ÇáÕÍÉ Úä ÇÑÊÝÇÚ ÚÏÏ ÇáÅÕÇÈÇÊ")
>>> repair.apply("ÃÚáäÊ æÒÇÑÉ ÇáÕÍÉ"), repair.charset
('أعلنت وزارة الصحة', 'cp1256')
>>> find_mojibake("Le ministère de la Santé a annoncé") is None
True
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Decoded",
    "MojibakeRepair",
    "decode_declared",
    "find_mojibake",
    "header_charset",
    "meta_charset",
]

ARABIC_CHARSETS = ("utf_8", "cp1256", "iso8859_6")
"""What Latin mojibake of an Arabic text was, before it was misread."""
_MISREAD_AS = ("cp1252", "latin_1")
"""The charsets a misreading decoder used: windows-1252 first (what browsers and feedparser
fall back to), then Latin-1 (which maps every byte, so the bytes come back whole)."""

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_UNICODE_CODECS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"})
_LATIN1_LETTER = re.compile("[\u00c0-\u00ff]")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_SAMPLE = 4000
_MIN_MISREAD_SHARE = 0.3
"""Latin-1-range letters among letters above which a text is suspected mojibake: French,
Portuguese or Turkish text stays well under it (a few accents per word at most)."""
_MAX_DAMAGE_SHARE = 0.01
"""Replacement characters (of all characters) up to which bytes are damaged text in the
declared charset rather than text in another charset (where most non-ASCII bytes fail)."""
_MIN_ARABIC_SHARE = 0.6
"""Arabic letters among the letters of the repaired text needed to accept a repair."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    charset: str
    """The charset (Python codec name) the text was decoded with."""
    misdeclared: bool = False
    """No declared charset fitted the bytes: ``charset`` was detected."""
    damaged: bool = False
    """The declared charset fitted all but a few bytes, replaced by U+FFFD."""


def decode_declared(body: bytes, declared: Sequence[str | None]) -> Decoded:
    """``body`` as text: as UTF-8 when it is valid UTF-8 whatever a single-byte declaration
    says; else with the first declared charset it strictly decodes in (UTF-8 when none is
    declared); else, when the first declared charset fits all but a few bytes
    (damage, not a wrong declaration), with it and replacement characters; else with the
    charset charset-normalizer detects; else as UTF-8 with replacement characters.

    >>> decode_declared("أعلنت وزارة الصحة عن ارتفاع العدد".encode("cp1256"), ["utf-8"])
    Decoded(text='أعلنت وزارة الصحة عن ارتفاع العدد', charset='cp1256', misdeclared=True, damaged=False)
    >>> decode_declared(("خبر عاجل " * 20).encode() + b"\\xff", ["utf-8"]).damaged
    True
    """
    names = [name for name in declared if name and _known(name)] or ["utf_8"]
    if codecs.lookup(names[0]).name not in _UNICODE_CODECS and not body.isascii():
        # Valid UTF-8 with non-ASCII bytes is UTF-8: text in a single-byte charset (Arabic
        # windows-1256 above all) practically never is, while UTF-8 read as windows-1256 is
        # Arabic-looking gibberish («ط§ظ„») that would pass every later check.
        try:
            return Decoded(body.decode("utf_8"), "utf-8", misdeclared=True)
        except UnicodeDecodeError:
            pass
    for name in names:
        try:
            return Decoded(body.decode(name), codecs.lookup(name).name)
        except UnicodeDecodeError:
            continue
    first = codecs.lookup(names[0]).name
    lenient = body.decode(first, errors="replace")
    if lenient.count("\ufffd") <= _MAX_DAMAGE_SHARE * len(lenient):
        return Decoded(lenient, first, damaged=True)
    from charset_normalizer import from_bytes  # imported on the rare path only

    best = from_bytes(body).best()
    if best is not None:
        return Decoded(str(best), codecs.lookup(best.encoding).name, misdeclared=True)
    return Decoded(body.decode("utf_8", errors="replace"), "utf_8", misdeclared=True)


@dataclass(frozen=True, slots=True)
class MojibakeRepair:
    """How a text was misread: encoded back with ``misread_as``, decoded with ``charset``."""

    misread_as: str
    charset: str

    def apply(self, text: str) -> str:
        """``text`` decoded again; unchanged if it cannot be (another part of the article)."""
        try:
            return text.encode(self.misread_as).decode(self.charset)
        except (UnicodeEncodeError, UnicodeDecodeError):
            return text


def find_mojibake(text: str) -> MojibakeRepair | None:
    """The repair of ``text`` if it is Arabic misread as Latin (see the module docstring),
    else None. Cheap on Arabic or ASCII text: one search for a Latin-1-range letter."""
    sample = text[:_SAMPLE]
    if not _LATIN1_LETTER.search(sample) or _ARABIC_LETTER.search(sample):
        return None
    letters = sum(char.isalpha() for char in sample)
    misread = len(_LATIN1_LETTER.findall(sample))
    if misread < _MIN_MISREAD_SHARE * letters:
        return None
    from charset_normalizer import from_bytes  # imported on the rare path only

    for misread_as in _MISREAD_AS:
        try:
            raw = sample.encode(misread_as)
        except UnicodeEncodeError:
            continue
        best = from_bytes(raw, cp_isolation=list(ARABIC_CHARSETS)).best()
        if best is None:
            continue
        repaired = str(best)
        arabic = len(_ARABIC_LETTER.findall(repaired))
        if arabic >= _MIN_ARABIC_SHARE * sum(char.isalpha() for char in repaired):
            return MojibakeRepair(misread_as, codecs.lookup(best.encoding).name)
    return None


def header_charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, if any.

    >>> header_charset('text/xml; charset="windows-1256"')
    'windows-1256'
    """
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def meta_charset(page: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` of its first 4 KB, if any.

    >>> meta_charset(b'<html><head><meta charset="windows-1256">')
    'windows-1256'
    """
    match = _META_CHARSET.search(page[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
