"""People, places and organisations named in normalised Arabic text.

Two sources, both working on the tokens of ``monitor.core.arabic.normalize``d text (never
stemmed):

* a hand-made gazetteer (``monitor/data/gazetteer.txt``: countries, capitals and cities,
  Arab and world leaders and officials, organisations and agencies, with spelling variants
  such as ``بيونغ يانغ``/``بيونج يانج``), including adjectives of place (``الروسي``,
  ``الكوري الشمالي``) that name their country. A leading clitic (``و ب ل ف ال`` and their
  combinations) is stripped from a token only when the rest starts a gazetteer entry, so
  ``لبوتين`` is Putin but ``بوت`` never is.
* patterns: a title (``الرءيس``, ``وزير``, ``المتحدث باسم``, ``الزعيم``, ``رءيس الوزراء``,
  ...) followed, after its portfolio or country (``وزير الخارجيه``, ``الرءيس الروسي``), by one
  or two name tokens; an institution word (``وزاره``, ``وكاله``, ``مجلس``, ``حزب``, ...)
  followed by what it is of (``مجلس الشوري``, ``نقابه الصحفيين``).

An entity is a key ``KIND:name`` (KIND is PER, LOC or ORG; name is the normalised display
name), so variants of one gazetteer entry share a key.

>>> from monitor.core.arabic import normalize, tokens
>>> extract_entities(tokens(normalize("وصل الرئيس الروسي فلاديمير بوتين إلى بيونج يانج")))
['LOC:روسيا', 'PER:فلاديمير بوتين', 'LOC:بيونغ يانغ']
>>> extract_entities(tokens(normalize("استقبل كيم جونج اون لبوتين")))
['PER:كيم جونغ اون', 'PER:فلاديمير بوتين']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import chain, compress
from operator import not_
from typing import Final, cast

from monitor.core.arabic import normalize, tokens
from monitor.core.counts import can_start_count
from monitor.core.fingerprint import word_hash
from monitor.core.memo import recall, remember
from monitor.core.terms import STOPWORDS, document_frequencies, idf, strip_clitic, token_facts

__all__ = [
    "FactColumns",
    "Gazetteer",
    "WordFacts",
    "entities_at",
    "entity_name",
    "entity_weight",
    "extract_entities",
    "fact_columns",
    "load_gazetteer",
    "word_facts",
]

_CLITICS: tuple[str, ...] = (
    "وبال",
    "وال",
    "بال",
    "فال",
    "لل",
    "ال",
    "وب",
    "ول",
    "و",
    "ف",
    "ب",
    "ل",
)
_MAX_NAME_TOKENS = 2
_MAX_SKIPPED = 3
# A name token this frequent in the news is an ordinary word, not a name.
_COMMON_WORD_SHARE = 0.02

_RAW_TITLES = """
الرئيس رئيس الوزير وزير وزيرة الزعيم المتحدث الناطق المستشار السفير اللواء العميد الفريق
المشير الدكتور المهندس الشيخ النائب المرشد القيادي الأمين الملك الأمير العاهل المبعوث
المندوب المحافظ محافظ المستشارة الناشط الناشطة المعارض الداعية الكاتب الإعلامي القاضي
المستشار الحاكم المدير مدير رئيسة السيناتور الجنرال
"""
_RAW_INSTITUTIONS = """
وزارة وكالة مجلس هيئة حزب حركة جبهة جامعة محكمة نقابة اتحاد منظمة لجنة جماعة شركة بنك
مستشفى جمعية مؤسسة صندوق مصلحة جهاز قوات مديرية محافظة نيابة مركز ائتلاف تيار تحالف
"""
_RAW_TITLE_LINKS = "باسم العام الرسمي الأعلى الأول السابق الأسبق الحالي للشؤون لشؤون شؤون أركان"


def _normalized_set(raw: str) -> frozenset[str]:
    return frozenset(normalize(word) for word in raw.split())


_TITLES = _normalized_set(_RAW_TITLES)
_INSTITUTIONS = _normalized_set(_RAW_INSTITUTIONS)
_TITLE_LINKS = _normalized_set(_RAW_TITLE_LINKS)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Token sequences indexed by their first token: first -> [(rest, key)], longest first."""

    by_first: dict[str, list[tuple[tuple[str, ...], str]]]
    weights: dict[str, float]

    def starts(self, token: str) -> bool:
        return token in self.by_first


