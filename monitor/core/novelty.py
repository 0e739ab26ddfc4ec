"""Does an article tell the subscribers of a story something new?

Per sentence of the article (normalised form, aligned with the original):

1. *Reported?* Its fingerprint (the set of hashed content terms) is compared with the
   fingerprints of the sentences the story already reported; containment (shared terms /
   the sentence's terms) at or above ``StorySettings.reported_containment`` means restated,
   unless the sentence carries a new count or kind of event (an update of a reported
   sentence: "the toll rose to 19"). A body sentence told nearly whole
   (``RESTATED_EVENT_CONTAINMENT``) with a new event word and no new date or number tells
   the reported event in other words.
2. *Relevant?* It names a core entity of the story (the people, places, organisations of
   its titles) or "the incident" (الحادث, الواقعة), or shares ``RELEVANT_SHARED_TERMS`` of
   the story's strongest terms. An off-topic paragraph (a wire story's unrelated closing
   paragraph) is not news of this story.
3. *Facts:* what it adds that changes the story's state:

   - a new kind of event (arrest, charge, committee, suspension, confession in a story of a
     crime or an accident, ...). An action the sentence negates (لم يتم القبض), asks for
     (يطالبون بإقالة), proposes (مشاورات تشكيل), threatens or sets as a condition (هدد
     بالحبس, مرهون بإقالة), refuses (رفض التفاوض), says is under way (وجاري ضبط) or uses
     to name a known case (المتهم في قضية اقتحام) is none; a refusal (رفض, لن نتفاوض) is one;
     so is a denial (نفت, أكدت عدم وجود), and what is denied is none. An identification
     after an arrest is none: the arrest named the suspect. A question (هل تم القبض ...؟)
     tells no event, nor what was tried, sought, failed or rumoured (حاول التفاوض, جهودها لضبط,
     ما تردد عن اعتقال), nor what must, should, is expected to, is promised to or would
     happen (لا بد من, يتوقع, تعهد ب, إذا تم), nor a purpose, an intention or an offer (من
     أجل إنقاذ, نيتهم الاعتصام, مستعدة لإجراء), what is about to be (بصدد توقيع), what can be
     (يمكن التفاوض), what is awaited (حتى يتم, تنتظر وصول وفد) or a state someone is in
     (يعاني من إصابة); a list item (- or ـ) is none. Nor is what a lawsuit asks for (أقام
     دعوى لإلغاء قرار), unless a ruling comes first, what someone warns against (حذر من
     تشكيل حكومة), what may or cannot be (يجوز, من المستحيل أن يستقيل), a danger (مما يهدد),
     a refusal spoken of (رغم رفض المعارضة) or what a sentence dated to a past month or year
     tells (توفي في ديسمبر الماضي); declining to take part (أعلن عدم مشاركته) is a refusal.
     A sentence opening with a demand (طالب ...) asks for all it names; what came before the
     news (بعد أن التقى) is its context; a committee word forms a body (شكلت لجنة) or is
     none. Clashes, protests, closures renewed (تجددت الاشتباكات) are news once more, once;
   - another instance of a kind of event the story knows: a headline reporting the action in
     words most of which the story never used (parents of another village closing their
     school), not the story's incident retold;
   - a count above the story's highest of its class (``monitor.core.counts``); about the
     same number rounded (نحو 20 after 19) is none, nor a count of an action the sentence
     names only as not done (جهودها لضبط 4 متهمين);
   - a cause in words the story never used, of an incident (why the fire broke out, not why
     a party refuses);
   - a person named in full doing something;
   - an organisation that is the subject of a position (boycott, refusal, withdrawal,
     approval, denial, taking part: ورفض حزب الوفد دعوة الحوار) it had not taken in the story, a
     "party". The responders every story names (the police, a ministry) doing their job are
     none.

   Dates, quotes, unseen names, reactions, background and where words were said (جاء ذلك
   خلال اجتماع, قال خلال لقاء تلفزيوني) are no facts. Only sentences with facts are reported
   as new.

An article is a development when its new relevant sentences add facts worth at least
``StorySettings.development_min_score``; below the lead a sentence counts half and as one
fact at most (a recap), and nothing under a headline that asks (an analysis) or recounts
(يروي, كواليس), or in a long piece (more than ``LONG_PIECE_SENTENCES`` sentences: a
transcript, a live blog). List items (related-link lists the cleaner left) never count. A
mocking headline (ساخرا:) tells a joke: never a development.

>>> from monitor.core.arabic import normalize
>>> story_sentences = [sentence_fingerprint(normalize("يزور بوتين كوريا الشمالية الثلاثاء"))]
>>> sentence_fingerprint(normalize("يزور بوتين كوريا الشمالية يوم الثلاثاء")) == story_sentences[0]
True
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, _count_elements, defaultdict  # type: ignore[attr-defined]
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, compress, count, filterfalse, islice, pairwise, repeat
from typing import Any, TypeVar

import xxhash

from monitor.core.arabic import normalize, tokens
from monitor.core.counts import COUNT_PREFIX
from monitor.core.entities import load_gazetteer
from monitor.core.opinion import is_statement
from monitor.core.prefilter import AnyBranch, Prefiltered
from monitor.core.stories import SentenceText, StoryState, term_hashes
from monitor.core.terms import content_terms, term_of

__all__ = [
    "NoveltyResult",
    "SentenceFacts",
    "assess_novelty",
    "fingerprint_of",
    "merge_reported",
    "names_an_action",
    "read_sentences",
    "record_reported",
    "sentence_fingerprint",
]

RELEVANT_SHARED_TERMS = 3
LEAD_SENTENCES = 2
"""The title and the first sentences about the story carry an article's news (the inverted
pyramid)."""
DEEP_FACT_WEIGHT = 0.5
"""A fact found only further down counts this much: recalled context more often than news."""
LONG_PIECE_SENTENCES = 24
"""Beyond this many sentences, an article's facts below its lead count for nothing."""
RESTATED_EVENT_CONTAINMENT = 0.75
"""From this share of a body sentence already reported, a new kind of event in it is the
reported one in other words, unless the sentence also brings a number or date the story had
not."""
TITLE_INDEX = -1
"""The title's index among an article's judged sentences."""
STRONG_TERMS = 25
MIN_SENTENCE_TERMS = 4
MAX_STORY_SENTENCES = 400
MAX_SEEN_TERMS = 3000
MAX_NUMBERS = 200

_RAW_ACTIONS: dict[str, str] = {
    "arrival": "| وصل يصل وصلت وصلوا تصل يصلان",
    "reception": "استقبال استقباله | استقبل استقبلت استقبلوا يستقبل استقبله",
    "delegation": "وفد | رافق يرافق سيرافق يرافقه رافقه",
    "meeting": "اجتماع لقاء قمة محادثات مباحثات | التقى التقي يلتقي التقت اجتمع اجتمعت اجتمعوا",
    "agreement": "توقيع اتفاق اتفاقية اتفاقيه معاهدة إبرام | يوقع اتفق اتفقت اتفقوا أبرم أبرمت",
    "approval": "وافق وافقت يوافق",
    # The incident itself, however an outlet words it: later articles name it again, so a
    # new word for it is no new event (a new toll is a count).
    "incident": "هجوم هجمات قصف غارة غارات اقتحام اقتحم انفجار تفجير حريق اشتباكات اشتباك مواجهات "
    "مقتل قتل قتلى قتيل مصرع وفاة استشهاد إصابة مصابين جرحى إصابات اختطاف خطف اغتيال سقوط سقط تحطم "
    "غرق زلزال فيضان | هاجم هاجمت هاجموا اقتحمت اقتحموا انفجرت قتلت قتلوا توفي استشهد أصيب أصيبت "
    "أصيبوا سقطت",
    "arrest": "اعتقال القبض احتجاز توقيف ضبط | اعتقل اعتقلت اعتقلوا تعتقل يعتقل احتجز احتجزت ضبطت "
    "ضبطوا يضبط تضبط",
    "resignation": "استقالة إقالة | استقال استقالت استقالوا يستقيل تستقيل أقال أقالت",
    "appointment": "تعيين | عينت",
    "withdrawal": "انسحاب | انسحب انسحبت انسحبوا ينسحب تنسحب",
    "verdict": "براءة إعدام المؤبد",
    "election": "فوز خسارة هزيمة انتخاب | فاز فازت فازوا",
    "protest": "إضراب اعتصام مظاهرة تجمهر احتشد احتشاد وقفة | أضرب أضربت أضربوا يضربون اعتصم اعتصمت "
    "اعتصموا يعتصمون تظاهر تظاهرت تظاهروا يتظاهرون احتشدت احتشدوا",
    "closure": "إغلاق إلغاء | أغلق أغلقت أغلقوا يغلقون يغلقوا ألغى ألغت قطعوا يقطعون يقطعوا",
    "court_schedule": "تأجيل حجز | أجلت يؤجل تؤجل حجزت",
    "opening": "افتتاح | افتتح افتتحت",
    "release": "إفراج إخلاء كفالة | أفرج أفرجت يفرج تفرج أخلت",
    "truce": "هدنة",
    "denial": "| نفى نفت ينفي تنفي",
    "refusal": "رفض | رفضت رفضوا يرفض ترفض",
    "claim": "| تبنى تبنت يتبنى تتبنى",
    "threat": "هدد | هددت يهدد تهدد هددوا يهددون",
    "charge": "اتهام تهمة إحالة | أحال أحالت أحالوا يحيل تحيل",
    "detention": "حبس حبسه | تحبس يحبس",
    "committee": "تشكيل | شكلت يشكل تشكل",
    "suspension": "إيقاف وقف | أوقف أوقفت",
    "boycott": "| قاطعت قاطعوا يقاطع يقاطعون يقاطعوا",
    "inspection": "معاينة تفتيش | عاين عاينت تعاين يعاين فتش فتشت",
    "dispersal": "فض | فضت يفض تفض فضوا",
    "emergency": "طوارئ",
    "evacuation": "إجلاء",
    "rescue": "إنقاذ انتشال",
    "compensation": "تعويض تعويضات",
    "seizure": "تجميد مصادرة",
    "negotiation": "تفاوض التفاوض مفاوضات المفاوضات | نتفاوض يتفاوض تتفاوض",
    "identification": "هوية هويته هويتهم",
    "confession": "اعترافه اعترافات اعترافاته | اعترف اعترفت اعترفوا",
    "lawsuit": "مقاضاة | يقاضي تقاضي قاضت يقاضون",
    "ultimatum": "مهلة | أمهل أمهلت يمهل تمهل يمهلون",
    "funeral": "جنازة تشييع | شيع شيعت شيعوا يشيع تشيع",
    "memo": "مذكرة",
}
"""Kind of event -> its words; after «|», the words that are only verbs (اعتقلت, not اعتقال):
one opens a clause of its own (تجاهلت الرئاسة مطلب المعارضة بإقالة الحكومة الحالية في
القاهرة وأغلق المحتجون الطريق), so no demand's chain of و reaches it (``_joined``)."""
_RAW_VERBS = " ".join(words.partition("|")[2] for words in _RAW_ACTIONS.values())
_NAMES_A_THING = frozenset(map(normalize, ["وفد", "قمة", "إنقاذ"]))
"""Words whose definite form names a thing, not the action: a delegation or a summit already
told of (الوفد, القمة), a party or a peak, the rescue teams or the Salvation Front (الإنقاذ);
the action takes its object (إنقاذ الركاب)."""
_CLITICS = ("و", "ف", "ل", "ب")
"""One-letter proclitics glued to the next word (وطالب, لمطالبة, بسرعة)."""
_ACTIONS: dict[str, str] = {}
for _group, _words in _RAW_ACTIONS.items():
    for _word in map(normalize, _words.replace("|", " ").split()):
        # Content terms keep the article (القبض) and an unknown word its conjunction
        # (وسيرافق): the lexicon holds those forms too.
        forms = (
            [_word] if _word.startswith("ال") or _word in _NAMES_A_THING else [_word, "ال" + _word]
        )
        # ف before a verb's ي would make names (ف + يصل = فيصل).
        forms += [
            prefix + form
            for prefix in _CLITICS
            for form in forms
            if not (prefix == "ف" and form[:1] == "ي")
        ]
        for _form in forms:
            _ACTIONS.setdefault(_form, _group)


def _normalized(words: str) -> frozenset[str]:
    return frozenset(map(normalize, words.split()))


