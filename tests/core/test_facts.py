"""Which facts make a development: events, counts, actors; not reactions, background, dates."""

from __future__ import annotations

import pytest

from monitor.core import novelty
from monitor.core.arabic import normalize
from monitor.core.novelty import TITLE_INDEX, assess_novelty, record_reported
from monitor.core.stories import analyse, article_features, new_story_state

FIRST = [
    "سقط منطاد يحمل سياحا فوق مدينة الأقصر صباح اليوم ومصرع 18 سائحا.",
    "وانتقلت سيارات الإسعاف إلى موقع سقوط المنطاد في الأقصر.",
]
CRASH = ("مصرع 18 سائحا في سقوط منطاد بالأقصر", FIRST)
"""A story of an accident, told by its first article (title, sentences)."""
CRIME = (
    "القبض على قاتل 5 أشخاص في الإسكندرية",
    ["ألقت الشرطة القبض على قاتل 5 أشخاص داخل قطعة أرض في الإسكندرية."],
)
"""A story of a crime whose suspect is under arrest."""
POLITICS = (
    "جبهة المعارضة ترفض الحوار مع الرئاسة",
    ["رفضت جبهة المعارضة دعوة الرئاسة إلى الحوار الوطني حول قانون الانتخابات."],
)
"""A political story, with no incident in it."""


def story(first: tuple[str, list[str]] = CRASH):  # type: ignore[no-untyped-def]
    title, sentences = first
    features = article_features(normalize(title), [normalize(s) for s in sentences])
    state = new_story_state("s", "t", features, now=0.0, sentences=[])
    record_reported(state, [features.text.title, *features.text.sentences], [title, *sentences])
    return state


def judge(  # type: ignore[no-untyped-def]
    sentences: list[str], title: str = "منطاد الأقصر", about: tuple[str, list[str]] = CRASH
):
    text = analyse(normalize(title), [normalize(s) for s in sentences])
    return assess_novelty(
        story(about),
        sentences,
        text.sentences,
        reported_containment=0.6,
        development_min_score=1.5,
        title=(title, text.title),
    )


def judge_political(sentences: list[str]):  # type: ignore[no-untyped-def]
    return judge(sentences, title="جبهة المعارضة والحوار مع الرئاسة", about=POLITICS)


def test_a_higher_toll_is_a_development_and_a_lower_one_is_not() -> None:
    higher = judge(["ارتفع عدد ضحايا سقوط منطاد الأقصر إلى مصرع 19 سائحا."])
    assert higher.is_development
    assert higher.new_sentences[0].facts["count"] == ["death:19"]
    lower = judge(["مصرع 17 سائحا في سقوط منطاد الأقصر بحسب مصادر أولية."])
    assert not lower.is_development


def test_the_toll_another_event_is_known_by_is_no_higher_toll() -> None:
    # A relative clause gives the toll of the event it names: a background total.
    other = judge(
        ["وقال وزير السياحة إن سقوط منطاد الأقصر أسوأ من حادث القطار الذي أسفر عن مصرع 30 سائحا."]
    )
    assert not other.is_development
    risen = judge(["وارتفع عدد ضحايا سقوط منطاد الأقصر الذي وقع صباح اليوم إلى 30 قتيلا."])
    assert risen.new_sentences[0].facts == {"count": ["death:30"]}


def test_a_new_kind_of_event_is_a_development() -> None:
    result = judge(["قررت النيابة حبس قائد منطاد الأقصر أربعة أيام على ذمة التحقيقات."])
    assert result.is_development
    assert "event" in result.new_sentences[0].facts


def test_reactions_and_background_are_no_news() -> None:
    reaction = judge(
        ["ندد حزب الوسط بحادث منطاد الأقصر وقدم التعازي لأسر الضحايا وطالب بمحاسبة المسؤولين."]
    )
    assert not reaction.is_development
    # Criticising an action (انتقد فض الاعتصام) reacts to it.
    criticism = judge_political(
        ["وانتقد رئيس جبهة المعارضة فض اعتصام التحرير بالقوة بعد رفض الحوار مع الرئاسة."]
    )
    assert not criticism.is_development
    dispersal = judge_political(
        ["وفضت قوات الأمن اعتصام التحرير بالقوة بعد رفض جبهة المعارضة الحوار مع الرئاسة."]
    )
    assert dispersal.new_sentences[0].facts == {"event": ["فضت", "اعتصام"]}
    background = judge(["وكانت السلطات قد أوقفت رحلات المناطيد في الأقصر عام 2009 بعد حادث مماثل."])
    assert not background.is_development


def test_a_date_or_a_new_name_alone_is_no_development() -> None:
    result = judge(["وقال محمد أحمد علي إن منطاد الأقصر سقط يوم الثلاثاء 26 فبراير."])
    assert not result.is_development


def test_a_plan_then_its_happening_are_each_news() -> None:
    planned = judge(["من المقرر أن يصل وزير الطيران إلى الأقصر لمتابعة حادث المنطاد."])
    assert planned.is_development
    state = story()
    text = analyse(
        normalize("الوزير الى الاقصر"),
        [normalize("من المقرر أن يصل وزير الطيران إلى الأقصر لمتابعة حادث المنطاد.")],
    )
    record_reported(state, [text.title, *text.sentences])
    arrived = "وصل وزير الطيران إلى الأقصر وتفقد موقع سقوط المنطاد."
    done = analyse(normalize("وصول الوزير"), [normalize(arrived)])
    result = assess_novelty(
        state, [arrived], done.sentences, reported_containment=0.6, development_min_score=1.5
    )
    assert result.is_development


def test_the_title_is_judged_too() -> None:
    result = judge(
        ["وانتقلت سيارات الإسعاف إلى موقع سقوط المنطاد في الأقصر."],
        title="إحالة قائد المنطاد إلى المحاكمة الجنائية",
    )
    assert result.is_development
    assert result.new_sentences[0].index == -1  # the title


def test_a_count_of_an_action_not_done_is_no_count() -> None:
    # Four suspects sought are no four arrests; four caught are.
    sought = judge(["وتواصل الشرطة جهودها لضبط 4 متهمين بإتلاف منطاد الأقصر."])
    assert not sought.is_development
    caught = judge(["وضبطت الشرطة 4 متهمين بإتلاف منطاد الأقصر."])
    assert caught.new_sentences[0].facts["count"] == ["arrest:4"]


def test_an_event_dated_to_a_past_month_is_no_news_but_a_total_to_date_is() -> None:
    then = judge_political(
        ["وانسحبت جبهة المعارضة من الحوار مع الرئاسة في كانون الأول/ديسمبر الماضي."]
    )
    assert not then.is_development
    total = judge(["ولقي 25 سائحا مصرعهم في حوادث المناطيد بالأقصر منذ ديسمبر الماضي."])
    assert total.new_sentences[0].facts == {"count": ["death:25"]}


