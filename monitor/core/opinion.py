"""Pieces that tell no news of their own: opinion columns, statements, roundups.

Arabic news sites head a column with its author and «يكتب:» (writes:), sometimes naming the
outlet or the series (يكتب لـ«التحرير»:, يكتب في آخر مقالاته:), and an editorial with the
outlet's name (كلمة «الوطن»:). A development or a new story needs an event reported, so a
column never alerts (``decide.conclude``).

A statement is headed by its speaker and a colon (مرسي: لن أرحل). Where the headline names no
event, count or cause, its body tells what was said, however many actions the speaker
mentions: no development (``novelty.assess_novelty``). Where it does (الصحة: 14 حالة وفاة),
it is news like any other.

A roundup (موجز أنباء, أهم الأخبار, جولة في الصحف) lists many stories' headlines: it joins
none and never alerts (``decide.conclude``).

>>> is_column("د. حمزة زوبع يكتب: الخطة وصلت (6)")
True
>>> is_column("مجدي قطب يكتب لـ«التحرير»: «تعظيم سلام» لهذا الرجل")
True
>>> is_column("الحلقة السابعة.. حلمى النمنم يكتب: حسن البنا الذى لا يعرفه أحد")
True
>>> is_column("مصطفى بكرى يكتب.. حقائق الموقف الأمريكى")
True
>>> is_column("كلمة «الوطن»: الشاطر.. قطر.. ومثلث ماسبيرو")
True
>>> is_column("وزير الخارجية يكتب رسالة إلى نظيره الأمريكي بشأن الأزمة")
False
>>> is_column("كلمة الرئيس: لن نسمح بالفوضى")
False
>>> is_column("الرئيس: لن أكتب الدستور وحدي")
False
"""

from __future__ import annotations

import re

__all__ = ["is_column", "is_roundup", "is_statement"]

_COLUMN = re.compile(
    r"^[^:：]{2,80}?(?<!\S)(?:يكتب|تكتب|بقلم)(?:\s+(?:لـ?|في|فى)\S*(?:\s+[^\s:：.]+){0,3})?\s*(?:[:：]|\.\.|…)"
)
"""The author, «يكتب» (or «تكتب», «بقلم»), at most a short «for the outlet» or «in his
series», then the colon (or «..») that opens the column's own title."""


_EDITORIAL = re.compile(r"^\W*(?:(?:رأي|افتتاحية)\s+[^:：]{1,25}|كلمة\s+«[^»]{1,20}»)\s*[:：]")
"""An outlet's editorial (كلمة «الوطن»:, رأي الأهرام:, افتتاحية ...:); a speech (كلمة الرئيس:)
names no outlet in «»."""


def is_column(title: str) -> bool:
    """Whether ``title`` heads an opinion column (``«NAME يكتب: ...»``) or an editorial."""
    title = title.strip()
    return _COLUMN.match(title) is not None or _EDITORIAL.match(title) is not None


_LABELS = r"(?:عاجل|بالفيديو|فيديو|بالصور|صور|خاص|حصري|بالأسماء|بالاسماء|بالتفاصيل)"
_STATEMENT = re.compile(
    r"^(?:" + _LABELS + r"\s*(?:\.\.+|[|:：\-–])\s*)*"
    r"[«\"']*(?P<speaker>[^\s:：\d«»\"'|.،]+(?:\s+[^\s:：\d«»\"'|.،]+){0,4})[»\"']*\s*[:：]\s*\S"
)
"""A speaker of at most five words (no digit; quoted or not), then the colon that opens what they
said (``مرسي: لن أرحل``), behind a label or two (عاجل.., بالفيديو|)."""


def is_statement(title: str) -> bool:
    """Whether ``title`` heads a statement (``«SPEAKER: what was said»``).

    >>> is_statement("موسى: أميل إلى مقاطعة الانتخابات")
    True
    >>> is_statement("بالفيديو.. مصطفى الفقي: الفلول كلمة سخيفة")
    True
    >>> is_statement("«الكتاتنى»: مستعدون لتقديم تنازلات")
    True
    >>> is_statement("عاجل: احتراق بالون طائر")
    False
    >>> is_statement("إخلاء سبيل منير ثابت بكفالة 50 ألف جنيه")
    False
    """
    match = _STATEMENT.match(title.strip())
    return match is not None and re.fullmatch(_LABELS, match["speaker"]) is None


_ROUNDUP = re.compile(
    r"^\W*(?:بالفيديو\W*)?موجز"
    r"|(?:أهم|اهم|أبرز|ابرز)\s+(?:الأخبار|الاخبار|الأنباء|الانباء|عناوين)"
    r"|(?:نشرة|نشره)\s+(?:الأخبار|الاخبار|الأنباء|الانباء)"
    r"|(?:جولة|جوله)\s+(?:في|فى)\s+(?:الصحف|صحف)|(?:عناوين|مانشيتات)\s+(?:الصحف|صحف)"
    r"|^\W*(?:عدد|العدد)\s+(?!من\s)(?:\S+\s+){1,3}?(?:الصادر|الصادرة)(?!\S)"
)
"""A roundup's headline: a digest (موجز), the main news (أهم الأخبار), a bulletin (نشرة
الأخبار), a press review (جولة في الصحف, عناوين الصحف), a paper's issue (عدد «التحرير» الصادر
اليوم: its contents)."""


def is_roundup(title: str) -> bool:
    """Whether ``title`` heads a roundup of many stories' news.

    >>> is_roundup('موجز أنباء "اليوم السابع" للساعة الواحدة ظهراً')
    True
    >>> is_roundup("بالفيديو.. نشرة الاخبار المسائية من موقع مصراوى")
    True
    >>> is_roundup("وزير الخارجية يبحث أوضاع سوريا أهم الأخبار المتوقعة")
    True
    >>> is_roundup("عدد «التحرير» الصادر اليوم الأربعاء 27 فبراير")
    True
    >>> is_roundup("إيجاز صحفي للمتحدث باسم الرئاسة")
    False
    """
    return _ROUNDUP.search(title.strip()) is not None
