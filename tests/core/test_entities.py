from __future__ import annotations

from monitor.core.arabic import normalize, tokens
from monitor.core.entities import entities_at, entity_weight, extract_entities, word_facts
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


def test_conjunction_after_a_title_is_not_a_name() -> None:
    assert not any(key.startswith("PER:ويتم") for key in entities("الزعيم الكوري ويتم الاستعداد"))


def test_institution_pattern() -> None:
    assert entities("أعلنت نقابة الصحفيين") == ["ORG:نقابه الصحفيين"]


def test_rare_names_weigh_more_than_common_places() -> None:
    assert entity_weight("LOC:بيونغ يانغ") > entity_weight("LOC:مصر")


def test_word_facts_give_the_same_entities_terms_and_markers() -> None:
    texts = ["وصل الرئيس الروسي فلاديمير بوتين يوم 18 يونيو", "", "قال وزير الخارجية سامح شكري"]
    for words in (tokens(normalize(text)) for text in texts):
        facts = word_facts(words)
        starts = [index for index, fact in enumerate(facts) if fact[3]]
        assert entities_at(words, starts) == extract_entities(words)
        assert [fact[0] for fact in facts if fact[0]] == content_terms(words)
        markers = [word for word in words if word[0].isdigit() or word in DATE_WORDS]
        assert [word for word, fact in zip(words, facts, strict=True) if fact[2]] == markers


def test_a_surname_with_the_article_is_no_person() -> None:
    # كاميرون is a listed surname; الكاميرون is the country.
    assert entities("خطف سبعة سياح في الكاميرون") == []
    assert entities("وقال كاميرون") == ["PER:ديفيد كاميرون"]
