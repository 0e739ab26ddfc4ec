"""Raw article in, clean article out (monitor.core.clean), on the five seed articles and more."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core import clean
from monitor.core.arabic import normalize, tokens
from monitor.core.boilerplate import TemplateLines, line_key
from monitor.core.clean import clean_article, finish_article, prepare_article
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.settings import CleanSettings

DATA = Path(__file__).parent.parent / "data"
SEEDS = DATA / "seeds"


def seed_text(number: str) -> str:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path.read_text(encoding="utf-8")


def clean_seed(number: str) -> CleanArticle:
    result = clean_article(RawArticle(id=number, outlet=f"seed{number}", text=seed_text(number)))
    assert isinstance(result, CleanArticle), result
    return result


def body(article: CleanArticle) -> str:
    return "\n".join(article.paragraphs)


# For each seed: (title, fragments that must be gone, fragments that must stay in the body).
SEED_EXPECTATIONS: dict[str, tuple[str, list[str], list[str]]] = {
    "000": (
        "كيم يستعد لاستقبال بوتين وسط قلق غربي",
        [
            "أخبار العالم",
            "تابعنا علي فيسبوك وتويتر",
            "مقالات ذات صلة",
            "زر الذهاب إلى الأعلى",
            "Open chat",
            "Scan the code",
            "مرحبا 👋",
            "كيف يمكننا مساعدتك",
        ],
        [
            "حفل غنائي على شرفه.. بينما يساور القلق الأميركيين والأوروبيين",
            "ووصف المستشار الدبلوماسي لبوتين، يوري أوشاكوف، زيارة الرئيس بأنها لحظة مهمة",
            "وتوقع أن يتم اتخاذ القرار النهائي بشأن توقيعها خلال الساعات المقبلة.",
            "“لسنا قلقين بشأن زيارة بوتين”",
            "كما سيحضر الرئيس الروسي حفلا موسيقيا يقام على شرفه.",
            "وتأتي الزيارة بعد تسعة أشهر من استقبال بوتين للزعيم الكوري الشمالي",
        ],
    ),
    "001": (
        "زيارة نادرة لبوتين إلى كوريا الشمالية تقلق البيت الأبيض",
        [
            "Sorry, you need to enable JavaScript to visit this website.",
            "لقاء سابق جمع بوتين وكيم في 2023 (رويترز)",
            "ملخص",
            "اقرأ المزيد",
            "يحتوي هذا القسم على المقلات ذات صلة",
            "المزيد من دوليات",
        ],
        [
            "عزز البلدان علاقاتهما بشكل كبير منذ بدء هجوم روسيا على أوكرانيا عام 2022",
            'أعربت الولايات المتحدة عن "قلقها" من "تعزيز العلاقات"',
            'وتابع "لا تزال الأطراف تعمل على ذلك',
            "ومن المقرر أن يزور الرئيس الروسي بعد ذلك فيتنام، وهي دولة شريكة أخرى",
            # after the mid-article "اقرأ المزيد" box, the article goes on:
            "وتأتي زيارة بوتين بعد تسعة أشهر من استقبال بوتين الزعيم الكوري الشمالي",
            "وكانت وكالة الأنباء المركزية الكورية الشمالية الرسمية نقلت الأسبوع الماضي",
            "ولمناسبة العيد الوطني لروسيا قال كيم إن اجتماعه مع بوتين",
            "ووطدت بيونغ يانغ وموسكو العلاقات الدبلوماسية والأمنية بصورة متزايدة",
        ],
    ),
    "002": (
        "بوتين يقبل دعوة كيم لزيارة كوريا الشمالية",
        [
            "تاريخ النشر",
            "https://t.",
            "pic.twitter.com",
            "@20fourMedia",
            "المصدر: موقع 24",
            "كلمات دلالية",
            "إقرأ أيضاً",
            "تابع أحدث الأخبار عبر تطبيق",
            # the unrelated second story (Freedom Shield drills) glued under the article:
            "فريدوم شيلد",
            "أدانت كوريا الشمالية التدريبات العسكرية المشتركة",
            "وطالبت وزارة الدفاع الوطني الكورية الشمالية",
            "وأوضح البيان أنه من الواجب الدستوري",
            "فريدوم إيدج",
        ],
        [
            "أكد الكرملين، الخميس، أن الرئيس الروسي فلاديمير بوتين قبِل دعوة لزيارة كوريا الشمالية",
            "ووفقاً لوكالات الأنباء الروسية، قال المتحدث باسم الكرملين دميتري بيسكوف",
            "وتعد تلك أول زيارة لرجل كوريا الشمالية القوي إلى روسيا في أربع سنوات.",
            "وكانت آخر زيارة لبوتين إلى كوريا الشمالية في عام 2000.",
            "ويتعرض بوتين لعزلة دولية بشكل كبير بسبب الهجوم الروسي على أوكرانيا",
        ],
    ),
    "003": (
        "كواليس زيارة الرئيس الروسي في كوريا الشمالية",
        [
            "اقرأ أيضاً",
            "بوتين يصل إلى بيونج يانج فى زيارة رسمية لكوريا الشمالية",
            "الرئيس الروسي يوجه الدعوة لملك البحرين لحضور قمة بريكس",
            "رئيس لاتفيا رينكيفيتش",
            "بايدن يشن هجوما لاذعا على ترامب",
        ],
        [
            "استقبل زعيم كوريا الشمالية، اليوم الثلاثاء، الرئيس الروسي فلاديمير بوتين في بيونج يانج",
            "وكان في استقبال بوتين في مطار بيونج يانج الزعيم الكوري الشمالي كيم جونغ أون",
            # after the headline list, the article goes on:
            "وقال بوتين، الذي يقوم بأول رحلة له إلى كوريا الشمالية منذ 24 عاما",
            "وقال بوتين إن البلدين سيوسعان التعاون في مجالات السياحة والثقافة والتعليم.",
            "وقال إنه سيتم التوقيع على عدد من الوثائق خلال الزيارة",
        ],
    ),
    "004": (
        'بوتين وكيم "قمة نووية تحت أنظار استخبارات العالم".. والاتفاقات المتوقعة بين كوريا '
        "الشمالية وروسيا تثير مخاوف أمريكا وأوروبا",
        [
            "رئيس التحرير",
            "عصام كامل",
            "بوتين وكيم جونج اون، فيتو",
            "ونقدم لكم من خلال موقع (فيتو)",
            "أسعار الذهب",
            "الجريدة الرسمية",
        ],
        [
            "زيارة استثنائية قد يتم في ختامها توقيع اتفاق شراكة استراتيجية بين موسكو وبيونج يانج",
            "بوتين في زيارة لكوريا الشمالية",
            "وتعد هذه المرة الثانية فقط التي يزور فيها بوتين كوريا الشمالية",
            "وقال المتحدث باسم مجلس الأمن القومي الأمريكي جون كيربي للصحفيين",
            # off-topic for the story, but article text (the story stage judges relevance):
            "كما تأتي أيضا بعد أن حدثت السلطات الألمانية قائمة الأسلحة المرسلة إلى أوكرانيا",
            "وجاء فيها 10 دبابات من طراز Leopard 1A5",
            "وتعد ألمانيا ثاني أكبر مورد للأسلحة إلى أوكرانيا بعد الولايات المتحدة",
        ],
    ),
}


@pytest.mark.parametrize("number", sorted(SEED_EXPECTATIONS))
def test_seed_title(number: str) -> None:
    article = clean_seed(number)
    assert article.title == SEED_EXPECTATIONS[number][0]
    assert article.match_title == normalize(article.title)
    assert article.title not in article.paragraphs


@pytest.mark.parametrize("number", sorted(SEED_EXPECTATIONS))
def test_seed_boilerplate_goes(number: str) -> None:
    article = clean_seed(number)
    text = body(article)
    for fragment in SEED_EXPECTATIONS[number][1]:
        assert fragment not in text, fragment
        assert any(fragment in removal.text for removal in article.removed), fragment


@pytest.mark.parametrize("number", sorted(SEED_EXPECTATIONS))
def test_seed_report_stays(number: str) -> None:
    article = clean_seed(number)
    text = body(article)
    for fragment in SEED_EXPECTATIONS[number][2]:
        assert fragment in text, fragment
        assert normalize(fragment) in article.match_text, fragment


def test_seed_002_keeps_only_the_report() -> None:
    article = clean_seed("002")
    assert article.paragraphs[-1].startswith("ويتعرض بوتين لعزلة دولية")
    reasons = {removal.reason for removal in article.removed}
    assert {"other_story", "related", "tags", "source", "embed", "date"} <= reasons


@pytest.mark.parametrize("number", sorted(SEED_EXPECTATIONS))
def test_sentences_align_with_match_sentences(number: str) -> None:
    article = clean_seed(number)
    assert len(article.sentences) == len(article.match_sentences) > 5
    for sentence, folded in zip(article.sentences, article.match_sentences, strict=True):
        assert folded == normalize(sentence)
        assert sentence in body(article)
    assert article.match_text == " ".join(article.match_sentences)
    assert article.language == "ar"


def test_same_wire_copy_differs_in_hash_but_shares_sentences() -> None:
    first, second = clean_seed("000"), clean_seed("004")
    assert first.content_hash != second.content_hash
    shared = set(first.match_sentences) & set(second.match_sentences)
    assert "وتوقع ان يتم اتخاذ القرار النهاءي بشان توقيعها خلال الساعات المقبله." in shared


def test_content_hash_depends_on_normalised_body_only() -> None:
    text = "وصل الرئيس الروسي إلى بيونغ يانغ صباح الأربعاء في زيارة رسمية."
    plain = clean_article(RawArticle(id="a", outlet="x", title="عنوان", text=text))
    marked = clean_article(
        RawArticle(
            id="b", outlet="y", title="عنوان آخر", text="Open chat\n" + text.replace("ي", "ى")
        )
    )
    assert isinstance(plain, CleanArticle) and isinstance(marked, CleanArticle)
    assert plain.content_hash == marked.content_hash


def test_raw_title_is_kept_and_its_repetition_dropped() -> None:
    raw = RawArticle(
        id="a",
        outlet="x",
        title="  بوتين يصل إلى بيونغ يانغ ",
        text="بوتين يصل إلى بيونغ يانغ\nوصل الرئيس الروسي إلى بيونغ يانغ صباح الأربعاء في زيارة.",
    )
    article = clean_article(raw)
    assert isinstance(article, CleanArticle)
    assert article.title == "بوتين يصل إلى بيونغ يانغ"
    assert article.paragraphs == ["وصل الرئيس الروسي إلى بيونغ يانغ صباح الأربعاء في زيارة."]


def test_fields_are_carried_over() -> None:
    raw = RawArticle(
        id="a", outlet="x", url="https://x.example/a", guid="g", feed="f", text=seed_text("003"),
        trace={"polled": 1.0},
    )  # fmt: skip
    article = clean_article(raw)
    assert isinstance(article, CleanArticle)
    assert (article.id, article.outlet, article.url, article.guid, article.feed) == (
        "a", "x", "https://x.example/a", "g", "f",
    )  # fmt: skip
    assert article.trace == {"polled": 1.0}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (RawArticle(id="a", outlet="x"), "empty"),
        (RawArticle(id="a", outlet="x", text=" \n\t "), "empty"),
        (RawArticle(id="a", outlet="x", text="Open chat\nScan the code\n1"), "empty"),
        (RawArticle(id="a", outlet="x", text="وصل الرئيس."), "too_short"),
        (RawArticle(id="a", outlet="x", text="\x00\x01\x02\ufffd\ufffd" * 200), "garbage"),
        (
            RawArticle(id="a", outlet="x", text="#$%^&*()_+=-{}[]|\\:;<>,.?/~` 1234567890" * 30),
            "garbage",
        ),
        (RawArticle(id="a", outlet="x", html="<html>" + "x" * 5_000_001 + "</html>"), "too_large"),
    ],
)
def test_rejections(raw: RawArticle, reason: str) -> None:
    result = clean_article(raw)
    assert isinstance(result, Rejection)
    assert (result.reason, result.stage, result.id, result.outlet) == (reason, "clean", "a", "x")


def test_too_large_is_checked_before_parsing() -> None:
    small = CleanSettings(max_html_bytes=100)
    page = "<html><body><p>" + "وصل الرئيس الروسي إلى بيونغ يانغ. " * 10 + "</p></body></html>"
    result = clean_article(RawArticle(id="a", outlet="x", html=page), settings=small)
    assert isinstance(result, Rejection) and result.reason == "too_large"


def test_text_over_max_text_chars_is_too_large_whether_given_or_extracted() -> None:
    limit = CleanSettings(max_text_chars=200)
    sentence = "وصل الرئيس الروسي إلى بيونغ يانغ في زيارة نادرة. "
    fits = RawArticle(id="a", outlet="x", title="زيارة", text=sentence * 3)
    assert isinstance(clean_article(fits, settings=limit), CleanArticle)
    for raw in (
        RawArticle(id="a", outlet="x", title="زيارة", text=sentence * 5),
        RawArticle(id="a", outlet="x", title=sentence * 5, text=sentence),
        RawArticle(id="a", outlet="x", html=f"<html><body><p>{sentence * 5}</p></body></html>"),
    ):
        result = clean_article(raw, settings=limit)
        assert isinstance(result, Rejection), raw
        assert (result.reason, result.detail) == ("too_large", "text over 200 characters")
    # The default: about 0.2 MB of Arabic, whose fingerprinted record stays under 1 MiB.
    huge = RawArticle(id="a", outlet="x", text=sentence * 3_000)
    rejected = clean_article(huge)
    assert isinstance(rejected, Rejection) and rejected.reason == "too_large"


def test_non_arabic_article_is_cleaned_with_its_language() -> None:
    text = (
        "Russian President Vladimir Putin arrived in Pyongyang on Wednesday for a rare visit.\n"
        "He was met at the airport by North Korean leader Kim Jong Un, state media said.\n"
        "Follow us on Twitter and Facebook"
    )
    article = clean_article(RawArticle(id="a", outlet="x", title="Putin in Pyongyang", text=text))
    assert isinstance(article, CleanArticle)
    assert article.language == "en"
    assert [r.reason for r in article.removed] == ["share"]


PAGE = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>بوتين يصل إلى بيونغ يانغ | موقع الأخبار</title>
<meta property="og:title" content="بوتين يصل إلى بيونغ يانغ">
<script>var ads = [1,2,3]; function track(){}</script><style>.nav{color:red}</style></head>
<body><header><nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/world">أخبار العالم</a></li>
<li><a href="/sport">رياضة</a></li></ul></nav></header>
<main><article><h1>بوتين يصل إلى بيونغ يانغ</h1>
<p>وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء في زيارة نادرة لكوريا الشمالية تستمر يومين.</p>
<p>واستقبل الزعيم الكوري الشمالي كيم جونغ أون الرئيس الروسي في المطار، وسط مراسم رسمية.</p>
<p>وقال الكرملين إن البلدين سيوقعان اتفاق شراكة استراتيجية شاملة خلال الزيارة.</p>
<p>تابعونا على فيسبوك وتويتر</p></article>
<aside><h3>الأكثر قراءة</h3><ul><li><a href="/1">ارتفاع أسعار الذهب في السوق المحلية</a></li>
<li><a href="/2">الأهلي يفوز على الزمالك في الدوري</a></li></ul></aside></main>
<footer><p>جميع الحقوق محفوظة © 2024</p></footer></body></html>"""


