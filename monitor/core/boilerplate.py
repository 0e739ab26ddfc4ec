"""Boilerplate removal for scraped news text: line rules, related-story blocks, outlet templates.

A scraped page, once reduced to text, is the article plus the site around it. The article is
recovered line by line; every removed line is returned with a named reason so that a wrong
removal can be found and a rule fixed.

**Line rules** (reason in brackets) match a whole line, usually on its normalised form and
only when the line is short, so an article sentence that merely mentions Facebook survives:
scripts [``javascript``], cookie notices [``cookies``], share/follow prompts [``share``], chat
widgets [``chat_widget``], lines without a word [``no_words``], navigation labels and section
names [``navigation``], tag lines [``tags``], masthead and copyright [``masthead``,
``copyright``], source lines [``source``], wire-agency datelines [``credit``], publication
dates [``date``], photo captions and an image's alt text repeated above its caption
[``caption``], embedded tweets and truncated links [``embed``] (a tweet's signature glued to
the next sentence is cut off, the sentence kept), the outlet's promo paragraph listing its
sections [``promo``], bylines and a bare author name opening the text [``byline``], "click
here" prompts [``link_prompt``], repeated lines [``duplicate``], and the title repeated in the
body [``title``, in ``monitor.core.clean``]. The rules were written from the seeds and from
the boilerplate left in the 2013 stream of 12 outlets, as patterns that recur across sites,
and checked against its 6,033 articles for sentences they must not remove.

**Related-story blocks.** A "read also" marker (اقرأ أيضاً, إقرأ أيضاً:, اقرأ المزيد, مقالات ذات
صلة, الأخبار المتعلقة, المزيد من ..., Related, Read more) is removed [``related``], and so are
the headline-like lines that follow it (short, no final full stop, or bulleted)
[``related``]. What comes after that list is either the article going on (publishers put the
box mid-article: seed 001, seed 003) or another story glued under the first one (seed 002).
The block up to the next marker is kept when it continues the article, and removed
[``other_story``] when:

* the article had already ended: a tag line, copyright line or source line came before the
  marker (the page's footer zone), or
* it opens by restating the last linked headline (``RELATED_HEADLINE_ECHO``), or
* its opening vocabulary overlaps little with the article so far: fewer than
  ``RELATED_MIN_OVERLAP`` of its first content words (normalised, function words and short
  words dropped, the ``و``/``ال`` prefixes stripped) occur in the kept text. A continuation shares its names and
  its subject words; a different story, even on a neighbouring subject, brings mostly new ones.

The same check is applied to text after a tag, copyright or source line without a marker.

**Outlet templates.** Lines recurring in many articles of one outlet (its footer, slogans,
author boxes) are learned from counts kept by ``monitor.stores.templates``: ``template_keys``
gives an article's distinct short-line keys, ``template_from_counts`` decides which are
template lines, and ``remove_boilerplate`` drops them [``template``]. A related-links marker
is recognised before the template, since the lines after it depend on its being a marker.

>>> lines = ["Open chat", "وصل الرئيس إلى بيونغ يانغ صباح الأربعاء.", "كلمات دلالية: بوتين كيم"]
>>> kept, removed = remove_boilerplate(lines)
>>> kept
['وصل الرئيس إلى بيونغ يانغ صباح الأربعاء.']
>>> [r.reason for r in removed]
['chat_widget', 'tags']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]

import xxhash

from monitor.core.arabic import ENGLISH_STOPWORDS, normalize, tokens
from monitor.core.records import Removal
from monitor.core.terms import STOPWORDS

__all__ = [
    "RELATED_HEADLINE_ECHO",
    "RELATED_MIN_OVERLAP",
    "RELATED_OPENING_WORDS",
    "TEMPLATE_MAX_LINE_CHARS",
    "TemplateLines",
    "content_words",
    "line_key",
    "line_reasons",
    "remove_boilerplate",
    "split_embeds",
    "template_from_counts",
    "template_keys",
]

TEMPLATE_MAX_LINE_CHARS = 200
"""Only lines up to this length are counted for outlet templates (article sentences are
longer and unique; footers and slogans are short), which also bounds the store's memory."""

