"""Does an article tell the subscribers of a story something new?

Per sentence of the article (normalised form, aligned with the original):

1. *Reported?* Its fingerprint (the set of hashed content terms) is compared with the
   fingerprints of the sentences the story already reported; containment (shared terms /
   the sentence's terms) at or above ``StorySettings.reported_containment`` means restated,
   unless the sentence carries a new number, date or kind of action (an update of a reported
   sentence: "the trial was adjourned to 4 May").
2. *Relevant?* It names a core entity of the story (the people, places, organisations of
   its titles), or shares ``RELEVANT_SHARED_TERMS`` of the story's strongest terms. An
   off-topic paragraph (a wire story's unrelated closing paragraph) is not news of this story.
3. *Facts:* what it adds that the story never reported: entities, numbers and dates,
   kinds of action (arrival, meeting, signing, attack, death, arrest, ...: a story that
   reported a signing is not told again by ``اتفاقيه``), quotes whose words are new.
   Only sentences with facts are reported as new.

An article is a development when its new relevant sentences add facts worth at least
``StorySettings.development_min_score``. List items (related-link lists the cleaner left)
never count.

>>> from monitor.core.arabic import normalize
>>> story_sentences = [sentence_fingerprint(normalize("يزور بوتين كوريا الشمالية الثلاثاء"))]
>>> sentence_fingerprint(normalize("يزور بوتين كوريا الشمالية يوم الثلاثاء")) == story_sentences[0]
True
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, filterfalse
from typing import Any

import xxhash

from monitor.core.arabic import normalize, tokens
from monitor.core.stories import SentenceText, StoryState, term_hashes
from monitor.core.terms import DATE_WORDS, content_terms

__all__ = [
    "NoveltyResult",
    "SentenceFacts",
    "assess_novelty",
    "fingerprint_of",
    "record_reported",
    "sentence_fingerprint",
]

RELEVANT_SHARED_TERMS = 3
STRONG_TERMS = 25
MIN_SENTENCE_TERMS = 4
MAX_STORY_SENTENCES = 400
MAX_SEEN_TERMS = 3000
MAX_NUMBERS = 200

_RAW_ACTIONS: dict[str, str] = {
    "arrival": "وصل يصل وصول وصلت تصل وصوله يصلان مطار",
    "reception": "استقبل استقبلت يستقبل استقبله",
    "meeting": "التقى التقي يلتقي التقت اجتمع اجتماع لقاء قمة محادثات مباحثات",
    "agreement": "وقع وقعا وقعت يوقع توقيع اتفق اتفاق اتفاقية اتفاقيه معاهدة أبرم إبرام",
    "attack": "هجوم هاجم هجمات قصف غارة غارات اقتحام اقتحم",
    "blast": "انفجار تفجير انفجرت حريق",
    "clash": "اشتباكات اشتباك مواجهات",
    "death": "مقتل قتل قتلى قتيل مصرع وفاة توفي استشهاد شهيد شهداء",
    "injury": "إصابة أصيب مصابين جرحى إصابات",
    "arrest": "اعتقال اعتقل القبض احتجاز احتجز توقيف",
    "kidnap": "اختطاف خطف",
    "assassination": "اغتيال",
    "resignation": "استقال استقالة إقالة أقال",
    "appointment": "عين تعيين",
    "withdrawal": "انسحاب انسحب",
    "ruling": "حكم قضت أصدر قرار أقر وافق رفض",
    "launch": "أطلق إطلاق",
    "fall": "سقوط سقط تحطم غرق",
    "election": "فوز فاز خسارة هزيمة انتخاب انتخابات استفتاء",
    "protest": "إضراب اعتصام مظاهرة مظاهرات تظاهر احتجاجات",
    "closure": "إغلاق أغلق تأجيل أجل إلغاء ألغى",
    "opening": "افتتاح افتتح",
    "disaster": "زلزال فيضان",
    "release": "إفراج أفرج",
    "truce": "هدنة",
}
_ACTIONS: dict[str, str] = {
    normalize(word): group for group, words in _RAW_ACTIONS.items() for word in words.split()
}
_ACTION_MARKERS: dict[str, str] = {term: "act:" + group for term, group in _ACTIONS.items()}
"""Term -> the marker ``record_reported`` keeps for its kind of action."""
_QUOTE = re.compile(r"[\"“”«»]")
_LIST_ITEM = re.compile(r"^\s*[-–—•*·▪►]\s")

_UPDATE_FACTS = ("number", "date", "action")
_ENTITY_FACTS = {"PER": "person", "ORG": "organisation", "LOC": "place"}
FACT_WEIGHTS: dict[str, float] = {
    "action": 1.5,
    "person": 1.0,
    "organisation": 0.75,
    "place": 0.75,
    "number": 1.0,
    "date": 0.5,
    "quote": 0.5,
}


def _hash(term: str) -> int:
    return xxhash.xxh32_intdigest(term)


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
    hits: Counter[int] = Counter()
    for term in fingerprint:
        for sentence in postings.get(term, ()):
            hits[sentence] += 1
    return max(hits.values(), default=0) / len(fingerprint)


def _postings(sentences: list[list[int]], wanted: set[int]) -> dict[int, list[int]]:
    """Reported sentences containing each term of ``wanted`` (the only terms looked up)."""
    postings: dict[int, list[int]] = {}
    for index, fingerprint in enumerate(sentences):
        # A story holds hundreds of sentences; the C-level intersection skips the terms
        # this article never asks about.
        for term in wanted.intersection(fingerprint):
            postings.setdefault(term, []).append(index)
    return postings


def assess_novelty(
    story: StoryState,
    sentences: list[str],
    analysed: list[SentenceText],
    *,
    reported_containment: float,
    development_min_score: float,
) -> NoveltyResult:
    """What ``sentences`` (original orthography; ``analysed``: normalised) add to ``story``."""
    postings = _postings(story.sentences, {term for text in analysed for term in text.fingerprint})
    seen_terms = set(story.seen_terms)
    known_entities = set(story.entities)
    core = set(story.core_entities())
    centroid = story.centroid
    strong_terms = {
        _hash(key)
        for key in sorted(centroid, key=centroid.__getitem__, reverse=True)[:STRONG_TERMS]
        if not key.startswith("@")
    }
    known_numbers = set(story.numbers)
    new_sentences: list[SentenceFacts] = []
    off_topic: list[int] = []
    restated = 0
    unremarkable = 0
    previous_relevant = False
    for index, (original, text) in enumerate(zip(sentences, analysed, strict=False)):
        fingerprint = text.fingerprint
        entities = text.entities
        relevant = bool(core.intersection(entities)) or (
            len(strong_terms.intersection(fingerprint)) >= RELEVANT_SHARED_TERMS
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
        facts = _facts(original, text, seen_terms, known_entities, known_numbers)
        if containment >= reported_containment:
            # A reported sentence with a new number, date or action is an update ("... adjourned
            # to 4 May"); other differences of a restated sentence are the outlet's wording.
            facts = {kind: facts[kind] for kind in _UPDATE_FACTS if kind in facts}
            if not facts or containment >= 1.0:
                restated += 1
                continue
        score = sum(FACT_WEIGHTS[kind] * len(values) for kind, values in facts.items())
        if facts:
            new_sentences.append(SentenceFacts(index, original, containment, True, facts, score))
        else:
            unremarkable += 1
    total = sum(sentence.score for sentence in new_sentences)
    is_development = total >= development_min_score
    why_not = ""
    if not is_development:
        if not new_sentences:
            why_not = "no sentence about the story adds a fact it had not reported"
        else:
            why_not = f"new sentences add too few new facts ({total:.2f} < {development_min_score})"
    return NoveltyResult(
        is_development, total, new_sentences, restated, off_topic, why_not, unremarkable
    )


def _facts(
    original: str,
    text: SentenceText,
    seen_terms: set[int],
    known_entities: set[str],
    known_numbers: set[str],
) -> dict[str, list[str]]:
    facts: dict[str, list[str]] = {}
    markers = text.markers
    for key in dict.fromkeys(text.entities):
        if key not in known_entities:
            kind, _, name = key.partition(":")
            facts.setdefault(_ENTITY_FACTS.get(kind, "person"), []).append(name)
    numbers = [n for n in dict.fromkeys(markers) if n[0].isdigit() and n not in known_numbers]
    if numbers:
        facts["number"] = numbers
    dates = [w for w in dict.fromkeys(markers) if w in DATE_WORDS and w not in known_numbers]
    if dates:
        facts["date"] = dates
    actions = [
        term
        for term in dict.fromkeys(text.terms)
        if term in _ACTIONS and _ACTION_MARKERS[term] not in known_numbers
    ]
    if actions:
        facts["action"] = actions
    quoted = _quoted_terms(original)
    if quoted and sum(_hash(t) not in seen_terms for t in quoted) * 2 >= len(quoted):
        facts["quote"] = [" ".join(quoted[:8])]
    return facts


def _quoted_terms(original: str) -> list[str]:
    """Content terms inside quotation marks (a quote repeated by the story is no news)."""
    parts = _QUOTE.split(original)
    inside = " ".join(parts[1::2]) if len(parts) >= 3 else ""
    return content_terms(tokens(normalize(inside))) if inside else []


def record_reported(story: StoryState, analysed: list[SentenceText]) -> None:
    """Remember what an article reported (all its sentences), keeping the state bounded."""
    fingerprints = [text.fingerprint for text in analysed]
    seen = set(story.seen_terms)
    # First occurrences, in order, of the terms the story had not reported.
    new_terms = list(filterfalse(seen.__contains__, dict.fromkeys(chain(*fingerprints))))
    added = [fingerprint for fingerprint in fingerprints if len(fingerprint) >= MIN_SENTENCE_TERMS]
    markers: list[str] = []
    for text in analysed:
        markers += text.markers
        markers += filter(None, map(_ACTION_MARKERS.get, text.terms))
    # Each marker moves to the end when seen again: the untouched ones keep their order,
    # then come the article's, by their last mention.
    mentioned = dict.fromkeys(reversed(markers))
    numbers = [number for number in dict.fromkeys(story.numbers) if number not in mentioned]
    numbers += reversed(mentioned)
    story.sentences = (story.sentences + added)[-MAX_STORY_SENTENCES:]
    story.seen_terms = (story.seen_terms + new_terms)[-MAX_SEEN_TERMS:]
    story.numbers = numbers[-MAX_NUMBERS:]
