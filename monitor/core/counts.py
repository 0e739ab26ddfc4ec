"""Counts in a sentence: a number tied to what it counts (the dead, the injured, arrests, sums).

A count is a development when a story reports it first or raises it ("the toll rose to 19");
a bare number (a year, a street number, a date) is not. ``count_markers`` finds each number,
in digits or in Arabic words (ستة، أربعة عشر), with the counted noun after it (up to two words
on, past «حالة»), and names the count's class; a generic noun (سائحا، شخصا) takes its class from
the word before the number (مصرع 18 سائحا is a death toll) and counts nothing without one.

>>> from monitor.core.arabic import normalize, tokens
>>> count_markers(tokens(normalize("مصرع 18 سائحا وإصابة ستة آخرين")))
['#death:18', '#injury:6']
>>> count_markers(tokens(normalize("الصحة: 14 حالة وفاة و3 مصابين في عام 2013")))
['#death:14', '#injury:3']
>>> count_markers(tokens(normalize("لقي 5 عمال مصرعهم وأصيب 6 آخرون")))
['#death:5', '#injury:6']
>>> count_markers(tokens(normalize("سداد المبلغ البالغ قيمته 10 ملايين")))
['#money:10000000']
>>> count_markers(tokens(normalize("إصابة ضابط و4 مجندين ومصرع 4 أقباط ومسلم")))
['#injury:5', '#death:5']
>>> count_markers(tokens(normalize("المصابون من الشرطة ضابط و4 مجندين أصيبوا في اشتباكات")))
['#injury:5']
>>> count_markers(tokens(normalize("إصابة 11 مجندا منهم أحمد 20 سنة مصابا بكسر")))
['#injury:11']
>>> count_markers(tokens(normalize("مصرع وإصابة 10 أشخاص في انهيار مدخنة")))
[]
>>> count_markers(tokens(normalize("أسفر عن مقتل ١٩ وإصابة ثلاثة آخرين")))
['#death:19', '#injury:3']
>>> count_markers(tokens(normalize("مصرع وإصابة 4 في حادث، ومصرع 2 في آخر، وضبط 5 أطنان")))
['#death:2']
>>> count_markers(tokens(normalize("تلقى إخطارا بمقتل وإصابة 5 أشخاص، وبمقتل 3 آخرين")))
['#death:3']
>>> count_markers(tokens(normalize("ضبط 55 قطعة حشيش و5 قطع سلاح")))
['#weapons:5']
>>> count_markers(tokens(normalize("تم القبض على 4 أشخاص حاولوا قطع الطريق")))
['#arrest:4']
>>> count_markers(tokens(normalize("إصابة 7 بالخرطوش وارتفاع البطالة 13 بالمائة")))
['#injury:7']
>>> count_markers(tokens(normalize("وارتفع عدد قتلى الاشتباكات إلى 100 وعدد السياح إلى 30")))
['#death:100']
>>> count_markers(tokens(normalize("إصابة أكثر من 17 ناشطا والقبض على نحو 50 متظاهرا")))
['#injury:17', '#arrest:50']
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.core.arabic import normalize, tokens
from monitor.core.terms import DATE_WORDS, STOPWORDS

__all__ = [
    "COUNT_PREFIX",
    "can_start_count",
    "count_markers",
    "count_markers_at",
    "count_of",
    "counted_nouns",
    "headline_counts",
]

COUNT_PREFIX = "#"
"""Count markers are ``#class:value`` (other markers are numbers and date words)."""