RELATED_MIN_OVERLAP = 0.25
"""Share of the content words opening a block (its first ``RELATED_OPENING_WORDS`` distinct
content words) that must occur in the article so far for the block, found after a
related-links marker, to count as the article's continuation. Seeds: continuations 0.42 and
0.33, the glued second story 0.13."""

RELATED_OPENING_WORDS = 25

RELATED_HEADLINE_ECHO = 0.5
"""A block whose opening contains this share of the last linked headline's content words is
the linked story itself, printed under the article (seed 002)."""

_SHORT = 200  # rules for widgets and prompts only fire on lines up to this length (normalised)


@dataclass(frozen=True, slots=True)
class TemplateLines:
    """Keys (``line_key``) of lines that are template boilerplate for one outlet."""

    keys: frozenset[str] = field(default_factory=frozenset)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)


def line_key(normalized_line: str) -> str:
    """Stable short key of a normalised line (xxh64 hex), for template counting."""
    return xxhash.xxh64_hexdigest(normalized_line.encode("utf-8"))


def template_keys(normalized_lines: Iterable[str]) -> list[str]:
    """Distinct keys of the lines short enough to be template candidates, in first-seen order."""
    seen: dict[str, None] = {}
    for line in normalized_lines:
        if line and len(line) <= TEMPLATE_MAX_LINE_CHARS:
            seen.setdefault(line_key(line), None)
    return list(seen)


def template_from_counts(
    articles: int, counts: Mapping[str, int], *, min_articles: int, min_share: float
) -> TemplateLines:
    """Template lines of an outlet from its article count and per-line article counts.

    >>> template_from_counts(40, {"a": 30, "b": 2}, min_articles=20, min_share=0.3).keys
    frozenset({'a'})
    >>> len(template_from_counts(10, {"a": 10}, min_articles=20, min_share=0.3))
    0
    """
    if articles < max(min_articles, 1):
        return TemplateLines()
    needed = max(2.0, min_share * articles)
    return TemplateLines(frozenset(key for key, count in counts.items() if count >= needed))


# --- line rules (patterns run on normalised lines: alef/ya/ta-marbuta folded, lower case) ---