@cache
def load_gazetteer() -> Gazetteer:
    """The bundled gazetteer, normalised with the same function as the articles."""
    text = resources.files("monitor.data").joinpath("gazetteer.txt").read_text(encoding="utf-8")
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    weights: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, display, *variants = line.split("|")
        key = f"{'LOC' if kind == 'NISBA' else kind}:{normalize(display)}"
        for variant in {display, *variants}:
            variant_tokens = tuple(tokens(normalize(variant)))
            if not variant_tokens:
                continue
            entries = by_first.setdefault(variant_tokens[0], [])
            if (variant_tokens[1:], key) not in entries:
                entries.append((variant_tokens[1:], key))
        weights[key] = _name_weight(key)
    for entries in by_first.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return Gazetteer(by_first, weights)


def _name_weight(key: str) -> float:
    return max((idf(token) for token in entity_name(key).split()), default=1.0)


def entity_name(key: str) -> str:
    """The normalised name of an entity key: ``entity_name('PER:بوتين') == 'بوتين'``."""
    return key.partition(":")[2]


def entity_weight(key: str) -> float:
    """How telling it is that two texts name this entity (rarer names tell more)."""
    gazetteer = load_gazetteer()
    weight = gazetteer.weights.get(key)
    return weight if weight is not None else _name_weight(key)


def _match_gazetteer(gazetteer: Gazetteer, words: list[str], start: int) -> tuple[str, int] | None:
    """(entity key, tokens consumed) of the longest entry starting at ``words[start]``."""
    word = words[start]
    for candidate in _heads(word):
        # A person's name takes no article: الكاميرون is Cameroon, not Mr Cameron.
        definite = candidate != word and candidate[:2] != "ال" and "ال" + candidate in word
        for rest, key in gazetteer.by_first[candidate]:
            if definite and key[:4] == "PER:":
                continue
            end = start + 1 + len(rest)
            if tuple(words[start + 1 : end]) == rest:
                return key, 1 + len(rest)
    return None


_START_CACHE: dict[str, bool] = {}
_START_CACHE_MAX = 500_000


def _can_start(word: str) -> bool:
    # Most words are no form of a gazetteer entry's first token: one set probe, and no
    # entry in ``_heads``' cache for them.
    return (
        (word in _head_forms() and bool(_heads(word))) or word in _TITLES or word in _INSTITUTIONS
    )


def _starts(words: list[str]) -> list[int]:
    """Indexes of the words that can start an entity."""
    remember(_START_CACHE, words, _can_start, _START_CACHE_MAX)
    return list(compress(range(len(words)), map(_START_CACHE.__getitem__, words)))


WordFacts = tuple[str, int, bool, bool, bool, int]
"""``token_facts`` (term, term hash, marker), whether the word can start an entity,
whether it can start a count (``counts.can_start_count``) and the word's own hash in
fingerprints (``fingerprint.word_hash``: a prep worker takes it from here, not hashing the
word again)."""

_FACTS: dict[str, WordFacts] = {}
_FACTS_MAX = 500_000


def word_facts(words: list[str]) -> list[WordFacts]:
    """``WordFacts`` of each word: what story analysis needs of a word, in one lookup.

    An article's words looked up together cost one probe of one table each (the table holds
    every word seen, up to ``_FACTS_MAX``), where separate term, marker and entity caches
    cost several: the probes of a large table are what analysis spends its time on.
    """
    found = list(map(_FACTS.get, words))
    if all(found):  # every word known (a fact tuple is never empty; None is falsy)
        return cast("list[WordFacts]", found)
    # The words not known yet, worked out in place (a word twice in ``words`` once).
    for index in compress(range(len(found)), map(not_, found)):
        found[index] = recall(_FACTS, words[index], _word_facts, _FACTS_MAX)
    return cast("list[WordFacts]", found)


FactColumns = tuple[
    tuple[str, ...], tuple[int, ...], tuple[bool, ...], tuple[bool, ...], tuple[bool, ...],
    tuple[int, ...],
]  # fmt: skip
"""``WordFacts`` of many words as one column per fact (``fact_columns``)."""
WORD_HASH_COLUMN: Final = 5
"""The column of ``FactColumns`` holding each word's ``fingerprint.word_hash``."""
_NO_FACTS: FactColumns = ((), (), (), (), (), ())


def fact_columns(facts: list[WordFacts]) -> FactColumns:
    """``facts`` turned into one column per fact (one C call, no per-word ``itemgetter``)."""
    return tuple(zip(*facts, strict=True)) if facts else _NO_FACTS  # type: ignore[return-value]


def _word_facts(word: str) -> WordFacts:
    return (*token_facts(word), _can_start(word), can_start_count(word), word_hash(word))


