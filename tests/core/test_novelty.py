from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.commands.replay import read_articles
from monitor.core import novelty
from monitor.core.arabic import normalize, tokens
from monitor.core.clean import clean_article
from monitor.core.novelty import assess_novelty, record_reported
from monitor.core.records import Rejection
from monitor.core.stories import StoryState, analyse, analyse_words, features_of, merge_article
from monitor.core.terms import term_of

STREAM_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "stream_sample.jsonl"

SETTINGS = {"reported_containment": 0.6, "development_min_score": 1.5}


def story_with(title: str, sentences: list[str]) -> StoryState:
    text = analyse(normalize(title), [normalize(s) for s in sentences])
    story = StoryState(id="s", title=title, created=0.0, updated=0.0)
    merge_article(story, features_of(text), now=0.0)
    record_reported(story, text.sentences)
    return story


def judge(story: StoryState, sentences: list[str]):  # type: ignore[no-untyped-def]
    text = analyse("", [normalize(s) for s in sentences])
    return assess_novelty(story, sentences, text.sentences, **SETTINGS)


STORY = story_with(
    "بوتين يزور كوريا الشمالية",
    [
        "أعلن الكرملين أن الرئيس الروسي فلاديمير بوتين سيزور كوريا الشمالية يومي الثلاثاء والأربعاء.",
        "وقال المستشار يوري أوشاكوف إن وثائق مهمة ستوقع خلال الزيارة.",
    ],
)


def test_restated_sentence_is_not_news() -> None:
    result = judge(STORY, ["وقال أوشاكوف إن وثائق مهمة جدا ستوقع خلال الزيارة."])
    assert not result.is_development and result.restated == 1


def test_arrival_is_a_development() -> None:
    sentence = (
        "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ وكان كيم جونغ أون في استقباله بالمطار."
    )
    result = judge(STORY, [sentence])
    assert result.is_development
    assert result.new_sentences[0].text == sentence
    assert "وصل" in result.new_sentences[0].facts["event"]


def test_off_topic_paragraph_is_never_news_of_the_story() -> None:
    sentences = [
        "وحدثت السلطات الألمانية قائمة الأسلحة المرسلة إلى أوكرانيا وتضمنت 10 دبابات.",
        "وتعد ألمانيا ثاني أكبر مورد للأسلحة إلى أوكرانيا بحجم 28 مليار يورو.",
    ]
    result = judge(STORY, sentences)
    assert not result.is_development
    assert result.off_topic == [0, 1]


def test_new_number_in_a_reported_sentence_is_an_update() -> None:
    story = story_with(
        "محاكمة شفيق في أرض الطيارين",
        [
            "قررت محكمة جنايات القاهرة برئاسة المستشار محمد عامر نظر قضية أرض الطيارين المتهم فيها شفيق."
        ],
    )
    update = "قررت محكمة جنايات القاهرة برئاسة المستشار محمد عامر حجز قضية أرض الطيارين المتهم فيها شفيق للحكم 4 مايو."
    result = judge(story, [update])
    assert [s.text for s in result.new_sentences] == [update]
    assert result.new_sentences[0].facts == {"event": ["حجز"]}  # reserved for a verdict
    assert result.is_development


def test_a_story_judges_alike_through_its_sentence_index_and_without() -> None:
    # A story gets its index of reported sentences when its second article is recorded;
    # the same story under another id has none and is read sentence by sentence.
    title, sentences = (
        "بوتين يزور كوريا الشمالية",
        [
            "أعلن الكرملين أن الرئيس الروسي فلاديمير بوتين سيزور كوريا الشمالية يومي الثلاثاء والأربعاء.",
            "وقال المستشار يوري أوشاكوف إن وثائق مهمة ستوقع خلال الزيارة.",
        ],
    )
    indexed = story_with(title, sentences[:1])
    record_reported(indexed, analyse("", [normalize(sentences[1])]).sentences)
    plain = StoryState(**{**indexed.to_dict(), "id": "another"})
    for article in (
        ["وقال أوشاكوف إن وثائق مهمة جدا ستوقع خلال الزيارة."],
        ["أعلن الكرملين أن بوتين سيزور كوريا الشمالية.", "وصل بوتين إلى بيونغ يانغ."],
    ):
        assert judge(indexed, article) == judge(plain, article)
    assert judge(indexed, [sentences[1]]).restated == 1