_SOCIAL = (
    r"(فيسبوك|فيس بوك|الفيس|تويتر|اكس|انستجرام|انستغرام|انستقرام|يوتيوب|تيليجرام|تلجرام|تلغرام|"
    r"تيلجرام|واتساب|واتس اب|جوجل نيوز|نبض|تيك توك|لينكد ان|facebook|twitter|instagram|"
    r"youtube|telegram|whatsapp|google news|tiktok|linkedin)"
)
# (reason, pattern, guard): a rule runs only on lines containing one of its guard substrings
# when it has any. Unanchored alternations are the slow rules, and this runs on every short
# line of every article; the guard lets most lines skip them.
_RULES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (rule[0], re.compile(rule[1]), rule[2] if len(rule) > 2 else ())  # type: ignore[misc]
    for rule in (
        ("javascript", r"(enable|activate|turn on) javascript|javascript (is )?(disabled|required)"
                       r"|(تفعيل|تمكين) (ال)?(جافا ?سكريبت|جافا ?سكربت|javascript)", ("javascript", "جافا")),
        ("cookies", r"(we use|uses|this (site|website) uses) cookies|ملفات تعريف الارتباط|الكوكيز", ("cookie", "الارتباط", "الكوكيز")),
        ("share", rf"^(\W*)(تابع|تابعو|تابعوا|تابعنا|تابعونا|اشترك|اشتركوا|انضم|انضموا|حمل|حملوا|"
                  rf"شارك|شاركوا|follow|share|subscribe|join|like)\b.{{0,80}}{_SOCIAL}"),
        ("share", rf"^.{{0,80}}(تابعونا|تابعنا|للتواصل الاجتماعي|صفحتنا|قناتنا|حسابنا).{{0,40}}{_SOCIAL}",
         ("تابع", "للتواصل", "صفحتنا", "قناتنا", "حسابنا")),
        ("share", r"^(تابع|تابعو|تابعوا) (احدث|اخر|اهم) الاخبار"),
        ("share", r"^(شارك|شاركها|شارك الخبر|شارك المقال|مشاركه|share|tweet|print|email|طباعه|"
                  r"ارسل لصديق|نسخ الرابط|copy link|حفظ)( (علي|عبر|via|on) .{0,30})?[:.]?$"),
        ("share", r"^(للمزيد|لمزيد من الاخبار|للمزيد من الاخبار)\s*:?\s*تابع"),
        ("chat_widget", r"^(open chat|close chat|scan the code|chat with us|need help\??|"
                        r"whatsapp us|chat on whatsapp|start chat|ابدا المحادثه|تحدث معنا)$"),
        ("chat_widget", r"كيف (يمكننا|نستطيع|يمكن ان) (مساعدتك|نساعدك)|how can (we|i) help( you)?",
         ("مساعد", "نساعد", "help")),
        ("chat_widget", r"^(مرحبا|مرحباً|اهلا|اهلاً|اهلا وسهلا|hello|hi|hey)[\s!,.]*\W*$"),
        ("tags", r"^(كلمات دلاليه|الكلمات الدلاليه|كلمات مفتاحيه|الكلمات المفتاحيه|الوسوم|وسوم|"
                 r"الموضوعات المتعلقه|tags|keywords|topics)\s*[:：]"),
        ("copyright", r"جميع الحقوق محفوظه|كل الحقوق محفوظه|حقوق (النشر|الطبع) محفوظه|"
                      r"all rights reserved|^©|©\s*\d{4}|^copyright\b",
         ("حقوق", "©", "rights", "copyright")),
        ("masthead", r"^(رئيس التحرير|رئيس مجلس الاداره|رئيس مجلس الاداره ورئيس التحرير|"
                     r"مدير التحرير|المدير العام|المشرف العام|رءيس التحرير|editor[- ]in[- ]chief)"
                     r"\s*:?\s*[^\s.,:]*( [^\s.,:]+){0,3}$"),
        ("source", r"^(المصدر|المصادر|مصدر الخبر|source|sources)\s*[:：]\s*.{0,80}$"),
        ("credit", r"^([^\s]+ ?)?[-–—_(]?\s*(ا ش ا|ا\.ش\.ا|اشا|وكالات|وكالات الانباء|رويترز|"
                   r"ا ف ب|ا\.ف\.ب|د ب ا|الاناضول|سبوتنيك|وام|واس|بنا|كونا|قنا|reuters|afp|ap)"
                   r"\)?\s*[:.]?$"),
        ("date", r"^(تاريخ النشر|نشر في|نشر بتاريخ|تاريخ الاضافه|اخر تحديث|تم التحديث|"
                 r"تاريخ التحديث|published|updated|last updated|posted)\s*[:：]?\s*.{0,60}$"),
        ("embed", r"pic\.twitter\.com/|^\W{0,3}(https?://|www\.)\S*$", ("twitter", "http", "www")),
        ("embed", r"https?://t\.(co)?/?\S*$", ("http",)),
        ("caption", r"^.{0,120}[(\[](رويترز|ا ف ب|اف ب|afp|reuters|getty|getty images|ap|epa|"
                    r"الاناضول|ارشيفيه|صوره ارشيفيه|ارشيف|وكالات|مواقع التواصل|سوشيال ميديا|"
                    r"shutterstock|twitter|تويتر|فيسبوك)[)\]]$", ("(", "[")),
        ("caption", r"^(صوره|الصوره|صوره ارشيفيه|ارشيفيه|photo|file photo)\s*[:：(]"),
        ("caption", r"^(صوره|صور|الصوره)? ?(ارشيفيه|تعبيريه|توضيحيه|متعلقه|من الحدث)$"),
        ("byline", r"^\(?(كتب|كتبت|كتبه|بقلم|اعداد|اعدت|ترجمه|تحرير|متابعه|تصوير|تقرير|رصد|by)"
                   r"\s*[-–—_:]?\s*[^\s\d.,:]+( [^\s\d.,:]+){0,4}\s*[:)]?\s*:?$"),
        ("link_prompt", r"^(اضغط|انقر|اضغطي|لقراءه|لمشاهده|للاطلاع|لمتابعه|للتفاصيل|للمزيد|"
                        r"click|tap|watch)( [^\s]+){0,6}\s*[.:]*$"),
    )
)  # fmt: skip