_RAW_REACTIONS = """
ندد يندد تندد نعى ينعى ينعي نعي تعازي التعازي تعزية يعزي عزى عزاء العزاء استنكر يستنكر استنكار
أدان يدين إدانة شجب يشجب ناشد يناشد أعرب يعرب تضامن تمنى يتمنى ترحم مواساة المواساة
انتقد انتقدت انتقدوا ينتقد تنتقد ينتقدون منتقدا منتقدة
"""
_REACTIONS = _normalized(_RAW_REACTIONS)
"""Words of a reaction (condolences, condemnation): its sentence reports no new event."""
_TITLE_REACTIONS = (
    _REACTIONS
    | frozenset(
        content_terms(
            tokens(
                normalize(
                    _RAW_REACTIONS + " قلقه قلقها قلقهم تضامنه تضامنها تضامنهم تعزي حث حثت يحث تحث"
                )
            )
        )
    )
) - _normalized("أعرب يعرب تعرب")
"""A headline's terms of a reaction (condolences, solidarity, concern, an appeal, an urging:
تحث على ضبط النفس): «expressed» alone (أعرب عن استعداده) is none."""
_BACKGROUND = _normalized("يذكر ويذكر يشار ويشار جدير وجدير سبق وسبق تأتي وتأتي يأتي ويأتي")
"""First words of a background sentence (يذكر أن, جدير بالذكر, وتأتي الزيارة بعد): what
happened before."""
_CAME = _normalized("جاء وجاء")
_THAT = _normalized("ذلك هذا")
"""جاء ذلك خلال اجتماع ... (this was said at a meeting ...): the sentence tells where words
were said, not a new event."""
_PAST_PERFECT = _normalized("وكان وكانت كان كانت وكانوا كانوا")
_PRESENTATIVE = _normalized("في على من لدى هناك")
"""وكان في استقباله ...: «كان» before these presents a scene; before a subject (وكانت الشرطة
قد ..., كانت وسائل إعلام ذكرت ...) it recalls an earlier event."""
_ACTION_MARKERS: dict[str, str] = {term: "act:" + group for term, group in _ACTIONS.items()}
_PLAN_MARKERS: dict[str, str] = {term: "plan:" + group for term, group in _ACTIONS.items()}
_INCIDENT_MARKER = "act:incident"
_CRIME_MARKERS = frozenset(("act:incident", "act:arrest", "act:charge", "act:detention"))
"""A story with one of these is about a crime or an accident: there اعترف is a confession."""
_PLAN_TERMS = _normalized(
    "المقرر المقررة المتوقع المتوقعة مقرر مقررة متوقع متوقعة يعتزم تعتزم يستعد تستعد المرتقب "
    "المرتقبة مرتقب مرتقبة ينوي تنوي"
)
"""Words of a sentence about what is to happen: its events are plans (``plan:`` markers); the
event happening later is news again."""
"""Term -> the marker ``record_reported`` keeps for its kind of action."""
_NEGATIONS = frozenset(
    prefix + word
    for word in _normalized("لم لا ليس ليست عدم دون بدون")
    for prefix in ("", "و", "ف", "ب")
)
"""Before an action, it did not happen (لم يتم القبض, عدم وجود): no event. After a refusal
(رفض التفاوض) it did not happen either: the refusal is the event."""
_THERE = _normalized("هناك")
"""Between a negation and its action (لم يكن هناك اتفاق): the negation reaches one word
further."""
_WILL_NOT = _normalized("لن ولن فلن")
"""Before an action, it is refused: لن نتفاوض (we will not negotiate) says what رفض التفاوض
says. The action is not done; a refusal is."""
_REFUSED = normalize("رفض")
_REFUSAL_REACH = 4
"""Words before an action a refusal or a denial governs (رفضت الشركة دفع تعويضات, نفى أن
يكون قد تم التعرف على هوية الجناة): that action did not happen."""
_GOVERNING = frozenset(("refusal", "denial"))
_DENIED = normalize("نفى")
_REFERENCES = _normalized(
    "قضية القضية واقعة الواقعة جريمة الجريمة تهمة بتهمة اتهام باتهام لاتهامه المتهم المتهمين "
    "المتهمون متهم متهمين ذكرى أحداث الأحداث قضيتي قضيتى قضايا القضايا"
)
"""Before an action, it names a known case (المتهم في قضية اقتحام, المتهم بقتل): no new event."""
_RAW_ASKING = (
    "طالب طالبت يطالب تطالب يطالبون طالبوا نطالب أطالب دعا دعت يدعو تدعو يدعون دعوا ناشد "
    "ناشدت يناشد تناشد"
)
_RAW_DEMANDS = _RAW_ASKING + (
    " المطالبة للمطالبة لمطالبة مطالبا مطالبين بالمطالبة مطالبة بمطالبة مطالب المطالب المطالبين"
    " مناشدا مطالبها "
    "مطالبهم مطلب مطلبه مطلبها مطلبهم مطلبنا مطالبنا الضغط للضغط بالضغط يضغط تضغط شروط "
    "الشروط بشروط شروطها شروطه مرهون مرهونة مرهونا مشروط مشروطة هدد هددت يهدد "
    "تهدد هددوا يهددون مهددا مهددين يريد تريد نريد يريدون أراد أرادت هتافات هتاف لافتات لافتة "
    "لافته شعارات أدعو ندعو أريد طالبهم طالبها دعاهم دعاها ناشدهم "
    "طلب طلبت طلبوا يطلب تطلب يطلبون بطلب طلبا الطلب طلبه طلبها طلبهم "
    "حذر حذرت يحذر تحذر يحذرون محذرا محذرة تحذير التحذير تحذيرات "
    "خوفا خشية خشيه مخافة تخوفا تخوف مخاوف المخاوف تخوفات يخشى تخشى يخشون نخشى أخشى"
)
_DEMANDS = _normalized(_RAW_DEMANDS)
"""Before an action, it is asked for, wanted, chanted, set as a condition, pressed for or
threatened, not done (يطالبون بإقالة, مطلبهم بالإفراج, للضغط على النظام بوقف, للمطالبة
بوقف, الشعب يريد إسقاط النظام, هتافات «إعدام ...», مرهون بتحقيق 5 شروط: تشكيل حكومة ...,
هدد أصحاب المخابز بالحبس), requested (وطلب الدفاع إخلاء سبيله), warned against (حذر من
تشكيل حكومة ائتلافية) or feared (خوفا على إصابة الطلاب, مخاوف من اندلاع اشتباكات): no
event (the threat itself is one)."""
_RAW_TRIED = "حاول حاولت حاولوا يحاول تحاول يحاولون فشل فشلت فشلوا يفشل تفشل"
_TRIED = _normalized(_RAW_TRIED)
"""Before an action, it was tried or failed (حاول التفاوض معهم, فشل في إنهاء الوقفة): not
done."""
_RAW_RUMOURED = "تردد يتردد ترددت أشيع يشاع أشيعت شائعات شائعة الشائعات مزاعم المزاعم ادعاءات"
_RUMOURED = _normalized(_RAW_RUMOURED)
"""Before an action, it is what was rumoured (ما تردد عن جلوس ..., شائعات اعتقاله): not
done. (A picture shared, تداولتها المواقع, can show what did happen.)"""
_RAW_DUE = (
    "لابد بد يجب ينبغي يتعين ضرورة بضرورة يتوقع تتوقع توقع يتوقعون متوقع المتوقع إذا لو "
    "تعهد تعهدت يتعهد تتعهد متعهدا وعد وعدت يمكن ممكن الممكن بالإمكان يؤدي تؤدي سيؤدي ستؤدي "
    "يؤديان رغبة رغبته رغبتها رغبتهم يرغب ترغب أود يود تود نود مستحيل المستحيل يستحيل يجوز"
)
_DUE = _normalized(_RAW_DUE)
"""Before an action, it must, should, is expected to, is promised to or would happen (لا بد أن
تصل القوى, أكد ضرورة تشكيل لجنة, يتوقع حملة لإغلاق المساجد, تعهد بصياغة اتفاقية, إذا وصلت
دعوة), would follow (مما يؤدي إلى سقوط المباني) or is wished for (رغبته في فرض حالة الطوارئ): not
done."""


def _with_clitics(words: frozenset[str]) -> frozenset[str]:
    """``words`` and each behind a one-letter proclitic (لمطالبهم, وبصدد): the lists are
    read word by word, and a word glued to و or ل is the same word."""
    return words | {clitic + word for clitic in _CLITICS for word in words}


_SUFFERING = _normalized("يعاني تعاني يعانون يعانين نعاني أعاني")
"""Before an action, it is a state someone is in (كان يعاني من إصابة, يعانون من حصار): told
as how things are, not as what has just happened."""
_NOT_DONE_BEFORE = _with_clitics(_DEMANDS | _TRIED | _RUMOURED | _DUE | _SUFFERING)
_DEMAND_REACH = 6
_CHAIN_REACH = 10
"""Words from an action asked for to the next action joined to it by و, asked for too
(المطالبة بإسقاط الحكومة الحالية وحل مجلس الشورى وتشكيل حكومة إنقاذ)."""
_GOVERNED_REACH = 2
"""Words from an action asked for to an action noun it governs, asked for too (بوقف تنفيذ
إلغاء القرار: the cancelling is asked to be stopped)."""
_AND = normalize("و")
_PREVIOUSLY = _normalized("سبق وسبق سبقت وسبقت")
"""Before actions within a sentence (والذي سبق اتهامه في 20 قضية وسبق اعتقاله وأفرج عنه),
they are the record of someone in the news: no new event."""
_ASKING = _with_clitics(_normalized(_RAW_ASKING))
"""A sentence opening with one of these (طالب النائب ... بالدفع بقوات ... ووقف عمليات السطو)
asks for all it goes on to name, however far: no event."""
_THREAT_NOUNS = _with_clitics(
    _normalized("تهديد التهديد للتهديد تهديدات التهديدات تهديده تهديدها تهديدهم تهديدهما")
)
"""Right before an action behind ب, what is threatened (التهديد بوقف إنتاج الخبز, تعرض
للتهديد بالقتل): not done. (A threat to something, تهديد السياحة, governs nothing.)"""
_SUITS = _with_clitics(_normalized("دعوى الدعوى دعاوى الدعاوى دعوي طعن الطعن طعنا طعون الطعون"))
"""Before an action behind ب or ل, a lawsuit or an appeal asks for it (أقام دعوى أمام
القضاء الإداري لإلغاء قرار الدعوة للانتخابات, طعن بوقف تنفيذ الحكم): not done, unless a
ruling comes first (قضت المحكمة في الدعوى بوقف تنفيذ القرار)."""
_SUIT_REACH = 10
_RULINGS = _with_clitics(
    _normalized("قضت قضى يقضي تقضي حكمت حكم يحكم أمرت امر يأمر ألزمت الزم قررت قرر أيدت ايد")
)
"""A court's ruling (قضت, حكمت, أمرت, قررت): the action it rules on is done."""
_DEPENDS = _normalized("يتوقف تتوقف يتوقفان ستتوقف سيتوقف")
_CONDITIONED = _normalized("مرهون مرهونة مرهونا مشروط مشروطة مشروطا")
_UPON = normalize("على")
_CONDITION_REACH = 8
"""Words after an action in which «يتوقف على» or «مرهون ب» makes it depend on something."""
_THREAT_REACH = 4
"""Words after a threat's verb in which what it threatens with (ب...) follows (هددت
النقابات المهنية بالإضراب)."""
_BODIES = _normalized(
    "لجنة لجنه لجان لجنتين فريق فرق حكومة حكومات مجلس هيئة خلية غرفة وفد جهاز تحالف ائتلاف "
    "قائمة حزب جبهة مجموعة اتحاد كتيبة وزارة تنسيقية رابطة كيان نقابة محكمة دائرة ادارة إدارة"
)
"""What a committee word forms (لجنة, فريق, حكومة, ...): found within ``_BODY_REACH`` words
after it (شكلت النيابة العامة لجنة)."""
_BODY_REACH = 4
_FORMING = frozenset(term for term, group in _ACTIONS.items() if group == "committee")
"""Committee words, read word by word for the body they form."""
_NOT_WITH = _normalized("بعد بين بشكل بسبب بصورة بعض بها به بهم بلا بينما بنسبة")
"""Words starting with ب that say no "with what"."""
_DANGERS = _normalized(
    "حرب الحرب انهيار الانهيار تفشي تفشى إشعال اشعال أزمة ازمة الأزمة انقطاع الانقطاع "
    "البطلان بطلان كارثة الكارثة انفجار الانفجار الخطر خطر الفوضى فوضى مجاعة المجاعة "
    "إفلاس الإفلاس العطش الجفاف الغرق غرق"
)
"""What a danger threatens with (نزاع يهدد الشرق الأوسط بحرب جديدة, يهدد بانهيار الاقتصاد):
a state of things threatens; no one threatens to do it."""
_RAW_PROPOSED = (
    "مشاورات مساعي جهود جهودها جهوده جهودهم محاولات خطة خطط مقترح مقترحات اقتراح اقتراحات "
    "مبادرة مشروع إمكانية احتمال احتمالات فكرة دعوى دعاوى سرعة بسرعة لأجل بهدف بغرض نية "
    "نيته نيتها نيتهم يعتزم تعتزم يعتزمون اعتزام عزمه عزمها عزمهم استعداد استعداده "
    "استعدادها استعدادهم مستعد مستعدة مستعدون بصدد حتى بشأن ضمان"
)
_PROPOSED = _with_clitics(_normalized(_RAW_PROPOSED))
"""Right before an action, it is proposed, sought, intended or offered, not done (مشاورات
تشكيل الحكومة, دعوى وقف تنفيذ القرار, مقترح إلغاء, أمر بسرعة ضبط الجناة, من أجل إنقاذ,
نيتهم الاعتصام, مستعدة لإجراء محادثات): no event."""
_PROPOSED_REACH = 2
_FOR_THE_SAKE_OF = (normalize("من"), normalize("أجل"))
"""Before an action, its purpose (من أجل إنقاذ العمال); أجل alone is also a term (مد أجل
الحكم)."""
_PURPOSE_REACH = 4
"""Words after من أجل in which an action is its purpose (من أجل التوصل إلى تشكيل حكومة)."""
_RAW_AFTER = "بعدما عقب إثر اثر"
_AFTER_CONJUNCTIONS = ("", "و", "ف")
_AFTER_WORDS = frozenset(c + w for c in _AFTER_CONJUNCTIONS for w in _normalized(_RAW_AFTER))
_BEFORE_THAT = frozenset(c + normalize("بعد") for c in _AFTER_CONJUNCTIONS)
_THAT_CONJUNCTION = normalize("أن")
_AFTER_REACH = 3
"""Within this many words after بعد أن, بعدما, عقب or إثر, an action is what came before."""
_AFTER_PATTERN = re.compile(
    r"(?<!\S)[وف]?(?:بعد\s+[أا]ن|" + "|".join(map(re.escape, _RAW_AFTER.split())) + r")(?!\S)"
)
"""A sentence that can hold one of those (read from the same words, as written)."""
_RAW_ONGOING = "جاري وجاري جارى وجارى جار وجار"
_ONGOING = _normalized(_RAW_ONGOING)
"""Before actions, they are under way, not done (وجاري ضبط المتهمين, وجارٍ التعرف على هوية
...): no event until one is reported done. It governs the rest of its sentence: it opens the
closing clause of a police statement."""
_AWAITED = _with_clitics(
    _normalized(
        "انتظار بانتظار ينتظر تنتظر ينتظرون ننتظر انتظر انتظرت انتظروا منتظر منتظرة المنتظر "
        "المنتظرة مرتقب مرتقبة المرتقب المرتقبة"
    )
)
"""Before actions, they are awaited (تنتظر اللجان الشعبية ... وفدا ليبيا, في انتظار نتائج
التحقيقات): not done yet. It governs the rest of its sentence: what is awaited is its object,
however long the subject before it."""
_GOVERNS_THE_REST = _ONGOING | _PREVIOUSLY | _AWAITED
_THE_INCIDENT = _normalized("الحادث الحادثة الواقعة الكارثة الفاجعة المأساة")
"""In an article of the story, "the incident" is the story's: a sentence naming it is about
the story (وأعلن وزير الطيران تشكيل لجنة للتحقيق في الحادث)."""
_CAUSES = _normalized("بسبب وبسبب نتيجة نتيجه جراء بفعل")
"""Words that give a cause (بسبب ماس كهربائي, نتيجة انفجار اسطوانة غاز): a story that learns
why something happened has changed."""
_CAUSE_NEGATION_REACH = 10
"""Words before a cause word in which a negation says nothing was caused."""
CAUSE_TERMS = 3
"""Content terms after a cause word that say the cause."""
_NEGATION_REACH = 2
"""Words before an action a negation governs (لم يتم القبض)."""
_LIST_ITEM = re.compile(r"^\s*(?:[-–—•*·▪►]|ـ+)\s")
"""A list item's dash, the tatweel (ـ) among them: a list of demands or proposals reports
none of them done."""