_RAW_CLASSES: dict[str, str] = {
    "death": "قتيل قتيلا قتلى قتلي ضحية ضحايا وفاة وفيات حالة_وفاة جثة جثث جثمان شهيد شهيدا "
    "شهداء متوفى متوفين",
    "injury": "مصاب مصابا مصابين مصابون مصابة جريح جريحا جرحى إصابة إصابات",
    "missing": "مفقود مفقودا مفقودين مفقودون",
    "arrest": "معتقل معتقلا معتقلين موقوف موقوفين متهم متهما متهمين مشتبه مقبوض",
    "weapons": "صاروخ صاروخا صواريخ قذيفة قذائف سلاح أسلحة طلقة طلقات عبوة عبوات",
    "money": "جنيه جنيها دولار دولارا يورو ريال ريالا درهم درهما",
    "people": "شخص شخصا أشخاص سائح سائحا سياح مواطن مواطنا مواطنين طفل طفلا أطفال امرأة نساء "
    "رجل رجلا رجال جندي جنديا جنود عسكري عسكريا مجند مجندا مجندين مجندون ضابط ضابطا ضباط "
    "شرطي شرطيا شرطيين فرد أفراد عامل عاملا عمال راكب راكبا ركاب أسرة أسر آخر آخرين آخرون "
    "مدني مدنيا مدنيين مدنيون طالب طالبا طلاب تلميذ تلاميذ صياد صيادين صيادون مسلح مسلحا "
    "مسلحين مسلحون قبطي أقباط مسلم مسلما مسلمين مهاجر مهاجرا مهاجرين لاجئ لاجئا لاجئين "
    "سجين سجينا سجناء ناشط ناشطا ناشطين نشطاء متظاهر متظاهرا متظاهرين متظاهرون معتصم معتصما "
    "معتصمين معتصمون محتج محتجا محتجين محتجون",
}
_RAW_SINGULAR_PEOPLE = (
    "شخص سائح مواطن طفل امرأة رجل جندي عسكري مجند ضابط شرطي عامل راكب مدني طالب تلميذ صياد "
    "مسلح قبطي مسلم مهاجر لاجئ سجين"
)
_SINGULAR_PEOPLE = frozenset(map(normalize, _RAW_SINGULAR_PEOPLE.split()))
"""One person, named by what they are: «ضابط و4 مجندين» (an officer and four conscripts) are
five, «4 أقباط ومسلم» too."""
_CLASS_OF: dict[str, str] = {
    normalize(word): group
    for group, words in _RAW_CLASSES.items()
    for word in words.split()
    if "_" not in word
}
_CASE_WORDS = frozenset(normalize(w) for w in ["حالة", "حالات", "قطعة", "قطع"])
"""«14 حالة وفاة», «5 قطع سلاح»: the counted noun comes after these (55 قطعة حشيش counts
no weapon)."""
_SCALE_WORDS = {
    normalize(word): scale
    for word, scale in (("ألف", 10**3), ("آلاف", 10**3), ("مليون", 10**6), ("ملايين", 10**6),
                        ("مليار", 10**9))
}  # fmt: skip
_CONTEXT_CLASSES: dict[str, str] = {
    normalize(word): group
    for group, words in {
        "death": "مصرع مقتل وفاة قتل استشهاد",
        "injury": "إصابة إصابات أصيب أصيبت",
        "arrest": "القبض ضبط اعتقال توقيف",
        "missing": "فقدان",
    }.items()
    for word in words.split()
}
"""A generic noun counted after these words counts their class (مصرع 18 سائحا)."""
_RAW_NUMBER_WORDS = {
    "واحد": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3, "أربعة": 4, "أربع": 4,
    "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثماني": 8,
    "تسعة": 9, "تسع": 9, "عشرة": 10, "عشر": 10, "أحد": 1, "إحدى": 1, "اثنا": 2, "اثني": 2,
    "عشرين": 20, "عشرون": 20, "ثلاثين": 30, "ثلاثون": 30, "أربعين": 40, "أربعون": 40,
    "خمسين": 50, "خمسون": 50, "مائة": 100, "مئة": 100,
}  # fmt: skip
_NUMBER_WORDS: dict[str, int] = {normalize(w): v for w, v in _RAW_NUMBER_WORDS.items()}
_TEENS = normalize("عشر")
_KNOWN = frozenset(_CLASS_OF) | _CASE_WORDS | frozenset(_NUMBER_WORDS) | frozenset(_CONTEXT_CLASSES)
_CONJUNCTIONS = ("و",)
_CONTEXT_CLITICS = ("و", "ب", "ل")
_LOOKAHEAD = 2