def test_clashes_renewed_are_news_once() -> None:
    started = "اندلعت اشتباكات بين قوات الأمن والمتظاهرين أمام مبنى المحافظة مساء اليوم."
    renewed = "وتجددت الاشتباكات بين قوات الأمن والمتظاهرين أمام مبنى المحافظة فجر اليوم."
    clashes = ("اشتباكات بين الأمن والمتظاهرين أمام المحافظة", [started])
    again = judge([renewed], title="اشتباكات أمام المحافظة", about=clashes)
    assert again.new_sentences[0].facts == {"event": ["الاشتباكات"]}
    told_again = judge(
        [renewed], title="اشتباكات أمام المحافظة", about=(clashes[0], [started, renewed])
    )
    assert not told_again.is_development
    # A position restated (تجدد رفضها) is no event again.
    assert not judge_political(
        ["وتجدد جبهة المعارضة رفضها دعوة الرئاسة إلى الحوار."]
    ).is_development


def test_below_the_lead_a_long_piece_recaps() -> None:
    # Two facts deep in an article are news; deep in an interview's transcript or a live
    # blog (more than LONG_PIECE_SENTENCES sentences), a recap.
    told = [f"وقال شاهد رقم {i} إن المنطاد سقط فوق مدينة الأقصر صباح اليوم." for i in range(30)]
    facts = [
        "وأوقفت السلطات رحلات المناطيد فوق مدينة الأقصر بعد السقوط.",
        "وألقت الشرطة القبض على صاحب شركة المنطاد بعد سقوط المنطاد فوق مدينة الأقصر.",
    ]
    short = FIRST + told[:6] + facts
    assert judge(short).is_development
    long = FIRST + told[: novelty.LONG_PIECE_SENTENCES] + facts
    assert len(long) > novelty.LONG_PIECE_SENTENCES
    assert not judge(long).is_development


def test_below_the_lead_a_piece_recounting_recaps() -> None:
    told = [f"وقال شاهد رقم {i} إن المنطاد سقط فوق مدينة الأقصر صباح اليوم." for i in range(4)]
    facts = [
        "وأوقفت السلطات رحلات المناطيد فوق مدينة الأقصر بعد السقوط.",
        "وألقت الشرطة القبض على صاحب شركة المنطاد بعد سقوط المنطاد فوق مدينة الأقصر.",
    ]
    body = FIRST + told + facts
    assert judge(body, title="شهود عيان على سقوط منطاد الأقصر").is_development
    assert not judge(body, title="شاهد عيان يروي تفاصيل سقوط منطاد الأقصر").is_development


def test_a_sit_in_broken_up_is_news() -> None:
    sit_in = (
        "اعتصام المتظاهرين في ميدان التحرير",
        ["يواصل المتظاهرون اعتصامهم في ميدان التحرير لليوم العاشر."],
    )
    broken_up = judge(
        ["وفضت قوات الأمن اعتصام المتظاهرين في ميدان التحرير بالقوة فجر اليوم."],
        title="اعتصام التحرير",
        about=sit_in,
    )
    assert broken_up.new_sentences[0].facts == {"event": ["فضت"]}


def test_in_a_match_report_the_game_is_no_meeting_reception_attack_or_ban() -> None:
    match = (
        "الأهلي والزمالك في قمة الدوري",
        ["تترقب الجماهير قمة الدوري بين الأهلي والزمالك مساء الجمعة على ملعب القاهرة."],
    )
    hosting = judge(
        ["ويستقبل الأهلي ضيفه الزمالك في مباراة مثيرة يحضرها عشرون ألف مشجع."],
        title="قمة الدوري",
        about=match,
    )
    assert not hosting.is_development
    assert not judge(["واستقبل مطار الأقصر 300 سائح بعد سقوط المنطاد."]).is_development
    received = judge(["واستقبل محافظ الأقصر وزير السياحة بعد سقوط المنطاد."])
    assert received.new_sentences[0].facts == {"event": ["استقبل"]}
    # The piece is the match report, though the sentence names no match: «الهجوم» is
    # the forwards, «للقاء» the match.
    lineup = judge(
        [
            "أعلن الجهاز الفني للزمالك تشكيل فريقه للقاء الأهلي في القاهرة.",
            "ويقود الهجوم أحمد عيد وأحمد جعفر أمام الأهلي في القاهرة.",
        ],
        title="عيد وجعفر يقودان هجوم الزمالك أمام الأهلي",
        about=match,
    )
    assert not lineup.is_development
    league = (
        "الأهلي يواجه الزمالك في القاهرة",
        ["يواجه الأهلي الزمالك في القاهرة مساء الجمعة أمام عشرين ألف مشجع."],
    )
    friendly = judge(
        ["وتلقى اتحاد الكرة عرضا لإقامة لقاء ودي بين الأهلي والزمالك في القاهرة."],
        title="الأهلي والزمالك في القاهرة",
        about=league,
    )
    assert not friendly.is_development
    returning = judge(
        ["ويعود لاعبو الأهلي من الإيقاف لتعويض غيابهم أمام الزمالك في القاهرة."],
        title="الأهلي والزمالك في القاهرة",
        about=league,
    )
    assert not returning.is_development
    attack = judge(["وهاجم مسلحون حافلة سياح بعد سقوط منطاد الأقصر."], about=CRIME)
    assert attack.new_sentences[0].facts["event"] == ["هاجم"]
    # «الفريق» is also a general's rank: no match report.
    general = judge_political(
        ["والتقى الرئيس الفريق أول عبد الفتاح السيسي بعد رفض جبهة المعارضة الحوار."]
    )
    assert general.new_sentences[0].facts["event"] == ["التقي"]


def test_a_new_party_taking_a_position_is_news() -> None:
    # The refusal is known; the Wafd refusing too is a new actor doing something, though
    # the sentence is the reported one with a new name.
    wafd = judge_political(["ورفض حزب الوفد دعوة الرئاسة إلى الحوار الوطني حول قانون الانتخابات."])
    assert wafd.new_sentences[0].facts == {"party": ["حزب الوفد"]}
    assert wafd.is_development
    again = judge_political(
        ["ورفضت جبهة المعارضة مجددا دعوة الرئاسة إلى الحوار حول قانون الانتخابات."]
    )
    assert not again.is_development
    # A party the story named before, taking a position it had not taken, is news too.
    awaited = (
        POLITICS[0],
        [*POLITICS[1], "وقال حزب الوفد إنه سيحسم موقفه من الحوار الوطني مع الرئاسة غدا."],
    )
    decided = judge(
        ["ورفض حزب الوفد دعوة الرئاسة إلى الحوار الوطني حول قانون الانتخابات."],
        title="الحوار مع الرئاسة",
        about=awaited,
    )
    assert decided.new_sentences[0].facts == {"party": ["حزب الوفد"]}
    declined = judge(
        ["حزب الوفد يعلن عدم مشاركته في الحوار الوطني مع الرئاسة حول قانون الانتخابات."],
        title="الحوار مع الرئاسة",
        about=awaited,
    )
    assert declined.new_sentences[0].facts == {"party": ["حزب الوفد"]}
    # «بعد انسحاب» is what came before: the party named beside it took no position.
    withdrawn = (
        POLITICS[0],
        [*POLITICS[1], "وانسحبت الرئاسة من الحوار حول قانون الانتخابات مع جبهة المعارضة."],
    )
    beside = judge(
        ["وتجمع المتظاهرون أمام حزب الوفد بعد انسحاب الرئاسة من الحوار حول قانون الانتخابات."],
        title="الحوار مع الرئاسة",
        about=withdrawn,
    )
    assert not beside.is_development
    # A boycott decided (يقرر مقاطعة): its subject comes before the noun, not after it.
    boycotts = (
        "مقاطعة الانتخابات البرلمانية",
        [
            "قاطعت جبهة المعارضة الانتخابات البرلمانية المقبلة في مصر.",
            "وقال حزب الوفد إنه سيحسم موقفه من الانتخابات البرلمانية المقبلة غدا.",
        ],
    )
    for sentence in (
        "حزب الوفد يقرر مقاطعة الانتخابات البرلمانية المقبلة في مصر.",
        "وقرر حزب الوفد بالإجماع مقاطعة انتخابات مجلس النواب المقبلة في مصر.",
    ):
        boycott = judge([sentence], title="مقاطعة الانتخابات البرلمانية", about=boycotts)
        assert boycott.new_sentences[0].facts == {"party": ["حزب الوفد"]}
    council = judge(
        ["وقررت أحزاب صغيرة مقاطعة انتخابات مجلس النواب المقبلة في مصر."],
        title="مقاطعة الانتخابات البرلمانية",
        about=boycotts,
    )
    assert not council.is_development  # the council is what is boycotted