def test_record_reported_is_bounded() -> None:
    story = story_with("عنوان", ["جملة أولى عن الموضوع الكبير المهم جدا هنا"])
    many = analyse(
        "", [normalize(f"جملة رقم {i} عن الموضوع الكبير المهم والجديد {i}x") for i in range(600)]
    )
    record_reported(story, many.sentences)
    assert len(story.sentences) <= 400 and len(story.numbers) <= 200


def test_record_reported_moves_a_mentioned_marker_to_the_end() -> None:
    story = StoryState(id="s", title="t", created=0.0, updated=0.0, numbers=["4", "مايو", "7"])
    text = analyse("", [normalize("حجز القضية للحكم 4 مايو"), normalize("وقع الاتفاق")])
    record_reported(story, text.sentences)
    # Untouched markers first, then the article's by their last mention.
    assert story.numbers[0] == "7"
    assert story.numbers[1:3] == ["4", "مايو"]
    assert story.numbers[-1].startswith("act:")
    seen = list(story.seen_terms)
    record_reported(story, text.sentences)
    assert story.seen_terms == seen  # nothing new the second time


def _background_as_read(original: str) -> bool:
    """``novelty._is_background`` as written before its shortcut: the first tokens of the
    normalised first 40 characters."""
    first = tokens(normalize(original[:40]))
    if not first:
        return False
    if first[0] in novelty._PAST_PERFECT:
        return len(first) > 1 and first[1] not in novelty._PRESENTATIVE
    return first[0] in novelty._BACKGROUND