_UPDATE_FACTS = ("count", "event", "party")
_ACTOR_KINDS = ("PER",)
MAX_ACTORS = 2
"""New actors one sentence can add (a list of names is one fact more than a name)."""
FACT_WEIGHTS: dict[str, float] = {
    "event": 1.5,
    "instance": 1.5,
    "count": 1.5,
    "cause": 1.5,
    "actor": 1.0,
    "party": 1.5,
}
"""What each kind of fact is worth: a new kind of event, another instance of a known kind, a
new or higher count or a new party taking a position is a development by itself; a new actor
needs an event or another actor beside it."""
INSTANCE_UNSEEN = 3
INSTANCE_SHARE = 0.5
"""A headline reporting an action of a kind the story knows tells another instance of it
when at least ``INSTANCE_UNSEEN`` of its terms, and ``INSTANCE_SHARE`` of them, are words
the story never used (``_another_instance``)."""


_hash: Callable[[str], int] = xxhash.xxh32_intdigest
"""A term's hash in a sentence fingerprint (a C function: mapped over many terms)."""


def sentence_fingerprint(normalized_sentence: str) -> list[int]:
    """Sorted hashed content terms of a normalised sentence (order- and stopword-free)."""
    return fingerprint_of(content_terms(tokens(normalized_sentence)))


def fingerprint_of(terms: list[str]) -> list[int]:
    return term_hashes(terms)


@dataclass(slots=True)
class SentenceFacts:
    index: int
    text: str
    containment: float
    relevant: bool
    facts: dict[str, list[str]] = field(default_factory=dict)
    score: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.index,
            "containment": round(self.containment, 3),
            "facts": self.facts,
            "score": round(self.score, 2),
        }


@dataclass(slots=True)
class NoveltyResult:
    is_development: bool
    score: float
    new_sentences: list[SentenceFacts]
    """Sentences not reported before and relevant to the story (original orthography)."""
    restated: int
    off_topic: list[int]
    """Indexes of unreported sentences that are not about the story."""
    why_not: str = ""
    without_facts: int = 0
    """Unreported relevant sentences that add no fact (rewording, background)."""
    details: list[SentenceFacts] = field(default_factory=list)
    """Those sentences but background (وكان ... قد), in the article's order: the detail an
    alert can show beside its news."""

    def reasons(self) -> dict[str, Any]:
        reasons: dict[str, Any] = {
            "novelty_score": round(self.score, 2),
            "restated_sentences": self.restated,
            "sentences_without_new_facts": self.without_facts,
            "new": [sentence.as_dict() for sentence in self.new_sentences],
        }
        if self.off_topic:
            reasons["off_topic_sentences"] = self.off_topic
        if self.why_not:
            reasons["why_not_development"] = self.why_not
        return reasons


def _containment(fingerprint: list[int], postings: dict[int, list[int]]) -> float:
    if not fingerprint:
        return 1.0
    # Counted in C (``Counter``'s counting loop over the chained postings, into a plain
    # dict: no ``Counter`` built): the same integer hits per sentence.
    hits: dict[int, int] = {}
    _count_elements(hits, chain.from_iterable(map(postings.get, fingerprint, repeat(()))))
    return max(hits.values(), default=0) / len(fingerprint)


class _Reported:
    """A story's reported sentences as an inverted index: term -> serials (ascending) of the
    sentences holding it. ``record_reported`` keeps it in step with ``story.sentences``, so
    judging an article looks up its own terms instead of reading the story's up to
    ``MAX_STORY_SENTENCES`` fingerprints again (containment only needs the hits per
    sentence, which serials count as indexes did)."""

    __slots__ = ("first", "postings", "seen", "seen_terms", "sentences")

    def __init__(self, sentences: list[list[int]]) -> None:
        self.sentences = sentences
        """The list indexed: the story's current one while ``is`` holds."""
        self.first = 0
        """The serial of ``sentences[0]``."""
        self.postings: defaultdict[int, list[int]] = defaultdict(list)
        self._add(sentences, 0)
        self.seen_terms: list[int] | None = None
        """The story's ``seen_terms`` list that ``seen`` holds as a set (while ``is`` holds)."""
        self.seen: set[int] = set()

    def _add(self, fingerprints: list[list[int]], serial: int) -> None:
        postings = self.postings
        for fingerprint in fingerprints:
            for term in dict.fromkeys(fingerprint):  # once per sentence, as a set would
                postings[term].append(serial)
            serial += 1

    def update(self, sentences: list[list[int]], added: list[list[int]]) -> None:
        """``sentences`` is ``(self.sentences + added)[-MAX_STORY_SENTENCES:]``."""
        old = self.sentences
        self._add(added, self.first + len(old))
        dropped = len(old) + len(added) - len(sentences)
        postings = self.postings
        # The oldest sentences leave: each is the first serial of each of its terms.
        for fingerprint in islice(chain(old, added), max(0, dropped)):
            for term in dict.fromkeys(fingerprint):
                serials = postings[term]
                del serials[0]
                if not serials:
                    del postings[term]
        self.first += dropped
        self.sentences = sentences

    def size(self) -> int:
        return len(self.sentences)


_REPORTED: dict[str, _Reported] = {}
"""Story id -> its sentence index, least recently used first (bounded)."""
_REPORTED_SENTENCES = [0]
"""Sentences the indexes hold together."""
_REPORTED_MAX_SENTENCES = 10_000
"""Bound of the indexes (1-2 KB per sentence with the seen-term sets: 10-20 MB): the stories not judged lately are
indexed again when they are."""


def _reported_postings(story: StoryState, wanted: Callable[[], set[int]]) -> dict[int, list[int]]:
    """Reported sentences holding each term: the story's index when it has a current one,
    else the postings of the terms ``wanted()`` only (the index is not built here: reading
    every sentence in Python cost more than that C-level intersection per sentence, and a
    story loaded again or pushed out of the bounded cache is often not judged again soon;
    ``_record_sentences`` indexes a new story with its second article, a merged one when
    next recorded)."""
    entry = _REPORTED.pop(story.id, None)
    if entry is not None:
        if entry.sentences is story.sentences:
            _REPORTED[story.id] = entry  # most recently used last
            return entry.postings
        _REPORTED_SENTENCES[0] -= entry.size()
    return _postings(story.sentences, wanted())


def _postings(sentences: list[list[int]], wanted: set[int]) -> dict[int, list[int]]:
    """Reported sentences containing each term of ``wanted`` (the only terms looked up)."""
    postings: defaultdict[int, list[int]] = defaultdict(list)  # no list made per hit
    for index, fingerprint in enumerate(sentences):
        # A story holds hundreds of sentences; the C-level intersection skips the terms
        # this article never asks about.
        for term in wanted.intersection(fingerprint):
            postings[term].append(index)
    return postings


_PENDING: set[str] = set()
"""Stories to index when next recorded: new ones (recorded once) and merged ones."""
_PENDING_MAX = 200_000


def _index_later(story_id: str) -> None:
    if len(_PENDING) >= _PENDING_MAX:
        _PENDING.clear()  # those forgotten are read with ``_postings``
    _PENDING.add(story_id)


def _evict() -> None:
    while _REPORTED_SENTENCES[0] > _REPORTED_MAX_SENTENCES and len(_REPORTED) > 1:
        oldest = next(iter(_REPORTED))
        _REPORTED_SENTENCES[0] -= _REPORTED.pop(oldest).size()


class _SeenSet:
    """The set of one story's ``seen_terms`` list (while ``is`` holds)."""

    __slots__ = ("seen", "seen_terms")

    def __init__(self) -> None:
        self.seen_terms: list[int] | None = None
        self.seen: set[int] = set()


_LAST_SEEN = _SeenSet()
"""The set of the last story judged without an index (``_seen_set``): judging an article
and recording it read the same list, and most stories are judged unindexed (a new story's
second article, one pushed out of the indexes)."""


def _seen_set(story: StoryState) -> set[int]:
    """``set(story.seen_terms)`` (not to be modified): kept with the story's index (else
    for the last story asked about), as the 3,000 terms would otherwise be hashed into a set
    twice per article."""
    entry = _REPORTED.get(story.id)
    if entry is not None and entry.seen_terms is story.seen_terms:
        return entry.seen
    if _LAST_SEEN.seen_terms is story.seen_terms:
        return _LAST_SEEN.seen
    seen = set(story.seen_terms)
    # Kept up to date only when the list has no repeats (removing a dropped term from the
    # set is then exact); a story's own lists never have.
    holder = _LAST_SEEN if entry is None else entry
    holder.seen_terms = story.seen_terms if len(seen) == len(story.seen_terms) else None
    holder.seen = seen
    return seen


_T = TypeVar("_T")


def _tail(old: list[_T], new: list[_T], limit: int) -> list[_T]:
    """``(old + new)[-limit:]`` (``limit`` > 0), a new list, without copying the whole
    concatenation first (a story's 3,000 seen terms were copied twice per article)."""
    drop = len(old) + len(new) - limit
    if drop <= 0:
        return old + new
    if drop >= len(old):
        return new[-limit:]
    kept = old[drop:]
    kept += new
    return kept


def _record_seen(story: StoryState, new_terms: list[int]) -> None:
    """``story.seen_terms`` with ``new_terms`` (distinct, none seen; bounded), its set kept
    in step when cached."""
    old = story.seen_terms
    story.seen_terms = _tail(old, new_terms, MAX_SEEN_TERMS)
    entry = _REPORTED.get(story.id)
    holder: _Reported | _SeenSet
    if entry is not None and entry.seen_terms is old:
        holder = entry
    elif _LAST_SEEN.seen_terms is old:
        holder = _LAST_SEEN
    else:
        return
    seen = holder.seen
    seen.update(new_terms)
    dropped = len(old) + len(new_terms) - len(story.seen_terms)
    seen.difference_update(islice(chain(old, new_terms), dropped))
    holder.seen_terms = story.seen_terms


def _record_sentences(story: StoryState, added: list[list[int]]) -> None:
    """``story.sentences`` with ``added`` (bounded), its index updated when it has one."""
    old = story.sentences
    story.sentences = _tail(old, added, MAX_STORY_SENTENCES)
    entry = _REPORTED.get(story.id)
    if entry is None:
        # Most stories never get a second article: a new story is indexed when it does
        # (its first judgement read its few sentences with ``_postings``), not at its
        # creation; a merged one when next recorded (it is, right after the merge). One
        # loaded again or pushed out is not (see ``_reported_postings``).
        if not old:
            _index_later(story.id)
            return
        if story.id not in _PENDING:
            return
        _PENDING.discard(story.id)
        entry = _REPORTED[story.id] = _Reported(story.sentences)
        _REPORTED_SENTENCES[0] += entry.size()
        _evict()
        return
    if entry.sentences is not old:
        del _REPORTED[story.id]
        _REPORTED_SENTENCES[0] -= entry.size()
        return
    before = entry.size()
    entry.update(story.sentences, added)
    _REPORTED_SENTENCES[0] += entry.size() - before
    _evict()