def test_a_mocking_headline_tells_a_joke_not_news() -> None:
    sentence = "وقال الإعلامي إن المنطاد انفجر لأن الوزراء قاطعوا رحلات الأقصر."
    told = judge([sentence], title="إعلامي: المنطاد انفجر لأن الوزراء قاطعوا رحلات الأقصر")
    assert told.is_development
    joke = judge([sentence], title="إعلامي ساخرا: المنطاد انفجر لأن الوزراء قاطعوا رحلات الأقصر")
    assert not joke.is_development
    assert "mocking" in joke.why_not


def test_a_negated_action_is_no_event_and_leaves_the_real_one_news() -> None:
    negated = judge(["ولم يتم القبض على أي من المسؤولين عن منطاد الأقصر حتى الآن."])
    assert not negated.is_development
    state = story()
    said = "ولم يتم القبض على أي من المسؤولين عن منطاد الأقصر حتى الآن."
    text = analyse(normalize("منطاد الأقصر"), [normalize(said)])
    record_reported(state, text.sentences, [said])
    title = "القبض على مالك شركة منطاد الأقصر"
    text = analyse(normalize(title), [])
    result = assess_novelty(
        state,
        [],
        [],
        reported_containment=0.6,
        development_min_score=1.5,
        title=(title, text.title),
    )
    assert result.is_development
    assert result.new_sentences[0].facts["event"] == ["القبض"]


def test_an_action_naming_a_known_case_is_no_event() -> None:
    # The release is news; the strike that names the case is not.
    result = judge(["وأخلت المحكمة سبيل المتهم في قضية أحداث إضراب عمال منطاد الأقصر."])
    assert result.new_sentences[0].facts["event"] == ["اخلت"]
    named = judge(["ومثل أمام المحكمة المتهم في قضية أحداث إضراب عمال منطاد الأقصر."])
    assert not named.is_development
    told = judge(["وأضرب عمال منطاد الأقصر عن العمل صباح اليوم احتجاجا على الحادث."])
    assert told.new_sentences[0].facts["event"] == ["اضرب"]


def test_an_action_asked_for_is_no_event_and_an_action_done_beside_it_is() -> None:
    asked = judge(["وطالب أهالي ضحايا منطاد الأقصر بوقف رحلات المناطيد حتى انتهاء التحقيق."])
    assert not asked.is_development
    done = judge(["وأصدر محافظ الأقصر قرارا بوقف رحلات المناطيد بعد سقوط المنطاد ومصرع السياح."])
    assert done.is_development
    assert done.new_sentences[0].facts["event"] == ["وقف"]
    # Closed, then asked for more: the closure is news, what they ask for is not.
    both = judge(["وأغلق الأهالي طريق الأقصر احتجاجا على سقوط المنطاد ويطالبون بإقالة المحافظ."])
    assert both.new_sentences[0].facts["event"] == ["اغلق"]


def test_a_source_declining_to_be_named_refuses_nothing() -> None:
    anonymous = judge(["وقال مصدر أمني رفض ذكر اسمه إن التحقيقات في سقوط منطاد الأقصر مستمرة."])
    assert not anonymous.is_development
    refused = judge(["ورفض محافظ الأقصر استئناف رحلات المناطيد بعد سقوط المنطاد."])
    assert refused.new_sentences[0].facts["event"] == ["رفض"]


def test_an_action_under_way_is_no_event() -> None:
    under_way = judge(["وتم نقل المصابين إلى المستشفى وجاري ضبط المسؤولين عن سقوط منطاد الأقصر."])
    assert not under_way.is_development
    done = judge(["وتم ضبط المسؤولين عن سقوط منطاد الأقصر وجاري العرض على النيابة."])
    assert done.new_sentences[0].facts["event"] == ["ضبط"]


def test_set_phrases_and_names_of_organisations_are_no_actions() -> None:
    # ضبط النفس is restraint, not an arrest; جبهة الإنقاذ is a party, not a rescue.
    restraint = judge(["ودعا محافظ الأقصر الأهالي إلى ضبط النفس بعد سقوط منطاد الأقصر."])
    assert not restraint.is_development
    party = judge(["وقالت جبهة الإنقاذ الوطني إن سقوط منطاد الأقصر كارثة تكشف الإهمال."])
    assert not party.is_development
    arrest = judge(["وتم ضبط قائد منطاد الأقصر بعد سقوط المنطاد ومصرع السياح."])
    assert arrest.new_sentences[0].facts["event"] == ["ضبط"]


def test_an_event_word_in_a_sentence_told_nearly_whole_is_news_only_with_a_new_date() -> None:
    # Ambulances that "arrived" where they "moved": the reported sentence in another word.
    synonym = judge(["ووصلت سيارات الإسعاف إلى موقع سقوط المنطاد في الأقصر."])
    assert not synonym.is_development
    court = (
        "الحكم في دعوى إلزام الداخلية بعدم استخدام الأسلحة في فض المظاهرات",
        [
            "تنظر محكمة القضاء الإداري اليوم الثلاثاء دعوى إلزام وزارة الداخلية بعدم استخدام"
            " الأسلحة في فض المظاهرات."
        ],
    )
    adjourned = judge(
        [
            "وأجلت محكمة القضاء الإداري دعوى إلزام وزارة الداخلية بعدم استخدام الأسلحة في فض"
            " المظاهرات إلى جلسة 26 مارس."
        ],
        title="دعوى الأسلحة في فض المظاهرات",
        about=court,
    )
    assert adjourned.is_development
    assert adjourned.new_sentences[0].facts == {"event": ["اجلت"]}
    assert adjourned.new_sentences[0].containment >= novelty.RESTATED_EVENT_CONTAINMENT


EVENTS = "event"