def _bare(word: str) -> str:
    """The word without a leading و when that makes it a known word (وإصابة, not وفاة)."""
    if word[:1] in _CONJUNCTIONS and word not in _KNOWN and word[1:] in _KNOWN:
        return word[1:]
    return word


def _context(word: str) -> str:
    """The class a word before a count names (مصرع: death), behind و, ب or ل too (بمقتل,
    وإصابة, وبمقتل); ``""`` for any other word."""
    group = _CONTEXT_CLASSES.get(word)
    if group is None and word[:1] in _CONTEXT_CLITICS:
        group = _CONTEXT_CLASSES.get(word[1:])
        if group is None and word[:1] == "و" and word[1:2] in _CONTEXT_CLITICS:
            group = _CONTEXT_CLASSES.get(word[2:])  # وبمقتل
    return group or ""


def _number_at(words: list[str], i: int) -> tuple[int, int] | None:
    """(value, words used) of a number starting at ``words[i]``."""
    word = _bare(words[i]) if not words[i][:1].isdigit() else words[i]
    if word.isdigit():
        value, used = int(word), 1
    elif word in _NUMBER_WORDS:
        value, used = _NUMBER_WORDS[word], 1
        if i + 1 < len(words) and words[i + 1] in (_TEENS, normalize("عشرة")) and value < 10:
            value, used = value + 10, 2  # أربعة عشر
    else:
        return None
    if i + used < len(words) and words[i + used] in _SCALE_WORDS:
        value, used = value * _SCALE_WORDS[words[i + used]], used + 1
    return value, used


def count_of(words: list[str], i: int) -> tuple[str, int, int] | None:
    """(class, value, next index) of a count starting at ``words[i]``, if one does."""
    found = _number_at(words, i)
    if found is None:
        return None
    value, used = found
    end = i + used
    if end < len(words) and words[end] in _TIME_UNITS:
        return None  # «تهامي 20 سنة مصابا»: an age (or a duration), not 20 injured
    for j in range(end, min(len(words), end + _LOOKAHEAD)):
        noun = _bare(words[j])
        if noun != words[j]:
            break  # «مقتل 19 وإصابة ثلاثة»: after و, another count's noun
        if noun in _CASE_WORDS and j + 1 < len(words):
            noun = _bare(words[j + 1])
        group = _CLASS_OF.get(noun)
        nisba = group is None and _is_nisba_plural(noun)
        if nisba:
            group = "people"  # إصابة 10 فلسطينيين, مقتل 3 مصريين
        if group is None:
            continue
        if group == "people":
            # "21 tourists" counts nothing that changes; "the death of 21 tourists" does,
            # and so does «لقي 5 عمال مصرعهم» (met their death).
            total, before, last = _with_companions(words, i, value, j)
            before = _past_approximation(words, before)
            if before >= 1 and words[before] == _UPON and _context(words[before - 1]):
                before -= 1  # «القبض على 4 أشخاص»: the arrest of
            group = _context(words[before]) if before >= 0 else ""
            if group and _counted_together(words, before, group):
                return None  # مصرع وإصابة 10 أشخاص: the dead and injured together
            if not group:
                group = next(filter(None, map(_FATE.get, words[last + 1 : last + 3])), "")
            if not group:
                group = _toll_named_before(words, i)
            if not group:
                if nisba:
                    continue  # «أربعة سلفيين مشتبه فيهم»: the next word may say what they are
                return None
            value, j = total, last
        return group, value, j + 1
    if i > 0 and words[i - 1] in _SUM_WORDS:
        return "money", value, end  # مبلغ 10 ملايين, بقيمة 5 آلاف: a sum, currency unsaid
    group = _toll_named_before(words, i)
    if group:
        return group, value, end  # ارتفع عدد القتلى إلى 30: the noun came first
    before = _past_approximation(words, i - 1)  # مقتل أكثر من 500 في, إصابة نحو 20 في
    if (
        before >= 0
        and _context(words[before])
        and (
            end == len(words)
            or _bare(words[end]) != words[end]
            or words[end] in _AFTER_BARE
            or _by_means(words[end])
        )
    ):
        # «مقتل 19 وإصابة ثلاثة», «مصرع 3 في»: the word before names what is counted (not
        # «ضبط 5 أطنان», where an unknown noun follows).
        group = _context(words[before])
        if _counted_together(words, before, group):
            return None  # مصرع وإصابة 4: the dead and injured together
        return group, value, end
    return None