# Words of the background tests, their pieces, and what normalising changes or splits on:
# hamza forms, ta marbuta, diacritics, tatweel, presentation forms, digits, punctuation.
_PIECES = [
    "يذكر", "وكان", "كانت", "جدير", "تأتي", "سبق", "في", "هناك", "الشرطة", "قد", "يشار",
    "ك", "ان", "ي", "ذكر", "أ", "إ", "ة", "ى", "\u064e", "\u0651", "\u0654", "\u0640",
    "\ufefb", "\ufe8d", "\u06cc", "5", "٣", ",", "،", ".", "(", "\u00a0", "\u200c", " ", "  ",
    "x", "X", ":", "-", '"', "«", "»", "*", "؛", "ا", "ؤ", "ئ", "\u0338", "\u0653", "_",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_background_shortcut_reads_as_the_normalised_tokens(pieces: list[str]) -> None:
    original = "".join(pieces)
    novelty._is_background.cache_clear()
    assert novelty._is_background(original) == _background_as_read(original)


def test_background_first_words() -> None:
    for original, expected in [
        ("يذكر أن الشرطة ألقت القبض", True),
        ("وكانت الشرطة قد ألقت القبض", True),
        ("وكان في استقباله الرئيس", False),
        ("وتأتي الزيارة بعد أسبوع", True),
        ("يذكرون أن الشرطة", False),
        ("  يشار إلى أن", True),
        ("قال المتحدث إن الشرطة", False),
        ("ي" * 45 + " يذكر", False),
        ("«يذكر» أن", True),
        ("وكانت: في", False),
        ("أشار إلى", False),
    ]:
        novelty._is_background.cache_clear()
        assert novelty._is_background(original) is expected, original
        assert _background_as_read(original) is expected, original


@pytest.mark.parametrize(
    "raw",
    [
        novelty._RAW_DEMANDS,
        novelty._RAW_TRIED,
        novelty._RAW_RUMOURED,
        novelty._RAW_DUE,
        novelty._RAW_PROPOSED,
        novelty._RAW_ONGOING,
    ],
)
def test_every_word_of_what_is_not_done_sends_its_sentence_to_the_word_by_word_reading(
    raw: str,
) -> None:
    # The quick pattern is written by hand beside the lists: a listed word it missed would
    # leave its sentence's actions read as done.
    for word in raw.split():
        for written in (word, "و" + word):
            assert novelty._NOT_DONE_PATTERN.search(written), written


_READ_SENTENCES = [
    "ألقت الشرطة القبض على المتهم",
    "لم يتم القبض على المتهم حتى الآن",
    "رفض المصدر ذكر اسمه وقال إن الشرطة ألقت القبض على اثنين",
    "طالب المحتجون بإقالة الوزير",
    "دعا الرئيس إلى ضبط النفس بعد اعتقال 5 أشخاص",
    "لن نتفاوض مع الخاطفين",
    "أكدت السفارة عدم وجود أمريكيين بين الضحايا",
    "هدد العمال بالإضراب",
    "المتهم في قضية اقتحام السجون",
    "هل تم القبض على الجناة؟",
    "وكان قد تم اعتقاله في يناير",
    "وصل عدد القتلى إلى 20 بعد الهجوم",
]


def test_read_sentences_with_known_words_reads_as_without() -> None:
    """The prep workers hand ``read_sentences`` the tokens they have: the same reading as
    normalising and tokenising each sentence again."""
    originals = _READ_SENTENCES
    words = [tokens(normalize(original)) for original in originals]
    plain = analyse(normalize(originals[0]), [normalize(o) for o in originals[1:]])
    given_words = analyse(normalize(originals[0]), [normalize(o) for o in originals[1:]])
    novelty._asserted_in.cache_clear()
    novelty.read_sentences(originals, [plain.title, *plain.sentences])
    novelty._asserted_in.cache_clear()
    novelty.read_sentences(originals, [given_words.title, *given_words.sentences], words)
    rows = [plain.title, *plain.sentences]
    assert [(r.actions, r.background) for r in rows] == [
        (r.actions, r.background) for r in [given_words.title, *given_words.sentences]
    ]
    assert any(r.actions for r in rows) and any(r.actions == [] for r in rows)
    assert not novelty._KNOWN_WORDS  # forgotten after the call


def _stream_sample_sentences() -> list[str]:
    """The titles and sentences of the stream sample's articles, as cleaned."""
    sentences: list[str] = []
    for raw in read_articles([STREAM_SAMPLE]):
        article = clean_article(raw)
        if not isinstance(article, Rejection):
            sentences += [article.title, *article.sentences]
    return sentences


def test_read_sentences_with_known_words_and_terms_reads_as_without() -> None:
    """``read_sentences`` given each word's term too (``stories.analyse_words``: the prep
    workers' path, where the word-by-word reading skips the words that name no action, found
    in C) reads as it does from the sentences alone: every sentence of the stream sample,
    and the hand-made ones (negations, demands, refusals, questions, cases)."""
    originals = _READ_SENTENCES + _stream_sample_sentences()
    normalised = [normalize(original) for original in originals]
    words = [tokens(text) for text in normalised]
    plain = analyse(normalised[0], normalised[1:])
    given_text, terms = analyse_words(words)
    assert [list(row) for row in terms] == [[term_of(word) for word in row] for row in words]
    novelty._asserted_in.cache_clear()
    novelty.read_sentences(originals, [plain.title, *plain.sentences])
    novelty._asserted_in.cache_clear()
    novelty.read_sentences(originals, [given_text.title, *given_text.sentences], words, terms)
    rows = [plain.title, *plain.sentences]
    assert [(r.actions, r.background) for r in rows] == [
        (r.actions, r.background) for r in [given_text.title, *given_text.sentences]
    ]
    assert sum(bool(r.actions) for r in rows) > 20
    assert not novelty._KNOWN_WORDS and not novelty._KNOWN_TERMS  # forgotten after the call
    # Word by word, sentence by sentence, with and without the terms (the cache emptied).
    read_word_by_word = novelty._asserted_in.__wrapped__
    for original, row_words, row_terms in zip(originals, words, terms, strict=True):
        expected = read_word_by_word(original)
        novelty._KNOWN_WORDS[original], novelty._KNOWN_TERMS[original] = row_words, row_terms
        try:
            assert read_word_by_word(original) == expected, original
        finally:
            novelty._KNOWN_WORDS.clear()
            novelty._KNOWN_TERMS.clear()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 40), max_size=12), max_size=30),
    st.lists(st.integers(0, 45), max_size=15),
)
def test_containment_and_postings_count_as_counter_and_setdefault_did(
    sentences: list[list[int]], fingerprint: list[int]
) -> None:
    # As written before: the postings with ``setdefault``, the hits with ``Counter``.
    sentences = [sorted(set(terms)) for terms in sentences]
    wanted = set(fingerprint)
    plain: dict[int, list[int]] = {}
    for index, terms in enumerate(sentences):
        for term in wanted.intersection(terms):
            plain.setdefault(term, []).append(index)
    postings = novelty._postings(sentences, wanted)
    assert postings == plain
    hits = Counter(serial for term in fingerprint for serial in plain.get(term, ()))
    expected = max(hits.values(), default=0) / len(fingerprint) if fingerprint else 1.0
    assert novelty._containment(fingerprint, postings) == expected
    assert novelty._containment(fingerprint, plain) == expected
    index = novelty._Reported(sentences)
    assert {term: serials for term, serials in index.postings.items() if term in wanted} == plain