@pytest.mark.parametrize(
    ("about", "sentence", "events"),
    [
        # A number or a state reached is no arrival; a minister arriving is one.
        (CRASH, "ووصل عدد السياح في فنادق الأقصر إلى أدنى مستوى بعد سقوط المنطاد.", None),
        (CRASH, "ووصل وزير السياحة إلى الأقصر بعد سقوط المنطاد ومصرع السياح.", ["وصل"]),
        # An eye (غمضة عين) is no appointment; «constitutes» (يشكل خطرا) no committee.
        (CRASH, "وسقط منطاد الأقصر في غمضة عين أمام أهالي البر الغربي.", None),
        (CRASH, "وقال خبراء إن سقوط منطاد الأقصر يشكل خطرا على السياحة في مصر.", None),
        # The martyrs remembered are no incident; a death is.
        (
            POLITICS,
            "وقال المتحدث باسم جبهة المعارضة إن الحوار مع الرئاسة لن يضيع دماء الشهداء.",
            None,
        ),
        (POLITICS, "وقال المتحدث باسم جبهة المعارضة إن الحوار توقف بعد مقتل متظاهر.", ["مقتل"]),
        # Proposed or sought (مشاورات تشكيل) is not done; formed is.
        (POLITICS, "وأجرت جبهة المعارضة مشاورات تشكيل حكومة ائتلافية بعد رفض الحوار.", None),
        (POLITICS, "وأعلنت جبهة المعارضة تشكيل حكومة ظل بعد رفض الحوار مع الرئاسة.", ["تشكيل"]),
        # A gang, a known delegation, a market's close, an emergency centre are no actions.
        (POLITICS, "وضبطت الشرطة التشكيل العصابي الذي سرق مقر جبهة المعارضة قبل الحوار.", ["ضبطت"]),
        (POLITICS, "وقال المتحدث باسم جبهة المعارضة إن الوفد عرض على الرئاسة شروط الحوار.", None),
        (POLITICS, "وأغلق مؤشر البورصة على تراجع بعد رفض جبهة المعارضة الحوار مع الرئاسة.", None),
        (POLITICS, "وقال مركز العمليات والطوارئ إن جبهة المعارضة رفضت الحوار مع الرئاسة.", None),
        (POLITICS, "وأعلنت الرئاسة حالة الطوارئ بعد رفض جبهة المعارضة الحوار.", ["الطوارء"]),
        # The Salvation Front or the rescue teams (الإنقاذ) are no rescue; saving someone is.
        (POLITICS, "وقالت «الإنقاذ» إنها ستحسم موقفها من الحوار مع الرئاسة غدا.", None),
        (CRASH, "ونجحت فرق الدفاع المدني في إنقاذ ثلاثة سياح من منطاد الأقصر.", ["انقاذ"]),
        # Words against someone (هاجم الكاتب ..., هجوما حادا) are no attack; gunmen's are.
        (POLITICS, "وهاجم الكاتب إبراهيم جبهة المعارضة لرفضها الحوار مع الرئاسة.", None),
        (POLITICS, "وتعرضت جبهة المعارضة لهجوم حاد من المتحدث بعد رفضها الحوار.", None),
        (POLITICS, "وهاجم مسلحون مقر جبهة المعارضة بعد رفض الحوار مع الرئاسة.", ["هاجم"]),
        # Under way (جار التفاوض), "there was no" (لم يكن هناك اتفاق), the lockup (حجز القسم).
        (POLITICS, "وقالت جبهة المعارضة إنه جار التفاوض مع الرئاسة على الحوار.", None),
        (POLITICS, "وقالت جبهة المعارضة إنه لم يكن هناك اتفاق مع الرئاسة على الحوار.", None),
        (CRASH, "وقال شاهد إنه قضى ليلته في حجز القسم بعد سقوط منطاد الأقصر.", None),
        # A sentence naming "the incident" is about the story.
        (CRASH, "وأعلن وزير الطيران المدني تشكيل لجنة للتحقيق في الحادث.", ["تشكيل"]),
        # Threatened or set as a condition is not done; the threat is an event.
        (POLITICS, "وهددت جبهة المعارضة بالانسحاب من الحوار مع الرئاسة.", ["هددت"]),
        # A danger to something (يهدد الحوار) is no one's threat.
        (POLITICS, "وقالت جبهة المعارضة إن قانون الانتخابات يهدد الحوار مع الرئاسة.", None),
        # Nor is what it threatens with a catastrophe (بحرب, بانهيار): no one will do that.
        (
            POLITICS,
            "وقال المتحدث إن استمرار الأزمة بين جبهة المعارضة والرئاسة يهدد البلاد بحرب أهلية.",
            None,
        ),
        (POLITICS, "وقالت جبهة المعارضة إن الوضع يهدد البلاد بانهيار الحوار مع الرئاسة.", None),
        (POLITICS, "وهددت جبهة المعارضة الرئاسة بالتصعيد بعد رفض الحوار.", ["هددت"]),
        (POLITICS, "وقالت جبهة المعارضة إن الحوار مع الرئاسة مرهون بإقالة الحكومة.", None),
        # What a threat (a noun) threatens with has not happened; a threat to something
        # governs nothing.
        (POLITICS, "وقال الوزير إن التهديد بوقف الحوار مع جبهة المعارضة لعب بالنار.", None),
        # What depends on something (يتوقف على, مرهون ب) has not happened.
        (POLITICS, "وقالت الرئاسة إن انسحاب جبهة المعارضة من الحوار يتوقف على الضمانات.", None),
        (CRASH, "وقال شاهد إن سقوط منطاد الأقصر تهديد للسياحة وأعلن إلغاء الرحلات.", ["الغاء"]),
        # Wanted or chanted is not done either.
        (POLITICS, "وقالت جبهة المعارضة إنها تريد تشكيل حكومة جديدة قبل الحوار مع الرئاسة.", None),
        (POLITICS, "وردد أنصار جبهة المعارضة هتافات «إعدام القتلة» قبل الحوار مع الرئاسة.", None),
        # A confession is news of a crime or an accident; a politician "admitting" is not.
        (CRASH, "واعترف قائد المنطاد أمام النيابة بمسؤوليته عن سقوط منطاد الأقصر.", ["اعترف"]),
        (POLITICS, "واعترف المتحدث باسم جبهة المعارضة بأن الحوار مع الرئاسة صعب.", None),
        # «Will not» is a refusal; what is refused is not done; declining comment is nothing.
        (CRASH, "وقالت شركة المنطاد إنها لن تدفع تعويضات لأسر ضحايا منطاد الأقصر.", ["رفض"]),
        (CRASH, "ورفضت شركة المنطاد دفع تعويضات لأسر ضحايا منطاد الأقصر.", ["رفضت"]),
        (CRASH, "ورفض محافظ الأقصر التعليق على سقوط منطاد الأقصر.", None),
        (CRASH, "ورفض اللواء أحمد حسن مدير أمن محافظة الأقصر التعليق على سقوط المنطاد.", None),
        # Ordered to be done quickly (أمرت بسرعة ضبط) is not done yet.
        (CRASH, "وأمرت النيابة بسرعة ضبط قائد منطاد الأقصر بعد سقوطه.", None),
        # A rate reaching a figure is no arrival; a medical examination (توقيع الكشف) no
        # agreement.
        (CRASH, "وقال إن عدد السياح بعد سقوط منطاد الأقصر وصل بالأمس إلى 300 سائح.", None),
        (CRASH, "وبتوقيع الكشف الطبي على ضحايا منطاد الأقصر تبين إصابتهم بحروق.", None),
        (CRASH, "وتراجع عدد السياح بعد سقوط منطاد الأقصر ليصل إلى أدنى مستوى.", None),
        # A team's line-up (التشكيل الأساسي) is no committee; a team formed (تشكيل فريق) is.
        (CRASH, "وأعلن مدرب فريق الأقصر التشكيل الأساسي بعد سقوط منطاد الأقصر.", None),
        (CRASH, "وأمر النائب العام بتشكيل فريق للتحقيق في سقوط منطاد الأقصر.", ["تشكيل"]),
        # Declining to attend, by two or in a noun phrase, is a refusal; an apology is none.
        (CRASH, "ووزيران يعتذران عن عدم حضور مؤتمر عن سقوط منطاد الأقصر.", ["رفض"]),
        (CRASH, "وتوالى اعتذار الوزراء عن حضور مؤتمر عن سقوط منطاد الأقصر.", ["رفض"]),
        (CRASH, "وأعلنت الشركة اعتذارها عن سقوط منطاد الأقصر.", None),
        # Taking part announced is a position (the boycott's opposite); a call to is none.
        (POLITICS, "وأعلن حزب الوسط مشاركته في الحوار الوطني مع الرئاسة.", ["اعلن المشاركه"]),
        (POLITICS, "ودعا حزب الوسط جبهة المعارضة إلى المشاركة في الحوار الوطني.", None),
        # Shots fired are an attack, said in two words; a launch or a release is none.
        (POLITICS, "وأطلق مجهولون النار على أنصار جبهة المعارضة أمام مقر الحوار.", ["اطلاق النار"]),
        (POLITICS, "وطالبت جبهة المعارضة بإطلاق سراح المعتقلين قبل الحوار مع الرئاسة.", None),
        (POLITICS, "ونفى الأمن إطلاق النار على أنصار جبهة المعارضة أمام مقر الحوار.", ["نفي"]),
        # A police search team (تشكيل فريق بحث) is every crime report's routine.
        (CRASH, "وعلى الفور تم تشكيل فريق بحث لكشف ملابسات سقوط منطاد الأقصر.", None),
        # What is denied is not done; the denial is the event, also when said as "confirmed
        # there was no ..." (أكدت عدم وجود). Not knowing (أكد عدم علمه) is no denial.
        (CRASH, "ونفت شركة المنطاد اعتقال قائد منطاد الأقصر بعد سقوطه.", ["نفت"]),
        (CRASH, "وأكدت السفارة الأمريكية عدم وجود أمريكيين بين ضحايا سقوط منطاد الأقصر.", ["نفي"]),
        (CRASH, "وأكد صاحب شركة منطاد الأقصر عدم علمه بسقوط المنطاد.", None),
        # Tried, failed or rumoured is not done.
        (POLITICS, "وحاول مندوب الرئاسة التفاوض مع جبهة المعارضة على الحوار.", None),
        (POLITICS, "وفشل مندوب الرئاسة في إنهاء اعتصام جبهة المعارضة قبل الحوار.", None),
        (
            POLITICS,
            "ونفت جبهة المعارضة ما تردد عن اعتقال المتحدث باسمها قبل الحوار مع الرئاسة.",
            ["نفت"],
        ),
        # A denied claim (نفى ... ما نشر عن ...) is not done; an action told after it is.
        (
            CRASH,
            "ونفى مدير أمن الأقصر ما نشر حول قيام الشرطة بضبط قائد منطاد الأقصر بعد سقوطه.",
            ["نفي"],
        ),
        (
            POLITICS,
            "ونفت الرئاسة ما نشرته بعض المواقع عن اعتقال المتحدث باسم جبهة المعارضة.",
            ["نفت"],
        ),
        (
            POLITICS,
            "ونفت الرئاسة ما نشر عن اعتقال المتحدث باسم جبهة المعارضة مؤكدة أن النيابة أفرجت "
            "عنه قبل الحوار.",
            ["نفت", "افرجت"],
        ),
        # What is called untrue (لا صحة ل, نفى صحة, لا أساس له من الصحة) did not happen; a
        # health ministry (وزارة الصحة) denies nothing.
        (
            POLITICS,
            "وأكد المتحدث باسم الرئاسة أن لا صحة لسفر وفد من جبهة المعارضة قبل الحوار.",
            None,
        ),
        (POLITICS, "ونفى المتحدث باسم الرئاسة صحة اعتقال المتحدث باسم جبهة المعارضة.", ["نفي"]),
        (POLITICS, "وقالت الرئاسة إنه لا أساس من الصحة لاعتقال قادة جبهة المعارضة.", None),
        (
            CRASH,
            "ووصل وفد من وزارة الصحة لمعاينة مكان سقوط منطاد الأقصر.",
            ["وصل", "وفد", "لمعاينه"],
        ),
        # A suit brought and an ultimatum given are events; the judge (القاضي) is none.
        (
            POLITICS,
            "وتقاضي جبهة المعارضة وزير الإعلام بعد وصفه لها بالعمالة قبل الحوار مع الرئاسة.",
            ["تقاضي"],
        ),
        (
            POLITICS,
            "وأمهلت جبهة المعارضة الرئاسة حتى الخميس للاستجابة لمطالبها قبل الحوار.",
            ["وامهلت"],
        ),
        (POLITICS, "وقال القاضي إن جبهة المعارضة لم تحضر الحوار مع الرئاسة.", None),
        # A memo sent (مذكرة) is a step of a dispute.
        (
            POLITICS,
            "وأرسلت جبهة المعارضة مذكرة إلى الرئاسة تشرح فيها أسباب رفضها للحوار.",
            ["مذكره"],
        ),
        # A funeral held is an event of a death's story.
        (CRIME, "وشيع الآلاف جثامين الضحايا الخمسة في برج العرب بالإسكندرية.", ["وشيع"]),
        (CRIME, "وشهدت الإسكندرية جنازة الضحايا الخمسة وسط هتافات غاضبة.", ["جنازه"]),
        # «On a charge of» names what someone is held for: the detention is the event.
        (CRIME, "وقررت النيابة حبس قاتل 5 أشخاص 4 أيام بتهمة القتل العمد في الإسكندرية.", ["حبس"]),
        # Due, expected or conditional is not done (the sit-in held later is news).
        (POLITICS, "وقال المتحدث إنه لا بد من تشكيل حكومة جديدة قبل الحوار مع الرئاسة.", None),
        (POLITICS, "وتتوقع جبهة المعارضة اعتقال قياداتها بعد رفض الحوار مع الرئاسة.", None),
        (
            POLITICS,
            "وقالت جبهة المعارضة إنه إذا تم اعتقال المتحدث باسمها فلا حوار مع الرئاسة.",
            None,
        ),
        (POLITICS, "وتعهدت الرئاسة بتشكيل حكومة جديدة بعد الحوار مع جبهة المعارضة.", None),
        (POLITICS, "وقالت الرئاسة إنها بصدد تشكيل حكومة جديدة قبل الحوار مع جبهة المعارضة.", None),
        # A purpose, an intention or an offer is not done.
        (CRASH, "وتواصل الشرطة جهودها لضبط قائد منطاد الأقصر بعد سقوطه.", None),
        (POLITICS, "وقالت جبهة المعارضة إنها تعمل من أجل إنقاذ الحوار مع الرئاسة.", None),
        (POLITICS, "وأعلنت جبهة المعارضة نيتها الاعتصام بعد رفض الحوار مع الرئاسة.", None),
        (POLITICS, "وقالت الرئاسة إنها مستعدة لإجراء محادثات مع جبهة المعارضة قبل الحوار.", None),
        # A name is no action: فيصل is no ف + يصل (arrives).
        (CRASH, "وتلقى قسم شرطة فيصل بلاغا بسقوط منطاد الأقصر ومصرع السياح.", None),
        # Where words were said (جاء ذلك خلال اجتماع) is no new event.
        (POLITICS, "وجاء ذلك خلال اجتماع جبهة المعارضة لبحث الحوار مع الرئاسة.", None),
        # Until, or what can be, is not done; a word behind و or ل is the same word.
        (POLITICS, "وقالت جبهة المعارضة إنها لن تحاور الرئاسة حتى يتم تشكيل حكومة جديدة.", None),
        (POLITICS, "وقالت جبهة المعارضة إنه يمكن التفاوض مع الرئاسة على الحوار.", None),
        (
            POLITICS,
            "وتظاهر أنصار جبهة المعارضة لمطالبة الرئاسة بتشكيل حكومة قبل الحوار.",
            ["تظاهر"],
        ),
        # A list item (here behind a tatweel) is a demand or a proposal, nothing done.
        (POLITICS, "ـ تشكيل لجنة من جبهة المعارضة للحوار مع الرئاسة.", None),
        # A question tells nothing done.
        (CRASH, "فهل يتم القبض على قائد منطاد الأقصر بعد سقوطه؟", None),
        # Who was arrested is known: naming the culprit after his arrest identifies no one new.
        (CRASH, "وكشفت النيابة هوية قائد منطاد الأقصر بعد سقوطه.", ["هويه"]),
        (CRIME, "وكشفت أجهزة الأمن عن هوية قاتل 5 أشخاص داخل قطعة أرض في الإسكندرية.", None),
        # Where words were said, an interview or a show is no meeting or signing of the story's.
        (
            POLITICS,
            "وقال المتحدث خلال لقاء تلفزيوني إن جبهة المعارضة ترفض الحوار مع الرئاسة.",
            None,
        ),
        (
            POLITICS,
            "وأكد المتحدث خلال توقيع اتفاقية مع حزب الوسط أن جبهة المعارضة ترفض الحوار.",
            None,
        ),
        (POLITICS, "وأقامت جبهة المعارضة لقاء موسيقيا مفتوحا قبل الحوار مع الرئاسة.", None),
        (POLITICS, "وأكد المتحدث في اجتماع لقيادات جبهة المعارضة رفض الحوار مع الرئاسة.", None),
        (POLITICS, "وقال المتحدث خلال الاجتماع الموسع لجبهة المعارضة إنها ترفض الحوار.", None),
        (
            POLITICS,
            "وكان في استقبال مندوب الرئاسة المتحدث باسم جبهة المعارضة قبل الحوار.",
            ["استقبال"],
        ),
        (POLITICS, "والتقى المتحدث باسم جبهة المعارضة مندوب الرئاسة لبحث الحوار.", ["التقي"]),
        # A committee word forms a body; «شكلت صدمة» (was a shock) forms none.
        (CRASH, "وقال المحافظ إن حادثة سقوط منطاد الأقصر شكلت صدمة للسياح.", None),
        (CRASH, "وشكلت النيابة العامة لجنة للتحقيق في سقوط منطاد الأقصر.", ["شكلت"]),
        (CRASH, "وتراجعت حركة السياحة بعد سقوط منطاد الأقصر لتصل إلى مليون سائح.", None),
        # A distance reaching a length is no arrival; a demand with its object pronoun asks.
        (CRASH, "وامتدت طوابير سيارات الإسعاف لمسافة تصل إلى كيلو متر من موقع سقوط المنطاد.", None),
        (
            CRASH,
            "وعقد المحافظ جلسة مع الشركات طالبهم خلالها بإلغاء الرحلات بعد سقوط منطاد الأقصر.",
            None,
        ),
        (
            POLITICS,
            "وقالت الرئاسة إنها تعمل من أجل التوصل إلى تشكيل حكومة قبل الحوار مع جبهة المعارضة.",
            None,
        ),
        (CRASH, "وتعمل الشركة على تحديث المناطيد لضمان وقف حوادث سقوط منطاد الأقصر.", None),
        # A hospital receiving casualties is no reception; asking in the first person asks.
        (CRASH, "واستقبل مستشفى الأقصر الدولي جثث 18 سائحا من ضحايا سقوط المنطاد.", None),
        (POLITICS, "وقال المتحدث: أطالب بتشكيل حكومة جديدة قبل الحوار مع الرئاسة.", None),
        # What came before the news (بعد أن, بعدما, عقب) is its context, not a new event.
        (
            POLITICS,
            "واستضاف المتحدث باسم جبهة المعارضة رئيس الحزب بعد أن التقى مندوب الرئاسة للحوار.",
            None,
        ),
        # A sentence that opens asking asks for all it names, however far.
        (
            POLITICS,
            "وطالبت جبهة المعارضة الرئاسة بالدفع بقوات إلى الشوارع لحماية المتظاهرين ووقف الاعتقالات.",
            None,
        ),
        # What a text or a talk is about (بشأن) is not done.
        (POLITICS, "وناقشت جبهة المعارضة مشروع قانون بشأن تشكيل لجنة للحوار مع الرئاسة.", None),
        # A government of salvation (حكومة إنقاذ) is no rescue.
        (POLITICS, "وأعلنت جبهة المعارضة تشكيل حكومة إنقاذ وطني بعد رفض الحوار.", ["تشكيل"]),
        # Where words were said (خلال مشاركته باللقاء) and what is wished for are no events.
        (
            POLITICS,
            "وقال المتحدث خلال مشاركته باللقاء الذي عقده رئيس الوزراء إن الحوار مع الرئاسة مرفوض.",
            None,
        ),
        (POLITICS, "وأعلن رئيس الحزب رغبته في فرض حالة الطوارئ بعد رفض الحوار مع الرئاسة.", None),
        (
            POLITICS,
            "وأعلن رئيس الحزب فرض حالة الطوارئ في حزبه بعد رفض الحوار مع الرئاسة.",
            ["الطوارء"],
        ),
        # Fear or dismay (أصيب بحالة من الذعر) is no injury; a wound is.
        (POLITICS, "وأصيب أنصار جبهة المعارضة بحالة من الإحباط بعد رفض الرئاسة الحوار.", None),
        (POLITICS, "وأصيب أنصار جبهة المعارضة بجروح في اشتباكات مع الشرطة.", ["اصيب"]),
        # What would follow (مما يؤدي إلى) has not happened.
        (
            POLITICS,
            "وقالت جبهة المعارضة إن رفض الحوار مع الرئاسة يؤدي إلى انسحاب الأحزاب من البرلمان.",
            None,
        ),
        # A demand's later actions joined by و are asked for too.
        (
            POLITICS,
            "وبدأ أنصار جبهة المعارضة إضراب أمام القصر للضغط على الرئاسة بوقف الحوار الحالي ورحيل "
            "الحكومة و تشكيل حكومة إنقاذ.",
            ["اضراب"],
        ),
        (
            POLITICS,
            "ونفذت جبهة المعارضة مطلبها بإقالة الحكومة الحالية ووقف الحوار مع الرئاسة.",
            None,
        ),
        # A verb after them opens a clause of its own: that action was done.
        (
            POLITICS,
            "وتجاهلت الرئاسة مطلب المعارضة بإقالة الحكومة الحالية في القاهرة وأغلق المحتجون "
            "الطريق.",
            ["اغلق"],
        ),
        # Someone's record (والذي سبق اعتقاله ... وأفرج عنه) is no new event.
        (
            CRIME,
            "وتبين أن القاتل سبق اتهامه في 20 قضية وسبق اعتقاله عام 2012 ثم أفرج عنه بكفالة.",
            None,
        ),
        # What is awaited, however long the subject before its object, has not happened.
        (
            POLITICS,
            "وتنتظر جبهة المعارضة واللجنة المكلفة من أحزابها بإدارة الأزمة مع الرئاسة وصول "
            "وفد الرئاسة إلى القاهرة.",
            None,
        ),
        (
            POLITICS,
            "ووصل وفد الرئاسة إلى مقر جبهة المعارضة في القاهرة لبحث قانون الانتخابات.",
            ["وصل", "وفد"],
        ),
        # A state someone is in (كان يعاني من إصابة) is how things are, not what happened.
        (
            POLITICS,
            "وعاد إلى جبهة المعارضة نائبها الذي كان يعاني من إصابة أبعدته عن الحوار مع الرئاسة.",
            None,
        ),
        # An approval (وافق مجلس الشورى على ...) is a decision taken; a consensus (التوافق) none.
        (
            POLITICS,
            "ووافق مجلس الشورى على قانون الانتخابات رغم رفض جبهة المعارضة الحوار.",
            ["وافق"],
        ),
        (POLITICS, "وقال المتحدث إن جبهة المعارضة تريد التوافق قبل الحوار مع الرئاسة.", None),
        # A protest stand (وقفة احتجاجية) or a crowd massing is a protest.
        (
            POLITICS,
            "ونظم العشرات من أنصار جبهة المعارضة وقفة احتجاجية أمام مقر الرئاسة رفضا للحوار.",
            ["وقفه"],
        ),
        (
            POLITICS,
            "واحتشد المئات من أنصار جبهة المعارضة أمام مقر الرئاسة رفضا للحوار.",
            ["احتشد"],
        ),
        # The prosecution inspecting the site is a legal step.
        (CRASH, "وانتقلت النيابة العامة لمعاينة موقع سقوط المنطاد في الأقصر.", ["لمعاينه"]),
        # Forms of the verbs (انسحبت, يقاطع) are events; a market closing lower, or what is
        # impossible (من المستحيل أن يستقيل), is none.
        (
            POLITICS,
            "وانسحبت أحزاب جبهة المعارضة من جلسة الحوار مع الرئاسة أمس.",
            ["انسحبت"],
        ),
        (
            POLITICS,
            "وأعلن التيار الشعبي أنه يقاطع الانتخابات بعد رفض جبهة المعارضة الحوار.",
            ["يقاطع"],
        ),
        (
            POLITICS,
            "وأغلقت كبرى أسواق المال العربية على تراجع بعد رفض جبهة المعارضة الحوار.",
            None,
        ),
        (
            POLITICS,
            "وقال الرئيس إنه من المستحيل أن يستقيل بعد رفض جبهة المعارضة الحوار.",
            None,
        ),
        (
            POLITICS,
            "وأضربت نقابة الأطباء عن العمل بعد رفض جبهة المعارضة الحوار مع الرئاسة.",
            ["واضربت"],
        ),
        (
            POLITICS,
            "وقال المتحدث باسم جبهة المعارضة إنه يجوز للرئاسة إلغاء الانتخابات قبل الحوار.",
            None,
        ),
        # A refusal spoken of (حول رفض المعارضة, رغم رفض) is the noun (the verb is news:
        # test_a_source_declining_to_be_named_refuses_nothing).
        (
            CRASH,
            "وحول رفض أهالي ضحايا سقوط منطاد الأقصر لنتائج التحقيق قال المحافظ إنه يتفهم.",
            None,
        ),
        (
            CRASH,
            "وواصلت النيابة عملها رغم رفض شركات المناطيد في الأقصر التعاون بعد سقوط المنطاد.",
            None,
        ),
        # A boycott decided (قررت مقاطعة) is one; calls for it (دعوات المقاطعة) are talk.
        (
            POLITICS,
            "وقررت جبهة المعارضة مقاطعة الانتخابات البرلمانية بعد رفض الحوار.",
            ["قاطعت"],
        ),
        (
            POLITICS,
            "وقال المتحدث إن دعوات المقاطعة داخل جبهة المعارضة لن تؤثر على الحوار.",
            None,
        ),
        # Protesters blocking a road (يقطعون الطريق) close it.
        (CRASH, "وأهالي القرية يقطعون طريق الأقصر احتجاجا على سقوط المنطاد.", ["يقطعون"]),
        # Declining to take part (أعلن عدم مشاركته, يعتذر عن المشاركة) is a refusal.
        (
            CRASH,
            "وأعلنت شركات السياحة عدم مشاركتها في رحلات المناطيد بعد سقوط منطاد الأقصر.",
            ["رفض"],
        ),
        # ... and so is «رفض» taking its object with ل (رفض الشركة للتحقيق).
        (CRASH, "رفض الشركة للتحقيق في سقوط منطاد الأقصر غير مقبول.", None),
        # What someone warns against (حذر من تشكيل حكومة) has not happened.
        (
            POLITICS,
            "وحذرت جبهة المعارضة من تشكيل حكومة ائتلافية قبل الحوار مع الرئاسة.",
            None,
        ),
        # ... nor what the defence requests (وطلب الدفاع إخلاء سبيله); the court's release is.
        (CRIME, "وطلب دفاع قاتل 5 أشخاص إخلاء سبيله لكبر سنه أمام محكمة الإسكندرية.", None),
        (
            CRIME,
            "وقررت محكمة الإسكندرية إخلاء سبيل قاتل 5 أشخاص بكفالة لكبر سنه.",
            ["اخلاء"],
        ),
        # ... nor has what someone fears (خوفا من اعتقال, مخاوف من اعتقال).
        (
            POLITICS,
            "واعتصم أعضاء جبهة المعارضة في مقرها خوفا من اعتقال قادتها بعد رفض الحوار.",
            ["واعتصم"],
        ),
        (
            POLITICS,
            "وعبرت جبهة المعارضة عن مخاوف من اعتقال قادتها بعد رفض الحوار مع الرئاسة.",
            None,
        ),
        # What a state of things threatens (مما يهدد) is a danger, no one's threat.
        (
            CRASH,
            "وتوقفت رحلات المناطيد بعد سقوط المنطاد، مما يهدد العاملين بالسياحة في الأقصر.",
            None,
        ),
        # An emergency court is no state of emergency; a toll in the charges of a case
        # (المتهم بقتل 7 في قضيتي اقتحام) is no new toll.
        (
            CRIME,
            "وبدأت محكمة جنايات أمن الدولة العليا طوارئ محاكمة قاتل 5 أشخاص في الإسكندرية.",
            None,
        ),
        (
            CRIME,
            "وبدأت محاكمة قاتل 5 أشخاص المتهم بقتل 7 آخرين في قضيتي اقتحام قسم الشرطة بالإسكندرية.",
            None,
        ),
        # What a lawsuit asks for (لإلغاء, والمطالب فيها بوقف, and the action that asked
        # action governs) is not done; what a court rules on is.
        (
            POLITICS,
            "وأقام محام دعوى أمام محكمة القضاء الإداري لإلغاء قرار جبهة المعارضة رفض الحوار.",
            None,
        ),
        (
            POLITICS,
            "وأقام محام دعوى أمام القضاء الإداري بوقف تنفيذ إلغاء قرار جبهة المعارضة الحوار.",
            None,
        ),
        (
            POLITICS,
            "وأجلت المحكمة نظر الدعوى المقامة من محام والمطالب فيها بوقف قرار جبهة المعارضة.",
            ["اجلت"],
        ),
        (
            POLITICS,
            "وقضت محكمة القضاء الإداري في دعوى أقامها محام بوقف تنفيذ قرار جبهة المعارضة.",
            ["وقف"],
        ),
    ],
)
def test_what_reads_as_an_event(
    about: tuple[str, list[str]], sentence: str, events: list[str] | None
) -> None:
    result = judge([sentence], about=about)
    if events is None:
        assert not result.is_development
    else:
        assert result.new_sentences[0].facts[EVENTS] == events