@lru_cache(maxsize=500_000)
def _heads(token: str) -> tuple[str, ...]:
    """Forms of ``token`` (as is, without a clitic) that start a gazetteer entry."""
    if token not in _head_forms():
        return ()  # no form of it can (most words: one probe instead of a clitic each)
    gazetteer = load_gazetteer()
    candidates = [token]
    for clitic in _CLITICS:
        if token.startswith(clitic) and len(token) - len(clitic) >= 2:
            rest = token[len(clitic) :]
            candidates.append(rest)
            if clitic.endswith("ل") and clitic != "ال":  # للكرملين -> الكرملين
                candidates.append("ال" + rest)
    return tuple(c for c in candidates if c in gazetteer.by_first)


@cache
def _head_forms() -> frozenset[str]:
    """Every token ``_heads`` can find a form of in the gazetteer: an entry's first token,
    behind each clitic, and behind a clitic ending in ل without its ال (للكرملين)."""
    firsts = load_gazetteer().by_first
    return frozenset(
        chain(
            firsts,
            (clitic + first for clitic in _CLITICS for first in firsts),
            (
                clitic + first[2:]
                for clitic in _CLITICS
                if clitic.endswith("ل") and clitic != "ال"
                for first in firsts
                if first.startswith("ال")
            ),
        )
    )


def _is_common(token: str, frequencies: dict[str, int], documents: int) -> bool:
    return frequencies.get(token, 0) > _COMMON_WORD_SHARE * documents


def _name_after(
    words: list[str], start: int, frequencies: dict[str, int], documents: int
) -> tuple[list[str], int]:
    """Name tokens after a title at ``start`` (skipping portfolio and country), and the end."""
    index = start
    skipped = 0
    while index < len(words) and skipped < _MAX_SKIPPED:
        word = words[index]
        if word in STOPWORDS and word not in _TITLE_LINKS:
            break  # الي (إلى), التي, الذي: no portfolio or country, whatever their letters
        if word in _TITLE_LINKS or word.startswith("ال") or word in _TITLES:
            index += 1
            skipped += 1
            if word == "باسم" and index < len(words):  # المتحدث باسم الكرملين
                index += 1
            continue
        break
    name: list[str] = []
    while index < len(words) and len(name) < _MAX_NAME_TOKENS:
        word = words[index]
        if (
            word in STOPWORDS
            or word[0].isdigit()
            or len(word) < 3
            or word in _TITLES
            or word in _INSTITUTIONS
            or (not name and word.startswith("ال"))
            or _is_common(word, frequencies, documents)
            or strip_clitic(word, frequencies) != word  # ويتم: a conjunction, not a name
        ):
            break
        name.append(word)
        index += 1
    return name, index


def extract_entities(words: list[str]) -> list[str]:
    """Entity keys named in normalised ``words`` (tokens), in order of appearance.

    The same entity named twice appears twice (callers count mentions).
    """
    return entities_at(words, _starts(words))


def entities_at(words: list[str], starts: list[int]) -> list[str]:
    """``extract_entities(words)`` given the indexes of the words that can start an entity
    (``WordFacts``)."""
    if not starts:
        return []
    gazetteer = load_gazetteer()
    documents, frequencies = document_frequencies()
    found: list[str] = []
    length = len(words)
    taken_until = 0  # tokens before this belong to an entity already found
    name_start = name_end = -1  # tokens taken as a pattern name
    # Only a token that starts an entry, or a title or institution word, starts an entity.
    for index in starts:
        if index < taken_until or name_start <= index < name_end:
            continue
        word = words[index]
        matched = _match_gazetteer(gazetteer, words, index) if _heads(word) else None
        if matched is not None:
            found.append(matched[0])
            taken_until = index + matched[1]
        elif word in _TITLES:
            name, end = _name_after(words, index + 1, frequencies, documents)
            # A known name is left to the gazetteer; the portfolio or country between the
            # title and the name is still scanned (الرءيس الروسي -> Russia).
            if name and _match_gazetteer(gazetteer, words, end - len(name)) is None:
                found.append("PER:" + " ".join(name))
                name_start, name_end = end - len(name), end
        elif word in _INSTITUTIONS and index + 1 < length:
            following = words[index + 1]
            if following not in STOPWORDS and not following[0].isdigit():
                parts = [word, following]
                if index + 2 < length and words[index + 2].startswith("ال"):
                    parts.append(words[index + 2])
                found.append("ORG:" + " ".join(parts))
                taken_until = index + len(parts)
    return found
