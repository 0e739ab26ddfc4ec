from __future__ import annotations

from itertools import islice

import xxhash

from monitor.core import counts as count_module
from monitor.core import entities as entities_module
from monitor.core import terms
from monitor.core.arabic import normalize, tokens
from monitor.core.counts import count_markers, count_markers_at
from monitor.core.entities import (
    entities_at,
    entity_weight,
    extract_entities,
    load_gazetteer,
    word_facts,
)
from monitor.core.terms import DATE_WORDS, content_terms


def entities(text: str) -> list[str]:
    return extract_entities(tokens(normalize(text)))


def test_spelling_variants_share_one_key() -> None:
    assert entities("بيونغ يانغ") == entities("بيونج يانج") == ["LOC:بيونغ يانغ"]
    assert entities("كيم جونغ أون") == entities("كيم جونج اون")


def test_clitics_are_stripped_only_before_a_gazetteer_entry() -> None:
    assert entities("وصل لبوتين وبالكرملين") == ["PER:فلاديمير بوتين", "ORG:الكرملين"]
    assert entities("بوت المحادثة") == []  # a stemmer's بوتين -> بوت never happens here


def test_nisba_adjectives_name_their_country() -> None:
    assert entities("الزعيم الكوري الشمالي") == ["LOC:كوريا الشماليه"]
    assert "LOC:روسيا" in entities("قال الرئيس الروسي")


def test_title_pattern_finds_unknown_people() -> None:
    found = entities("وقال المتحدث باسم الخارجية الأمريكية باتريك فينتريل إن")
    assert "PER:باتريك فينتريل" in found
    assert "LOC:الولايات المتحده" in found


def test_a_preposition_after_a_title_ends_the_search_for_a_name() -> None:
    # إلى normalises to الي, which has the article's letters but is no portfolio (الوزير
    # الخارجية) to skip: the word after it is no name.
    assert entities("ولفت الوزير إلى توجه فريق طبي إلى المستشفى") == []


def test_a_portfolio_of_affairs_or_staff_is_part_of_the_title() -> None:
    assert entities("وقال وزير شؤون الأسرى عيسى قراقع إن") == ["PER:عيسي قراقع"]


def test_conjunction_after_a_title_is_not_a_name() -> None:
    assert not any(key.startswith("PER:ويتم") for key in entities("الزعيم الكوري ويتم الاستعداد"))


def test_a_name_that_is_a_common_word_needs_its_qualifier() -> None:
    # فتح is the Palestinian movement only as حركة فتح; alone it is «opened» (فتح الطريق).
    assert entities("أعاد الأمن فتح الطريق أمام السيارات") == []
    assert entities("قالت حركة فتح في بيان") == ["ORG:حركه فتح"]


def test_institution_pattern() -> None:
    assert entities("أعلنت نقابة الصحفيين") == ["ORG:نقابه الصحفيين"]


def test_rare_names_weigh_more_than_common_places() -> None:
    assert entity_weight("LOC:بيونغ يانغ") > entity_weight("LOC:مصر")


def test_word_facts_give_the_same_entities_terms_and_markers() -> None:
    texts = [
        "وصل الرئيس الروسي فلاديمير بوتين يوم 18 يونيو",
        "",
        "قال وزير الخارجية سامح شكري",
        "مصرع 18 سائحا وإصابة ستة آخرين",
        "إصابة ضابط و4 مجندين ومصرع أربعة عشر شخصا وثلاثة آخرين",
        "سداد المبلغ البالغ قيمته 10 ملايين في عام 2013",
    ]
    for words in (tokens(normalize(text)) for text in texts):
        facts = word_facts(words)
        starts = [index for index, fact in enumerate(facts) if fact[3]]
        assert entities_at(words, starts) == extract_entities(words)
        count_starts = [index for index, fact in enumerate(facts) if fact[4]]
        assert count_markers_at(words, count_starts) == count_markers(words)
        assert [fact[0] for fact in facts if fact[0]] == content_terms(words)
        markers = [word for word in words if word[0].isdigit() or word in DATE_WORDS]
        assert [word for word, fact in zip(words, facts, strict=True) if fact[2]] == markers


def test_a_surname_with_the_article_is_no_person() -> None:
    # كاميرون is a listed surname; الكاميرون is the country.
    assert entities("خطف سبعة سياح في الكاميرون") == []
    assert entities("وقال كاميرون") == ["PER:ديفيد كاميرون"]


