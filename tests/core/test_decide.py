from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.core.arabic import normalize
from monitor.core.decide import (
    Candidate,
    choose_story,
    conclude,
    decide_copy,
    decide_duplicate,
    decide_story,
    rejected_decision,
    story_id_for,
)
from monitor.core.records import CleanArticle, FingerprintedArticle, Rejection
from monitor.core.stories import article_features
from monitor.settings import StorySettings

SETTINGS = StorySettings()
DAY = 86_400.0


def article(article_id: str, title: str, sentences: list[str], day: float = 0.0) -> CleanArticle:
    return CleanArticle(
        id=article_id,
        outlet=f"outlet-{article_id}",
        title=title,
        paragraphs=sentences,
        sentences=sentences,
        match_title=normalize(title),
        match_sentences=[normalize(s) for s in sentences],
        match_text=normalize(" ".join(sentences)),
        language="ar",
        content_hash=article_id,
        published=datetime.fromtimestamp(day * DAY, UTC),
    )


FIRST = article(
    "a1",
    "بوتين يقبل دعوة كيم لزيارة كوريا الشمالية",
    [
        "أكد الكرملين أن الرئيس الروسي فلاديمير بوتين قبل دعوة من الزعيم كيم جونغ أون لزيارة كوريا الشمالية."
    ],
)
LATER = article(
    "a2",
    "بوتين يصل إلى كوريا الشمالية ويلتقي كيم",
    [
        "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ حيث استقبله الزعيم كيم جونغ أون في زيارة إلى كوريا الشمالية."
    ],
    day=277,
)


def decide(  # type: ignore[no-untyped-def]
    item: CleanArticle,
    candidates: list[Candidate],
    day: float,
    settings: StorySettings = SETTINGS,
):
    features = article_features(item.match_title, item.match_sentences)
    return decide_story(
        FingerprintedArticle(article=item, kind="new"),
        features,
        candidates,
        now=day * DAY,
        settings=settings,
    )


def test_first_article_starts_a_story_with_an_alert() -> None:
    outcome = decide(FIRST, [], 0)
    assert outcome.created and outcome.decision.decision == "new_story"
    assert outcome.decision.story == story_id_for("a1")
    assert outcome.alert is not None and outcome.alert.kind == "new_story"
    assert outcome.alert.sources[0].outlet == "outlet-a1"


def test_dormant_story_clearly_continued_is_resumed() -> None:
    first = decide(FIRST, [], 0)
    assert first.story is not None
    outcome = decide(LATER, [Candidate(first.story, closed=True)], 277)
    assert outcome.decision.story == first.story.id
    assert outcome.decision.reasons["resumed"]["idle_days"] == 277
    assert outcome.decision.decision == "development"
    assert outcome.alert is not None and {s.outlet for s in outcome.alert.sources} == {
        "outlet-a1",
        "outlet-a2",
    }


def test_dormant_story_not_clearly_continued_is_not_resumed() -> None:
    first = decide(FIRST, [], 0)
    assert first.story is not None
    unrelated = article(
        "a3", "الأهلي يفوز على الزمالك", ["فاز الأهلي على الزمالك في نهائي كأس مصر."], 277
    )
    outcome = decide(unrelated, [Candidate(first.story, closed=True)], 277)
    assert outcome.decision.decision == "new_story" and "resumed" not in outcome.decision.reasons


def test_duplicate_names_the_story_and_adds_the_outlet() -> None:
    first = decide(FIRST, [], 0)
    copy = article("a4", FIRST.title, FIRST.sentences)
    item = FingerprintedArticle(article=copy, kind="reprint", matched_id="a1", matched_outlet="x")
    outcome = decide_duplicate(item, first.story)
    assert outcome.decision.decision == "duplicate" and outcome.alert is None
    assert outcome.decision.story == story_id_for("a1")
    assert outcome.story is not None and "outlet-a4" in {s["outlet"] for s in outcome.story.sources}


def test_rejection_becomes_a_decision() -> None:
    decision = rejected_decision(Rejection(id="r", outlet="o", stage="clean", reason="empty"))
    assert decision.decision == "rejected" and decision.reasons["reason"] == "empty"


