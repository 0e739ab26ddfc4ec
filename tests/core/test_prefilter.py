import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core import novelty
from monitor.core.prefilter import (
    AnyBranch,
    Prefiltered,
    branch_sources,
    necessary_words,
    words_pattern,
)

TEXTS = [
    "",
    "وصل الرئيس إلى بيونغ يانغ",
    "ورفض المصدر ذكر اسمه",
    "رفضت الشركة التعليق على الخبر",
    "دعا الطرفين إلى ضبط النفس",
    "تم ضبط المتهمين",
    "أغلق المؤشر على تراجع طفيف عند الإغلاق",
    "وصل عدد القتلى إلى نحو 20",
    "وصلت إليه الأمور",
    "هاجم الكاتب الحكومة هجوما حادا",
    "نقل إلى مركز الطوارئ وحجز القسم",
    "abc abd xyz",
    "ABC",
]


@pytest.mark.parametrize(
    "pattern",
    [
        novelty._IDIOMS,
        novelty._NEGATION_PATTERN,
        novelty._NOT_DONE_PATTERN,
        novelty._CAUSE_PATTERN,
        re.compile(r"ab[cd]|x(?:yz)+"),
        re.compile(r"(?<!\S)\S{0,2}ضبط\s+(?:النفس|الأسعار)"),
        re.compile(r"\w+"),
        re.compile(r"abc", re.IGNORECASE),
        re.compile(r"(?:|abc)d?"),
    ],
)
def test_answers_as_the_pattern(pattern: re.Pattern[str]) -> None:
    quick = Prefiltered(pattern)
    for text in TEXTS:
        found, expected = quick.search(text), pattern.search(text)
        assert (found and found.span()) == (expected and expected.span()), text
        assert quick.sub(" ", text) == pattern.sub(" ", text), text
        if expected is not None:
            assert quick.possible(text)


def test_necessary_words() -> None:
    assert necessary_words(re.compile(r"(?<!\S)\S{0,2}ضبط\s+(?:ال)?عصاب")) == {"عصاب"}
    # Of the words a branch needs, each branch gives its own.
    assert necessary_words(re.compile(r"x?(?:abc|de)f?")) == {"abc", "de"}
    assert necessary_words(re.compile(r"(?:ab)+z")) == {"ab"}
    # One literal the pattern needs, the most telling: a single word over a choice of two.
    assert necessary_words(re.compile(r"a[bc]d")) in ({"a"}, {"d"})


@pytest.mark.parametrize(
    "source, flags",
    [(r"\w+", 0), (r"abc", re.IGNORECASE), (r"(?:|abc)", 0), (r"(?=abc)", 0), (r"a?b*", 0)],
)
def test_no_words_no_shortcut(source: str, flags: int) -> None:
    pattern = re.compile(source, flags)
    assert necessary_words(pattern) is None
    assert Prefiltered(pattern).possible("anything")


def test_idioms_have_key_words() -> None:
    """The set phrases are read for key words (else the shortcut is lost, not the answers)."""
    words = necessary_words(novelty._IDIOMS)
    assert words is not None and "ضبط" in words


def test_alternatives_needs() -> None:
    from monitor.core.prefilter import alternatives_needs

    needs = alternatives_needs(re.compile(r"(?<!\S)ضبط\s+(?:النفس|الأسعار)|هجوما?\s+حاد"))
    assert needs == [[{"ضبط"}, {"ال"}, {"نفس", "أسعار"}], [{"هجوم"}, {"حاد"}]]
    assert alternatives_needs(re.compile(r"abc|\w+")) is None  # one alternative needs none
    quick = Prefiltered(re.compile(r"ضبط\s+النفس|هجوم\s+حاد"))
    # Key words of two alternatives, but all that one needs of neither: no match possible.
    assert not quick.possible("ضبط الهجوم")
    assert quick.possible("هجوم حاد") and quick.search("دعا إلى ضبط  النفس") is not None


_BRANCH_PATTERNS = [
    novelty._NOT_DONE_PATTERN,
    novelty._NEGATION_PATTERN,
    novelty._IDIOMS,
    novelty._SAID_NOT,
    novelty._CAUSE_PATTERN,
    re.compile(r"ab[cd]|x(?:yz)+|[|]q|\|z|[]|]w|(?:a|b)c"),
    re.compile(r"abc|(?:d|e)f|gh"),
    re.compile(r"(?<!\S)(?:ab|c)(?!\S)|d"),
    re.compile(r"(a)|b"),  # a group: searched whole
    re.compile(r"a|b", re.IGNORECASE),
    re.compile(r"|a"),
]
# Pieces of the texts the branch tests search: words of the patterns, their letters, spaces
# and the characters their look-arounds read.
_TEXT_PIECES = [
    "طالب", "دعا", "خطة", "خطط", "لو", "الوزير", "لابد", "بد", "عبد", "لم", "لا", "بدون",
    "رفض", "نفت", "ينفي", "عدم", "ضبط", "النفس", "أكد", "وجود", "بسبب", "و", "ف", "ب", "ل",
    "ال", "ab", "c", "d", "x", "yz", "|", "]", "w", "q", "z", "A", "B", " ", "«", '"', "(",
    "\n", "5", ".",
]  # fmt: skip


