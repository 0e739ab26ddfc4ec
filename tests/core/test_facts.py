"""Which facts make a development: events, counts, actors; not reactions, background, dates."""

from __future__ import annotations

from monitor.core.arabic import normalize
from monitor.core.novelty import assess_novelty, record_reported
from monitor.core.stories import analyse, article_features, new_story_state

FIRST = [
    "سقط منطاد يحمل سياحا فوق مدينة الأقصر صباح اليوم ومصرع 18 سائحا.",
    "وانتقلت سيارات الإسعاف إلى موقع سقوط المنطاد في الأقصر.",
]


def story():  # type: ignore[no-untyped-def]
    title = normalize("مصرع 18 سائحا في سقوط منطاد بالأقصر")
    features = article_features(title, [normalize(s) for s in FIRST])
    state = new_story_state("s", "t", features, now=0.0, sentences=[])
    record_reported(state, [features.text.title, *features.text.sentences])
    return state


def judge(sentences: list[str], title: str = "منطاد الأقصر"):  # type: ignore[no-untyped-def]
    text = analyse(normalize(title), [normalize(s) for s in sentences])
    return assess_novelty(
        story(),
        sentences,
        text.sentences,
        reported_containment=0.6,
        development_min_score=1.5,
        title=(title, text.title),
    )


def test_a_higher_toll_is_a_development_and_a_lower_one_is_not() -> None:
    higher = judge(["ارتفع عدد ضحايا سقوط منطاد الأقصر إلى مصرع 19 سائحا."])
    assert higher.is_development
    assert higher.new_sentences[0].facts["count"] == ["death:19"]
    lower = judge(["مصرع 17 سائحا في سقوط منطاد الأقصر بحسب مصادر أولية."])
    assert not lower.is_development


def test_a_new_kind_of_event_is_a_development() -> None:
    result = judge(["قررت النيابة حبس قائد منطاد الأقصر أربعة أيام على ذمة التحقيقات."])
    assert result.is_development
    assert "event" in result.new_sentences[0].facts


def test_reactions_and_background_are_no_news() -> None:
    reaction = judge(
        ["ندد حزب الوسط بحادث منطاد الأقصر وقدم التعازي لأسر الضحايا وطالب بمحاسبة المسؤولين."]
    )
    assert not reaction.is_development
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
    result = judge(["وأخلت المحكمة سبيل المتهم في قضية أحداث إضراب عمال منطاد الأقصر."])
    assert not result.is_development
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


def test_a_number_or_a_state_reached_is_no_arrival() -> None:
    reached = judge(["ووصل عدد السياح في فنادق الأقصر إلى أدنى مستوى بعد سقوط المنطاد."])
    assert not reached.is_development
    arrived = judge(["ووصل وزير السياحة إلى الأقصر بعد سقوط المنطاد ومصرع السياح."])
    assert arrived.new_sentences[0].facts["event"] == ["وصل"]


def test_an_eye_is_no_appointment() -> None:
    eye = judge(["وسقط منطاد الأقصر في غمضة عين أمام أهالي البر الغربي."])
    assert not eye.is_development


def political_story():  # type: ignore[no-untyped-def]
    title = normalize("جبهة المعارضة ترفض الحوار مع الرئاسة")
    sentences = ["رفضت جبهة المعارضة دعوة الرئاسة إلى الحوار الوطني حول قانون الانتخابات."]
    features = article_features(title, [normalize(s) for s in sentences])
    state = new_story_state("p", "t", features, now=0.0, sentences=[])
    record_reported(state, [features.text.title, *features.text.sentences])
    return state


def judge_political(sentences: list[str]):  # type: ignore[no-untyped-def]
    title = "جبهة المعارضة والحوار مع الرئاسة"
    text = analyse(normalize(title), [normalize(s) for s in sentences])
    return assess_novelty(
        political_story(),
        sentences,
        text.sentences,
        reported_containment=0.6,
        development_min_score=1.5,
        title=(title, text.title),
    )


def test_a_cause_is_news_of_an_incident_not_of_politics() -> None:
    # Why a balloon caught fire changes the story; why a party refuses a dialogue is its
    # politics, argued in every article.
    fire = judge(["واشتعلت النيران في منطاد الأقصر بسبب تسرب الغاز من أسطوانة الوقود."])
    assert fire.new_sentences[0].facts["cause"] == ["تسرب الغاز اسطوانه"]
    politics = judge_political(
        ["وقال المتحدث باسم جبهة المعارضة إن الحوار مع الرئاسة مرفوض بسبب غياب الضمانات الدستورية."]
    )
    assert not politics.is_development