def test_a_count_the_story_told_as_not_done_is_no_figure_of_it() -> None:
    # The ministry denied that 60 were arrested: 20 arrested later is the story's first
    # arrest count, not a figure below one it had.
    denied = (
        "جبهة المعارضة ترفض الحوار مع الرئاسة",
        [
            "رفضت جبهة المعارضة دعوة الرئاسة إلى الحوار الوطني.",
            "ونفت وزارة الداخلية ما نشر عن القبض على 60 متظاهرا من أنصار جبهة المعارضة.",
        ],
    )
    arrests = judge(
        ["وألقت الشرطة القبض على 20 متظاهرا من أنصار جبهة المعارضة أمام مقر الحوار."],
        title="القبض على 20 من أنصار جبهة المعارضة",
        about=denied,
    )
    assert arrests.new_sentences[0].facts["count"] == ["arrest:20"]


def test_a_cause_is_news_of_an_incident_not_of_politics() -> None:
    # Why a balloon caught fire changes the story; why a party refuses a dialogue is its
    # politics, argued in every article.
    fire = judge(["واشتعلت النيران في منطاد الأقصر بسبب تسرب الغاز من أسطوانة الوقود."])
    assert fire.new_sentences[0].facts["cause"] == ["تسرب الغاز اسطوانه"]
    politics = judge_political(
        ["وقال المتحدث باسم جبهة المعارضة إن الحوار مع الرئاسة مرفوض بسبب غياب الضمانات الدستورية."]
    )
    assert not politics.is_development