def test_revision_joins_the_story_of_the_article_it_revises() -> None:
    first = decide(FIRST, [], 0)
    story = first.story
    assert story is not None
    story_id = story.id
    revision = article(
        "a5",
        "تحديث: بوتين يصل إلى كوريا الشمالية",
        ["أعلن الكرملين أن بوتين وصل إلى كوريا الشمالية في زيارة بدعوة من كيم."],
        day=1,
    )
    item = FingerprintedArticle(article=revision, kind="revision", matched_id="a1")
    features = article_features(revision.match_title, revision.match_sentences)
    choice = choose_story(item, features, [], now=DAY, settings=SETTINGS, revised=story)
    assert choice.story is story and choice.reasons["revision_of"] == "a1"
    outcome = conclude(item, features, choice, now=DAY, settings=SETTINGS)
    assert outcome.decision.story == story_id
    assert outcome.decision.decision == "development"  # the arrival: a new event


def test_an_article_that_links_two_open_stories_merges_them() -> None:
    first = decide_story(
        FingerprintedArticle(article=FIRST, kind="new"),
        article_features(FIRST.match_title, FIRST.match_sentences),
        [],
        now=0.0,
        settings=SETTINGS,
    )
    second_article = LATER
    second = decide_story(
        FingerprintedArticle(article=second_article, kind="new"),
        article_features(second_article.match_title, second_article.match_sentences),
        [],  # two fragments of one story, started apart
        now=0.1 * DAY,
        settings=SETTINGS,
    )
    bridge = article("c1", FIRST.title, [*FIRST.sentences, *LATER.sentences], 0.2)
    item = FingerprintedArticle(article=bridge, kind="new")
    features = article_features(bridge.match_title, bridge.match_sentences)
    candidates = [Candidate(first.story, closed=False), Candidate(second.story, closed=False)]  # type: ignore[arg-type]
    merging = StorySettings(same_story_threshold=0.2, merge_threshold=0.2)
    choice = choose_story(item, features, candidates, now=0.2 * DAY, settings=merging)
    assert choice.absorbed is not None and choice.story is not None
    assert {choice.story.id, choice.absorbed.id} == {first.story.id, second.story.id}  # type: ignore[union-attr]
    outcome = conclude(item, features, choice, now=0.2 * DAY, settings=merging)
    assert outcome.absorbed is choice.absorbed and outcome.absorbed.merged_into == choice.story.id
    assert outcome.decision.reasons["merged"]["into"] == choice.story.id
    assert choice.story.articles == 3  # both fragments and the bridging article
    assert outcome.decision.story == choice.story.id


def test_only_a_closely_joined_article_becomes_an_anchor_of_its_story() -> None:
    # A weakly joined article is a member but later articles are not compared with it:
    # through such links a story chains to everything about its place or kind of event.
    joined_sketches = {}
    for anchor_threshold in (0.0, 1.0):
        settings = StorySettings(anchor_threshold=anchor_threshold)
        first = decide(FIRST, [], 0)
        assert first.story is not None and len(first.story.sketches) == 1
        later = article("a5", LATER.title, LATER.sentences)
        outcome = decide(later, [Candidate(first.story, closed=False)], 0, settings)
        assert outcome.decision.story == first.story.id
        joined_sketches[anchor_threshold] = len(first.story.sketches)
    assert joined_sketches == {0.0: 2, 1.0: 1}


@pytest.mark.parametrize("kind", ["new", "revision"])
def test_an_article_whose_headline_shares_nothing_with_the_story_needs_more_to_join(
    kind: str,
) -> None:
    # The same report under a headline that names nothing of the story's headline; a
    # revision (the outlet's page rewritten, or its address reused) as much as a new article.
    other = article("a6", "تصريحات جديدة في موسكو", LATER.sentences)
    decided = {}
    for untitled_threshold in (0.0, 1.0):
        first = decide(FIRST, [], 0)
        assert first.story is not None
        item = FingerprintedArticle(article=other, kind=kind, matched_id="a1")  # type: ignore[arg-type]
        features = article_features(other.match_title, other.match_sentences)
        settings = StorySettings(untitled_threshold=untitled_threshold, body_alone=1.0)
        choice = choose_story(
            item,
            features,
            [] if kind == "revision" else [Candidate(first.story, closed=False)],
            now=0.0,
            settings=settings,
            revised=first.story if kind == "revision" else None,
        )
        outcome = conclude(item, features, choice, now=0.0, settings=settings)
        similarity = outcome.decision.reasons.get("best") or outcome.decision.reasons.get(
            "revised_similarity"
        )
        assert similarity is not None and similarity["title"] == 0.0
        decided[untitled_threshold] = outcome.decision.decision
    assert decided[0.0] != "new_story" and decided[1.0] == "new_story"