def _heads_in_full(token: str) -> tuple[str, ...]:
    """``entities_module._heads`` without its shortcut (``_head_forms``): each clitic tried."""
    gazetteer = load_gazetteer()
    candidates = [token]
    for clitic in entities_module._CLITICS:
        if token.startswith(clitic) and len(token) - len(clitic) >= 2:
            rest = token[len(clitic) :]
            candidates.append(rest)
            if clitic.endswith("ل") and clitic != "ال":
                candidates.append("ال" + rest)
    return tuple(c for c in candidates if c in gazetteer.by_first)


def _strip_clitic_in_full(token: str) -> str:
    """``terms.strip_clitic`` without its shortcut (``_CLITIC_INITIALS``)."""
    definite = terms._definite_after_clitic(token)
    if definite:
        return definite
    vocabulary = terms.document_frequencies()[1]
    token_frequency = vocabulary.get(token, 0)
    for prefix in terms._CLITIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            rest = token[len(prefix) :]
            if prefix == "لل":
                rest = "ال" + rest
            if vocabulary.get(rest, 0) >= 2 * token_frequency + 1:
                return rest
    return token


def _clitic_words() -> list[str]:
    """Gazetteer first tokens and common words, bare, cut and behind every clitic."""
    firsts = list(load_gazetteer().by_first)
    common = list(islice(terms.document_frequencies()[1], 3000))
    stems = [*firsts, *(word[2:] for word in firsts), *common, "", "ل", "ال", "كالعاده"]
    prefixes = [
        "",
        *entities_module._CLITICS,
        *terms._CLITIC_PREFIXES,
        *terms._DEFINITE_CLITICS,
        "ك",
    ]
    return [prefix + stem for prefix in dict.fromkeys(prefixes) for stem in stems]


def test_shortcuts_of_heads_and_strip_clitic_answer_as_in_full() -> None:
    entities_module._heads.cache_clear()
    words = _clitic_words()
    assert [entities_module._heads(word) for word in words] == [_heads_in_full(w) for w in words]
    assert sum(map(bool, map(entities_module._heads, words))) > 1000  # the shortcut's "maybe" side
    common = words[: len(words) // 2]  # strip_clitic reads the vocabulary: fewer words
    assert [terms.strip_clitic(w) for w in common] == [_strip_clitic_in_full(w) for w in common]


def test_term_of_is_content_terms_of_the_word_alone() -> None:
    words = [*_clitic_words()[::7], "في", "5", "و", "", "يونيو", "والحكومه"]
    expected = [(content_terms([word]) or [""])[0] for word in words if word]
    terms._TERM_CACHE.clear()  # worked out by term_of first, then read from the memo
    assert [terms.term_of(word) for word in words if word] == expected
    assert [terms.term_of(word) for word in words if word] == expected


def test_word_facts_are_token_facts_and_starts_with_fresh_or_full_tables() -> None:
    """A new word's facts worked out in one call (``_word_facts``, ``_can_start``'s probe of
    the head forms first) equal the straightforward ones; the table, emptied when full,
    answers the same."""
    words = [*_clitic_words()[::5], "في", "5", "و", "يونيو", "والحكومه", "الرءيس", "وزير"]
    expected = [
        (
            *terms.token_facts(word),
            bool(entities_module._heads(word))
            or word in entities_module._TITLES
            or word in entities_module._INSTITUTIONS,
            word[:1].isdigit() or word in count_module._NUMBER_FORMS,
            xxhash.xxh3_64_intdigest(word),  # its fingerprint hash
        )
        for word in words
        if word
    ]
    present = [word for word in words if word]
    entities_module._FACTS.clear()
    terms._TERM_CACHE.clear()
    entities_module._heads.cache_clear()
    assert word_facts(present) == expected  # learnt
    assert word_facts(present) == expected  # known
    assert word_facts([*present[:50], *present[:50]]) == expected[:50] * 2  # a word twice
    limit = entities_module._FACTS_MAX
    try:
        entities_module._FACTS_MAX = 120  # the table is emptied before it would pass this
        entities_module._FACTS.clear()
        for start in range(0, len(present), 100):
            assert word_facts(present[start : start + 100]) == expected[start : start + 100]
            assert len(entities_module._FACTS) <= 120
    finally:
        entities_module._FACTS_MAX = limit
        entities_module._FACTS.clear()