def _is_nisba_plural(word: str) -> bool:
    """Whether ``word`` is the plural of a relative adjective (فلسطينيين, مصريون, صحفيين):
    people named by their nation, place or trade. Not with the article: «أحد المعتقلين
    الفلسطينيين» counts detainees, one of them."""
    return (
        len(word) >= 6
        and word[-3:] in _NISBA_ENDINGS
        and word[:2] != "ال"
        and word not in _SCALE_WORDS
    )


_NISBA_ENDINGS = frozenset((normalize("يين"), normalize("يون")))


def _toll_named_before(words: list[str], i: int) -> str:
    """The class a toll named before «إلى» and the number at ``i`` counts (ارتفع عدد القتلى
    إلى 30, وصلت حصيلة ضحايا الحادث إلى 19 سائحا); ``""`` for none."""
    if i == 0 or words[i - 1] not in _TO:
        return ""
    for k in range(i - 2, max(-1, i - 3 - _TOLL_REACH), -1):
        if _bare(words[k]) in _NUMBER_OF and k + 1 < i - 1:
            noun = words[k + 1]
            group = _CLASS_OF.get(noun[2:] if noun[:2] == "ال" else noun, "")
            return group if group in _TOLLS else ""
    return ""


_TO = frozenset(normalize(word) for word in ["إلى", "الى"])
_NUMBER_OF = frozenset(normalize(word) for word in ["عدد", "حصيلة"])
_TOLLS = frozenset(("death", "injury", "missing", "arrest"))
_TOLL_REACH = 4
"""Words between «عدد» or «حصيلة» and «إلى» (عدد قتلى سقوط منطاد الأقصر إلى)."""


def _by_means(word: str) -> bool:
    """Whether ``word`` after a count whose noun goes unsaid tells how (إصابة 7 بالخرطوش,
    مقتل 3 برصاص): a ب phrase, not a percentage (بالمائة)."""
    return word[:1] == "ب" and word not in _PER_CENT and word[1:] not in _CLASS_OF


_PER_CENT = frozenset(normalize(word) for word in ["بالمائة", "بالمئة", "بالمية"])


def _counted_together(words: list[str], before: int, group: str) -> bool:
    """Whether the word at ``before``, naming ``group`` behind و, follows a word naming
    another class (مصرع وإصابة): the count is of both together, a toll of neither."""
    return (
        before >= 1
        and words[before][:1] in _CONJUNCTIONS
        and _context(words[before - 1]) not in ("", group)
    )


def _with_companions(words: list[str], i: int, value: int, j: int) -> tuple[int, int, int]:
    """People counted beside the number at ``i`` (its noun at ``j``): one named before it
    (إصابة ضابط و4 مجندين), one or more named after (مصرع 4 أقباط ومسلم, مقتل 3 جنود و2
    ضباط). Returns the sum, the index of the word before them all and the last noun's."""
    before = i - 1
    if before >= 1 and words[before] == "و" and _bare(words[before - 1]) in _SINGULAR_PEOPLE:
        value, before = value + 1, before - 2
    after = j + 1
    if after < len(words) and words[after][:1] == "و" and words[after][1:] in _SINGULAR_PEOPLE:
        value, j = value + 1, after
    elif after + 2 < len(words) and words[after] == "و":
        more = _number_at(words, after + 1)
        if more is not None:
            noun = after + 1 + more[1]
            if noun < len(words) and _CLASS_OF.get(_bare(words[noun])) == "people":
                value, j = value + more[0], noun
    return value, before, j