def _anchored(pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` matches only at the start of a text (every branch starts with
    ``^``, not multiline): its ``search`` is then its ``match``."""
    if pattern.flags & re.MULTILINE:
        return False
    items = list(sre_parser.parse(pattern.pattern, pattern.flags))
    at_start = (sre_constants.AT, sre_constants.AT_BEGINNING)
    if items and items[0] == at_start:
        return True
    if len(items) == 1 and items[0][0] is sre_constants.BRANCH:
        return all(list(branch)[:1] == [at_start] for branch in items[0][1][1])
    return False


def _rules_quick_test() -> tuple[tuple[str, ...], re.Pattern[str]] | None:
    """(every guard word of ``_RULES``, one pattern of the rules without a guard) when each
    of those is anchored (``_anchored``): a line holding no guard word that the pattern does
    not ``match`` fires no rule. ``None`` when the rules cannot be read so."""
    unguarded = [pattern for _, pattern, guard in _RULES if not guard]
    if not all(map(_anchored, unguarded)) or any(p.flags != re.UNICODE for p in unguarded):
        return None
    if any("\\" + digit in p.pattern for p in unguarded for digit in "123456789"):
        return None  # a back-reference would point elsewhere in the joined pattern
    try:
        joined = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in unguarded))
    except re.error:  # groups of the same name, flags inside one: read one by one
        return None
    guards = tuple(dict.fromkeys(word for _, _, guard in _RULES for word in guard))
    return guards, joined


_RULES_QUICK = _rules_quick_test()
"""Whether a short line can fire a rule at all, at one pattern call and substring tests: the
usual line fires none, where trying the rules one by one cost ~20 calls."""

_PROMO_TAIL = " من خلال موقع"
_PROMO = re.compile(r"(نقدم لكم|يقدم لكم|نقدم لحضراتكم)" + _PROMO_TAIL)
_NAVIGATION = frozenset(
    normalize(label)
    for label in (
        "الرئيسية",
        "الرئيسيه",
        "أخبار العالم",
        "أخبار عربية",
        "أخبار مصر",
        "أخبار محلية",
        "زر الذهاب إلى الأعلى",
        "العودة إلى الأعلى",
        "الذهاب إلى الأعلى",
        "إلى الأعلى",
        "الجريدة الرسمية",
        "ملخص",
        "القائمة",
        "بحث",
        "ابحث",
        "إغلاق",
        "اغلاق",
        "التالي",
        "السابق",
        "عاجل",
        "المزيد",
        "تحميل المزيد",
        "عرض المزيد",
        "اقرأ القصة كاملة",
        "سياسة",
        "اقتصاد",
        "رياضة",
        "فن",
        "ثقافة",
        "منوعات",
        "محليات",
        "دوليات",
        "عربي ودولي",
        "حوادث",
        "تكنولوجيا",
        "صحة",
        "مقالات",
        "رأي",
        "الرأي",
        "فيديو",
        "صور",
        "انفوجراف",
        "home",
        "menu",
        "search",
        "back to top",
        "next",
        "previous",
        "more",
        "close",
        "advertisement",
        "إعلان",
        "اعلان",
        "skip to content",
        "تخطى إلى المحتوى",
        "سياسة الخصوصية",
        "اتصل بنا",
        "من نحن",
        "privacy policy",
        "contact us",
        "about us",
    )
)
_RELATED_MARKER = re.compile(
    r"^(اقرا|اقراء|طالع|شاهد|اقرا ايضا|شاهد ايضا|طالع ايضا)( ايضا| المزيد| كذلك)?\s*[:.]?$"
    r"|^(ال)?(مقالات|اخبار|موضوعات|مواضيع|قصص|روابط|تقارير) (ذات صله|(ال)?(متعلقه|مرتبطه|مقترحه|"
    r"مشابهه|اخري))\s*[:.]?$"
    r"|^(يحتوي هذا القسم|هذا القسم يحتوي).{0,80}(ذات صله|related)"
    r"|^المزيد من\s+\S+( \S+){0,3}\s*:?$"
    r"|^(related|related articles|related news|related stories|read more|read also|see also|"
    r"more from .{1,30}|more stories|you may also like|recommended)\s*:?$"
)
_ENDING_REASONS = frozenset({"tags", "copyright", "source"})
_BULLET = re.compile(r"^\s*[-–—•*▪►◄■●·]\s*")
_SENTENCE_END = re.compile(r"[.!?؟:»\"”]\s*$")
_FULL_STOP = re.compile(r"[.!?؟][\"'»”’)]*\s*$")
_TWEET_SIGNATURE = re.compile(
    r"^\s*[—–-]\s*[^\n]{0,80}?\(@\w{1,30}\)\s*(?:[A-Z][a-z]+\.? \d{1,2}, \d{4}|\d{1,2} [^\s\d]+ \d{4})"
)
_SECTION_ITEM_WORDS = 3
_SECTION_LIST_MIN_ITEMS = 8
_SECTION_LIST_MIN_SHARE = 0.6
_SECTION_LIST_MIN_SAME_HEAD = 4
_SECTION_HEADS = frozenset(
    normalize(word)
    for word in ("أخبار", "اخبار", "أسعار", "اسعار", "دوري", "الدوري", "أهم", "آخر", "اخر", "news")
)
_HEADLINE_MAX_WORDS = 30
_CAPTION_MAX_WORDS = 12
_PARAGRAPH_MIN_WORDS = 15
_NAME_WORD = re.compile(r"[\u0621-\u064a]{2,}")
_HAS_LETTER = re.compile(r"[^\W\d_]")

# The function words of ``monitor.core.terms`` (normalised, as the tokens compared with them),
# and English ones for the Latin-script pages this module also cleans.
_STOPWORDS = STOPWORDS | ENGLISH_STOPWORDS


def content_words(normalized: str) -> set[str]:
    """Distinct content words of normalised text, with the و/ال prefixes stripped."""
    words: set[str] = set()
    for token in tokens(normalized):
        if token in _STOPWORDS or len(token) < 3 or token.isdigit():
            continue
        if token.startswith("و") and len(token) > 4:
            token = token[1:]
        for prefix in ("بال", "وال", "لل", "ال"):
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                token = token[len(prefix) :]
                break
        words.add(token)
    return words


def _rule_reason(normalized: str) -> str | None:
    if not _HAS_LETTER.search(normalized):
        return "no_words"
    bare = normalized.strip(" :.-–—|»«")
    if bare in _NAVIGATION:
        return "navigation"
    # Every promo line holds _PROMO's fixed tail: a substring test spares most lines the search.
    if (_PROMO_TAIL in normalized and _PROMO.search(normalized)) or _is_section_list(normalized):
        return "promo"
    if len(normalized) > _SHORT:
        return None
    if _RULES_QUICK is not None:
        guards, unguarded = _RULES_QUICK
        if not any(map(normalized.__contains__, guards)) and unguarded.match(normalized) is None:
            return None  # no guard word, and no rule without one matches here
    for reason, pattern, guard in _RULES:
        if guard and not any(map(normalized.__contains__, guard)):
            continue
        if pattern.search(normalized):
            return reason
    return None


def _is_section_list(normalized: str) -> bool:
    """A paragraph listing the site's sections: many short comma-separated items, several
    headed by a section word (``اسعار الذهب, اسعار اللحوم, ... اخبار الرياضه, اخبار مصر``).
    Lists of names or parties in an article have repeated heads too (``حزب``, ``احمد``), so
    the head must be a section word."""
    if normalized.count(",") < _SECTION_LIST_MIN_ITEMS // 2:
        return False
    items = [item.strip() for item in re.split(r"[,،]| و ", normalized) if item.strip()]
    if len(items) < _SECTION_LIST_MIN_ITEMS:
        return False
    short = [item.split() for item in items if len(item.split()) <= _SECTION_ITEM_WORDS]
    if len(short) / len(items) < _SECTION_LIST_MIN_SHARE:
        return False
    sections = sum(1 for words in short if words[0] in _SECTION_HEADS)
    return sections >= _SECTION_LIST_MIN_SAME_HEAD


def _is_headline(line: str) -> bool:
    if _BULLET.match(line):
        return True
    return len(line.split()) <= _HEADLINE_MAX_WORDS and not _FULL_STOP.search(line)


def split_embeds(lines: Sequence[str]) -> tuple[list[str], list[Removal]]:
    """Cut an embedded tweet's signature off the text glued after it, keeping that text."""
    out: list[str] = []
    removed: list[Removal] = []
    for line in lines:
        match = _TWEET_SIGNATURE.match(line)
        if match:
            removed.append(Removal(text=match.group().strip(), reason="embed"))
            rest = line[match.end() :].strip()
            if rest:
                out.append(rest)
        else:
            out.append(line)
    return out, removed


def remove_boilerplate(
    lines: Sequence[str], templates: TemplateLines | None = None, *, has_title: bool = True
) -> tuple[list[str], list[Removal]]:
    """Split ``lines`` (stripped, non-empty, original spelling) into kept lines and removals."""
    split_lines, removed = split_embeds(lines)
    normalized = [normalize(line) for line in split_lines]
    reasons = line_reasons(split_lines, normalized, templates, has_title=has_title)
    kept: list[str] = []
    for line, reason in zip(split_lines, reasons, strict=True):
        if reason is None:
            kept.append(line)
        else:
            removed.append(Removal(text=line, reason=reason))
    return kept, removed


def line_reasons(
    lines: Sequence[str],
    normalized: Sequence[str],
    templates: TemplateLines | None = None,
    *,
    has_title: bool = True,
) -> list[str | None]:
    """Per line (after ``split_embeds``), why it is boilerplate, or None for article text.

    ``normalized`` holds the lines' ``normalize`` forms (callers usually have them already).
    ``has_title=False``: the article has no title yet and its first kept line will be taken
    as the title, so it is not judged as a byline.
    """
    reasons: list[str | None] = [None] * len(lines)
    previous_kept: str | None = None
    caption_next = False
    for index, norm in enumerate(normalized):
        reason = _rule_reason(norm)
        # A marker recurs in every article of its outlet, so it is template too; it is
        # checked first because the lines after it depend on its being a marker.
        if reason is None and _RELATED_MARKER.search(norm):
            reason = "related_marker"
        if reason is None and templates and line_key(norm) in templates:
            reason = "template"
        if reason is None and norm == previous_kept:
            reason = "duplicate"
        if reason is None and caption_next:
            reason = "caption"
        caption_next = False
        if (
            reason is None
            and index + 1 < len(lines)
            and _is_caption_pair(norm, normalized[index + 1])
        ):
            reason = "caption"
            caption_next = True
        if reason is None:
            previous_kept = norm
        reasons[index] = reason

    _masthead_names(lines, reasons)
    _leading_byline(lines, reasons, has_title=has_title)
    _resolve_blocks(normalized, lines, reasons)
    return ["related" if reason == "related_marker" else reason for reason in reasons]


def _is_caption_pair(alt_text: str, caption: str) -> bool:
    """An image's alt text and, on the next line, its caption repeating it plus a credit
    (``بوتين وكيم جونج اون،`` / ``بوتين وكيم جونج اون، فيتو``): two short lines without a
    full stop, the second starting with the first."""
    # The cheap tests first: most pairs of lines fail on the length or the prefix.
    return (
        len(caption) > len(alt_text)
        and caption.startswith(alt_text.rstrip(" ,،"))
        and len(alt_text.split()) <= _CAPTION_MAX_WORDS
        and len(caption.split()) <= _CAPTION_MAX_WORDS + 4
        and not _SENTENCE_END.search(alt_text)
        and not _SENTENCE_END.search(caption)
    )


def _masthead_names(lines: Sequence[str], reasons: list[str | None]) -> None:
    """The name printed under a bare masthead title (``رئيس التحرير`` then ``عصام كامل``)."""
    for index in range(len(lines) - 1):
        if reasons[index] == "masthead" and reasons[index + 1] is None:
            following = lines[index + 1]
            if len(following.split()) <= 4 and not _SENTENCE_END.search(following):
                reasons[index + 1] = "masthead"


def _leading_byline(lines: Sequence[str], reasons: list[str | None], *, has_title: bool) -> None:
    """A bare author name opening the text (``مروة على``), before the first paragraph.

    Only the first kept line (the second when the title has yet to be taken from the first),
    only 2-3 words of letters, and only when a real paragraph (``_PARAGRAPH_MIN_WORDS``)
    follows it: a short subheading there would say as little.
    """
    skip = 0 if has_title else 1
    kept = [index for index, reason in enumerate(reasons) if reason is None][skip : skip + 2]
    if len(kept) < 2:
        return
    first, second = kept
    words = lines[first].split()
    if (
        2 <= len(words) <= 3
        and all(_NAME_WORD.fullmatch(word) for word in words)
        and len(lines[second].split()) >= _PARAGRAPH_MIN_WORDS
    ):
        reasons[first] = "byline"


def _resolve_blocks(
    normalized: Sequence[str], lines: Sequence[str], reasons: list[str | None]
) -> None:
    """Remove related-link lists after markers, and blocks that are not the article's."""
    article_words: set[str] = set()
    counted = 0  # the kept lines before this index are in article_words (computed lazily)
    ended = False
    index = 0
    count = len(lines)
    while index < count:
        reason = reasons[index]
        if reason is None or (reason not in _ENDING_REASONS and reason != "related_marker"):
            index += 1
            continue
        for i in range(counted, index):
            if reasons[i] is None:
                article_words |= content_words(normalized[i])
        counted = index
        if reason in _ENDING_REASONS and article_words:
            ended = True
        elif reason != "related_marker":
            index += 1
            continue
        is_marker = reason == "related_marker"
        last_headline: str | None = None
        index += 1
        if is_marker:
            while index < count and (reasons[index] is not None or _is_headline(lines[index])):
                if reasons[index] is None:
                    reasons[index] = "related"
                    last_headline = normalized[index]
                elif reasons[index] == "related_marker" or reasons[index] in _ENDING_REASONS:
                    break
                index += 1
        block_end = index
        while block_end < count and reasons[block_end] not in ("related_marker", *_ENDING_REASONS):
            block_end += 1
        block = [i for i in range(index, block_end) if reasons[i] is None]
        if block and _is_other_story(
            block, normalized, article_words, last_headline, footer=is_marker and ended
        ):
            for i in block:
                reasons[i] = "other_story"
            index = block_end
        counted = max(counted, index)


def _is_other_story(
    block: Sequence[int],
    normalized: Sequence[str],
    article_words: set[str],
    last_headline: str | None,
    *,
    footer: bool,
) -> bool:
    if footer or not article_words:
        return footer
    opening: set[str] = set()
    for i in block:
        opening |= content_words(normalized[i])
        if len(opening) >= RELATED_OPENING_WORDS:
            break
    if not opening:
        return False
    if last_headline is not None:
        headline = content_words(last_headline)
        if headline and len(headline & opening) / len(headline) >= RELATED_HEADLINE_ECHO:
            return True  # the block opens by restating the linked headline: that story itself
    return len(opening & article_words) / len(opening) < RELATED_MIN_OVERLAP