_NUMBERED = ["نحو", "حوالي", "قرابة", "يقرب", "من", "20", "19", "٣٠", "5.5", ",", " ", "\n", "x"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_NUMBERED), max_size=8).map("".join), max_size=6))
def test_approximate_numbers_of_the_joined_sentences_are_those_of_each(
    sentences: list[str],
) -> None:
    joined = novelty._APPROXIMATE.findall(novelty._SEPARATOR.join(sentences))
    assert joined == [n for s in sentences for n in novelty._APPROXIMATE.findall(s)]


def test_seen_set_follows_the_story_without_an_index() -> None:
    stories = [StoryState(id=f"seen{i}", title="t", created=0.0, updated=0.0) for i in range(2)]
    rows = [
        analyse("", [normalize(f"جملة رقم {i} عن الموضوع الكبير {i}x والجديد {j}y")]).sentences
        for i in range(40)
        for j in range(2)
    ]
    for number, sentences in enumerate(rows):
        story = stories[number % 3 == 0]
        novelty._REPORTED.pop(story.id, None)  # never indexed: the last story's set serves
        assert novelty._seen_set(story) == set(story.seen_terms)
        record_reported(story, sentences)
        assert novelty._seen_set(story) == set(story.seen_terms)
    assert len(stories[0].seen_terms) > 0 and len(stories[1].seen_terms) > 0


def test_a_sentence_restated_whole_is_restated_without_reading_its_facts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    told = "وصل بوتين إلى بيونغ يانغ فجر اليوم في زيارة رسمية."
    story = story_with("بوتين يزور كوريا الشمالية", [told])
    before = judge(story, [told])
    monkeypatch.setattr(novelty, "_facts", lambda *args: pytest.fail("facts read"))
    after = judge(story, [told])
    assert after == before and after.restated == 1 and not after.new_sentences


def test_record_reported_records_alike_what_a_prep_worker_read_and_what_it_did_not() -> None:
    originals = _READ_SENTENCES
    title, *body = originals
    states = []
    for read in (False, True):
        text = analyse(normalize(title), [normalize(o) for o in body])
        rows = [text.title, *text.sentences]
        if read:
            novelty.read_sentences(originals, rows)
        story = StoryState(id=f"read{read}", title="t", created=0.0, updated=0.0)
        record_reported(story, rows, originals[:-1])  # the last row without its original
        states.append((story.sentences, story.seen_terms, story.numbers))
    assert states[0] == states[1]
    assert any(number.startswith("act:") for number in states[0][2])


def test_tail_is_the_bounded_concatenation() -> None:
    """``_tail(old, new, limit)`` is ``(old + new)[-limit:]``, always a new list; the
    relevance test by ``isdisjoint`` answers as the intersection's truth."""
    import random

    from monitor.core.novelty import _tail

    rng = random.Random(18)
    for _ in range(3_000):
        old = list(range(rng.randint(0, 12)))
        new = list(range(100, 100 + rng.randint(0, 12)))
        limit = rng.randint(1, 20)
        got = _tail(old, new, limit)
        assert got == (old + new)[-limit:]
        assert got is not old and got is not new
        # ``assess_novelty``'s relevance test: ``isdisjoint`` for the intersection's truth.
        core, entities = set(rng.sample(range(8), rng.randint(0, 4))), old[: rng.randint(0, 6)]
        assert (not core.isdisjoint(entities)) is bool(core.intersection(entities))