def test_a_body_close_enough_needs_no_headline_in_common() -> None:
    # A reaction or a follow-up titled in its own words: the same report under a headline
    # that names nothing of the story's joins when its body is as close as body_alone.
    other = article("a6", "تصريحات جديدة في موسكو", LATER.sentences)
    decided = {}
    for body_alone in (SETTINGS.body_alone, 1.0):
        settings = StorySettings(untitled_threshold=1.0, body_alone=body_alone)
        first = decide(FIRST, [], 0, settings)
        assert first.story is not None
        outcome = decide(other, [Candidate(first.story, closed=False)], 0, settings)
        best = outcome.decision.reasons["best"]
        assert best["title"] == 0.0 and best["body"] >= SETTINGS.body_alone
        decided[body_alone] = outcome.decision.story == first.story.id
    assert decided == {SETTINGS.body_alone: True, 1.0: False}


def test_an_article_sharing_only_its_headline_with_the_story_needs_more_to_join() -> None:
    # A byline or a dateline for a headline («الرياض - أ ش أ») is the same on unrelated
    # reports: a headline shared without the text is no story shared.
    byline = "الرياض - أ ش أ"
    irrigation = [
        "وافقت وزارة الري على صرف تعويضات للمزارعين المتضررين من مشروعات الصرف المغطى.",
        "وقال رئيس هيئة مشروعات الصرف إن التعويضات تشمل المحاصيل التالفة في ثلاث محافظات.",
        "وأضاف أن الهيئة تنفذ شبكات جديدة للصرف المغطى في أراضي الدلتا هذا العام.",
        "وأشار إلى أن صرف التعويضات يبدأ خلال أسبوعين بعد حصر المساحات المتضررة.",
    ]
    football = [
        "فاز فريق الزمالك على المقاولون العرب بهدفين في الدوري الممتاز لكرة القدم.",
        "وسجل مهاجم الفريق الهدف الأول في الشوط الأول من ضربة رأس.",
        "وأضاف لاعب الوسط الهدف الثاني قبل نهاية المباراة بعشر دقائق.",
        "وبهذا الفوز يتصدر الزمالك مجموعته في المسابقة برصيد خمس عشرة نقطة.",
    ]
    first = article("b1", byline, irrigation)
    other = article("b2", byline, football)
    decided = {}
    for floors in (0.0, SETTINGS.body_floor):
        settings = StorySettings(body_floor=floors, nearest_floor=floors and SETTINGS.nearest_floor)
        story = decide(first, [], 0, settings).story
        assert story is not None
        outcome = decide(other, [Candidate(story, closed=False)], 0, settings)
        best = outcome.decision.reasons["best"]
        assert best["title"] == 1.0
        assert best["body"] < SETTINGS.body_floor and best["nearest"] < SETTINGS.nearest_floor
        decided[floors] = outcome.decision.decision
    assert decided[0.0] != "new_story" and decided[SETTINGS.body_floor] == "new_story"
    # The new story says why the one it nearly joined was not joined.
    assert outcome.decision.reasons["why_not_joined"].startswith("the headline is all it shares")


def test_what_a_copy_adds_without_news_is_reported_all_the_same() -> None:
    # A wire copy adds, deep in its text, that a committee was formed: too deep to make the
    # copy news, but reported; an article leading with it later is no development.
    committee = "وأعلن الكرملين تشكيل لجنة لتنظيم زيارة بوتين إلى كوريا الشمالية."
    later = article("a9", "الكرملين يشكل لجنة لزيارة بوتين كوريا الشمالية", [committee])
    decided = {}
    for copied in (False, True):
        first = decide(LATER, [], 0)
        assert first.story is not None
        if copied:
            sentences = [*LATER.sentences, *FIRST.sentences, committee]
            copy = article("a8", LATER.title, sentences)
            outcome = decide_copy(
                FingerprintedArticle(article=copy, kind="reprint", matched_id="a2", overlap=0.7),
                article_features(copy.match_title, copy.match_sentences),
                first.story,
                now=0.0,
                settings=SETTINGS,
            )
            assert outcome.decision.decision == "duplicate"
        decided[copied] = decide(later, [Candidate(first.story, closed=False)], 0)
    assert decided[False].decision.decision == "development"
    assert decided[True].decision.decision == "no_news"


