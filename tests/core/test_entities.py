from __future__ import annotations

from monitor.core.arabic import normalize, tokens
from monitor.core.entities import entity_weight, extract_entities


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