def assess_novelty(
    story: StoryState,
    sentences: list[str],
    analysed: list[SentenceText],
    *,
    reported_containment: float,
    development_min_score: float,
    title: tuple[str, SentenceText] | None = None,
) -> NoveltyResult:
    """What ``sentences`` (original orthography; ``analysed``: normalised) add to ``story``.

    ``title`` (original, analysed) is judged too, as sentence ``-1``: a headline is about its
    story by construction, and it often carries the new fact first.
    """
    rows = list(enumerate(zip(sentences, analysed, strict=False)))
    if title is not None:
        rows.insert(0, (TITLE_INDEX, title))
    postings = _reported_postings(
        story, lambda: {term for _, (_, text) in rows for term in text.fingerprint}
    )
    known_entities = set(story.entities)
    core = set(story.core_entities())
    centroid = story.centroid
    strongest = sorted(centroid, key=centroid.__getitem__, reverse=True)[:STRONG_TERMS]
    strong_terms = set(map(_hash, [key for key in strongest if not key.startswith("@")]))
    known_markers = set(story.numbers)
    seen_terms = _seen_set(story)
    count_max = _count_max(story.numbers)
    # "About 20" where the story has 19 is the same toll rounded (even where the headline
    # drops the "about"), not a higher one.
    rounded = set(map(int, _APPROXIMATE.findall(_SEPARATOR.join([row[1][0] for row in rows]))))
    if rounded:
        count_max = _rounded_up(count_max, rounded)
    new_sentences: list[SentenceFacts] = []
    off_topic: list[int] = []
    restated = 0
    unremarkable: list[SentenceFacts] = []
    recalled = 0
    claimed: set[tuple[str, str]] = set()
    lead_left = LEAD_SENTENCES  # the article's first sentences about the story
    # A headline asking (هل تتحول الاحتجاجات إلى انتفاضة؟) heads an analysis: what its body
    # tells below the lead is the case argued, not news.
    asking = title is not None and title[0].rstrip(_CLOSING).endswith(_QUESTION_MARKS)
    # An interview's transcript, a live blog, a document published whole, or a piece its
    # headline says recounts (يروي تفاصيل اختطافه, تكشف كواليس اللقاء): below its lead, it
    # recaps what happened.
    recap = len(sentences) > LONG_PIECE_SENTENCES or (
        title is not None and _RECOUNTING.search(title[0]) is not None
    )
    mentions: Counter[str] | None = None  # the article's terms, counted when an actor shows
    sport: list[bool] = []  # whether the piece is a match report, read when a word asks

    def in_sport() -> bool:
        if not sport:
            sport.append(any(_SPORT.search(row[1][0]) is not None for row in rows))
        return sport[0]

    previous_relevant = False
    for index, (original, text) in rows:
        fingerprint = text.fingerprint
        entities = text.entities
        relevant = (
            index == TITLE_INDEX
            or not core.isdisjoint(entities)
            or len(strong_terms.intersection(fingerprint)) >= RELEVANT_SHARED_TERMS
            or not _THE_INCIDENT.isdisjoint(text.terms)
        )
        # A sentence naming nothing continues the previous one ("وقال إن البلدين ...").
        if not relevant and not entities and previous_relevant:
            relevant = True
        previous_relevant = relevant
        if len(fingerprint) < MIN_SENTENCE_TERMS or _LIST_ITEM.match(original):
            continue
        containment = _containment(fingerprint, postings)
        if not relevant:
            if containment < reported_containment:
                off_topic.append(index)
            else:
                restated += 1
            continue
        in_lead = index == TITLE_INDEX or lead_left > 0
        if index != TITLE_INDEX:
            lead_left -= 1
        if containment >= 1.0 and containment >= reported_containment:
            restated += 1  # restated whole: whatever facts it holds, none is kept (below)
            continue
        facts = _facts(
            original, text, known_entities, known_markers, count_max, seen_terms, in_sport
        )
        if index == TITLE_INDEX and "event" not in facts and "count" not in facts:
            instance = _another_instance(original, text, seen_terms)
            if instance:
                facts["instance"] = [instance]
        if "actor" in facts:
            if mentions is None:
                mentions = Counter(chain.from_iterable(row[1][1].terms for row in rows))
            _keep_named_again(facts, mentions)
        if containment >= reported_containment:
            # A reported sentence with a new count, event or party is an update ("the toll
            # rose to 19", "the Wafd refused too"); other differences of a restated sentence
            # are the outlet's wording. Told nearly whole, its "new" event is the same one in
            # another word (ambulances "arrived" where they "moved"), unless it also brings a
            # date or number. Not a headline: of its four or five words, three may be the
            # story's name.
            facts = {kind: facts[kind] for kind in _UPDATE_FACTS if kind in facts}
            if (
                index != TITLE_INDEX
                and containment >= RESTATED_EVENT_CONTAINMENT
                and all(
                    marker in known_markers or marker[:1] == COUNT_PREFIX for marker in text.markers
                )
            ):
                facts.pop("event", None)
            if not facts or containment >= 1.0:
                restated += 1
                continue
        # A fact scores once per article, where it first appears (title, then the lead); a
        # sentence that tells it again is still new to the story.
        score = sum(
            FACT_WEIGHTS[kind] * sum(_claim(claimed, kind, value) for value in values)
            for kind, values in facts.items()
        )
        if not in_lead:
            # Further down, a sentence of several events is a recap more often than news: it
            # counts as one fact at most.
            score = (
                0.0
                if asking or recap
                else min(score, max(FACT_WEIGHTS.values())) * DEEP_FACT_WEIGHT
            )
        if facts:
            new_sentences.append(SentenceFacts(index, original, containment, True, facts, score))
        else:
            if not _recalls(original, text):  # background (وكان ... قد) tells no detail
                unremarkable.append(SentenceFacts(index, original, containment, True))
            else:
                recalled += 1
    total = sum(sentence.score for sentence in new_sentences)
    is_development = total >= development_min_score
    why_not = ""
    # A statement naming the story's incident again tells a view of it, unless its headline
    # has someone new acting (محافظ الأقصر: الرئيس مرسي اتصل للاطمئنان على المصابين).
    incident_known = _INCIDENT_MARKER in known_markers and not any(
        sentence.index == TITLE_INDEX and "actor" in sentence.facts for sentence in new_sentences
    )
    if is_development and title is not None and _only_said(*title, incident_known=incident_known):
        is_development = False
        why_not = (
            "a statement's or a reaction's headline (SPEAKER: words; condolences, concern)"
            " that reports no event (the story's own incident named again is none), count or"
            " cause: the piece tells what was said"
        )
    elif is_development and title is not None and _MOCKING.search(title[0]) is not None:
        is_development = False
        why_not = "a mocking headline (ساخرا, يسخرون من): the piece tells a joke, not news"
    elif not is_development:
        if not new_sentences:
            why_not = "no sentence about the story adds a fact it had not reported"
        else:
            why_not = f"new sentences add too few new facts ({total:.2f} < {development_min_score})"
    return NoveltyResult(
        is_development,
        total,
        new_sentences,
        restated,
        off_topic,
        why_not,
        len(unremarkable) + recalled,
        unremarkable,
    )


_RECOUNTING = re.compile(
    r"(?<!\w)[وف]?(?:يروي|تروي|يروى|تروى|يحكي|تحكي|يحكى|تحكى|يسرد|تسرد|كواليس)(?!\w)"
)
"""A headline's words for recounting (يروي, يحكي, يسرد) or a backstory (كواليس)."""
_MOCKING = re.compile(
    r"(?<!\S)[وف]?(?:ساخرا|ساخراً|ساخرة|ساخره|يسخر|تسخر|يسخرون|يتهكم|تتهكم|متهكما)(?!\w)"
)
"""A headline's words for mocking (عمرو أديب ساخرا: ..., يسخرون من ...): what follows is a
joke, whatever event it names."""


def _another_instance(original: str, text: SentenceText, seen_terms: set[int]) -> str:
    """The action word of a headline that reports an action of a kind the story knows in
    words it never used (most of them, with or without the article: ال): another arrest, sit-in
    or closure than the known one (أولياء أمور الحماد يغلقون مدرسة القرية where parents of
    another village closed theirs); ``""`` for none. The incident itself retold in other
    words (سقوط منطاد من ارتفاع ألف قدم) is none, nor is what a speaker said.

    >>> from monitor.core.stories import analyse_sentence
    >>> seen = {_hash(term) for term in ["اولياء", "امور", "يغلقون", "ابواب", "مدرسه"]}
    >>> other = "أولياء أمور الحماد يغلقون مدرسة القرية خوفا على أطفالهم"
    >>> _another_instance(other, analyse_sentence(normalize(other)), seen)
    'يغلقون'
    >>> retold = "أولياء أمور يغلقون أبواب المدرسة بالمعصرة"
    >>> _another_instance(retold, analyse_sentence(normalize(retold)), seen)
    ''
    """
    if is_statement(original):
        return ""
    actions = [
        action for action in _sentence_actions(original, text) if _ACTIONS[action] != "incident"
    ]
    if not actions:
        return ""
    unseen = [
        term
        for term in set(text.terms)  # the terms ``text.fingerprint`` hashes
        if _hash(term) not in seen_terms
        and _hash(term[2:] if term[:2] == "ال" else "ال" + term) not in seen_terms
    ]
    if len(unseen) >= INSTANCE_UNSEEN and len(unseen) >= INSTANCE_SHARE * len(text.fingerprint):
        return actions[0]
    return ""


def _only_said(original: str, text: SentenceText, *, incident_known: bool = False) -> bool:
    """Whether a headline quotes a speaker (``موسى: أميل إلى ...``) or reports a reaction
    (تبدي قلقها, يعلن تضامنه, يناشد) and names no event, no count and no cause: what its body
    reports are someone's words. ``incident_known``: the story knows its incident, so naming
    it again (أبو مرزوق: خروج الآلاف احتجاجا على قتل جرادات) is no event."""
    return (
        (is_statement(original) or not _TITLE_REACTIONS.isdisjoint(text.terms))
        and not any(
            not incident_known or _ACTIONS[action] != "incident"
            for action in _sentence_actions(original, text)
        )
        and not any(marker[:1] == COUNT_PREFIX for marker in text.markers)
        and _CAUSE_PATTERN.search(original) is None
        and _BEHIND.search(original) is None
    )


def _keep_named_again(facts: dict[str, list[str]], mentions: Counter[str]) -> None:
    """Keep the actors the gazetteer knows or the article names again (its surname, «عبدالفتاح»):
    a title's pattern takes what follows it for a name (وزير التموين، يفيد ضبط), and a real
    newcomer is seldom named once. A "name" holding an action word (يواجه محادثات) is none."""
    known = load_gazetteer().weights
    actors = [
        name
        for name in facts["actor"]
        if "PER:" + name in known
        or (
            any(mentions[word] >= 2 for word in name.split())
            and not any(word in _ACTION_OF for word in name.split())
        )
    ]
    if actors:
        facts["actor"] = actors
    else:
        del facts["actor"]


def _claim(claimed: set[tuple[str, str]], kind: str, value: str) -> bool:
    """Whether ``value`` of ``kind`` is a fact not yet counted for this article (and claim it):
    an event by its kind of action, a count by what it counts, an actor by name."""
    if kind == "event":
        key = _ACTIONS.get(value, value)
    elif kind == "count":
        key = value.partition(":")[0]
    else:
        key = value
    if (kind, key) in claimed:
        return False
    claimed.add((kind, key))
    return True


_APPROXIMATE = re.compile(r"(?:نحو|حوالي|حوالى|قرابة|زهاء|يقرب\s+من|يقارب)\s+(\d+)(?![\d.,٫])")
"""A number given as approximate (نحو 20 سائحا)."""
_SEPARATOR = "\x00"
"""Between an article's sentences searched at once for ``_APPROXIMATE``: no match holds it
(nor can one end or start at it that would not at the end or start of a sentence), so the
matches are those of each sentence, in order."""
ROUNDING = 0.15
"""How far above a story's count an approximate number may be and still be that count."""


def _rounded_up(count_max: dict[str, int], rounded: set[int]) -> dict[str, int]:
    """``count_max`` with each class raised to an approximate number of the article within
    ``ROUNDING`` above it: that number tells the count the story has."""
    raised = dict(count_max)
    for group, highest in count_max.items():
        for number in rounded:
            if highest < number <= highest * (1 + ROUNDING):
                raised[group] = max(raised[group], number)
    return raised


def _count_max(markers: list[str]) -> dict[str, int]:
    """The highest count of each class among a story's markers."""
    highest: dict[str, int] = {}
    for marker in markers:
        if marker[:1] == COUNT_PREFIX:
            group, _, value = marker[1:].partition(":")
            highest[group] = max(highest.get(group, 0), int(value))
    return highest


def names_an_action(term: str) -> bool:
    """Whether a content term names a kind of event (حريق, القبض, تشكيل).

    >>> names_an_action("حريق"), names_an_action("الغردقه")
    (True, False)
    """
    return term in _ACTION_OF