def test_an_alert_lists_the_new_body_sentences_under_its_headline() -> None:
    # The headline is shown with the alert already; its body sentence tells the news in full.
    first = decide(FIRST, [], 0)
    assert first.story is not None
    outcome = decide(LATER, [Candidate(first.story, closed=False)], 0)
    assert outcome.decision.decision == "development"
    assert outcome.decision.new_sentences == LATER.sentences
    # Only the headline is new: it is the one new sentence.
    first = decide(FIRST, [], 0)
    assert first.story is not None
    headline_only = article("a10", "بوتين يصل إلى بيونغ يانغ", FIRST.sentences)
    outcome = decide(headline_only, [Candidate(first.story, closed=False)], 0)
    assert outcome.decision.decision == "development"
    assert outcome.decision.new_sentences == [headline_only.title]


def test_a_single_new_sentence_is_shown_with_the_detail_that_follows_it() -> None:
    # The news is one sentence; the next unreported one about the story tells its detail.
    # Background (وكان ... قد) is no detail of the news.
    first = decide(FIRST, [], 0)
    assert first.story is not None
    news = LATER.sentences[0]
    background = "وكان الزعيم الراحل كيم جونغ إيل قد استقبل بوتين في بيونغ يانغ صيف عام ألفين."
    detail = "وأقيمت مراسم رسمية لبوتين في ساحة كيم إيل سونغ وسط بيونغ يانغ بحضور آلاف المواطنين."
    later = article("a11", LATER.title, [news, background, detail], day=277)
    outcome = decide(later, [Candidate(first.story, closed=False)], 0)
    assert outcome.decision.decision == "development"
    assert outcome.decision.new_sentences == [news, detail]


def test_the_headlines_news_is_shown_with_the_body_sentence_that_tells_it() -> None:
    # The headline claims the news (arrival); the body's first sentence tells it in full
    # without an action word, and comes before the body's own new fact.
    first = decide(FIRST, [], 0)
    assert first.story is not None
    told = "حطت طائرة الرئيس الروسي فلاديمير بوتين في مطار بيونغ يانغ فجر اليوم في أول زيارة منذ عقدين."
    reception = "واستقبله الزعيم كيم جونغ أون على أرض المطار وسط مراسم رسمية."
    later = article("a12", "بوتين يصل إلى كوريا الشمالية", [told, reception], day=277)
    outcome = decide(later, [Candidate(first.story, closed=False)], 0)
    assert outcome.decision.decision == "development"
    assert outcome.decision.new_sentences == [told, reception]


def test_an_opinion_column_never_alerts_and_starts_no_story() -> None:
    column = article(
        "c1",
        "محمد أحمد يكتب: زيارة بوتين إلى كوريا الشمالية",
        ["وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ، وأرى أن الزيارة تعلن تحالفا جديدا."],
        day=277,
    )
    alone = decide(column, [], 277)
    assert alone.decision.decision == "no_news" and alone.alert is None
    assert alone.story is None and alone.decision.story is None and not alone.created
    assert "opinion" in alone.decision.reasons

    first = decide(FIRST, [], 0)
    assert first.story is not None
    joined = decide(column, [Candidate(first.story, closed=False)], 277)
    assert joined.decision.decision == "no_news" and joined.alert is None
    assert joined.decision.story == first.story.id
    assert [source["article"] for source in first.story.sources] == ["a1", "c1"]
    # What the column argues is not reported: the news it repeats still alerts when told.
    later = decide(LATER, [Candidate(first.story, closed=False)], 277)
    assert later.decision.decision == "development"


def test_headlines_sharing_only_a_kind_of_event_and_a_town_need_more_to_join() -> None:
    # Every fire of a town is no one story: «حريق» and «الغردقة» alone name no one event,
    # and the same fire's headline shares words of its own (the hall, the airport).
    airport = article(
        "f1",
        "حريق يلتهم صالة الوصول في مطار الغردقة",
        [
            "اندلع حريق هائل في صالة الوصول بمطار الغردقة الدولي وتمكنت قوات الحماية المدنية من إخماده."
        ],
    )
    church = article(
        "f2",
        "السيطرة على حريق بكنيسة في الغردقة",
        ["أخمد رجال الإطفاء حريقا اندلع في كنيسة بالغردقة صباح اليوم دون إصابات."],
    )
    again = article(
        "f3",
        "إخماد حريق صالة الوصول بمطار الغردقة",
        ["أخمدت قوات الحماية المدنية حريق صالة الوصول بمطار الغردقة الدولي دون إصابات."],
    )
    for later, joins in ((church, False), (again, True)):
        joined, best = joins_on_its_headline(airport, later)
        assert best["title"] > 0 and best["score"] >= SETTINGS.same_story_threshold
        assert joined is joins


