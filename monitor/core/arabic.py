"""Arabic text normalisation for matching, tokenisation and a light language detector.

``normalize`` folds the spelling variation that Arabic news outlets show for the same words,
so that fingerprints and story similarity compare words, not keyboards:

* Unicode NFKC (presentation forms such as ``ﻻ`` become ``لا``; NBSP becomes a space).
* Tashkeel (U+064B–U+065F), superscript alef (U+0670), Quranic marks (U+0610–U+061A,
  U+06D6–U+06ED) and tatweel (U+0640) are removed.
* Alef forms ``أ إ آ ٱ ٲ ٳ`` become ``ا``.
* Hamza on a carrier, ``ؤ`` and ``ئ``, becomes the bare hamza ``ء`` (which is kept). This
  unifies the two spellings Egyptian and Gulf outlets use for the same word: ``مسئول`` and
  ``مسؤول`` (1,464 vs 658 occurrences in the 2013 Egyptian stream), ``شئون``/``شؤون``. Mapping
  ``ؤ→و`` and ``ئ→ي`` instead would keep them apart (``مسيول`` vs ``مسوول``).
* ``ى→ي`` and ``ة→ه`` (final-letter variation, extremely common in Egyptian typing).
* Persian/Urdu/Kurdish letters that Arabic pages contain as variant spellings (keyboard
  layouts, transliterated names): ``ک→ك``, ``ی ې→ي``, ``ۀ ە ہ ھ ۃ→ه``, ``گ→ك``, ``پ→ب``,
  ``چ→ج``, ``ڤ→ف``, ``ژ→ز``.
* Arabic-Indic ``٠-٩`` and Persian ``۰-۹`` digits become ASCII; ``٫`` (decimal separator)
  becomes ``.``; ``٬`` and ``،`` become ``,``; ``؛`` becomes ``;``; ``؟`` becomes ``?``;
  ``٪`` becomes ``%``.
* Zero-width characters, bidi controls and the soft hyphen are removed.
* Latin is lower-cased; every whitespace run becomes one space; the ends are stripped.
* ``أبو`` before a name is joined to it (``أبو إسلام`` and ``أبوإسلام`` are ``ابواسلام``).

It is idempotent (``normalize(normalize(x)) == normalize(x)``) and runs as NFKC + a
``str.replace`` per common folded letter + one regex substitution of the other characters
that change + a whitespace split, since it is on the hot path of the clean stage.

>>> normalize("أعلنَ   المسؤولُ، في ٢٠٢٤")
'اعلن المسءول, في 2024'
>>> normalize("مسئولية") == normalize("مسؤولية")
True
>>> normalize("نجل أبو إسلام") == normalize("نجل أبوإسلام") == "نجل ابواسلام"
True
>>> tokens(normalize("بوتين يزور كوريا في 19.6 (Reuters)"))
['بوتين', 'يزور', 'كوريا', 'في', '19.6', 'reuters']
>>> detect_language("وصل الرئيس الروسي إلى بيونغ يانغ")
'ar'
>>> detect_language("The president arrived in Pyongyang on Tuesday.")
'en'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = [
    "CONTROL_CHARS",
    "ENGLISH_STOPWORDS",
    "arabic_share",
    "char_counts",
    "detect_language",
    "normalize",
    "tokens",
]


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    removed: Iterable[int] = [
        *range(0x0610, 0x061B),  # honorific / Quranic signs above letters
        *range(0x064B, 0x0660),  # tashkeel and other combining marks (incl. madda, hamza above)
        0x0670,  # superscript alef
        *range(0x06D6, 0x06EE),  # Quranic annotation marks
        0x0640,  # tatweel
        0x00AD,  # soft hyphen
        *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # BOM / zero-width no-break space
        0x061C,  # Arabic letter mark
    ]
    for code in removed:
        table[code] = None
    letters = {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ؤ": "ء", "ئ": "ء",
        "ى": "ي", "ی": "ي", "ې": "ي",
        "ة": "ه", "ۀ": "ه", "ە": "ه", "ہ": "ه", "ھ": "ه", "ۃ": "ه",
        "ک": "ك", "گ": "ك",
        "پ": "ب", "چ": "ج", "ڤ": "ف", "ژ": "ز",
        "،": ",", "٬": ",", "؛": ";", "؟": "?", "٪": "%", "٫": ".",
    }  # fmt: skip
    for source, target in letters.items():
        table[ord(source)] = target
    for offset in range(10):
        table[0x0660 + offset] = str(offset)
        table[0x06F0 + offset] = str(offset)
    return table


_TABLE = _build_table()
# The table applied through a regex: only the characters that change cost a (Python-level)
# replacement, which is twice as fast as str.translate's per-character lookup on Arabic text.
_FOLDED_CHARS = {chr(code): target or "" for code, target in _TABLE.items()}
_FOLDABLE = re.compile("[" + re.escape("".join(_FOLDED_CHARS)) + "]")


def _fold_char(match: re.Match[str]) -> str:
    return _FOLDED_CHARS[match.group()]


# The eight commonest of them (97% of the replacements in the 2013 stream) are replaced by
# str.replace, a C pass each, leaving few Python callbacks for the regex. Every target is
# outside the table, so the order of the replacements does not matter.
_FREQUENT_FOLDS = tuple((source, _FOLDED_CHARS[source]) for source in "ةأى،إئؤآ")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    for source, target in _FREQUENT_FOLDS:
        folded = folded.replace(source, target)
    return _FOLDABLE.sub(_fold_char, folded)


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_findall_tokens = _TOKEN.findall


def normalize(text: str) -> str:
    """Fold ``text`` to the matching form described in the module docstring."""
    folded = _fold(text)
    if not folded.isascii() and not unicodedata.is_normalized("NFKC", folded):
        # Removing a mark can leave letters that NFKC would now compose (e.g. a hamza sign
        # separated by a zero-width joiner); a second pass makes the function idempotent.
        folded = _fold(folded)
    joined = " ".join(folded.split())
    if _KUNYA_SPACED in joined:
        joined = _KUNYA.sub(_KUNYA_WORD, joined)
    return joined


_KUNYA_WORD = "ابو"
_KUNYA_SPACED = _KUNYA_WORD + " "
_KUNYA = re.compile(r"(?<!\w)ابو (?=[^\W\d_]{2})")
"""«أبو» before a name (أبو إسلام, أبو ظبي) is written joined as often (أبوإسلام, أبوظبي): one
spelling, joined, so a kunya or a place is one word whichever way an outlet types it."""


def tokens(normalized: str) -> list[str]:
    """Word tokens of normalised text: runs of letters, and numbers (``3.5``, ``1,000``)."""
    # No token spans whitespace, and a word of letters only is one token: only the other
    # words (punctuation, digits) need the regex. A third faster than findall on the text.
    found: list[str] = []
    append = found.append
    for word in normalized.split():
        if word.isalpha():
            append(word)
        else:
            found += _findall_tokens(word)
    return found


_ARABIC_LETTERS = re.compile(
    "[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
    "\ufb50-\ufdff\ufe70-\ufefc]+"
)
_LETTERS = re.compile(r"[^\W\d_]+")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]+")
"""Control characters (but tab and line breaks) and U+FFFD: the marks of a broken text."""
_SPACES = re.compile(r"\s+")  # re's \s is str.isspace, the whitespace str.split() splits on


def _count(pattern: re.Pattern[str], text: str) -> int:
    # Deleting the matched runs and comparing lengths is several times faster than findall.
    return len(text) - len(pattern.sub("", text))


_CLASS_PATTERNS = (_LETTERS, _ARABIC_LETTERS, _SPACES, CONTROL_CHARS)
_SURROGATE = 1 << len(_CLASS_PATTERNS)


def _class_table() -> npt.NDArray[np.uint8]:
    """Per UTF-16 code unit, a bit per pattern of ``_CLASS_PATTERNS`` matching it."""
    # UTF-32: in UTF-16 the surrogate range would decode as pairs, not as 2,048 units.
    every = np.arange(0x10000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    table = np.zeros(0x10000, dtype=np.uint8)
    for bit, pattern in enumerate(_CLASS_PATTERNS):
        for run in pattern.finditer(every):
            table[run.start() : run.end()] |= 1 << bit
    table[0xD800:0xE000] = _SURROGATE
    return table


_CLASS_TABLE = _class_table()
# Row i: which of the counted classes the table value i belongs to.
_CLASS_BITS = np.array(
    [[(value >> bit) & 1 for bit in range(len(_CLASS_PATTERNS))] for value in range(_SURROGATE)],
    dtype=np.int64,
)


def char_counts(text: str) -> tuple[int, int, int, int]:
    """(letters, Arabic-script letters, whitespace, ``CONTROL_CHARS``) characters of ``text``.

    Letters are ``[^\\W\\d_]``, Arabic letters the ``arabic_share`` ranges, whitespace what
    ``str.split`` splits on. One table lookup per character (numpy) instead of a regex pass
    per class, which costs a Unicode category lookup per character.

    >>> char_counts("بوتين Putin\\x00")
    (10, 5, 1, 1)
    """
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    counts = np.bincount(_CLASS_TABLE[units], minlength=_SURROGATE + 1)
    if counts[_SURROGATE]:
        # A character outside the BMP (emoji): counted by the patterns themselves.
        letters, arabic, spaces, control = (_count(p, text) for p in _CLASS_PATTERNS)
        return letters, arabic, spaces, control
    letters, arabic, spaces, control = (counts[:_SURROGATE] @ _CLASS_BITS).tolist()
    return letters, arabic, spaces, control


def arabic_share(text: str) -> float:
    """Share of the letters of ``text`` that are Arabic script (0.0 when there are none).

    >>> arabic_share("بوتين Putin")
    0.5
    """
    letters, arabic, _, _ = char_counts(text)
    return arabic / letters if letters else 0.0


_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x30FF, "kana"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
)
_SCRIPT_LANGUAGE = {
    "greek": "el", "cyrillic": "ru", "hebrew": "he", "devanagari": "hi",
    "hangul": "ko", "kana": "ja", "han": "zh",
}  # fmt: skip

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "that",
            "for",
            "on",
            "with",
            "was",
            "as",
            "by",
            "at",
            "from",
            "are",
            "it",
            "this",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "des",
            "et",
            "est",
            "une",
            "dans",
            "du",
            "pour",
            "qui",
            "que",
            "sur",
            "au",
            "avec",
            "pas",
            "il",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "del",
            "que",
            "en",
            "y",
            "por",
            "con",
            "una",
            "para",
            "es",
            "se",
            "al",
            "su",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "mit",
            "von",
            "den",
            "zu",
            "ein",
            "eine",
            "im",
            "sich",
            "auf",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "della",
            "che",
            "di",
            "e",
            "la",
            "per",
            "una",
            "sono",
            "del",
            "con",
            "non",
            "gli",
            "alla",
            "nel",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "os",
            "da",
            "do",
            "que",
            "em",
            "uma",
            "para",
            "com",
            "não",
            "dos",
            "das",
            "ao",
            "pelo",
        ]
    ),
    "tr": frozenset(
        ["ve", "bir", "bu", "için", "ile", "da", "de", "olarak", "olan", "çok", "daha", "gibi"]
    ),
    "nl": frozenset(
        ["de", "het", "een", "en", "van", "is", "dat", "op", "te", "zijn", "niet", "met", "voor"]
    ),
    "ar": frozenset(
        [
            "في",
            "من",
            "على",
            "الى",
            "إلى",
            "أن",
            "ان",
            "التي",
            "الذي",
            "عن",
            "مع",
            "هذا",
            "هذه",
            "كان",
            "قد",
        ]
    ),
    "fa": frozenset(["است", "این", "را", "که", "می", "با", "های", "برای", "شده", "آن", "یک"]),
    "ur": frozenset(["ہے", "کے", "میں", "کی", "اور", "سے", "کو", "نے", "ہیں"]),
}
ENGLISH_STOPWORDS = _STOPWORDS["en"]
"""English function words (language detection; boilerplate rules for Latin-script pages)."""
_LATIN_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "tr", "nl")
_ARABIC_SCRIPT_LANGUAGES = ("ar", "fa", "ur")
_WORD = re.compile(r"[^\W\d_]+")


def _script_pattern(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"{chr(start)}-{chr(end)}" for start, end in ranges) + "]+")


_SCRIPT_PATTERNS: dict[str, re.Pattern[str]] = {
    script: _script_pattern([(start, end) for start, end, name in _SCRIPT_RANGES if name == script])
    for script in dict.fromkeys(name for _, _, name in _SCRIPT_RANGES)
    if script != "arabic"
}
_NOT_ARABIC_ONLY = re.compile("[پچژگکیۀہےٹڈڑںھ]")


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` from its script and, within a script, its stopwords.

    Returns ``'und'`` when there are too few letters to tell. Only the first 1,000 characters
    are looked at; letters are counted with ``char_counts``, other scripts by one regex each.
    """
    sample = text[:1000]
    letters, arabic, _, _ = char_counts(sample)
    if letters < 3:
        return "und"
    if 2 * arabic >= letters:
        script = "arabic"
    else:
        counts = {name: _count(pattern, sample) for name, pattern in _SCRIPT_PATTERNS.items()}
        script = max(counts, key=lambda name: counts[name])
        if counts[script] < max(3, arabic):
            return "ar" if arabic >= 3 else "und"
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script == "arabic" and not _NOT_ARABIC_ONLY.search(sample):
        return "ar"
    words = _WORD.findall(sample.lower())
    candidates = _ARABIC_SCRIPT_LANGUAGES if script == "arabic" else _LATIN_LANGUAGES
    scores = {language: sum(w in _STOPWORDS[language] for w in words) for language in candidates}
    best = max(candidates, key=lambda language: scores[language])
    if script == "arabic":
        # Arabic is the default for Arabic script: Persian or Urdu need stopword evidence.
        return best if best != "ar" and scores[best] > scores["ar"] else "ar"
    return best if scores[best] > 0 else "und"