def _actions(terms: list[str]) -> list[str]:
    """The terms of a sentence that name an action (a future form, سيرافق, names its verb)."""
    if _ACTION_OF.keys().isdisjoint(terms):  # most sentences: one C-level probe per term
        return []
    return list(filter(None, map(_ACTION_OF.get, dict.fromkeys(terms))))


_VERB_FORMS = frozenset(
    clitic + word for word in map(normalize, _RAW_VERBS.split()) for clitic in ("", *_CLITICS)
)
_ACTION_OF: dict[str, str] = dict(zip(_ACTIONS, _ACTIONS, strict=True))
"""Term -> the action it names: itself, or for a future form (سيرافق) its verb; one lookup
per term instead of slicing it (a sentence is read when judged and when recorded)."""
for _action in _ACTIONS:
    _ACTION_OF.setdefault("س" + _action, _action)


def _sentence_actions(original: str | None, text: SentenceText) -> list[str]:
    """The actions a sentence reports as done (``_asserted_actions`` when its original
    spelling is known), less the words of an organisation's name it holds."""
    if text.actions is not None and original is not None:
        return text.actions  # read by a prep worker (``read_sentences``)
    actions = _actions(text.terms) if original is None else _asserted_actions(original, text.terms)
    return _unnamed(actions, text.entities)


def _unnamed(actions: list[str], entities: list[str]) -> list[str]:
    """``actions`` but the words of an organisation's name (جبهة الإنقاذ, حزب الوفد): the
    party is no rescue, the Wafd no delegation."""
    if not actions or not entities:
        return actions
    named = {word for key in entities if key[:4] == "ORG:" for word in key[4:].split()}
    return [action for action in actions if action not in named and "ال" + action not in named]


def _asserted_actions(original: str, terms: list[str]) -> list[str]:
    """``_actions(terms)`` that the sentence says happened at least once: not negated (لم يتم
    القبض) and not the name of a case (المتهم في قضية اقتحام). A question (كيف تفوز بجائزة
    أوسكار؟) says nothing happened."""
    if original.rstrip(_CLOSING).endswith(_QUESTION_MARKS):
        return []
    actions = _actions(terms)
    for keys, pattern, said, _ in _SAID_IN_OTHER_WORDS:
        if any(key in original for key in keys) and pattern.search(original) is not None:
            done = _asserted_actions_of(original, actions)
            return done if said in done else [*done, said]
    if not actions or (
        _FORMING.isdisjoint(actions)
        and _REFERENCE_TERMS.isdisjoint(terms)
        and not _NEGATION_QUICK.found(original)
        and not _NOT_DONE_QUICK.found(original)
        and _IDIOMS_QUICK.search(original) is None
        and _AFTER_PATTERN.search(original) is None
    ):
        return actions  # the usual sentence: nothing to read word by word
    return _asserted_actions_of(original, actions)


def _asserted_actions_of(original: str, actions: list[str]) -> list[str]:
    """``actions`` that ``original``, read word by word, says happened."""
    if not actions:
        return actions
    asserted = _asserted_in(_IDIOMS_QUICK.sub(" ", original))
    done = [action for action in actions if action in asserted]
    if _REFUSED in asserted and _REFUSED not in done:
        done.append(_REFUSED)  # لن نتفاوض: a refusal in other words
    return done


def _words_and_terms(original: str) -> tuple[list[str], Sequence[str]]:
    """The normalised tokens of ``original`` and the term of each (``""`` for none), as a
    prep worker's ``read_sentences`` gave them when it did."""
    words = _KNOWN_WORDS.get(original)
    terms = _KNOWN_TERMS.get(original) if words else None
    if not words:
        words = tokens(normalize(original))
    if terms is None:
        terms = list(map(_term_or_empty, words))
    return words, terms


@lru_cache(maxsize=4096)
def _asserted_in(original: str) -> frozenset[str]:
    """The actions ``original`` names neither negated nor as a case's name (a sentence is
    judged, then recorded: read once)."""
    words, terms = _words_and_terms(original)
    asserted: set[str] = set()
    if not _ASKING.isdisjoint(words[:2]):
        return frozenset(asserted)
    asked_at = -_CHAIN_REACH - 1  # where the last action asked for, proposed or meant was
    # Only the words whose term names an action are read (found in C: most words name none).
    for index in compress(count(), map(_ACTION_OF.__contains__, terms)):
        action = _ACTION_OF[terms[index]]
        reach = _NEGATION_REACH + (index > 0 and words[index - 1] in _THERE)  # لم يكن هناك
        before = words[max(0, index - reach) : index]
        if not _WILL_NOT.isdisjoint(before):
            asserted.add(_REFUSED)  # لن نتفاوض: refused, not done
            continue
        if (
            not _NOT_DONE_BEFORE.isdisjoint(words[max(0, index - _DEMAND_REACH) : index])
            or not _PROPOSED.isdisjoint(words[max(0, index - _PROPOSED_REACH) : index])
            or _for_the_sake_of(words[max(0, index - _PURPOSE_REACH) : index])
            or _denied_claim(words, terms, index)
            or _unfounded(words, index)
            or (index > 0 and words[index][:1] == "ب" and words[index - 1] in _THREAT_NOUNS)
            or _sued_for(words, index)
            or _conditional(words, index)
            or (index - asked_at <= _CHAIN_REACH and _joined(words, index))
            or (index - asked_at <= _GOVERNED_REACH and words[index] not in _VERB_FORMS)
        ):
            asked_at = index
            continue
        if (
            _NEGATIONS.isdisjoint(before)
            and not any(
                _ACTIONS.get(term) in _GOVERNING
                for term in terms[max(0, index - _REFUSAL_REACH) : index]
            )
            and (not before or terms[index - 1] not in _REFERENCES)
            and _GOVERNS_THE_REST.isdisjoint(words[:index])
            and not _after(words, index)
            and (_ACTIONS[action] != "threat" or _threatens_with(words, index))
            and (_ACTIONS[action] != "committee" or _forms_a_body(words, index))
            and (_ACTIONS[action] != "refusal" or not _names_a_refusal(words, index))
        ):
            asserted.add(action)
    return frozenset(asserted)


def _names_a_refusal(words: list[str], index: int) -> bool:
    """Whether «رفض» at ``index`` is the noun, a refusal the sentence speaks of (حول رفض
    المعارضة للحوار, أسفها لرفض بعض ممثلي المعارضة, الرفض): the verb (رفضت الجبهة, ورفض
    الوزير) is the event."""
    word = words[index]
    if word not in _REFUSAL_BARE:
        return word not in _VERB_FORMS  # رفضت, يرفض: the verb; الرفض, لرفض: the noun
    # The noun takes its object with ل (رفض المعارضة للحوار); the verb without (رفضت الحوار).
    return (index > 0 and words[index - 1] in _BEFORE_A_NOUN) or any(
        following[:2] == "لل" for following in words[index + 1 : index + 3]
    )


_REFUSAL_BARE = _normalized("رفض ورفض فرفض")
"""«رفض» with no article or preposition: the verb, or the noun after a preposition."""
_BEFORE_A_NOUN = _with_clitics(
    _normalized(
        "على عن من في فى حول بعد قبل رغم برغم إن ان أن بسبب نتيجة مع ضد وسط ظل إزاء ازاء تجاه "
        "بشأن عقب إثر اثر"
    )
)
"""Before «رفض», these make it the noun (بعد رفض, رغم رفض, إن رفض ... يؤدي)."""


def _joined(words: list[str], index: int) -> bool:
    """Whether the action at ``index`` is a noun joined to what comes before it by و (وحل,
    و تشكيل): a verb (واعتقلت) opens a clause of its own."""
    word = words[index]
    if word in _VERB_FORMS:
        return False
    return (index > 0 and words[index - 1] == _AND) or (
        word[:1] == _AND and _term_or_empty(word[1:]) in _ACTION_OF
    )


def _forms_a_body(words: list[str], index: int) -> bool:
    """Whether the forming word at ``index`` forms a body (شكلت النيابة لجنة, تشكيل الحكومة):
    شكلت تحديا (was a challenge) or طريقة تشكيلهم (how they are made up) forms none, nor does
    the police's search team (تم تشكيل فريق بحث), every crime report's routine."""
    for at in range(index + 1, min(len(words), index + 1 + _BODY_REACH)):
        body = _without_article(words[at])
        if body in _BODIES and not (
            body in _TEAMS and at + 1 < len(words) and words[at + 1] in _SEARCH
        ):
            return True
    return False


_TEAMS = _normalized("فريق فرق")
_SEARCH = _normalized("بحث للبحث")


def _without_article(word: str) -> str:
    """The word without a leading و, ف, ل or ب and ال (والحكومة -> حكومه)."""
    if word[:1] in _CLITICS and word[1:3] == "ال":
        word = word[1:]
    return word[2:] if word[:2] == "ال" else word


def _after(words: list[str], index: int) -> bool:
    """Whether the action at ``index`` is what came before the sentence's news (استضاف
    العريض الشابي بعد أن التقى السبسي, أفرج عنه بعدما دفع الكفالة): its context, told again."""
    before = words[max(0, index - _AFTER_REACH) : index]
    return not _AFTER_WORDS.isdisjoint(before) or any(
        first in _BEFORE_THAT and second == _THAT_CONJUNCTION for first, second in pairwise(before)
    )


_SUED_PREFIXES = ("ب", "ل")


def _sued_for(words: list[str], index: int) -> bool:
    """Whether the action at ``index``, behind ب or ل, is what a lawsuit or an appeal before
    it asks for, no ruling coming before that (``_SUITS``)."""
    if words[index][:1] not in _SUED_PREFIXES:
        return False
    for at in range(index - 1, max(-1, index - _SUIT_REACH - 1), -1):
        if words[at] in _SUITS:
            return _RULINGS.isdisjoint(words[:at])
    return False


def _conditional(words: list[str], index: int) -> bool:
    """Whether the action at ``index`` is said to depend on something (انسحاب القوات من مالي
    يتوقف على الوضع, الإفراج عنهم مرهون بدفع الكفالة): not done."""
    after = words[index + 1 : index + 1 + _CONDITION_REACH]
    return any(
        (word in _DEPENDS and following == _UPON) or (word in _CONDITIONED and following[:1] == "ب")
        for word, following in pairwise([*after, ""])
    )


def _for_the_sake_of(before: list[str]) -> bool:
    """Whether ``before`` holds من أجل (the words after it are a purpose)."""
    return _FOR_THE_SAKE_OF in pairwise(before)


_DENIALS = frozenset(term for term, group in _ACTIONS.items() if group == "denial") | (
    _with_clitics(_normalized("نفيه نفيها"))
)
"""The lexicon's denial words (نفى, ينفي, ...) and the noun with its subject (نفيه)."""
_CLAIMED = _normalized(
    "نشر نشرته نشره نشرتها رددته يردده ذكرته ذكره ذكرتها تناقلته تداولته تداوله زعمه زعمته "
    "أثير يثار أثارته نسب قيل يقال"
)
"""After «ما» (what was published, repeated, said), a claim: a denial before it (نفى مدير
الأمن ما نشر حول قيام قوات الأمن بضبط 60 متظاهرا) says its event did not happen."""
_WHAT = normalize("ما")
_DENIAL_TO_CLAIM = 8
"""Words from a denial to the «ما» of the claim it governs (the denier's name between)."""
_CLAIM_TO_ACTION = 10
"""Words from the claim («ما نشر») to the action it claims (where and when it was said between:
ما نشر في أحد المواقع الإلكترونية مساء الأحد عن تجدد الاشتباكات)."""


def _denied_claim(words: list[str], terms: Sequence[str], index: int) -> bool:
    """Whether the action at ``index`` is the first one of a denied claim (نفى ... ما نشر عن
    تجدد الاشتباكات): what follows it in the sentence (أثناء الاشتباكات التي وقعت أمس) is
    told as known, and the actions joined to it by و are denied with it (``_CHAIN_REACH``)."""
    for claim in range(index - 1, max(0, index - _CLAIM_TO_ACTION) - 1, -1):
        if terms[claim] in _ACTION_OF:
            return False  # an action between: the claim's first action is that one
        if (
            words[claim] in _CLAIMED
            and claim > 0
            and words[claim - 1] == _WHAT
            and not _DENIALS.isdisjoint(words[max(0, claim - 1 - _DENIAL_TO_CLAIM) : claim - 1])
        ):
            return True
    return False


def _unfounded(words: list[str], index: int) -> bool:
    """Whether the action at ``index`` follows a denial's «no truth to» (لا صحة لسفر وفد,
    نفى صحة ما تردد عن, لا أساس له من الصحة, عار من الصحة): what is called untrue did not
    happen."""
    start = max(0, index - _UNFOUNDED_REACH)
    for at in range(index - 1, start - 1, -1):
        word = words[at]
        if (
            word in _TRUTH
            and at > 0
            and (words[at - 1] in _NO or not _DENIALS.isdisjoint(words[max(0, at - 4) : at]))
        ):
            return True  # لا صحة, نفى (المصدر) صحة
        if (
            word == _THE_TRUTH
            and at > 0
            and words[at - 1] == _FROM
            and not _BASELESS.isdisjoint(words[max(0, at - 4) : at - 1])
        ):
            return True  # لا أساس له من الصحة, عارية تماما من الصحة
    return False


