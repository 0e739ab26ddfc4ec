"""Normalisation, tokens and language detection (monitor.core.arabic)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core.arabic import (
    _ARABIC_LETTERS,
    CONTROL_CHARS,
    arabic_share,
    char_counts,
    detect_language,
    normalize,
    tokens,
)


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آسيا", "اسيا"),
        ("ٱلله", "الله"),
        ("مسئول", "مسءول"),
        ("مسؤول", "مسءول"),
        ("شئون", "شءون"),
        ("على", "علي"),
        ("الشمالية", "الشماليه"),
        ("کوریا", "كوريا"),  # Persian kaf and yeh, as in seed 002's tag line
        ("ڤيديو", "فيديو"),
        ("مُحَمَّدٌ", "محمد"),
        ("الســـلام", "السلام"),
        ("٢٠٢٤", "2024"),
        ("۱۹", "19"),
        ("٣٫٥", "3.5"),
        ("ماذا؟", "ماذا?"),
        ("أولاً، ثانياً؛", "اولا, ثانيا;"),
        ("بوتين\u200f \u200bيصل", "بوتين يصل"),
        ("\ufeffPutin  VISITS\n\tPyongyang", "putin visits pyongyang"),
        ("ﻻ", "لا"),  # presentation form, via NFKC
    ],
)
def test_normalize_folds_spelling_variants(variant: str, canonical: str) -> None:
    assert normalize(variant) == canonical


def test_hamza_carrier_variants_match() -> None:
    assert normalize("المسئولين عن شئون الهيئة") == normalize("المسؤولين عن شؤون الهيئه")


def test_hamza_on_its_own_is_kept() -> None:
    assert normalize("سماء") == "سماء"


@given(st.text())
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)))
def test_normalize_is_idempotent_on_arabic_block(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_normalized_text_has_no_marks_or_double_spaces(text: str) -> None:
    folded = normalize(text)
    assert "  " not in folded
    assert folded == folded.strip()
    assert not any(0x064B <= ord(c) <= 0x0652 or c in "\u0640\u200f\u200b\ufeff" for c in folded)


def test_tokens_keep_numbers_and_words() -> None:
    assert tokens(normalize("ارتفع الدولار إلى 15.75 جنيه في 2013، (Reuters)")) == [
        "ارتفع", "الدولار", "الي", "15.75", "جنيه", "في", "2013", "reuters",
    ]  # fmt: skip


def test_arabic_share() -> None:
    assert arabic_share("") == 0.0
    assert arabic_share("123 !!") == 0.0
    assert arabic_share("بوتين") == 1.0
    assert arabic_share("ab بو") == 0.5


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("أعلن الكرملين أن الرئيس الروسي سيزور كوريا الشمالية في الأسبوع المقبل.", "ar"),
        ("The Kremlin said the president would visit North Korea next week.", "en"),
        (
            "Le Kremlin a annoncé que le président se rendra en Corée du Nord la semaine prochaine.",
            "fr",
        ),
        ("El Kremlin anunció que el presidente visitará Corea del Norte la próxima semana.", "es"),
        (
            "Der Kreml hat mitgeteilt, dass der Präsident nächste Woche Nordkorea besuchen wird.",
            "de",
        ),
        ("Кремль объявил, что президент посетит Северную Корею.", "ru"),
        ("کرملین اعلام کرد که این سفر برای روسیه است و رئیس جمهور می رود.", "fa"),
        ("", "und"),
        ("12345 !!! ...", "und"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_arabic_article_with_latin_names_is_arabic() -> None:
    text = "وصل 10 دبابات من طراز Leopard 1A5 و20 مركبة Marder إلى أوكرانيا ضمن مشروع مشترك."
    assert detect_language(text) == "ar"


@given(st.text())
def test_detect_language_never_raises(text: str) -> None:
    assert isinstance(detect_language(text), str)


_TOKEN_REGEX = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


@given(st.text())
def test_tokens_are_the_regex_tokens(text: str) -> None:
    assert tokens(text) == _TOKEN_REGEX.findall(text)


@given(st.text(alphabet=st.sampled_from("بوتين 19.6,1 ²_-ـ\u0670\xa0\u2003Ab.")))
def test_tokens_are_the_regex_tokens_on_mixed_words(text: str) -> None:
    assert tokens(text) == _TOKEN_REGEX.findall(text)


def _counted(pattern: str, text: str) -> int:
    return sum(1 for char in text if re.fullmatch(pattern, char))


@given(st.text())
def test_char_counts_count_each_class(text: str) -> None:
    letters, arabic, spaces, control = char_counts(text)
    assert letters == _counted(r"[^\W\d_]", text)
    assert arabic == len(text) - len(_ARABIC_LETTERS.sub("", text))
    assert spaces == len(text) - len("".join(text.split()))
    assert control == _counted(CONTROL_CHARS.pattern.rstrip("+"), text)


def test_char_counts_outside_the_bmp_and_lone_surrogates() -> None:
    assert char_counts("بوتين 😀 \U0001d400x") == (7, 5, 2, 0)
    assert char_counts("ب\ud800 ") == (1, 1, 1, 0)