_RAW_TIME_UNITS = "سنة سنوات سنين عام عاما أعوام شهر شهرا أشهر شهور يوم يوما أيام ساعة ساعات"
_TIME_UNITS = frozenset(map(normalize, _RAW_TIME_UNITS.split()))
"""Right after a number, it is an age or a duration (مجند 20 سنة مصابا, حبسه 4 أيام)."""
_UPON = normalize("على")
_ABOUT = frozenset(map(normalize, ["نحو", "حوالي", "حوالى", "قرابة", "زهاء"]))
_MORE = frozenset(map(normalize, ["أكثر", "اكثر"]))
_THAN = normalize("من")


def _past_approximation(words: list[str], before: int) -> int:
    """The index of the word before an approximation ending at ``before`` (إصابة نحو 17,
    إصابة أكثر من 17 ناشطا: the injury is the context), else ``before``."""
    if before >= 0 and words[before] in _ABOUT:
        return before - 1
    if before >= 1 and words[before] == _THAN and words[before - 1] in _MORE:
        return before - 2
    return before


_AFTER_BARE = frozenset(
    normalize(word) for word in ["في", "من", "منهم", "بينهم", "خلال", "على", "اثر", "إثر", "جراء"]
)
"""Words that can follow a count whose noun goes unsaid (مصرع 3 في حادث)."""
_FATE = {
    normalize(word): group
    for group, words in {
        "death": "مصرعهم مصرعه مصرعهما حتفهم حتفه حتفهما قتلوا استشهدوا",
        "injury": "أصيبوا أصيبا أصيب أصيبت",
    }.items()
    for word in words.split()
}
"""Right after the people counted, what befell them (لقي 5 عمال مصرعهم, ضابط و4 مجندين
أصيبوا)."""
_SUM_WORDS = frozenset(
    normalize(word)
    for word in ["مبلغ", "بمبلغ", "المبلغ", "قيمته", "قيمتها", "بقيمة", "قيمة", "وقيمته"]
)
"""Before a number, it is a sum of money even when the currency goes unsaid."""
_NUMBER_FORMS = frozenset(_NUMBER_WORDS) | frozenset("و" + word for word in _NUMBER_WORDS)


def count_markers(words: list[str]) -> list[str]:
    """``#class:value`` for each count in a sentence's normalised tokens, in order."""
    # No number (the usual sentence): all letters (a digit is never a letter) and no number
    # word, found by two C-level scans.
    if "".join(words).isalpha() and _NUMBER_FORMS.isdisjoint(words):
        return []
    # Only a digit or a number word (``_NUMBER_FORMS``) can start a count: the others are
    # skipped without a call each (the walk's result is that of trying every position).
    starts = [i for i, word in enumerate(words) if word[:1].isdigit() or word in _NUMBER_FORMS]
    return count_markers_at(words, starts)


def can_start_count(word: str) -> bool:
    """Whether a count can start at ``word``: a digit or a number word (``count_markers``
    tries no other word)."""
    return word[:1].isdigit() or word in _NUMBER_FORMS


def count_markers_at(words: list[str], starts: list[int]) -> list[str]:
    """``count_markers(words)`` given the indexes of its words that ``can_start_count`` (the
    story analysis has them with each word's other facts)."""
    markers: list[str] = []
    i = 0
    for start in starts:
        if start < i:
            continue  # inside the count found before
        found = count_of(words, start)
        if found is None:
            continue
        group, value, i = found
        markers.append(f"{COUNT_PREFIX}{group}:{value}")
    return markers