_UNFOUNDED_REACH = 6
_TRUTH = _normalized("صحة لصحة")
_NO = _normalized("لا ولا فلا")
_THE_TRUTH = normalize("الصحة")
_FROM = normalize("من")
_BASELESS = _normalized("أساس عار عارية عاري عاريا")
"""«لا صحة» and «... من الصحة» after these: a report called untrue. Not «الصحة» alone: the
health ministry is «وزارة الصحة»."""


_WHICH = _normalized("مما وهو ما")
"""Before a threat word, what a state of things threatens (مما يهدد): a danger."""


def _threatens_with(words: list[str], index: int) -> bool:
    """Whether the threat word at ``index`` threatens to do something (هدد العمال بالإضراب,
    تهدد بالانسحاب): a danger to something (القرصنة تهدد التجارة, مما يهدد المناطق الزراعية
    بوادي النيل, نزاع يهدد المنطقة بحرب) is no one's threat."""
    if index > 0 and words[index - 1] in _WHICH:
        return False
    withs = [
        word[1:]
        for word in words[index + 1 : index + 1 + _THREAT_REACH]
        if word[:1] == "ب" and word not in _NOT_WITH
    ]
    return bool(withs) and _DANGERS.isdisjoint(withs)


def _new_cause(original: str, seen_terms: set[int]) -> str:
    """The cause a sentence gives (the terms after بسبب, نتيجة, ...) when most of its words
    are new to the story, else ``""``."""
    if _CAUSE_PATTERN.search(original) is None:
        return _cause_behind(original, seen_terms)
    words = tokens(normalize(original))
    for index, word in enumerate(words):
        if word in _CAUSES:
            if not _NEGATIONS.isdisjoint(words[max(0, index - _CAUSE_NEGATION_REACH) : index]):
                continue  # لم ترد أنباء عن خسائر جراء الهزة: the cause of nothing
            said = content_terms(words[index + 1 : index + 1 + CAUSE_TERMS + 2])[:CAUSE_TERMS]
            new = [term for term in said if _hash(term) not in seen_terms]
            if len(said) >= 2 and 2 * len(new) > len(said):
                return " ".join(said)
    return ""


_BEHIND = re.compile(r"(?<!\S)وراء(?!\S)")
"""A cause told before the event (ماس كهربائي وراء حريق الكنيسة, خطأ بشري وراء الحادث)."""
_UNNAMED_CAUSE = _normalized("سبب السبب أسباب الأسباب الاسباب اسباب")
"""Before «وراء», the cause not named (لمعرفة الأسباب وراء السقوط)."""
_CASE_NOUNS = _normalized("حادث الحادث حادثة الحادثة واقعة الواقعة")
_CAUSE_BEFORE_BEHIND = 5
"""Words at most before «وراء»: the cause is what the clause says (a headline's or a finding's
subject); a long clause before it tells something else (توضح التحقيقات عدم وجود شبهة جنائية
وراء الحادث, ما إذا كانت هناك مسؤولية جنائية وراء الحادث)."""


def _cause_behind(original: str, seen_terms: set[int]) -> str:
    """The cause a sentence puts before «وراء» an incident (تقرير المعمل: ماس كهربائي وراء
    حريق الكنيسة), told after the speaker's colon in a few words, not negated, when most of
    its words are new to the story; else ``""``."""
    found = _BEHIND.search(original)
    if found is None:
        return ""
    before = tokens(normalize(original[: found.start()].rpartition(":")[2]))
    after = tokens(normalize(original[found.end() :]))[:1]
    if (
        not after
        or len(before) > _CAUSE_BEFORE_BEHIND
        or not _UNNAMED_CAUSE.isdisjoint(before)
        or not _NEGATIONS.isdisjoint(before)
    ):
        return ""
    event = _term_or_empty(after[0])
    if _ACTIONS.get(event) != "incident" and after[0] not in _CASE_NOUNS:
        return ""
    said = content_terms(before)[:CAUSE_TERMS]
    new = [term for term in said if _hash(term) not in seen_terms]
    return " ".join(said) if len(said) >= 2 and 2 * len(new) > len(said) else ""


@lru_cache(maxsize=1 << 16)
def _term_or_empty(word: str) -> str:
    # Read word by word for every sentence with an action (``_asserted_in``): one lookup.
    return term_of(word)  # content_terms([word]), from the memo the analysis filled


_REFERENCE_TERMS = _REFERENCES | {_term_or_empty(word) for word in _REFERENCES} - {""}
"""A sentence holding none of these names no case (as content terms)."""
_NEGATION_PATTERN = re.compile(
    r"(?<!\S)[وفب]?(?:لم|لن|لا|ليس|ليست|عدم|دون|بدون)(?!\S)|رفض|(?:نف|ينف|تنف)[ىيت]"
)
"""A sentence without these words negates, refuses and denies no action (in its original
spelling)."""
_NOT_DONE_PATTERN = re.compile(
    r"(?:طالب|مطالب|دعا|دعت|يدعو|أدعو|ادعو|ندعو|أريد|اريد|شروط|مرهون|مشروط|يتوقف|تتوقف|هدد|تهديد|هناك|تدعو|يدعون|دعوا|دعو[ىي]|دعاو|ناشد"
    r"|يناشد|تناشد|جار|يريد|تريد|نريد|أراد|اراد|هتاف|لافت|شعارات|حاول|فشل|تردد|أشيع|يشاع"
    r"|شائع|مزاعم|ادعاءات|يجب|ينبغي|يتعين|ضرورة|توقع|تعهد|بهدف|بغرض|عتزم|عتزام|ستعد|مشاورات"
    r"|مساعي|جهود|محاولات|خط[ةط]|مقترح|اقتراح|مبادر|مشروع|إمكاني|امكاني|احتمال|فكرة|سرعة|بصدد"
    r"|حتى|ستحيل|يجوز|حذر|تحذير|خوف|خاوف|خشي|خشى|خشو|مخاف"
    r"|بشأن|ضمان|طلب|ضغط|ؤد[يى]|سبق|رغب|نتظر|مرتقب|عاني|عانى|عانون)"
    # Short words, whole: بد is also in عبد, لو in اللواء, وعد in موعد.
    r"|(?<![^\s«\"(])[وف]?[لب]?(?:بد|لابد|لو|إذا|اذا|نية|نيت\w+|عزم\w*|وعد|وعدت|أجل|اجل"
    r"|يمكن|ممكن|الممكن|بالإمكان|أود|يود|تود|نود)(?!\w)"
)
"""A sentence without these letters asks for, proposes and says under way nothing, and has
no negation reaching past هناك (``_NOT_DONE_BEFORE``, ``_PROPOSED``, ``_ONGOING``, ``_THERE``; in its
original spelling)."""
_NEGATION_QUICK = AnyBranch(_NEGATION_PATTERN)
_NOT_DONE_QUICK = AnyBranch(_NOT_DONE_PATTERN)
"""Whether each pattern matches, branch by branch: its branches of plain words are substring
tests (``prefilter.AnyBranch``; read from the pattern, the answers are its own)."""
_QUESTION_MARKS = ("؟", "?")
_CLOSING = " \t\"'»”)."
_SAID_NOT = re.compile(
    r"(?<!\S)[وف]?(?:أكد|اكد|يؤكد|تؤكد|أعلن|اعلن|يعلن|تعلن|أوضح|اوضح|يوضح|توضح|أفاد|افاد|يفيد|تفيد)"
    r"(?:ت|وا)?(?:\s+\S+){0,3}?\s+[وب]?عدم\s+(?:وجود|صح[ةه]|تورط|وقوع|حدوث)"
)
"""A statement that something is not there or not so (أكدت السفارة عدم وجود أمريكيين بين
الضحايا, أفاد بعدم صحة ما تردد): a denial in other words. Not knowing (أكد عدم علمه) or not
having done something yet is no denial."""
_DECLINED = re.compile(
    r"(?<!\S)[وف]?(?:أعلن|اعلن|يعلن|تعلن|قرر|يقرر|تقرر)(?:ت|وا)?(?:\s+\S+){0,3}?\s+[وب]?عدم"
    r"\s+(?:ال)?(?:مشارك|حضور)\S*"
    r"|(?<!\S)[وف]?(?:اعتذر|يعتذر|تعتذر|اعتذار)(?:ت|وا|ان|ا)?(?:\s+\S+){0,8}?\s+عن\s+(?:عدم\s+)?(?:ال)?"
    r"(?:مشارك|حضور)\S*"
)
"""Declining to take part (أعلن التيار عدم مشاركته في الحوار, يعتذر عن المشاركة, يعتذران,
اعتذار الكنيسة و6 أحزاب عن حضور الحوار): a refusal in other words."""
_DECIDED_BOYCOTT = re.compile(
    r"(?<!\S)[وف]?(?:قرر|يقرر|تقرر|أعلن|اعلن|يعلن|تعلن)(?:ت|وا)?(?:\s+\S+){0,3}?\s+(?:ال)?"
    r"مقاطع[ةه](?!\S)"
)
"""A boycott decided or announced (قررت الجبهة مقاطعة الانتخابات): the noun alone (دعوات
المقاطعة) is a debate."""
_BOYCOTTED = normalize("قاطعت")
_DECIDED_TO_TAKE_PART = re.compile(
    r"(?<!\S)[وف]?(?:قرر|يقرر|تقرر|أعلن|اعلن|يعلن|تعلن)(?:ت|وا)?(?:\s+(?!عدم)\S+){0,3}?\s+(?:ال)?"
    r"مشارك(?:ة|ه|ته|تها|تهم|تهما)(?!\S)"
)
"""Taking part decided or announced (النور يعلن مشاركته في الانتخابات): a position, the
boycott's opposite; not declining it (أعلن عدم مشاركته: a refusal)."""


def _said_only(term: str, group: str) -> str:
    """Register ``term``, words no single token holds, as an action of ``group`` that only a
    ``_SAID_IN_OTHER_WORDS`` pattern finds."""
    _ACTIONS[term] = group
    _ACTION_MARKERS[term] = "act:" + group
    _PLAN_MARKERS[term] = "plan:" + group
    return term