def test_a_headline_counting_the_same_things_otherwise_tells_another_incident() -> None:
    # Two seizures of fuel in one province are two stories: the litres differ. Another
    # outlet's report of the first seizure counts its litres within rounding and joins it.
    first = article(
        "s1",
        "ضبط 55 ألف لتر سولار قبل بيعها بالسوق السوداء في مرسى علم",
        ["ضبطت مباحث التموين في مرسى علم 55 ألف لتر سولار مدعم قبل بيعها بالسوق السوداء."],
    )
    other = article(
        "s2",
        "ضبط 1800 لتر سولار قبل بيعها بالسوق السوداء في مرسى علم",
        ["ضبطت مباحث التموين في مرسى علم 1800 لتر سولار مدعم قبل بيعها بالسوق السوداء."],
    )
    same = article(
        "s3",
        "ضبط 55 ألف لترا من السولار قبل بيعها بالسوق السوداء في مرسى علم",
        ["ضبطت مباحث التموين في مرسى علم نحو 55 ألف لتر سولار مدعم قبل بيعها في السوق السوداء."],
    )
    started = decide(first, [], 0)
    assert started.story is not None
    assert started.story.headline_counts == ["لتر:55000"]
    story = Candidate(started.story, closed=False)
    apart = decide(other, [story], 0)
    assert apart.decision.decision == "new_story"
    assert apart.decision.reasons["best"]["score"] >= SETTINGS.untitled_threshold
    assert apart.decision.reasons["why_not_joined"] == (
        "the headline counts 1800 لتر where the story's headlines counted 55000: another incident"
    )
    joined = decide(same, [story], 0)
    assert joined.decision.story == started.story.id


def joins_on_its_headline(first_article: CleanArticle, later: CleanArticle) -> tuple[bool, dict]:
    """Whether ``later`` joins the story ``first_article`` starts when an untitled join asks
    for a similarity none reaches and no body is close enough to do without a headline (only
    its headline can let it in), and its best match."""
    settings = StorySettings(untitled_threshold=1.0, body_alone=1.0)
    first = decide(first_article, [], 0, settings)
    assert first.story is not None
    outcome = decide(later, [Candidate(first.story, closed=False)], 0, settings)
    return outcome.decision.story == first.story.id, outcome.decision.reasons["best"]


def test_a_name_no_gazetteer_holds_names_the_event_by_itself() -> None:
    # A headline sharing one word with the story's headline names its event when that word
    # reads as a name (rare in the background corpus, no article: أبوسريع); a rare common
    # noun (السولار) or a town behind a preposition does not.
    case = article(
        "n1",
        "حبس أبوسريع 4 أيام بتهمة ازدراء الأديان",
        ["قررت النيابة حبس أبوسريع أربعة أيام على ذمة التحقيق بتهمة ازدراء الأديان."],
    )
    home = article(
        "n2",
        "أبوسريع يعود إلى منزله ويشكر أنصاره",
        ["عاد أبوسريع إلى منزله بعد إخلاء سبيله من قسم الشرطة على ذمة التحقيق."],
    )
    queues = article(
        "n3",
        "طوابير السولار تغلق شوارع المدينة",
        ["امتدت طوابير السيارات أمام محطات الوقود بسبب نقص السولار في المدينة."],
    )
    crisis = article(
        "n4",
        "تفاقم أزمة السولار في المحافظة",
        ["تفاقمت أزمة نقص السولار في محطات الوقود بالمحافظة وامتدت طوابير السيارات."],
    )
    for story_first, later, joins in ((case, home, True), (queues, crisis, False)):
        joined, best = joins_on_its_headline(story_first, later)
        assert best["score"] >= SETTINGS.same_story_threshold
        assert len([k for k in best["shared_title"] if ":" not in k]) == 1
        assert not best["shared_entities"]
        assert joined is joins