def counted_nouns(words: list[str]) -> list[tuple[str, int]]:
    """(noun, value) for each number in a sentence's normalised tokens whose noun no count
    class names: what else it counts (ضبط 55 ألف لتر سولار, 345 مخالفة مرورية). Not a date,
    a duration, a word of the stopword list or a person (the arrested are counted again as
    a story goes on).

    >>> counted_nouns(tokens(normalize("ضبط 55 ألف لتر سولار و3 عاطلين في 12 مارس")))
    [('لتر', 55000)]
    >>> counted_nouns(tokens(normalize("مصرع 18 سائحا في سقوط منطاد")))
    []
    >>> counted_nouns(tokens(normalize("ترحيل 40 سوريين من مطار القاهرة")))
    []
    >>> counted_nouns(tokens(normalize("اعتذار 6 أحزاب و5 شخصيات عامة عن الحوار")))
    []
    """
    found: list[tuple[str, int]] = []
    for i, word in enumerate(words):
        if not can_start_count(word):
            continue
        number = _number_at(words, i)
        if number is None:
            continue
        value, used = number
        noun_at = i + used
        if noun_at < len(words) and words[noun_at] in _CASE_WORDS:
            noun_at += 1
        if noun_at == len(words):
            continue
        noun = words[noun_at]
        if (
            noun in _KNOWN
            or noun in _NOT_COUNTED
            or _is_nisba_plural(noun)  # people (فلسطينيين): counted again as a story goes on
            or noun[:1].isdigit()
            or noun[:1] == "و"  # «مقتل 19 وإصابة»: another count's word
            or noun[:3] in _PLACE_PREFIXES  # «بمدخل 6 بالدقهلية»: where, not what
        ):
            continue
        found.append((noun, value))
    return found


_RAW_PERSONS = (
    "عاطل عاطلا عاطلين هارب هاربا هاربين مسجل مسجلا مسجلين بلطجي بلطجيا بلطجية تاجر تاجرا "
    "تجار لص لصا لصوص"
)
"""People a crime report counts that no count class names: counted again as a story goes on
(the arrested of a night of clashes), so no sign of another incident."""
_RAW_ACTORS = (
    "شخصية شخصيات حزب حزبا أحزاب منظمة منظمات مؤسسة مؤسسات جمعية جمعيات نقابة نقابات حركة "
    "حركات دولة دول"
)
"""The actors a political story counts (6 أحزاب, 5 شخصيات, 14 منظمة): those who joined,
refused or were excluded are counted again and again as it goes on."""
_NOT_COUNTED = (
    STOPWORDS
    | DATE_WORDS
    | _TIME_UNITS
    | frozenset(map(normalize, _RAW_PERSONS.split()))
    | frozenset(map(normalize, _RAW_ACTORS.split()))
)
_PLACE_PREFIXES = frozenset(normalize(prefix) for prefix in ("بال", "لل", "فال"))


def headline_counts(title: str, markers: Sequence[str] | None = None) -> list[str]:
    """``noun:value`` for what a headline counts (``counted_nouns``), the noun without its
    article or ending (لترا, اللتر: لتر): two headlines of one incident count its things
    alike, within rounding; another seizure of fuel counts other litres. Then the toll it
    gives, as count markers (``#death:5``): the dead, injured and missing (not the arrested:
    every crime report counts some), which a wire's flash of the same killing gives again.

    >>> headline_counts("ضبط 1800 لتر سولار قبل بيعها بالسوق السوداء بالقليوبية")
    ['لتر:1800']
    >>> headline_counts("تصادم 6 سيارات على الطريق الدائري") == headline_counts("تصادم 6 سيارة")
    True
    >>> headline_counts("مصرع 5 أشخاص وضبط 3 متهمين في مشاجرة ببرج العرب")
    ['#death:5']

    ``markers``: the headline's markers when its analysis has them (``SentenceText.markers``):
    its counts are then not read again.
    """
    words = tokens(normalize(title))
    counted = [f"{_noun_stem(noun)}:{value}" for noun, value in counted_nouns(words)]
    if markers is None:
        markers = count_markers(words)
    return counted + [
        marker
        for marker in markers
        if marker[:1] == COUNT_PREFIX and marker[1:].partition(":")[0] in _HEADLINE_TOLLS
    ]


_HEADLINE_TOLLS = frozenset(("death", "injury", "missing"))


def _noun_stem(noun: str) -> str:
    """The noun without «ال», a final «ا» or «ه» or the plural's «ات» (طنا, الطن: طن;
    مخالفة, مخالفات: مخالف; سيارة, سيارات: سيار)."""
    if noun[:2] == "ال" and len(noun) > 4:
        noun = noun[2:]
    if noun[-2:] == "ات" and len(noun) > 5:
        return noun[:-2]
    if noun[-1:] in ("ا", "ه") and len(noun) > 3:
        noun = noun[:-1]
    return noun