_TOOK_PART = _said_only("اعلن المشاركه", "participation")
_SHOOTING = re.compile(
    r"(?<!لم )(?<!لا )(?<!عدم )(?<!دون )(?<!نفى )(?<!نفت )(?<!ينفي )(?<!تنفي )"
    r"(?<!\S)[وف]?[لب]?(?:أطلق|اطلق|يطلق|تطلق|إطلاق|اطلاق)(?:ت|وا|ون|ه|هم)?\s+(?:\S+\s+)?"
    r"(?:ال)?(?:نار|نيران|رصاص|أعيرة|اعيرة|خرطوش)(?!\w)"
)
"""Shots fired (أطلق مجهولون النار, إطلاق الرصاص على المتظاهرين): an attack, said in two words
(إطلاق alone is also a launch, إطلاق سراح a release); not negated or denied (لم يطلق الأمن
النار, نفى إطلاق الرصاص)."""
_SHOT = _said_only("اطلاق النار", "incident")
_SAID_IN_OTHER_WORDS: tuple[tuple[tuple[str, ...], re.Pattern[str], str, frozenset[str]], ...] = (
    (("عدم",), _SAID_NOT, _DENIED, frozenset()),
    (("طلق",), _SHOOTING, _SHOT, frozenset()),
    (
        ("عدم", "عتذر", "عتذا"),
        _DECLINED,
        _REFUSED,
        _normalized("عدم اعتذر اعتذرت يعتذر تعتذر يعتذران اعتذار"),
    ),
    (("مقاطع",), _DECIDED_BOYCOTT, _BOYCOTTED, _normalized("مقاطعة المقاطعة")),
    (("مشارك",), _DECIDED_TO_TAKE_PART, _TOOK_PART, frozenset()),
)
"""(key letters a sentence must hold, the pattern, the action it says in other words, the
words that carry it, their subject before them): a denial (أكدت عدم وجود), shots fired
(أطلق مجهولون النار), a refusal (أعلن التيار عدم مشاركته), a boycott (قررت الجبهة مقاطعة
الانتخابات), taking part (النور يعلن مشاركته); the first that matches adds its action to
those the sentence asserts."""
_IDIOMS = re.compile(
    r"(?:رفض|يرفض|طلب|فضل)[تا]?\s+(?:عدم\s+)?(?:ذكر|الكشف\s+عن|الإفصاح\s+عن|الافصاح\s+عن|نشر)"
    r"\s+(?:اسم|هويت)\S*"
    r"|(?<!\S)\S{0,2}ضبط\s+(?:النفس|الأسعار|الاسعار|الأسواق|الاسواق)"
    r"|(?<!\S)\S{0,2}تشكيل\s+(?:ال)?عصاب\S*"
    r"|(?<!\S)\S{0,2}حجز\s+(?:ال)?(?:قسم|مركز|شرطة|الشرطة)(?!\S)"
    r"|(?<!\S)\S?(?:هاجم|يهاجم|تهاجم)\S{0,2}(?:\s+\S+)?\s+(?:ال)?(?:كاتب|إعلامي|اعلامي|فقيه"
    r"|دكتور|شيخ|نائب|مستشار|ناشط|داعية|مصدر|مصدران|مصادر|قيادي|إعلام|اعلام|وسائل|رئيس|حكومة)"
    r"(?!\S)"
    r"|(?<!\S)\S{0,2}هجوما?\s+(?:حادا?|واضحا?|لاذعا?)(?!\S)"
    r"|(?<!\S)\S?(?:رفض|يرفض|ترفض)\S{0,2}(?:\s+\S+){0,8}?\s+(?:التعليق|الإدلاء|الادلاء|الرد|تفاصيل|التفاصيل)(?!\S)"
    r"|(?:مركز|غرف\S?|قسم|أقسام|اقسام|مستشفى|مستشفي|طب|العمليات|عمليات|الدولة|الدوله|العليا)"
    r"\s+(?:و|ال|وال)?طوار[ئء]\S*"
    r"|(?<!\S)\S{0,2}(?:إغلاق|اغلاق)\s+(?:تعاملات|التعاملات|جلسة|الجلسة|جلسات|التداول|تداولات|السوق|البورصة)"
    r"|(?:عند|سعر|مستوى|مستويات|قبيل)\s+(?:الإغلاق|الاغلاق)"
    r"|(?<!\S)\S?(?:أغلق|اغلق|يغلق)\S{0,2}\s+(?:(?:ال)?(?:مؤشر|سهم|أسهم|اسهم|بورصة)\S*"
    r"|(?:\S+\s+){0,4}?(?:على|عند|قرب)\s+(?:تراجع|ارتفاع|انخفاض|صعود|هبوط|مستوى))"
    r"|(?<!\S)\S?(?:وصل|يصل|تصل)\S{0,2}\s+(?:عدد|حجم|نسب|إجمالي|اجمالي|قيمة|قيمه|سعر|أسعار|اسعار"
    r"|إلي?ه|الي?ه|لها|له|إليها|اليها|إليهم|اليهم|(?:إلى|الى)\s+(?:حد|درجة|مرحلة|أدن[ىي]|ادن[ىي]"
    r"|أعلى|اعلى|(?:حوالي\s+|حوالى\s+|نحو\s+)?(?:\d|مليون|مليار|ألف|الف)))"
    r"|(?:مسافة|لمسافة|بمسافة|طول|بطول|ارتفاع|بارتفاع|عمق|بعمق)\s+(?:وصل|يصل|تصل)\S{0,2}"
    r"|(?<!\S)\S?(?:وصل|يصل|تصل)\S{0,2}(?=(?:\s+\S+){1,3}?\s+(?:إلى|الى)\s+(?:حوالي\s+|حوالى\s+|نحو\s+"
    r"|ما\s+يقارب\s+|أكثر\s+من\s+|اكثر\s+من\s+)?(?:\d|مليون|مليار|ألف|الف))"
    r"|(?<!\S)\S{0,2}توقيع\s+(?:ال)?كشف"
    r"|(?<!\S)\S{0,2}احتجاز\s+(?:ال)?(?:أرباح|ارباح)"
    r"|(?:(?<=حكومة\s)|(?<=حكومه\s)|(?<=جبهة\s)|(?<=جبهه\s)|(?<=مؤتمر\s))(?:ال)?(?:إنقاذ|انقاذ)(?!\w)"
    r"|(?<!\S)\S?(?:أصيب|اصيب|أصاب|اصاب|يصاب|تصاب)\S{0,3}(?:\s+\S+){0,3}?\s+\S?ب(?:ال)?"
    r"(?:حال(?:ة|ه|ات)\s+(?:من\s+)?(?:ال)?)?(?:ذعر|هلع|خوف|رعب|فزع|إحباط|احباط|صدم|ذهول|دهش|حزن"
    r"|غضب|استياء|قلق|ارتباك|خيب)\S*"
    r"|(?<!\S)\S{0,2}تشكيل\S*\s+(?:(?:ال)?(?:أساسي|اساسي)|ال(?:فريق|منتخب)|فريق(?:ه|ها|هم)(?!\S))"
    r"|(?<!\S)\S{0,2}(?:استقبال|استقبل|يستقبل|تستقبل)\S{0,3}(?=(?:\s+\S+){0,2}?\s+(?:\d|نحو\s|حوالي\s))"
    r"|(?<!\S)\S{0,2}استقبال\s+(?:ال)?(?:ركاب|مسافرين|وافدين|الركاب|المسافرين)"
    r"|(?<!\S)\S?(?:استقبل|يستقبل|تستقبل)\S{0,2}(?=(?:\s+\S+){0,6}?\s+\S{0,3}(?:حالات|حالة|مصاب"
    r"|جثث|جثة|جثمان|جرحى|جريح|ضحايا|قتلى))"
    r"|(?<!\S)\S?(?:خلال|أثناء|اثناء|هامش)\s+(?:(?:مشارك|حضور|كلمت|كلمة|كلمه)\S*\s+(?:في\s+)?\S?)?"
    r"(?:ال)?(?:اجتماع|لقاء|لقائ|توقيع|استقبال|محادثات|مباحثات)"
    r"\S{0,3}(?!\S)(?:\s+(?:ال)?(?:اتفاقي|اتفاق|معاهد)\S*)?"
    r"|(?<!\S)\S?في\s+(?:اجتماع|لقاء|لقائ|محادثات|مباحثات)\S{0,3}(?!\S)"
    r"|(?<!\S)\S{0,2}لقاء\S{0,2}\s+(?:(?:تلفزيون|تليفزيون|إذاع|اذاع|صحف|إعلام|اعلام|موسيق|شعر"
    r"|فن|ثقاف)[يى]\S{0,3}|مفتوح\S{0,3}|ببرنامج|مع\s+(?:ال)?(?:إعلامي|اعلامي|برنامج|قناة|فضائية))(?!\S)"
)
"""Action words in set phrases, none an action:

- مصدر رفض ذكر اسمه (declined to be named), رفض الوزير التعليق (declined to comment), رفض
  تقديم تفاصيل (declined to give details);
- ضبط النفس (restraint), ضبط الأسعار (price control);
- تشكيل عصابي (a gang), حجز القسم (the lockup), مركز الطوارئ (an emergency centre), أمن
  الدولة العليا طوارئ (an emergency court);
- هاجم الكاتب ... الحكومة, هجوم حاد (words against someone);
- إغلاق التعاملات, أغلق المؤشر على تراجع (a market's close);
- وصل عدد, وصلت إليه, لمسافة تصل إلى كيلو, وصل معدل النمو إلى 7.5 %, لتصل إلى أدنى مستوى
  (a number or a state reached);
- حكومة إنقاذ, مؤتمر إنقاذ الاقتصاد (a government, a conference: no rescue);
- أصيب الأهالي بحالة من الذعر, أصيبوا بالإحباط (fear, dismay: no injury);
- احتجاز الأرباح (retained earnings), توقيع الكشف الطبي (a medical examination), التشكيل
  الأساسي, تشكيل فريقه (a team's line-up);
- استقبل مستشفى الطوارئ 7 حالات (a hospital receiving casualties: their count is the news),
  يستقبل الميناء 33 ألف طن, استقبال الركاب (a quantity received, an arrivals hall);
- قال خلال اجتماع, أكد على هامش توقيع, دعتا في اجتماع, خلال استقباله (where words were said;
  خلال مشاركته باللقاء; كان في استقباله, he was there to receive him, is a reception),
  لقاء تلفزيوني, لقاء موسيقي (an interview, a show): no meeting, signing or reception of
  the story's."""
_IDIOMS_QUICK = Prefiltered(_IDIOMS)
"""``_IDIOMS`` run only on a sentence holding one of its key words (read from the pattern)."""
_CAUSE_PATTERN = re.compile(r"(?<!\S)و?(?:بسبب|نتيجة|نتيجه|جراء|جرّاء|بفعل)(?!\S)")


_PLAN_PREFIXES = ("س", "ل")
"""سيرافق (will accompany), لتوقيع (to sign): an action to come."""


_PLANNED_FORMS = _PLAN_TERMS | {prefix + action for prefix in _PLAN_PREFIXES for action in _ACTIONS}
"""The terms that make a sentence planned: a plan word, or an action behind a prefix of what
is to come (the same test as slicing each term, as one C-level set probe per term)."""


def _is_planned(terms: list[str]) -> bool:
    """Whether a sentence tells what is to happen (من المقرر, سيرافق) rather than what did."""
    return not _PLANNED_FORMS.isdisjoint(terms)


def _is_actor(key: str) -> bool:
    """A person named in full (a one-word "name" is often a common word the name patterns
    took: قرارا, تورط). Organisations are mostly the responders every story names (the
    police, the ministry): what they do counts as an event, not their name."""
    kind, _, name = key.partition(":")
    return kind in _ACTOR_KINDS and len(name.split()) >= 2


def _plain_letters() -> dict[str, str]:
    """Arabic letters that ``normalize`` folds to one plain letter (one it leaves as it is),
    each with that letter (ا for أ, ه for ة, ...; a plain letter to itself)."""
    letters = [chr(code) for code in range(0x0621, 0x064B)]
    folded = {letter: normalize(letter) for letter in letters}
    plain = {letter for letter in letters if folded[letter] == letter}
    return {
        letter: folded[letter]
        for letter in letters
        if letter.isalpha() and unicodedata.combining(letter) == 0 and folded[letter] in plain
    }


_PLAIN_LETTERS = _plain_letters()
_PLAIN_FOLD = str.maketrans(_PLAIN_LETTERS)
_WORD_BREAKS = " " + "".join(
    mark
    for mark in ':.-"،«»*,؛'
    if normalize(mark)
    and not any(c.isalnum() or c == "_" or unicodedata.combining(c) for c in normalize(mark))
)
"""Characters around a first word that ``normalize`` keeps as characters outside any token
(a space, or punctuation that it folds to punctuation), and that start no composition."""
_PLAIN_FIRST_WORD = re.compile(
    f"[{re.escape(_WORD_BREAKS)}]*([{''.join(_PLAIN_LETTERS)}]+)[{re.escape(_WORD_BREAKS)}]"
)
"""A first word of such letters between such characters, within the 40 characters read:
it is the first token of ``normalize(original[:40])``, folded letter by letter (folding is
per character; NFKC composes no Arabic letter with a letter or across these characters)."""


@lru_cache(maxsize=8192)
def _is_background(original: str) -> bool:
    """A sentence that recalls what happened before (وكان ... قد, يذكر أن).

    Cached: a sentence is read when judged and again when recorded."""
    # Most sentences start with a word of plain letters (``_PLAIN_FIRST_WORD``): folded,
    # it is the first token of ``normalize(original[:40])``, and it alone decides unless
    # it is وكان and the like (which look at the next word).
    plain = _PLAIN_FIRST_WORD.match(original, 0, 40)
    if plain is not None:
        word = plain[1].translate(_PLAIN_FOLD)
        if word not in _PAST_PERFECT and word not in _CAME:
            return word in _BACKGROUND
    first = tokens(normalize(original[:40]))
    if not first:
        return False
    if first[0] in _PAST_PERFECT:
        return len(first) > 1 and first[1] not in _PRESENTATIVE
    if first[0] in _CAME:
        return len(first) > 1 and first[1] in _THAT
    return first[0] in _BACKGROUND


def _recalls(original: str, text: SentenceText) -> bool:
    """``_is_background(original)``, as a prep worker read it when it did."""
    return _is_background(original) if text.background is None else text.background


def read_sentences(
    originals: list[str],
    analysed: list[SentenceText],
    words: list[list[str]] | None = None,
    terms: list[Sequence[str]] | None = None,
) -> None:
    """Read what novelty reads of each sentence alone (the actions it reports as done,
    whether it recalls background) into its ``SentenceText``, so that the story stage (one
    process) does not: prep workers call it with the title and sentences as written,
    aligned with ``analysed``. Rows beyond ``originals`` stay unread. ``words``: the tokens
    of each of ``originals`` normalised (``tokens(normalize(original))``), when known: a
    sentence read word by word is then not normalised and tokenised again; ``terms``: with
    ``words``, the term of each of those tokens (``term_of``, as ``stories.analyse_words``
    gives them): then not looked up again."""
    if words is not None:
        _KNOWN_WORDS.update(zip(originals, words, strict=False))
        if terms is not None:
            _KNOWN_TERMS.update(zip(originals, terms, strict=False))
    try:
        for original, text in zip(originals, analysed, strict=False):
            text.actions = _sentence_actions(original, text)
            text.background = _is_background(original)
    finally:
        _KNOWN_WORDS.clear()
        _KNOWN_TERMS.clear()


_KNOWN_WORDS: dict[str, list[str]] = {}
"""Sentence as written -> its normalised tokens, given by the ``read_sentences`` under way."""
_KNOWN_TERMS: dict[str, Sequence[str]] = {}
"""Sentence as written -> the term of each of its ``_KNOWN_WORDS`` (``term_of``)."""


