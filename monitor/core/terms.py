"""Content terms of normalised Arabic text and how much each one tells about a story.

Terms are the word tokens of ``monitor.core.arabic.normalize``d text minus stopwords, with
no stemming (a stemmer turns ``بوتين`` into ``بوت``). The one concession to Arabic
morphology is conservative: a leading clitic ``و ف ب ل`` (``لل`` before ``ال``) is dropped
only when the rest is a word the bundled document-frequency table knows and the whole token
is far rarer than the rest, so ``والحكومه`` meets ``الحكومه`` but ``وزير`` stays ``وزير``.

Weights are inverse document frequencies from a table bundled in ``monitor/data/df.json``
(built by ``benchmarks/story_eval.py --build-df`` from a news stream: 6,033 Egyptian and
pan-Arab articles of 2013); words the table has never seen get the highest weight.

>>> content_terms(normalize("قال الرئيس والحكومة في 2024").split())
['الرءيس', 'الحكومه']
>>> idf("الحكومه") < idf("بيونغ")
True
"""

from __future__ import annotations

import json
import math
import sys
from functools import cache
from importlib import resources

from xxhash import xxh32_intdigest

from monitor.core.arabic import normalize
from monitor.core.memo import recall, remember

__all__ = [
    "DATE_WORDS",
    "NO_TERM_HASH",
    "STOPWORDS",
    "content_terms",
    "document_frequencies",
    "idf",
    "idf_table",
    "strip_clitic",
    "term_hash",
    "term_of",
    "token_facts",
]

_RAW_STOPWORDS = """
في من على الى إلى عن مع أن ان إن لن لم لا ما ماذا لماذا كيف هل قد لقد كان كانت يكون تكون
كانوا يكونوا ليس ليست هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذين اللتين اللواتي اللاتي
هو هي هم هن أنا نحن أنت انتم هما كل بعض غير بين حتى ثم أو او أم بل لكن لكنه ولكن إذا اذا
إذ اذ حيث عند عندما منذ خلال بعد قبل أمام امام فوق تحت حول ضد عبر لدى نحو أي اي أيضا أيضاً
ايضا كما مثل وفق وفقا وفقاً بحسب حسب حسبما نحو عليه عليها عليهم إليه اليه إليها اليها منه منها
منهم فيه فيها فيهم عنه عنها عنهم له لها لهم به بها بهم بأن بان لأن لان كأن كأنه أنه انه أنها
انها إنه انها أنهم انهم إنهم التى الذى اى وهو وهي وهم وقد وكان وكانت ولم ولا وما وفي ومن
وعلى والى وإلى وعن ومع وأن وان وإن وبين وحتى وقال وأضاف واضاف وأكد واكد وأوضح واوضح وأشار واشار
قال قالت يقول تقول أضاف اضاف أضافت أكد اكد أكدت أوضح اوضح أشار اشار لفت ذكر ذكرت أعلن اعلن
أعلنت تابع وتابع مضيفا مضيفاً مشيرا مشيراً موضحا موضحاً مؤكدا مؤكداً لافتا لافتاً
يتم تم سيتم وتم يجب يمكن جدا جداً فقط الآن الان اليوم امس أمس غدا غداً حاليا عاما عام العام
السبت الأحد الاحد الإثنين الاثنين الثلاثاء الأربعاء الاربعاء الخميس الجمعة صباح مساء
الماضي الماضية المقبل المقبلة الجاري الحالي الحالية الساعة الساعات يوم يومي أيام ايام
شهر أشهر اشهر سنة سنوات مرة مرات أول اول آخر اخر أخرى اخرى الأول الاول الأخير الاخير
أكثر اكثر أقل اقل كبير كبيرة كثير جديد جديدة أحد احد إحدى احدى عدد عدة بشأن بشكل بصورة
شأن حين فيما بينما لذلك ذلك وذلك هناك هنا سوف التي الذي إلا الا أما اما إما اما وأما
مصدر مصادر وكالة الأنباء الانباء أنباء صحفي صحفية تصريحات تصريح بيان خبر أخبار اخبار
"""

STOPWORDS: frozenset[str] = frozenset(normalize(word) for word in _RAW_STOPWORDS.split())
"""Normalised function words, reporting verbs and calendar words: frequent in every story."""

_RAW_DATE_WORDS = """
السبت الأحد الإثنين الاثنين الثلاثاء الأربعاء الخميس الجمعة يناير فبراير مارس أبريل إبريل
مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر كانون شباط آذار نيسان أيار حزيران تموز آب
أيلول تشرين
"""
DATE_WORDS = frozenset(normalize(word) for word in _RAW_DATE_WORDS.split())
"""Weekday and month names (normalised): with numbers, the markers of a dated fact."""

_CLITIC_PREFIXES: tuple[str, ...] = ("لل", "وب", "ول", "و", "ف", "ب", "ل")
_MIN_TERM_CHARS = 2


