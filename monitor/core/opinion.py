"""Opinion columns: an author's piece argues a case; it tells no news.

Arabic news sites head a column with its author and «يكتب:» (writes:), sometimes naming the
outlet or the series (يكتب لـ«التحرير»:, يكتب في آخر مقالاته:). A development or a new story
needs an event reported, so a column never alerts (``decide.conclude``).

>>> is_column("د. حمزة زوبع يكتب: الخطة وصلت (6)")
True
>>> is_column("مجدي قطب يكتب لـ«التحرير»: «تعظيم سلام» لهذا الرجل")
True
>>> is_column("الحلقة السابعة.. حلمى النمنم يكتب: حسن البنا الذى لا يعرفه أحد")
True
>>> is_column("مصطفى بكرى يكتب.. حقائق الموقف الأمريكى")
True
>>> is_column("وزير الخارجية يكتب رسالة إلى نظيره الأمريكي بشأن الأزمة")
False
>>> is_column("الرئيس: لن أكتب الدستور وحدي")
False
"""

from __future__ import annotations

import re

__all__ = ["is_column"]

_COLUMN = re.compile(
    r"^[^:：]{2,80}?(?<!\S)(?:يكتب|تكتب|بقلم)(?:\s+(?:لـ?|في|فى)\S*(?:\s+[^\s:：.]+){0,3})?\s*(?:[:：]|\.\.|…)"
)
"""The author, «يكتب» (or «تكتب», «بقلم»), at most a short «for the outlet» or «in his
series», then the colon (or «..») that opens the column's own title."""


def is_column(title: str) -> bool:
    """Whether ``title`` heads an opinion column (``«NAME يكتب: ...»``)."""
    return _COLUMN.match(title.strip()) is not None