def test_a_statement_whose_headline_reports_nothing_is_no_development() -> None:
    # «SPEAKER: words» or a reaction (concern, condolences): what the body tells is what was
    # said (an interview, a view); the same words under a headline that reports the event
    # alert.
    said = article(
        "s1",
        "بوتين: العلاقات مع كوريا الشمالية تتطور يوما بعد يوم",
        [
            "قال الرئيس الروسي فلاديمير بوتين إن زيارته إلى كوريا الشمالية تفتح صفحة جديدة، "
            "وإنه وقع مع الزعيم كيم جونغ أون اتفاقية شراكة شاملة."
        ],
        day=277,
    )
    reported = article("s2", "بوتين وكيم يوقعان اتفاقية شراكة شاملة", said.sentences, day=277)
    reaction = article("s3", "الأمم المتحدة تبدي قلقها إزاء زيارة بوتين", said.sentences, day=277)
    urging = article("s4", "واشنطن تحث بوتين على الحوار", said.sentences, day=277)
    cases = ((said, False), (reported, True), (reaction, False), (urging, False))
    assert_statements_judged(FIRST, cases, day=277)


def assert_statements_judged(
    first_article: CleanArticle, cases: tuple[tuple[CleanArticle, bool], ...], day: float
) -> None:
    """Each case, joined to the story ``first_article`` starts, is a development or not; when
    not, its reasons name the statement's headline."""
    for item, development in cases:
        first = decide(first_article, [], 0)
        assert first.story is not None
        outcome = decide(item, [Candidate(first.story, closed=False)], day)
        assert outcome.decision.story == first.story.id
        assert (outcome.decision.decision == "development") is development, item.title
        if not development:
            novelty = outcome.decision.reasons["novelty"]
            assert novelty["new"] and "statement" in novelty["why_not_development"]


def test_a_statement_naming_only_the_story_incident_is_what_was_said() -> None:
    # Under «SPEAKER: words», naming the story's own incident again (the crash, a death) is
    # no event: the piece tells a view of it, whatever its body recalls. Someone new acting
    # in the headline (the president phoned) is news, as is the same body under a headline
    # that reports it.
    crash = article(
        "c1",
        "مصرع 18 سائحا في سقوط منطاد بمدينة الأقصر",
        ["لقي 18 سائحا مصرعهم في سقوط منطاد سياحي بمدينة الأقصر صباح اليوم."],
    )
    body = [
        "وأعلنت النيابة العامة حبس قائد المنطاد أربعة أيام على ذمة التحقيق في سقوط منطاد الأقصر.",
        "وقالت المنظمة إن سقوط المنطاد بمدينة الأقصر ومصرع 18 سائحا يكشف غياب الرقابة.",
    ]
    view = article("c2", "منظمة حقوقية: سقوط منطاد الأقصر كارثة تكشف غياب الرقابة", body)
    acting = article(
        "c3", "محافظ الأقصر: الرئيس محمد مرسي اتصل للاطمئنان على مصابي سقوط المنطاد", body
    )
    reported = article("c4", "حبس قائد منطاد الأقصر أربعة أيام بعد سقوط المنطاد", body)
    assert_statements_judged(crash, ((view, False), (acting, True), (reported, True)), day=0)


def test_another_instance_of_a_known_kind_of_event_is_a_development() -> None:
    # A story of parents closing a school: the parents of another village closing theirs
    # are news (its headline's words are new to the story); the first closure told again in
    # other words is not.
    first_closure = article(
        "i1",
        "أولياء أمور طلاب يغلقون أبواب مدرسة المعصرة احتجاجا على غياب الأمن",
        ["أغلق أولياء أمور طلاب مدرسة المعصرة الابتدائية أبوابها احتجاجا على غياب الأمن."],
    )
    another = article(
        "i2",
        "أولياء أمور الحماد يغلقون مدرسة القرية خوفا على أرواح أطفالهم",
        ["أغلق أولياء أمور طلاب مدرسة الحماد أبواب المدرسة خوفا على أرواح أطفالهم."],
    )
    retold = article(
        "i3",
        "أولياء أمور يغلقون أبواب المدرسة بالمعصرة احتجاجا على الأمن",
        ["أغلق أولياء أمور طلاب مدرسة المعصرة الابتدائية أبوابها احتجاجا على غياب الأمن."],
    )
    for item, development in ((another, True), (retold, False)):
        first = decide(first_closure, [], 0)
        assert first.story is not None
        outcome = decide(item, [Candidate(first.story, closed=False)], 0)
        assert outcome.decision.story == first.story.id
        assert (outcome.decision.decision == "development") is development, item.title
        facts = [s["facts"] for s in outcome.decision.reasons["novelty"]["new"]]
        assert ({"instance": ["يغلقون"]} in facts) is development