def test_html_page_goes_through_trafilatura_and_the_line_rules() -> None:
    article = clean_article(RawArticle(id="a", outlet="x", html=PAGE))
    assert isinstance(article, CleanArticle), article
    assert article.title == "بوتين يصل إلى بيونغ يانغ"
    text = body(article)
    assert "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء" in text
    assert "وقال الكرملين إن البلدين سيوقعان اتفاق شراكة استراتيجية شاملة خلال الزيارة." in text
    for fragment in ("ads", "الرئيسية", "تابعونا", "أسعار الذهب", "الحقوق محفوظة"):
        assert fragment not in text


def test_html_without_extractable_text_falls_back_to_text() -> None:
    article = clean_article(
        RawArticle(id="a", outlet="x", html="<html></html>", text=seed_text("003"))
    )
    assert isinstance(article, CleanArticle)
    assert article.title == SEED_EXPECTATIONS["003"][0]


def test_template_from_the_store_is_applied() -> None:
    footer = "موقع الأخبار - أول موقع إخباري مصري"
    raw = RawArticle(id="a", outlet="x", text=seed_text("003") + "\n" + footer)
    prepared = prepare_article(raw)
    assert not isinstance(prepared, Rejection)
    assert line_key(normalize(footer)) in prepared.template_keys
    without = finish_article(prepared)
    with_template = finish_article(
        prepared, TemplateLines(frozenset({line_key(normalize(footer))}))
    )
    assert isinstance(without, CleanArticle) and isinstance(with_template, CleanArticle)
    assert footer in without.paragraphs
    assert footer not in with_template.paragraphs
    assert ("template", footer) in [(r.reason, r.text) for r in with_template.removed]


