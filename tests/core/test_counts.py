"""Counts tied to what they count: the numbers that can change a story's state."""

from __future__ import annotations

import pytest

from monitor.core.arabic import normalize, tokens
from monitor.core.counts import count_markers


def counts(text: str) -> list[str]:
    return count_markers(tokens(normalize(text)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مصرع 18 سائحا في سقوط منطاد", ["#death:18"]),
        ("14 حالة وفاة و3 مصابين و4 مفقودين", ["#death:14", "#injury:3", "#missing:4"]),
        ("القبض على أربعة عشر متهما", ["#arrest:14"]),
        ("إصابة ستة جنود", ["#injury:6"]),
        ("سرقة 8 ملايين جنيه", ["#money:8000000"]),
        ("لقي 5 عمال مصرعهم وأصيب 6 آخرون", ["#death:5", "#injury:6"]),
        ("مصرع 3 عمال وإصابة 5 آخرين", ["#death:3", "#injury:5"]),
        # An approximation between the count's word and its number, its noun unsaid.
        ("مقتل أكثر من 500 في دارفور خلال سبعة أسابيع", ["#death:500"]),
        ("إصابة نحو 20 في اشتباكات", ["#injury:20"]),
        # People named by their nation or trade (a relative adjective's plural).
        ("إصابة 10 فلسطينيين في إطلاق نار", ["#injury:10"]),
        ("مقتل ثلاثة صحفيين", ["#death:3"]),
        ("السلطات توقف أربعة سلفيين مشتبه فيهم", ["#arrest:4"]),
    ],
)
def test_a_number_counts_what_follows_it(text: str, expected: list[str]) -> None:
    assert counts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "في عام 2013 وفي الساعة 10",  # years and times count nothing
        "منطاد يحمل 20 سائحا",  # a generic noun without a death, injury or arrest before it
        "القاهرة في 24 مارس",
        "لقي 5 عمال ترحيبا من الأهالي",  # met, not met their death
        "نبأ وفاة أحد المعتقلين الفلسطينيين",  # one of the detainees: no count of them
        "وصول 10 ملايين سائح",  # millions are no people
    ],
)
def test_bare_numbers_are_no_counts(text: str) -> None:
    assert counts(text) == []


def test_a_sum_is_money_when_the_currency_goes_unsaid() -> None:
    unsaid = count_markers(tokens(normalize("تقديم ما يفيد سداد المبلغ البالغ قيمته 10 ملايين")))
    said = count_markers(tokens(normalize("سداد مبلغ 10 ملايين جنيه للكسب غير المشروع")))
    assert unsaid == said == ["#money:10000000"]
    assert count_markers(tokens(normalize("أجلت المحكمة القضية 10 أيام"))) == []