def _facts(
    original: str,
    text: SentenceText,
    known_entities: set[str],
    known_markers: set[str],
    count_max: dict[str, int],
    seen_terms: set[int],
    in_sport: Callable[[], bool],
) -> dict[str, list[str]]:
    """The facts a sentence adds: counts above what the story knew, new kinds of event, new
    actors of an event, a cause in words the story never used. Reactions and background
    report no event. ``in_sport``: whether the piece is a match report (``_SPORT``)."""
    facts: dict[str, list[str]] = {}
    counts = []
    for marker in dict.fromkeys(text.markers):
        if marker[:1] == COUNT_PREFIX:
            group, _, value = marker[1:].partition(":")
            if int(value) > count_max.get(group, 0):
                counts.append(marker[1:])
    terms = text.terms
    actions = _sentence_actions(original, text)
    if counts and _TOLL_OF_THE_NAMED.search(original) is not None:
        counts = []  # the toll of the event the sentence names (التي راح ضحيتها 60 ألفا)
    if counts:
        counts = _counts_done(counts, actions, terms)
    if counts:
        facts["count"] = counts
    if (
        not _REACTIONS.isdisjoint(terms)
        or _recalls(original, text)
        or (_PAST_NAMED in original and _DATED_BEFORE.search(original) is not None)
    ):
        return facts
    planned = bool(actions) and _is_planned(terms)  # read only for an action
    kinds: dict[str, str] = {}
    renewed = bool(actions) and not planned and _renews(original)
    for term in actions:
        if term in _ON_A_CHARGE:
            continue  # the charge a known arrest or trial is for (حبسه بتهمة التحريض)
        group = _ACTIONS[term]
        # Done: news unless done before. Planned: news unless planned or done before.
        if "act:" + group not in known_markers and (
            not planned or "plan:" + group not in known_markers
        ):
            kinds.setdefault(group, term)
        elif renewed and group in _RENEWABLE and _AGAIN + group not in known_markers:
            kinds.setdefault(group, term)  # the clashes renewed: they had stopped
    if "confession" in kinds and _CRIME_MARKERS.isdisjoint(known_markers):
        del kinds["confession"]  # a politician "admits" (اعترف بأن ...); a suspect confesses
    if "identification" in kinds and "act:arrest" in known_markers:
        del kinds["identification"]  # who was arrested is known: the arrest identified him
    if (not _IN_A_MATCH.isdisjoint(kinds) or kinds.get("incident") in _ATTACK_LINE) and in_sport():
        # In a match report «اللقاء» is the match, «يستقبل» hosts it, «الهجوم» is the
        # forwards, «الإيقاف» a player's ban and «تعويض» making up for a defeat.
        for group in _IN_A_MATCH:
            kinds.pop(group, None)
        if kinds.get("incident") in _ATTACK_LINE:
            del kinds["incident"]
    if kinds:
        facts["event"] = list(kinds.values())
    # Why a fire broke out or a man was killed changes the story; why a minister resigned
    # or a party refused is its politics, told in every article.
    cause = (
        _new_cause(original, seen_terms)
        if _INCIDENT_MARKER in known_markers or "incident" in kinds
        else ""
    )
    if cause:
        facts["cause"] = [cause]
    if actions:
        actors = [
            key.partition(":")[2]
            for key in dict.fromkeys(text.entities)
            if key not in known_entities and _is_actor(key)
        ]
        if actors:
            facts["actor"] = actors[:MAX_ACTORS]
        parties = [
            marker[len(_POSITION) :].partition(":")[2]
            for marker in _positions_taken(original, text.entities, actions)
            if marker not in known_markers
        ]
        if parties:
            facts["party"] = parties[:1]
    return facts


_ON_A_CHARGE = _normalized("بتهمة باتهام وبتهمة وباتهام")
"""«On a charge of»: it names what someone is held or tried for, not a charge brought."""


_POSITION = "pos:"
"""Marker of a position an organisation took: ``pos:<kind>:<name>`` (``pos:boycott:جبهه
الانقاذ``), in ``StoryState.numbers``."""


def _positions_taken(original: str, entities: list[str], actions: list[str]) -> list[str]:
    """``pos:`` markers of the organisations a sentence names as taking a position (a
    boycott, a refusal, a withdrawal, an approval, a denial) among its ``actions``."""
    groups: dict[str, list[str]] = {}
    for action in actions:
        group = _ACTIONS[action]
        if group in _POSITIONS:
            groups.setdefault(group, []).append(action)
    names = [key[4:] for key in dict.fromkeys(entities) if key[:4] == "ORG:"]
    if not groups or not names:
        return []
    sentence = _sentence(original)
    carried = {group: _said_by(positions) for group, positions in groups.items()}
    return [
        f"{_POSITION}{group}:{name}"
        for name in names
        for group, positions in groups.items()
        if sentence.takes_position(name, positions, carried[group])
    ]


def _said_by(positions: list[str]) -> frozenset[str]:
    """The words that carry ``positions`` said in other words (``_SAID_IN_OTHER_WORDS``), their
    subject before them: الجبهة تقرر مقاطعة الانتخابات, التيار يعلن عدم مشاركته, الحزب
    يعتذر عن الحوار."""
    return frozenset().union(
        *(words for _, _, said, words in _SAID_IN_OTHER_WORDS if said in positions)
    )


@lru_cache(maxsize=256)
def _sentence(original: str) -> _Sentence:
    """``_Sentence(original)``, read once when a sentence is judged, then recorded."""
    return _Sentence(original)


class _Sentence:
    """A sentence's words, terms and words without their article, read once for the
    organisations it names."""

    __slots__ = ("bare", "terms", "words")

    def __init__(self, original: str) -> None:
        self.words, self.terms = _words_and_terms(original)
        self.bare = [_without_article(word) for word in self.words]

    def takes_position(self, name: str, positions: list[str], nouns: Collection[str] = ()) -> bool:
        """Whether the organisation ``name`` is the subject of a position word of the
        sentence: just after it (ورفض حزب الوفد) or just before it (نقابة الاستثمار ترفض),
        not a speaker reporting another's (وقال مركز العمليات إن الجبهة رفضت). ``nouns``:
        position nouns whose subject comes before them only (الجبهة تقرر مقاطعة انتخابات
        مجلس النواب: not the council's)."""
        named = [_without_article(word) for word in name.split()]
        size, bare = len(named), self.bare
        starts = [
            at
            for at in range(len(bare) - size + 1)
            if bare[at] == named[0] and bare[at : at + size] == named
        ]
        if not starts:
            return False
        # A word may come between: its place (نقابة الاستثمار ببورسعيد ترفض), a title (ورفض
        # رئيس حزب الوفد).
        words = self.words
        return any(
            (index < start <= index + 1 + _PARTY_GAP and term not in nouns)
            or index - _PARTY_GAP <= start + size <= index
            for index, term in enumerate(self.terms)
            if (term in positions or term in nouns)
            and not (index > 0 and words[index - 1] in _CONTEXT_BEFORE)
            for start in starts
        )


_PARTY_GAP = 1
_CONTEXT_BEFORE = _AFTER_WORDS | _BEFORE_THAT
"""Before a position word, these make it the context (بمحيط المحافظة بعد انسحاب الإخوان):
whoever is named beside it did not take it."""


_SPORT = re.compile(
    r"(?<!\w)[وفبل]?(?:ال)?(?:مباراة|مباراه|مباريات|دوري|كلاسيكو|ديربي|ملعب|لاعب|لاعبي|لاعبو"
    r"|لاعبين|مرمى|مرمي|مدرب|مدربي|كرة|كره)(?!\w)|(?:الجهاز|المدير)\s+الفني"
)
"""Words of a match report (مباراة, الدوري, ملعب, لاعب, المرمى, المدرب, الكرة, الجهاز
الفني); not «الفريق» (also a general's rank), «المنتخب» (also elected), «هدف» (also an
aim)."""
_TOLL_OF_THE_NAMED = re.compile(
    r"(?<!\S)و?(?:التي|الذي|التى|الذى)\s+(?:راح\s+ضحيت\S*|[أا]ود[ىت]\s+بحيا\S*|خلف\S*"
    r"|[أا]سفر\S*\s+عن)"
)
"""A relative clause giving the toll of the event a sentence names (الحرب التي راح ضحيتها 60
ألف قتيل, مجزرة رفح التي أودت بحياة 16 جنديا, الحادث الذي أسفر عن مصرع 18): the toll it is
known by, a background total; the story's own toll is told as news (ارتفع عدد القتلى إلى 19)."""
_IN_A_MATCH = frozenset(("meeting", "reception", "suspension", "compensation"))
"""Kinds of event whose words a match report uses for the game (``_facts``)."""
_ATTACK_LINE = frozenset(
    form
    for word in map(normalize, ("هجوم", "الهجوم"))
    for form in (word, *(clitic + word for clitic in _CLITICS))
)
"""«هجوم» in a match report: a team's forwards (عيد وجعفر يقودان هجوم الزمالك)."""
_PAST_NAMED = "الماضي"
_DATED_BEFORE = re.compile(
    r"(?<!\w)[وفب]?(?:يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يوليو|أغسطس|اغسطس|سبتمبر"
    r"|أكتوبر|اكتوبر|نوفمبر|ديسمبر|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|العام"
    r"|(?:كانون|تشرين)\s+(?:الأول|الاول|الثاني))\s+الماضي(?!\w)"
)
"""A sentence dated to a past month or year (توفي في ديسمبر الماضي, فاز العام الماضي) tells
what happened then: its events are no news now (its counts may be totals to date)."""


_RENEWAL = re.compile(r"(?<!\w)[وف]?(?:تجدد|تجددت|يتجدد|تتجدد|مجدد[اًا]+)(?!\w)|من\s+جديد")
_RENEWABLE = frozenset(("incident", "protest", "closure"))
"""Kinds of event that stop and start again (clashes, a sit-in, a square closed): renewed
(تجدد الاشتباكات, أغلق الميدان مجددا), they are news once more. A position restated (تجدد
رفضها) or a detention renewed is none."""
_AGAIN = "again:"


def _renews(original: str) -> bool:
    """Whether a sentence tells something happening again (تجدد, مجددا, من جديد)."""
    return "جد" in original and _RENEWAL.search(original) is not None


def _counts_done(counts: list[str], actions: list[str], terms: list[str]) -> list[str]:
    """``counts`` (``class:value``) less those whose kind of action the sentence names only as
    not done: sought (جهود لضبط 4 متهمين), denied (نفى مقتل 5), asked for (القصاص لمقتل 74)."""
    named = {_ACTIONS[action] for action in _actions(terms)}
    if not named:
        return counts
    done = {_ACTIONS[action] for action in actions}
    return [
        count
        for count in counts
        if (kind := _COUNTED_BY.get(count.partition(":")[0])) is None
        or kind not in named
        or kind in done
    ]


_POSITIONS = frozenset(("boycott", "refusal", "withdrawal", "approval", "denial", "participation"))
"""Kinds of event that are a party's position: who takes it is the news."""
_COUNTED_BY = {"arrest": "arrest", "death": "incident", "injury": "incident"}
"""Count class -> the kind of action that makes its count (arrests, a toll)."""


def record_reported(
    story: StoryState, analysed: list[SentenceText], originals: list[str] | None = None
) -> None:
    """Remember what an article reported (all its sentences), keeping the state bounded.

    ``originals``: the sentences as written, aligned with ``analysed``; a background one
    (``وتأتي الزيارة بعد ...``) reports no event, as in ``assess_novelty``.
    """
    fingerprints = [text.fingerprint for text in analysed]
    seen = _seen_set(story)
    # First occurrences, in order, of the terms the story had not reported.
    new_terms = list(filterfalse(seen.__contains__, dict.fromkeys(chain(*fingerprints))))
    added = [fingerprint for fingerprint in fingerprints if len(fingerprint) >= MIN_SENTENCE_TERMS]
    markers: list[str] = []
    written = originals if originals is not None else []
    for row, text in enumerate(analysed):
        original = written[row] if row < len(written) else None
        if original is not None and _recalls(original, text):
            markers += text.markers
            continue
        actions = _sentence_actions(original, text)
        counts = [marker[1:] for marker in text.markers if marker[:1] == COUNT_PREFIX]
        if counts:
            # A count of what the sentence says was not done (نفى ما نشر عن ضبط 60
            # متظاهرا) is no figure of the story, as in ``assess_novelty``.
            kept = set(_counts_done(counts, actions, text.terms))
            markers += (
                marker
                for marker in text.markers
                if marker[:1] != COUNT_PREFIX or marker[1:] in kept
            )
        else:
            markers += text.markers
        if actions:
            planned = _is_planned(text.terms)
            table = _PLAN_MARKERS if planned else _ACTION_MARKERS
            markers += (table[term] for term in actions)
            if not planned and original is not None:
                if _renews(original):
                    markers += (
                        _AGAIN + group
                        for group in dict.fromkeys(map(_ACTIONS.__getitem__, actions))
                        if group in _RENEWABLE
                    )
                markers += _positions_taken(original, text.entities, actions)
    # Each marker moves to the end when seen again: the untouched ones keep their order,
    # then come the article's, by their last mention.
    mentioned = dict.fromkeys(reversed(markers))
    numbers = [number for number in dict.fromkeys(story.numbers) if number not in mentioned]
    numbers += reversed(mentioned)
    _record_sentences(story, added)
    _record_seen(story, new_terms)
    story.numbers = numbers[-MAX_NUMBERS:]


def merge_reported(into: StoryState, other: StoryState) -> None:
    """What ``other`` reported is reported by ``into`` too (two fragments merged); ``other``
    keeps no memory."""
    into.sentences = (other.sentences + into.sentences)[-MAX_STORY_SENTENCES:]
    seen = set(into.seen_terms)
    into.seen_terms = ([t for t in other.seen_terms if t not in seen] + into.seen_terms)[
        -MAX_SEEN_TERMS:
    ]
    known = set(into.numbers)
    into.numbers = ([n for n in other.numbers if n not in known] + into.numbers)[-MAX_NUMBERS:]
    other.sentences, other.seen_terms, other.numbers = [], [], []
    _index_later(into.id)  # judged now, and a story that gathers others is judged often