@pytest.mark.parametrize("pattern", _BRANCH_PATTERNS)
@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(_TEXT_PIECES), max_size=12))
def test_any_branch_answers_as_the_pattern(pattern: re.Pattern[str], pieces: list[str]) -> None:
    text = "".join(pieces)
    assert AnyBranch(pattern).found(text) is (pattern.search(text) is not None), text


@pytest.mark.parametrize("pattern", _BRANCH_PATTERNS)
def test_any_branch_on_fixed_texts(pattern: re.Pattern[str]) -> None:
    quick = AnyBranch(pattern)
    for text in [*TEXTS, "|", "]w", "نفت الشركة", "لو كان", "والوزير لابد"]:
        assert quick.found(text) is (pattern.search(text) is not None), text


def test_branch_sources() -> None:
    assert branch_sources(re.compile(r"ab[c|d]|\|x|(?:y|z)w")) == ["ab[c|d]", r"\|x", "(?:y|z)w"]
    assert branch_sources(re.compile(r"[]|]a|[^]|]b")) == ["[]|]a", "[^]|]b"]
    assert branch_sources(re.compile(r"(a)|b")) is None  # groups would be numbered anew
    assert branch_sources(re.compile(r"a|b", re.IGNORECASE)) is None
    assert branch_sources(re.compile(r"abc")) == ["abc"]
    # The novelty patterns split into their branches: plain words and the rest.
    assert len(branch_sources(novelty._NOT_DONE_PATTERN) or []) == 2
    quick = AnyBranch(novelty._NOT_DONE_PATTERN)
    assert "طالب" in quick._words and "مطالب" not in quick._words  # held by طالب
    assert len(quick._others) == 1


# Words of the set phrases (``novelty._IDIOMS``) and what surrounds them, to build sentences
# that hold the key words of several alternatives at once.
_IDIOM_PIECES = [
    "رفض", "رفضت", "ذكر", "اسمه", "ضبط", "النفس", "الأسعار", "تشكيل", "عصابة", "حجز", "قسم",
    "هاجم", "الكاتب", "هجوما", "حادا", "التعليق", "مستشفى", "الطوارئ", "إغلاق", "البورصة",
    "عند", "الإغلاق", "أغلق", "المؤشر", "على", "تراجع", "وصل", "عدد", "إلى", "نحو", "20",
    "مسافة", "توقيع", "كشف", "احتجاز", "أرباح", "حكومة", "إنقاذ", "أصيب", "بحالة", "من",
    "الذعر", "استقبل", "حالات", "خلال", "لقاء", "في", "اجتماع", "تلفزيوني", "مع", "ال", "و",
    "ب", " ", " ", " ", ".", "«",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(_IDIOM_PIECES), max_size=16))
def test_narrowed_answers_as_the_pattern(pieces: list[str]) -> None:
    """Only the alternatives whose words a text holds are searched: the same matches."""
    text = "".join(pieces)
    pattern = novelty._IDIOMS
    quick = Prefiltered(pattern)
    found, expected = quick.search(text), pattern.search(text)
    assert (found and found.span()) == (expected and expected.span()), text
    assert quick.sub(" ", text) == pattern.sub(" ", text), text
    assert quick.possible(text) or expected is None, text  # a match is always possible


def test_narrowed_keeps_the_order_of_the_alternatives() -> None:
    # At a position where two alternatives match, the first one wins, narrowed or not.
    pattern = re.compile(r"ab|abc|xyz")
    quick = Prefiltered(pattern)
    narrowed = quick.narrowed("abc")
    assert narrowed is not None and narrowed.pattern == "ab|abc"
    assert quick.sub("-", "abc xyz") == pattern.sub("-", "abc xyz") == "-c -"
    assert quick.narrowed("nothing here") is None
    # A pattern with groups is not split: searched whole when possible.
    grouped = Prefiltered(re.compile(r"(ab)|xyz"))
    assert grouped.narrowed("ab") is grouped.pattern


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(st.text(alphabet="ابتدعاو.|*( \\]", min_size=1, max_size=4), max_size=20),
    text=st.text(alphabet="ابتدعاو.|*( \\]x", max_size=30),
)
def test_words_pattern_finds_a_word_where_a_substring_test_does(
    words: list[str], text: str
) -> None:
    """The trie-shaped pattern: a word that starts another, repeated words, the characters
    ``re`` reads as syntax."""
    pattern = words_pattern(words)
    expected = any(map(text.__contains__, words))
    if pattern is None:
        assert len(set(words)) < 8
    else:
        assert (pattern.search(text) is not None) is expected, (words, text)


def test_words_pattern_of_the_novelty_words() -> None:
    for quick in (novelty._NOT_DONE_QUICK, novelty._NEGATION_QUICK):
        pattern = words_pattern(quick._words)
        for text in [*TEXTS, "مطالبة", "دعت الحركة", "والوزير لابد"]:
            found = pattern is not None and pattern.search(text) is not None
            assert found is any(map(text.__contains__, quick._words)) or pattern is None, text
    assert words_pattern(["ab", "abc", "b", "ab"]) is None  # few: tested one by one
    many = words_pattern(["طالب", "طالبت", "دعا", "دعت", "ab", "a.b", "x|y", "(", "z"])
    assert many is not None
    assert [many.search(t) is not None for t in ["مطالب", "دع", "aXb", "a.b", "x|y", "(", ""]] == [
        True, False, False, True, True, True, False,
    ]  # fmt: skip