def test_a_headline_giving_the_story_s_toll_joins_it() -> None:
    # A wire's flash («مصرع 5 أشخاص في مشاجرة ببرج العرب») shares too little of the story's
    # headline to name its event, but gives the toll the story reported: the same killing.
    # Another toll in the same words is another brawl.
    first = article(
        "t1",
        "مصرع 5 في مشاجرة بالأسلحة النارية على قطعة أرض",
        [
            "نشبت مشاجرة بين عائلتين بسبب خلاف على حيازة قطعة أرض زراعية استخدمت فيها الأسلحة "
            "النارية وأسفرت عن مصرع 5 أشخاص.",
            "وتلقى مدير المباحث إخطارا من الأهالي بسماع دوي إطلاق أعيرة نارية كثيفة داخل الأرض "
            "المتنازع عليها منذ سنوات.",
            "وانتقلت قوات الأمن وسيارات الإسعاف إلى مكان الواقعة ونقلت الجثث إلى المشرحة تحت "
            "تصرف النيابة العامة.",
            "وتبين من التحريات الأولية أن الخلافات بين العائلتين قديمة وتجددت بعد قيام إحداهما "
            "ببناء سور حول الأرض.",
        ],
    )
    for toll, joins in ((5, True), (3, False)):
        flash = article(
            f"t{toll}",
            f"مصرع {toll} أشخاص في مشاجرة ببرج العرب",
            [f"الإسكندرية - لقي {toll} أشخاص مصرعهم في مشاجرة بمنطقة برج العرب."],
        )
        started = decide(first, [], 0)
        assert started.story is not None
        outcome = decide(flash, [Candidate(started.story, closed=False)], 0)
        reasons = outcome.decision.reasons
        assert (outcome.decision.story == started.story.id) is joins
        if joins:
            assert reasons["same_toll"] == ["death:5"]
        else:
            assert "too little to name one event" in reasons["why_not_joined"]


def test_a_roundup_never_alerts_and_joins_no_story() -> None:
    # A digest lists many stories' headlines: the news it repeats belongs to none of them.
    roundup = article(
        "r1", 'موجز أنباء "اليوم السابع" للساعة الواحدة ظهراً', LATER.sentences, day=277
    )
    alone = decide(roundup, [], 277)
    assert alone.decision.decision == "no_news" and alone.alert is None
    assert alone.story is None and not alone.created and "roundup" in alone.decision.reasons
    first = decide(FIRST, [], 0)
    assert first.story is not None
    joined = decide(roundup, [Candidate(first.story, closed=False)], 277)
    assert joined.decision.decision == "no_news" and joined.alert is None
    assert joined.decision.story is None and [s["article"] for s in first.story.sources] == ["a1"]


def test_shortlist_and_sources_as_first_written() -> None:
    """``_best``'s shortlist (the best by centroid, candidate order on ties) sorted with
    ``reverse=True`` on the score is the sort on the negated score; ``_add_source``'s
    duplicate test in C is the generator's ``any``."""
    import random

    from monitor.core.decide import NEAREST_CANDIDATES, _add_source
    from monitor.core.stories import StoryState

    rng = random.Random(18)
    for _ in range(2_000):
        scores = [
            rng.choice([0.0, 0.1, 0.25, 0.5, 1.0, rng.random()]) for _ in range(rng.randint(0, 25))
        ]
        first = sorted(range(len(scores)), key=lambda i: -scores[i])[:NEAREST_CANDIDATES]
        now = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:NEAREST_CANDIDATES]
        assert now == first
    story = StoryState(id="s", title="", created=0.0, updated=0.0)
    ids = [f"a{rng.randint(0, 40)}" for _ in range(200)]
    for article_id in ids:
        known = any(source["article"] == article_id for source in story.sources)
        before = list(story.sources)
        _add_source(story, article(article_id, "t", ["x"]))
        assert (story.sources == before) is known
        assert story.sources[-1]["article"] == article_id or known