def test_a_cause_before_behind_is_told_in_a_headline_and_a_findings_subject() -> None:
    # «X وراء Y»: X is behind the incident Y. A speaker's headline giving a cause is news,
    # not only words; an unnamed cause (الأسباب وراء) or one told in a long clause (no
    # criminal suspicion behind the crash) is none.
    headline = judge(
        ["وقال المصدر إن الطيار كان يقود المنطاد."],
        title="مصدر مسؤول: خطأ بشري وراء سقوط منطاد الأقصر",
    )
    assert headline.new_sentences[0].index == TITLE_INDEX
    assert headline.new_sentences[0].facts["cause"] == ["خطا بشري"]
    unnamed = judge(["وزير الطيران: أوقفنا رحلات البالون لمعرفة الأسباب وراء سقوط منطاد الأقصر"])
    assert "cause" not in {kind for s in unnamed.new_sentences for kind in s.facts}
    clause = judge(["وتوضح التحقيقات حتى الآن عدم وجود شبهة جنائية وراء سقوط منطاد الأقصر."])
    assert "cause" not in {kind for s in clause.new_sentences for kind in s.facts}


def test_about_the_same_toll_rounded_is_no_higher_toll() -> None:
    rounded = judge(
        ["وأكد التلفزيون أن نحو 20 سائحا لقوا حتفهم في سقوط منطاد الأقصر."],
        title="مصرع 20 سائحا في سقوط منطاد الأقصر",
    )
    assert not rounded.is_development
    higher = judge(["وأكد التلفزيون أن نحو 30 سائحا لقوا حتفهم في سقوط منطاد الأقصر."])
    assert higher.new_sentences[0].facts["count"] == ["death:30"]