def test_the_martyrs_remembered_are_no_incident_and_a_death_is() -> None:
    remembered = judge_political(
        ["وقال المتحدث باسم جبهة المعارضة إن الحوار مع الرئاسة لن يضيع دماء الشهداء."]
    )
    assert not remembered.is_development
    killed = judge_political(["وقال المتحدث باسم جبهة المعارضة إن الحوار توقف بعد مقتل متظاهر."])
    assert killed.new_sentences[0].facts["event"] == ["مقتل"]


def test_an_action_proposed_or_sought_is_no_event() -> None:
    talks = judge_political(["وأجرت جبهة المعارضة مشاورات تشكيل حكومة ائتلافية بعد رفض الحوار."])
    assert not talks.is_development
    formed = judge_political(["وأعلنت جبهة المعارضة تشكيل حكومة ظل بعد رفض الحوار مع الرئاسة."])
    assert formed.new_sentences[0].facts["event"] == ["تشكيل"]


def test_words_for_a_gang_a_known_delegation_and_a_market_close_are_no_actions() -> None:
    gang = judge_political(["وضبطت الشرطة التشكيل العصابي الذي سرق مقر جبهة المعارضة قبل الحوار."])
    assert gang.new_sentences[0].facts["event"] == ["ضبطت"]
    delegation = judge_political(
        ["وقال المتحدث باسم جبهة المعارضة إن الوفد عرض على الرئاسة شروط الحوار."]
    )
    assert not delegation.is_development
    market = judge_political(
        ["وأغلق مؤشر البورصة على تراجع بعد رفض جبهة المعارضة الحوار مع الرئاسة."]
    )
    assert not market.is_development


def test_an_emergency_centre_is_no_state_of_emergency() -> None:
    centre = judge_political(
        ["وقال مركز العمليات والطوارئ إن جبهة المعارضة رفضت الحوار مع الرئاسة."]
    )
    assert not centre.is_development
    declared = judge_political(["وأعلنت الرئاسة حالة الطوارئ بعد رفض جبهة المعارضة الحوار."])
    assert declared.new_sentences[0].facts["event"] == ["الطوارء"]


def test_a_sentence_naming_the_incident_is_about_the_story() -> None:
    committee = judge(["وأعلن وزير الطيران المدني تشكيل لجنة للتحقيق في الحادث."])
    assert committee.new_sentences[0].facts["event"] == ["تشكيل"]


def test_an_action_threatened_or_set_as_a_condition_is_no_event() -> None:
    threat = judge_political(["وهددت جبهة المعارضة بالانسحاب من الحوار مع الرئاسة."])
    assert threat.new_sentences[0].facts["event"] == ["هددت"]
    condition = judge_political(["وقالت جبهة المعارضة إن الحوار مع الرئاسة مرهون بإقالة الحكومة."])
    assert not condition.is_development


def test_a_confession_is_news_of_a_crime_or_an_accident_not_of_politics() -> None:
    confessed = judge(["واعترف قائد المنطاد أمام النيابة بمسؤوليته عن سقوط منطاد الأقصر."])
    assert confessed.new_sentences[0].facts["event"] == ["اعترف"]
    admitted = judge_political(["واعترف المتحدث باسم جبهة المعارضة بأن الحوار مع الرئاسة صعب."])
    assert not admitted.is_development


def test_about_the_same_toll_rounded_is_no_higher_toll() -> None:
    rounded = judge(
        ["وأكد التلفزيون أن نحو 20 سائحا لقوا حتفهم في سقوط منطاد الأقصر."],
        title="مصرع 20 سائحا في سقوط منطاد الأقصر",
    )
    assert not rounded.is_development
    higher = judge(["وأكد التلفزيون أن نحو 30 سائحا لقوا حتفهم في سقوط منطاد الأقصر."])
    assert higher.new_sentences[0].facts["count"] == ["death:30"]


def test_will_not_is_a_refusal_and_what_is_refused_is_not_done() -> None:
    will_not = judge(["وقالت شركة المنطاد إنها لن تدفع تعويضات لأسر ضحايا منطاد الأقصر."])
    assert will_not.new_sentences[0].facts["event"] == ["رفض"]
    refused = judge(["ورفضت شركة المنطاد دفع تعويضات لأسر ضحايا منطاد الأقصر."])
    assert refused.new_sentences[0].facts["event"] == ["رفضت"]


def test_declining_to_comment_and_constituting_are_no_actions() -> None:
    declined = judge(["ورفض محافظ الأقصر التعليق على سقوط منطاد الأقصر."])
    assert not declined.is_development
    constitutes = judge(["وقال خبراء إن سقوط منطاد الأقصر يشكل خطرا على السياحة في مصر."])
    assert not constitutes.is_development