@given(st.text(), st.text(max_size=50))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_on_arbitrary_text(text: str, title: str) -> None:
    result = clean_article(RawArticle(id="a", outlet="x", title=title, text=text))
    assert isinstance(result, CleanArticle | Rejection)


@given(st.binary(max_size=3000))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_never_raises_on_arbitrary_bytes_as_text_and_html(data: bytes) -> None:
    decoded = data.decode("utf-8", errors="replace")
    for raw in (
        RawArticle(id="a", outlet="x", text=decoded),
        RawArticle(id="a", outlet="x", html=decoded),
        RawArticle(id="a", outlet="x", html=f"<html><body><p>{decoded}</p></body></html>"),
    ):
        assert isinstance(clean_article(raw), CleanArticle | Rejection)


REAL_SENTENCES = [
    line.strip()
    for line in (DATA / "stream_sentences.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


@given(
    st.lists(st.sampled_from(REAL_SENTENCES), min_size=1, max_size=12, unique=True),
    st.lists(st.integers(min_value=1, max_value=3), min_size=12, max_size=12),
)
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_no_sentence_of_a_boilerplate_free_article_is_lost(
    sentences: list[str], per_paragraph: list[int]
) -> None:
    paragraphs: list[str] = []
    rest = list(sentences)
    for size in per_paragraph:
        if not rest:
            break
        paragraphs.append(" ".join(rest[:size]))
        rest = rest[size:]
    raw = RawArticle(id="a", outlet="x", title="عنوان الخبر", text="\n\n".join(paragraphs))
    article = clean_article(raw)
    assert isinstance(article, CleanArticle), article
    assert article.removed == []
    assert article.paragraphs == [" ".join(paragraph.split()) for paragraph in paragraphs]
    text_words = " ".join(tokens(article.match_text))
    for sentence in sentences:  # every word, in order (lone punctuation is not a sentence)
        assert " ".join(tokens(normalize(sentence))) in text_words


def test_html_feed_summary_fragment() -> None:
    fragment = (
        "وصل الرئيس الروسي <b>فلاديمير بوتين</b> إلى بيونغ يانغ فجر الأربعاء &amp; التقى كيم."
        "<br/>وقال الكرملين إن الزيارة تاريخية.<script>var tracker = 1;</script>"
    )
    article = clean_article(
        RawArticle(id="a", outlet="x", title="بوتين في بيونغ يانغ", html=fragment)
    )
    assert isinstance(article, CleanArticle), article
    assert article.paragraphs == [
        "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ فجر الأربعاء & التقى كيم.",
        "وقال الكرملين إن الزيارة تاريخية.",
    ]


def test_too_large_counts_utf8_bytes() -> None:
    arabic_page = "<html><body><p>" + "ب" * 60 + "</p></body></html>"  # 60 chars, 120 bytes
    limit = CleanSettings(max_html_bytes=len(arabic_page) + 30)
    result = clean_article(RawArticle(id="a", outlet="x", html=arabic_page), settings=limit)
    assert isinstance(result, Rejection) and result.reason == "too_large"


def test_short_first_line_is_the_title_not_a_byline() -> None:
    text = "كواليس الزيارة\nمروة على\n" + "\n".join(seed_text("003").splitlines()[1:4])
    article = clean_article(RawArticle(id="a", outlet="x", text=text))
    assert isinstance(article, CleanArticle)
    assert article.title == "كواليس الزيارة"
    assert ("byline", "مروة على") in [(r.reason, r.text) for r in article.removed]


WRAPPED = [
    # Wrapped at a fixed width with indented continuations: read line by line, the count
    # ("بلغ" / "5 حالات") and the actor ("انتقلت" / "النيابة العامة") fell apart.
    (
        "المنوفية - مراسل\n"
        "أعلن\n"
        "            رئيس الوحدة المحلية أن عدد المتوفين في حادث انهيار المدخنة قد بلغ\n"
        "            5 حالات.\n"
        "وأوضح أن سيارات الإسعاف هرعت لإنقاذ العمال بينما انتقلت\n"
        "            النيابة العامة لمعاينة موقع الحادث.\n"
        "    وتباشر النيابة تحقيقاتها حول أسباب الحادث.",
        [
            "المنوفية - مراسل",
            "أعلن رئيس الوحدة المحلية أن عدد المتوفين في حادث انهيار المدخنة قد بلغ 5 حالات.",
            "وأوضح أن سيارات الإسعاف هرعت لإنقاذ العمال بينما انتقلت النيابة العامة لمعاينة "
            "موقع الحادث.",
            "وتباشر النيابة تحقيقاتها حول أسباب الحادث.",
        ],
    ),
    # A line ending with a preposition runs on to the next.
    (
        "وقال المتحدث الرسمي باسم الحركة إنه لم يترشح أحد على\n"
        "منصب المنسق العام حتى الآن.\n"
        "وأضاف أن الانتخابات ستجرى الشهر المقبل",
        [
            "وقال المتحدث الرسمي باسم الحركة إنه لم يترشح أحد على منصب المنسق العام حتى الآن.",
            "وأضاف أن الانتخابات ستجرى الشهر المقبل",
        ],
    ),
]


@pytest.mark.parametrize(("text", "sentences"), WRAPPED)
def test_hard_wrapped_lines_are_read_as_the_sentences_they_wrap(
    text: str, sentences: list[str]
) -> None:
    result = clean_article(RawArticle(id="w", outlet="x", title="عنوان الخبر", text=text))
    assert isinstance(result, CleanArticle)
    assert result.sentences == sentences


def _unwrap_as_written(raw_lines: list[str]) -> list[str]:
    """``unwrap_lines`` as written before it counted the last line's words as they came."""
    lines: list[str] = []
    for raw in raw_lines:
        line = " ".join(raw.split())
        if not line:
            continue
        words = lines[-1].split() if lines else []
        runs_on = len(words) >= clean._RUN_ON_MIN_WORDS and words[-1] in clean._RUNS_ON
        if lines and (raw[:1].isspace() or runs_on) and not clean._WRAPPED_END.search(lines[-1]):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


_LINE_WORDS = ["قال", "الوزير", "على", "في", "و", "مروة", "الرحمة.", "؟", "»", "5", ""]
_RAW_LINES = st.builds(
    lambda indent, words, gap: indent + gap.join(words),
    st.sampled_from(["", " ", "    ", "\t"]),
    st.lists(st.sampled_from(_LINE_WORDS), max_size=9),
    st.sampled_from([" ", "  "]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_RAW_LINES, max_size=8))
def test_unwrap_lines_as_written(raw_lines: list[str]) -> None:
    assert clean.unwrap_lines(raw_lines) == _unwrap_as_written(raw_lines)


_BODY = "وصل الرئيس الروسي إلى القاهرة في زيارة رسمية تستغرق يومين.\n"


@pytest.mark.parametrize(
    "text",
    [
        _BODY * 3,
        _BODY + "نص\x00فيه\x07محارف\ufffdتحكم\x85.\n" + _BODY,
        _BODY * 60,  # longer than the garbage check's sample, clean
        _BODY * 60 + "بعد العينة\x0b\x1fمحارف.\n",  # a bad character beyond the sample
        "😀 " + _BODY + "\x01" + _BODY,  # outside the BMP: counted by the patterns
        "\x00\x01\x02 " * 20,  # garbage
        "   \n\t ",
    ],
)
def test_bad_characters_are_replaced_only_where_the_counts_say_they_may_be(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The substitution pass skipped when the garbage check's counts find no bad character
    in the whole text leaves the prepared article as the pass would."""
    raw = RawArticle(id="a", outlet="o", title="عنوان", text=text)
    quick = prepare_article(raw)
    check = clean._garbage_check
    monkeypatch.setattr(clean, "_garbage_check", lambda t: (check(t)[0], True))
    assert prepare_article(raw) == quick
    if isinstance(quick, clean.PreparedArticle):
        assert not any(clean._BAD_CHARS.search(line) for line in quick.lines)


def test_a_batch_prepared_and_finished_step_by_step_is_each_article_cleaned_alone() -> None:
    """``prepare_articles`` and ``finish_articles`` (each step for the whole batch before the
    next) give what ``prepare_article`` and ``finish_article`` give article by article: the
    stream sample, with and without template lines, rejections included."""
    from monitor.commands.replay import read_articles
    from monitor.core.clean import finish_articles, prepare_articles

    raws = list(read_articles([DATA / "stream_sample.jsonl"]))
    raws.append(RawArticle(id="empty", outlet="o", title="t", text="   "))
    raws.append(RawArticle(id="garbage", outlet="o", title="t", text="\x00\x01\x02" * 50))
    prepared = prepare_articles(raws)
    assert prepared == [prepare_article(raw) for raw in raws]
    assert sum(isinstance(item, Rejection) for item in prepared) >= 2
    articles = [item for item in prepared if not isinstance(item, Rejection)]
    templates = [
        None if index % 3 else TemplateLines(frozenset(map(line_key, article.normalized[:2])))
        for index, article in enumerate(articles)
    ]
    finished = finish_articles(articles, templates)
    expected = [
        finish_article(article, lines) for article, lines in zip(articles, templates, strict=True)
    ]
    assert [item.model_dump() for item in finished] == [item.model_dump() for item in expected]
