"""Line rules, related-story blocks and outlet templates (monitor.core.boilerplate)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core import boilerplate
from monitor.core.arabic import normalize
from monitor.core.boilerplate import (
    TemplateLines,
    line_key,
    remove_boilerplate,
    template_from_counts,
    template_keys,
)

ARTICLE = [
    "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء في زيارة نادرة لكوريا الشمالية.",
    "واستقبل الزعيم الكوري الشمالي كيم جونغ أون الرئيس الروسي في المطار.",
]


def reasons_of(lines: list[str]) -> dict[str, str]:
    _, removed = remove_boilerplate(lines)
    return {removal.text: removal.reason for removal in removed}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Sorry, you need to enable JavaScript to visit this website.", "javascript"),
        ("يرجى تفعيل الجافاسكريبت لعرض الصفحة", "javascript"),
        ("This website uses cookies to improve your experience", "cookies"),
        ("تابعونا على فيسبوك وتويتر", "share"),
        ("للمزيد : تابع خليجيون 24 ، وللتواصل الاجتماعي تابعنا علي فيسبوك وتويتر", "share"),
        ("تابع أحدث الأخبار عبر تطبيق", "share"),
        ("اشترك في قناتنا على تيليجرام", "share"),
        ("شارك", "share"),
        ("Open chat", "chat_widget"),
        ("Scan the code", "chat_widget"),
        ("مرحبا 👋", "chat_widget"),
        ("أهلاً! كيف يمكننا مساعدتك؟", "chat_widget"),
        ("1", "no_words"),
        (".", "no_words"),
        ("كلمات دلالية: بوتين كيم كوريا الشمالية", "tags"),
        ("الوسوم: روسيا", "tags"),
        ("جميع الحقوق محفوظة لموقع فيتو 2024", "copyright"),
        ("© 2024 Sky News Arabia", "copyright"),
        ("المصدر: موقع 24", "source"),
        ("القاهرة - أ ش أ", "credit"),
        ("طنطا - أ.ش.أ", "credit"),
        ("طوكيو (رويترز)", "credit"),
        ("تاريخ النشر: 14th, September 2023 GMT", "date"),
        ("آخر تحديث: الثلاثاء 18 يونيو 2024", "date"),
        ("ما سر قطار كيم جونغ أون؟ https://t.co/I4C5spBlQb pic.twitter.com/UWNTTel973", "embed"),
        ('كيم يتعهد بدعم #روسيا في "الحرب المقدسة" ضد الإمبريالية https://t.', "embed"),
        ("www.alforsan.net", "embed"),
        ("لقاء سابق جمع بوتين وكيم في 2023 (رويترز)", "caption"),
        ("صورة أرشيفية", "caption"),
        ("صورة تعبيرية", "caption"),
        ("القاهرة _أ ش أ", "credit"),
        ("كتب - محمود الطباخ:", "byline"),
        ("كتبت – راتان جميل:", "byline"),
        ("ترجمة - دينا قدري", "byline"),
        ("(إعداد أحمد صبحي خليفة للنشرة العربية)", "byline"),
        ("اضغط هنا", "link_prompt"),
        ("لمشاهدة الفيديو اضغط هنا", "link_prompt"),
        ("لقراءة تفاصيل الخبر بالكامل", "link_prompt"),
        ("أخبار العالم", "navigation"),
        ("زر الذهاب إلى الأعلى", "navigation"),
        ("الجريدة الرسمية", "navigation"),
        ("ملخص", "navigation"),
    ],
)
def test_line_rules(line: str, reason: str) -> None:
    assert reasons_of([*ARTICLE, line]) == {line: reason}


@pytest.mark.parametrize(
    "sentence",
    [
        # Mentions of social networks, sharing and following inside real report sentences.
        "وتابع عبر «تويتر» إن قرار المقاطعة قرار اضطراري مع تعنت الرئيس وجماعته.",
        "وأضافت الصفحة التي يتابعها مئات الآلاف من مستخدمي الفيس بوك أنه يمكن إرسال الأسئلة.",
        "ودعت الرئاسة المشاركين لإرسال مقترحاتهم مكتوبة عبر البريد الإلكتروني قبل الجلسة.",
        # A long list of names or parties is article text, not a site-section list.
        "الموقعون على البيان هم: أحمد السيد، أحمد خيرى، أحمد دومة، أحمد طه، أحمد كامل، أنيسة "
        "عصام، باسم كامل، بثينة كامل، جمال عيد، جورج إسحق، حسين عبدالغني.",
        "وتضم القائمة: حزب الأصالة، حزب الإصلاح، حزب البناء، حزب التحالف، حزب الحضارة، حزب "
        "الراية، حزب الوسط، حزب الفضيلة.",
        "قال المصدر: إن الاجتماع انتهى دون اتفاق على موعد الجولة المقبلة من المفاوضات.",
    ],
)
def test_article_sentences_are_kept(sentence: str) -> None:
    kept, removed = remove_boilerplate([*ARTICLE, sentence])
    assert sentence in kept, removed


def test_promo_paragraph_listing_site_sections() -> None:
    promo = (
        "ونقدم لكم من خلال موقع (فيتو)، تغطية ورصدًا مستمرًّا على مدار الـ 24 ساعة لـ أسعار الذهب، "
        "أسعار اللحوم ، أسعار الدولار ، أسعار اليورو ، أسعار العملات ، أخبار الرياضة ، أخبار مصر."
    )
    anonymous = (
        "تابع معنا أسعار الذهب، أسعار اللحوم، أسعار الدولار، أسعار اليورو، أخبار الرياضة، "
        "أخبار مصر، أخبار اقتصاد، أخبار المحافظات، أخبار السياسة"
    )
    assert reasons_of([*ARTICLE, promo, anonymous]) == {promo: "promo", anonymous: "promo"}


def test_masthead_and_the_name_under_it() -> None:
    assert reasons_of(["رئيس التحرير", "عصام كامل", *ARTICLE]) == {
        "رئيس التحرير": "masthead",
        "عصام كامل": "masthead",
    }


def test_image_alt_text_and_its_caption() -> None:
    lines = ["بوتين وكيم جونج اون،", "بوتين وكيم جونج اون، فيتو", *ARTICLE]
    assert reasons_of(lines) == {
        "بوتين وكيم جونج اون،": "caption",
        "بوتين وكيم جونج اون، فيتو": "caption",
    }


def test_a_subheading_repeated_by_its_paragraph_is_kept() -> None:
    lines = [*ARTICLE, "الحوار الوطني", "الحوار الوطني بدأ اليوم في قصر الاتحادية بحضور الرئيس."]
    assert remove_boilerplate(lines)[0] == lines


def test_tweet_signature_is_cut_and_glued_text_kept() -> None:
    lines = [
        *ARTICLE,
        "— 24.ae (@20fourMedia) September 13, 2023وكانت آخر زيارة لبوتين إلى كوريا الشمالية في عام 2000.",
    ]
    kept, removed = remove_boilerplate(lines)
    assert kept == [*ARTICLE, "وكانت آخر زيارة لبوتين إلى كوريا الشمالية في عام 2000."]
    assert [(r.text, r.reason) for r in removed] == [
        ("— 24.ae (@20fourMedia) September 13, 2023", "embed")
    ]


def test_consecutive_duplicate_line() -> None:
    assert reasons_of([ARTICLE[0], ARTICLE[0], ARTICLE[1]]) == {ARTICLE[0]: "duplicate"}


def test_related_headline_list_then_the_article_continues() -> None:
    continuation = (
        "وقال بوتين في تصريحات قبل وصوله إلى بيونغ يانغ إن روسيا وكوريا الشمالية ستوسعان "
        "التعاون، وإن الزيارة تأتي تلبية لدعوة الزعيم كيم جونغ أون."
    )
    lines = [
        *ARTICLE,
        "اقرأ أيضاً",
        "- الرئيس الروسي يوجه الدعوة لملك البحرين لحضور قمة بريكس",
        "- بايدن يشن هجوما لاذعا على ترامب: دبر محاولة انقلاب في 2021",
        continuation,
    ]
    kept, removed = remove_boilerplate(lines)
    assert kept == [*ARTICLE, continuation]
    assert {r.reason for r in removed} == {"related"}


def test_related_marker_then_a_different_story() -> None:
    other = [
        "أعلنت وزارة الصحة المصرية ارتفاع أعداد المصابين بالإنفلونزا الموسمية في محافظات الصعيد "
        "خلال الشتاء الحالي.",
        "وطالبت الوزارة المواطنين بتلقي اللقاح في المستشفيات الحكومية.",
    ]
    lines = [*ARTICLE, "مقالات ذات صلة", "الصحة: ارتفاع الإصابات بالإنفلونزا في الصعيد", *other]
    kept, removed = remove_boilerplate(lines)
    assert kept == ARTICLE
    assert [r.reason for r in removed] == ["related", "related", "other_story", "other_story"]


def test_a_marker_after_the_footer_ends_the_article() -> None:
    # Even a neighbouring story (same country) goes when the page's footer came first.
    other = "أدانت كوريا الشمالية التدريبات العسكرية المشتركة بين كوريا الجنوبية والولايات المتحدة."
    lines = [*ARTICLE, "المصدر: موقع 24", "إقرأ أيضاً:", other]
    kept, removed = remove_boilerplate(lines)
    assert kept == ARTICLE
    assert [r.reason for r in removed] == ["source", "related", "other_story"]


def test_related_list_at_the_end_of_an_article() -> None:
    lines = [
        *ARTICLE,
        "الأخبار المتعلقة:",
        'بالصور| أوسكار 2013: بدء توافد نجوم هوليوود على "السجادة الحمراء"',
        "أوسكار 2013: إيمي آدمز تتألق على السجادة الحمراء بفستان فضفاض",
    ]
    kept, removed = remove_boilerplate(lines)
    assert kept == ARTICLE
    assert [r.reason for r in removed] == ["related"] * 3


def test_template_lines_are_removed() -> None:
    footer = "حقوق النشر لموقع البوابة - تصميم وتطوير شركة س"
    template = TemplateLines(frozenset({line_key(normalize(footer))}))
    kept, removed = remove_boilerplate([*ARTICLE, footer], template)
    assert kept == ARTICLE
    assert [(r.text, r.reason) for r in removed] == [(footer, "template")]


def test_template_keys_are_distinct_and_short_lines_only() -> None:
    long_line = "كلمة " * 60
    keys = template_keys(["a", "b", "a", "", normalize(long_line)])
    assert keys == [line_key("a"), line_key("b")]


def test_template_from_counts_thresholds() -> None:
    counts = {"footer": 30, "slogan": 12, "rare": 3}
    assert template_from_counts(40, counts, min_articles=20, min_share=0.3).keys == {
        "footer",
        "slogan",
    }
    assert len(template_from_counts(19, counts, min_articles=20, min_share=0.3)) == 0
    assert "footer" in template_from_counts(100, counts, min_articles=20, min_share=0.3)
    assert "slogan" not in template_from_counts(100, counts, min_articles=20, min_share=0.3)


def test_a_marker_learned_as_template_still_removes_its_list() -> None:
    marker = "الأخبار المتعلقة:"
    headline = "أوسكار 2013: إيمي آدمز تتألق على السجادة الحمراء بفستان فضفاض"
    template = TemplateLines(frozenset({line_key(normalize(marker))}))
    kept, removed = remove_boilerplate([*ARTICLE, marker, headline], template)
    assert kept == ARTICLE
    assert [r.reason for r in removed] == ["related", "related"]


def test_bare_author_name_opening_the_text() -> None:
    assert reasons_of(["مروة على", *ARTICLE]) == {"مروة على": "byline"}


def test_short_opening_line_before_a_short_line_is_kept() -> None:
    lines = ["الحوار الوطني", "بدأ الحوار.", *ARTICLE]
    assert remove_boilerplate(lines)[0] == lines


_RULE_PIECES = [
    "تابعونا", "على", "فيسبوك", "كتب", "-", "محمود", ":", "رويترز", "(", ")", "[", "]", "أ ش أ",
    "القاهرة", "صورة", "أرشيفية", "اضغط", "هنا", "المصدر", "https://t.co/x", "www.x.net", "©",
    "2024", "جميع الحقوق محفوظة", "مرحبا", "!", "شارك", "tags", "Open chat", "cookies", "we use",
    "javascript", "كيف يمكننا مساعدتك", "رئيس التحرير", "تاريخ النشر", " ", "وصل", "الرئيس",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_RULE_PIECES), max_size=10))
def test_rules_quick_test_answers_as_the_rules(pieces: list[str]) -> None:
    """A short line that the quick test passes by fires no rule (``_RULES_QUICK``)."""
    line = normalize(" ".join(pieces))
    assert boilerplate._RULES_QUICK is not None  # the rules can be read so
    quick = boilerplate._rule_reason(line)
    saved, boilerplate._RULES_QUICK = boilerplate._RULES_QUICK, None
    try:
        assert quick == boilerplate._rule_reason(line), line
    finally:
        boilerplate._RULES_QUICK = saved