def test_a_newcomer_counts_when_the_gazetteer_knows_him_or_the_article_names_him_again() -> None:
    # After «رئيس الحزب،» a title's pattern takes the verb and its object for a name.
    once = judge_political(["وقال رئيس الحزب، ابدى استعداده للحوار مع الرئاسة ورفض المقاطعة."])
    assert once.new_sentences == []
    again = judge_political(
        [
            "وقال رئيس الحزب سامح فهمي إنه رفض المقاطعة والحوار مع الرئاسة.",
            "وأضاف فهمي أن جبهة المعارضة لن تشارك في الحوار.",
        ]
    )
    assert again.new_sentences[0].facts["actor"] == ["سامح فهمي"]
    # A "name" holding an action word is none, however often the action is named.
    talks = judge(
        ["وتستمر محادثات الرئيس مع جبهة المعارضة حول الحوار مع الرئاسة."],
        title="الرئيس المنتخب يواجه محادثات صعبة مع جبهة المعارضة",
        about=POLITICS,
    )
    assert all("actor" not in sentence.facts for sentence in talks.new_sentences)


def test_a_deep_sentence_of_several_events_counts_as_one_fact() -> None:
    # Below the lead, a sentence telling several events is a recap more often than news.
    recap = "وقررت النيابة حبس قائد منطاد الأقصر وإحالة مالك الشركة إلى المحاكمة."
    deep = judge([*FIRST, recap])
    assert deep.new_sentences[-1].facts[EVENTS] == ["حبس", "احاله"]
    assert not deep.is_development
    assert judge([recap]).is_development