@cache
def document_frequencies() -> tuple[int, dict[str, int]]:
    """(documents counted, term -> documents containing it) from the bundled table."""
    path = resources.files("monitor.data").joinpath("df.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    # Interned, as the terms of ``content_terms`` are: a lookup of a term then finds the very
    # same string object and skips comparing characters (half the cost of a weight lookup).
    return int(loaded["documents"]), {sys.intern(str(k)): int(v) for k, v in loaded["df"].items()}


@cache
def _idf_table() -> tuple[dict[str, float], float]:
    documents, frequencies = document_frequencies()
    unseen = math.log((documents + 1) / 1.0)
    return {t: math.log((documents + 1) / (df + 1)) for t, df in frequencies.items()}, unseen


def idf(term: str) -> float:
    """Inverse document frequency of a normalised term (unseen terms weigh the most)."""
    table, unseen = _IDF if _IDF is not None else _load_idf()
    return table.get(term, unseen)


def idf_table() -> tuple[dict[str, float], float]:
    """(term -> IDF, the IDF of unseen terms): ``idf`` without a call per term."""
    return _IDF if _IDF is not None else _load_idf()


_IDF: tuple[dict[str, float], float] | None = None
"""``_idf_table()`` once loaded: ``idf`` runs about a million times per 6,000 articles."""


def _load_idf() -> tuple[dict[str, float], float]:
    global _IDF
    _IDF = _idf_table()
    return _IDF


def strip_clitic(token: str, known: dict[str, int] | None = None) -> str:
    """``token`` without a leading conjunction/preposition when the rest is a much commoner word.

    ``known`` (term -> document frequency) defaults to the bundled table.

    >>> strip_clitic("والحكومه"), strip_clitic("وزير")
    ('الحكومه', 'وزير')
    """
    if token[:1] not in _CLITIC_INITIALS:
        return token  # no prefix starts it (most words: ال..., م..., ت...): one probe
    definite = _definite_after_clitic(token)
    if definite:
        return definite
    vocabulary = known if known is not None else document_frequencies()[1]
    token_frequency = vocabulary.get(token, 0)
    for prefix in _CLITIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            rest = token[len(prefix) :]
            if prefix == "لل":  # للحكومه -> الحكومه
                rest = "ال" + rest
            # The bare form must be clearly the more common word: وزير is not و + زير.
            if vocabulary.get(rest, 0) >= 2 * token_frequency + 1:
                return rest
    return token


_DEFINITE_CLITICS: tuple[str, ...] = ("وبال", "فبال", "وال", "فال", "بال", "كال")
_CLITIC_INITIALS = frozenset(prefix[0] for prefix in ("لل", *_DEFINITE_CLITICS, *_CLITIC_PREFIXES))
"""The letters a prefix ``strip_clitic`` strips can start with."""
_MIN_DEFINITE_STEM = 3
"""Letters after ``ال`` for a clitic to be split off: بالون is a word, بالاقصر is ب + الاقصر."""


def _definite_after_clitic(token: str) -> str:
    """``ال...`` for a conjunction or preposition fused to a definite word (بالاقصر, للحكومه),
    else ``""``."""
    if token.startswith("لل") and len(token) - 2 >= _MIN_DEFINITE_STEM:
        return "ال" + token[2:]
    for prefix in _DEFINITE_CLITICS:
        if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_DEFINITE_STEM:
            return "ال" + token[len(prefix) :]
    return ""


_TERM_CACHE: dict[str, str] = {}
_TERM_CACHE_MAX = 500_000
_NOT_A_TERM = ""


def _term_of(token: str) -> str:
    """The term of a token, or ``_NOT_A_TERM``."""
    if len(token) < _MIN_TERM_CHARS or token in STOPWORDS or token[0].isdigit():
        return _NOT_A_TERM
    term = strip_clitic(token)
    return _NOT_A_TERM if term in STOPWORDS else sys.intern(term)


def content_terms(tokens: list[str]) -> list[str]:
    """The tokens that carry content: no stopwords, numbers or one-letter tokens."""
    remember(_TERM_CACHE, tokens, _term_of, _TERM_CACHE_MAX)
    return list(filter(None, map(_TERM_CACHE.__getitem__, tokens)))


term_hash = xxh32_intdigest
"""The 32-bit hash of a term in sentence fingerprints (``monitor.core.stories.term_hashes``)."""

NO_TERM_HASH = -1
"""``token_facts``' hash for a token that is no term (``term_hash`` is never negative)."""


def term_of(token: str) -> str:
    """The content term of one token, or ``""``: ``content_terms([token])``, through its memo
    (story analysis and novelty read the terms of the same words: worked out once)."""
    term = _TERM_CACHE.get(token)
    if term is None:
        term = recall(_TERM_CACHE, token, _term_of, _TERM_CACHE_MAX)
    return term


def token_facts(token: str) -> tuple[str, int, bool]:
    """(its content term or ``""``, the term's ``term_hash`` or ``NO_TERM_HASH``, whether it
    is a marker: a number or a ``DATE_WORDS`` word) of one token.

    >>> token_facts("والحكومه"), token_facts("في"), token_facts("يونيو")[2]
    (('الحكومه', 2336816868, False), ('', -1, False), True)
    """
    term = term_of(token)
    marker = token[0].isdigit() or token in DATE_WORDS
    return term, term_hash(term) if term else NO_TERM_HASH, marker