def test_a_cause_of_nothing_is_no_cause() -> None:
    # «It was not found that the crash came of ...»: no cause is given.
    nothing = judge(["ولم يتبين أن سقوط منطاد الأقصر وقع جراء تسرب الغاز من أسطوانة الوقود."])
    assert "cause" not in {kind for s in nothing.new_sentences for kind in s.facts}
    caused = judge(["وتبين أن سقوط منطاد الأقصر وقع جراء تسرب الغاز من أسطوانة الوقود."])
    assert caused.new_sentences[0].facts["cause"] == ["تسرب الغاز اسطوانه"]


def test_below_the_lead_a_question_headline_argues_and_tells_no_news() -> None:
    # «Will the crash end balloon tourism?» heads an analysis: the case it argues further
    # down is no news, though the same sentence under a plain headline would be.
    deep = [
        *FIRST,
        "وقررت النيابة حبس قائد منطاد الأقصر أربعة أيام على ذمة التحقيقات.",
        "وأعلنت الشركة صرف تعويضات لأسر ضحايا سقوط منطاد الأقصر.",
    ]
    asked = judge(deep, title="هل ينهي سقوط منطاد الأقصر سياحة المناطيد؟")
    assert not asked.is_development
    assert judge(deep, title="سقوط منطاد الأقصر وسياحة المناطيد").is_development
