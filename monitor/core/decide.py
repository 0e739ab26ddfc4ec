"""One decision per article, and the alert for the ones that tell subscribers something new.

``decide_story`` takes a fingerprinted article that is not a copy (``new`` or ``revision``)
and the candidate stories the index found, and returns an ``Outcome``: the ``Decision``
(``new_story``, ``development`` or ``no_news``), the ``Alert`` when there is news, and the
story state to save. ``decide_duplicate`` names the story of the copied article and adds the
copying outlet to its sources. ``rejected_decision`` turns the clean stage's rejection into
a decision. Pure functions: the story stage does the I/O.

Joining: the best candidate whose decayed similarity reaches ``same_story_threshold``.
Closed stories (idle longer than ``close_after_days``) are only *resumed* when the article
clearly continues one: undecayed similarity at least ``resume_threshold``, at least
``resume_min_entities`` shared core entities and ``resume_min_title`` shared title terms.
Neither joins a story whose headlines counted the things the article's headline counts
otherwise (55 ألف لتر against 1800 لتر): that is another incident of its kind. A headline
that shares too little with the best story's to name its event still joins one of the
``SAME_TOLL_CANDIDATES`` most similar stories that reported its toll (the dead, injured or
missing it counts) and shares a headline word: a wire's flash of the same killing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

import xxhash

from monitor.core.counts import COUNT_PREFIX, headline_counts
from monitor.core.novelty import (
    ROUNDING,
    TITLE_INDEX,
    NoveltyResult,
    assess_novelty,
    merge_reported,
    names_an_action,
    record_reported,
)
from monitor.core.opinion import is_column, is_roundup
from monitor.core.records import (
    Alert,
    AlertSource,
    CleanArticle,
    Decision,
    FingerprintedArticle,
    Rejection,
)
from monitor.core.stories import (
    NEAREST_CANDIDATES,
    ArticleFeatures,
    Matcher,
    Similarity,
    StoryState,
    absorb_story,
    decay,
    merge_article,
    new_story_state,
    similarity,
)
from monitor.core.terms import idf
from monitor.settings import StorySettings

__all__ = [
    "Candidate",
    "Choice",
    "Outcome",
    "build_alert",
    "choose_story",
    "conclude",
    "decide_copy",
    "decide_duplicate",
    "decide_story",
    "event_time",
    "merge_stories",
    "rejected_decision",
    "story_id_for",
]

MAX_SOURCES = 30
NAME_IDF = 8.0
"""A headline word at least this rare in the background corpus (a name no gazetteer holds,
أبوإسلام, a transliteration) names one event by itself, as a known name does."""
HOUR = 3600.0
DAY = 86_400.0


@dataclass(slots=True)
class Candidate:
    state: StoryState
    closed: bool
    """Idle longer than ``close_after_days``: only resumable."""


@dataclass(slots=True)
class Outcome:
    decision: Decision
    alert: Alert | None
    story: StoryState | None
    """The story state to save (None: nothing changed)."""
    created: bool = False
    absorbed: StoryState | None = None
    """A story merged into ``story``: saved as its forwarding record."""


def event_time(article: CleanArticle, default: float) -> float:
    """When the article happened for the stories: its publication time, else ``default``."""
    if article.published is not None:
        published = article.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return published.timestamp()
    return default


def story_id_for(article_id: str) -> str:
    """A story is named after its first article (stable across replays)."""
    return "st-" + xxhash.xxh64_hexdigest(article_id)[:16]


def _source(article: CleanArticle) -> dict[str, object]:
    return {
        "outlet": article.outlet,
        "article": article.id,
        "title": article.title,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
    }


_ARTICLE = itemgetter("article")


def _add_source(story: StoryState, article: CleanArticle) -> None:
    # ``any(source["article"] == article.id for ...)``, the loop in C.
    if article.id in map(_ARTICLE, story.sources):
        return
    story.sources = [*story.sources, _source(article)][-MAX_SOURCES:]


def _decision(article: CleanArticle, kind: str, story: str | None, **fields: object) -> Decision:
    return Decision.model_validate(
        {
            "article": article.id,
            "outlet": article.outlet,
            "decision": kind,
            "story": story,
            "title": article.title,
            "url": article.url,
            "published": article.published,
            "trace": dict(article.trace),
            **fields,
        }
    )


@dataclass(slots=True)
class _Ranking:
    best: Candidate | None = None
    best_similarity: Similarity | None = None
    runner_up: Candidate | None = None
    """The second open story, when it too reaches the join threshold."""
    runner_up_similarity: Similarity | None = None
    dormant: Candidate | None = None
    dormant_similarity: Similarity | None = None
    ranked: list[tuple[float, int, Candidate]] = field(default_factory=list)
    """The open candidates as (score, position, candidate), in candidate order."""
    explain: Callable[[Candidate], Similarity] | None = None
    """The full similarity of one of them."""


def _best(
    features: ArticleFeatures, candidates: list[Candidate], now: float, settings: StorySettings
) -> _Ranking:
    # Ranked by the bare score; only the winners get the full (costlier) explanation.
    matcher = Matcher(features)
    half_life, floor = settings.half_life_hours, settings.decay_floor
    ranking = _Ranking()
    best_score = second_score = 0.0
    dormant_raw = 0.0
    # A forwarding record's story is filed under its own id.
    live = [candidate for candidate in candidates if candidate.state.merged_into is None]
    shortlist = [matcher.centroid_raw(candidate.state) for candidate in live]
    # Comparing with every recent article of every candidate is the costly part: only the
    # best by centroid are, in candidate order on ties (stable sort).
    # (reverse=True keeps ties in candidate order, as sorting on the negated score did)
    nearest = set(
        sorted(range(len(live)), key=shortlist.__getitem__, reverse=True)[:NEAREST_CANDIDATES]
    )
    for position, candidate in enumerate(live):
        raw = matcher.raw(candidate.state) if position in nearest else shortlist[position]
        if candidate.closed:
            if ranking.dormant is None or raw > dormant_raw:  # resuming ignores the idle time
                ranking.dormant, dormant_raw = candidate, raw
            continue
        idle = max(0.0, now - candidate.state.updated) / HOUR
        score = raw * decay(idle, half_life, floor)
        ranking.ranked.append((score, position, candidate))
        if ranking.best is None or score > best_score:
            ranking.runner_up, second_score = ranking.best, best_score
            ranking.best, best_score = candidate, score
        elif ranking.runner_up is None or score > second_score:
            ranking.runner_up, second_score = candidate, score

    def explain(candidate: Candidate) -> Similarity:
        return matcher.similarity(
            candidate.state,
            idle_hours=max(0.0, now - candidate.state.updated) / HOUR,
            half_life_hours=half_life,
            decay_floor=floor,
        )

    ranking.explain = explain
    if ranking.best is not None:
        ranking.best_similarity = explain(ranking.best)
    if ranking.runner_up is not None and second_score >= settings.merge_threshold:
        ranking.runner_up_similarity = explain(ranking.runner_up)
    else:
        ranking.runner_up = None
    if ranking.dormant is not None:
        ranking.dormant_similarity = matcher.similarity(ranking.dormant.state)
    return ranking


def _clearly_continues(
    score: Similarity, features: ArticleFeatures, story: StoryState, settings: StorySettings
) -> bool:
    core = set(story.core_entities(limit=6))
    shared_core = core.intersection(features.entities)
    return (
        score.raw >= settings.resume_threshold
        and len(shared_core) >= settings.resume_min_entities
        and len(score.shared_title) >= settings.resume_min_title
    )


@dataclass(slots=True)
class Choice:
    """The story an article belongs to (None: it starts one), and why."""

    story: StoryState | None
    reasons: dict[str, object]
    absorbed: StoryState | None = None
    """Another open story the article links as clearly: merged into ``story``."""
    score: float | None = None
    """The similarity the article joined ``story`` with (None: a reprint of its article)."""
    headline_counts: list[str] = field(default_factory=list)
    """What the article's headline counts (``monitor.core.counts.headline_counts``)."""


def choose_story(
    item: FingerprintedArticle,
    features: ArticleFeatures,
    candidates: list[Candidate],
    *,
    now: float,
    settings: StorySettings,
    revised: StoryState | None = None,
) -> Choice:
    """Join the most similar open story, resume a dormant one, or none (a new story).

    ``revised``: for a revision, the story of the article it revises, which it joins.
    """
    reasons: dict[str, object] = {"fingerprint": item.kind, "candidates": len(candidates)}
    # From the title, not ``match_title``: records that carry their analysis leave the
    # normalised texts out (``records.fingerprinted_omits``).
    counts = headline_counts(item.article.title, features.text.title.markers)
    if item.kind == "revision":
        reasons["revision_of"] = item.matched_id
        if revised is not None:
            # An outlet's update of its own article stays in that story while it still
            # reports the same event (a recycled URL or a rewritten page may not).
            revised_score = similarity(features, revised)
            reasons["revised_similarity"] = revised_score.as_dict()
            if revised_score.raw >= _needed(revised_score, settings):
                reasons["similarity"] = revised_score.as_dict()
                return Choice(revised, reasons, score=revised_score.score, headline_counts=counts)
    ranking = _best(features, candidates, now, settings)
    best, score = ranking.best, ranking.best_similarity
    dormant, dormant_score = ranking.dormant, ranking.dormant_similarity
    if best is not None and score is not None:
        reasons["best"] = {"story": best.state.id, **score.as_dict()}
        # A story is known by its headlines: an article whose headline shares no word or
        # name with them joins only on a clearly higher similarity (else a shared place or
        # hospital ties a shooting in Sinai to an assault in Suez); so does one sharing no
        # name and only a kind of event and one word (a fire in a town's church is not the
        # fire at its airport).
        needed, requirement = _requirement(score, settings)
        other_incident = _another_incident(counts, best.state.headline_counts)
        if score.score >= needed and not other_incident:
            reasons["similarity"] = score.as_dict()
            other, other_score = ranking.runner_up, ranking.runner_up_similarity
            if other is None or other_score is None:
                return Choice(best.state, reasons, score=score.score, headline_counts=counts)
            # The article links two open stories as clearly: they are one story. The larger
            # (then the older) keeps its id, which most of its readers know; the other
            # forwards to it.
            older, younger = sorted(
                (best.state, other.state), key=lambda s: (-s.articles, s.created, s.id)
            )
            reasons["merged"] = {
                "story": younger.id,
                "into": older.id,
                "similarity": other_score.as_dict() if other.state is younger else score.as_dict(),
            }
            return Choice(
                older, reasons, absorbed=younger, score=score.score, headline_counts=counts
            )
        same_toll = _same_toll(ranking, counts, settings)
        if same_toll is not None:
            story, toll_score, tolls = same_toll
            reasons["best"] = {"story": story.id, **toll_score.as_dict()}
            reasons["similarity"] = toll_score.as_dict()
            reasons["same_toll"] = tolls
            return Choice(story, reasons, score=toll_score.score, headline_counts=counts)
        if score.score < settings.same_story_threshold:
            why = f"similarity {score.score:.3f} below {settings.same_story_threshold}"
        elif score.score < needed:
            why = f"{requirement}: similarity {score.score:.3f} below {needed}"
        else:
            why = other_incident
        reasons["why_not_joined"] = why
    if dormant is not None and dormant_score is not None:
        reasons["dormant"] = {"story": dormant.state.id, **dormant_score.as_dict()}
        continues = _clearly_continues(dormant_score, features, dormant.state, settings)
        if continues and not _another_incident(counts, dormant.state.headline_counts):
            reasons["similarity"] = dormant_score.as_dict()
            reasons["resumed"] = {
                "story": dormant.state.id,
                "idle_days": round((now - dormant.state.updated) / DAY),
            }
            return Choice(dormant.state, reasons, score=dormant_score.score, headline_counts=counts)
    return Choice(None, reasons, headline_counts=counts)


SAME_TOLL_CANDIDATES = 3
"""Open candidates, the most similar first, searched for a story that reported the toll a
headline gives (``_same_toll``)."""


def _best_first(item: tuple[float, int, Candidate]) -> tuple[float, int]:
    return -item[0], item[1]  # the higher score, then the earlier candidate


def _same_toll(
    ranking: _Ranking, counts: list[str], settings: StorySettings
) -> tuple[StoryState, Similarity, list[str]] | None:
    """The story among the most similar open candidates (at least ``same_story_threshold``)
    whose headlines gave every toll the article's headline gives (in ``counts``: «مصرع 5
    أشخاص في مشاجرة ببرج العرب», a wire's flash of the killing of five) and that shares a
    headline word: the same incident, though the headline shares too little else to name it.
    Its similarity and the tolls; None for none."""
    tolls = [count for count in counts if count[:1] == COUNT_PREFIX]
    if not tolls or ranking.explain is None:
        return None
    for score, _, candidate in sorted(ranking.ranked, key=_best_first)[:SAME_TOLL_CANDIDATES]:
        if score < settings.same_story_threshold:
            break
        told = candidate.state.headline_counts
        if not all(toll in told for toll in tolls) or _another_incident(counts, told):
            continue
        similarity_ = ranking.explain(candidate)
        if any(":" not in key for key in similarity_.shared_title):
            return candidate.state, similarity_, [toll[1:] for toll in tolls]
    return None


def _another_incident(counts: list[str], story_counts: list[str]) -> str:
    """Why a headline's ``counts`` tell another incident than a story's headlines did (what
    they counted, ``story_counts``), or ``""``: a number of the same things none of theirs
    is within ``ROUNDING`` of (1800 لتر where they counted 55 ألف لتر; 5 كيلو against
    20 كيلو). People are not counted there: the arrested and the dead are counted again as
    a story goes on.

    >>> _another_incident(["لتر:1800"], ["لتر:55000", "طن:3"])
    "the headline counts 1800 لتر where the story's headlines counted 55000: another incident"
    >>> _another_incident(["لتر:56000"], ["لتر:55000"])
    ''
    >>> _another_incident(["#death:7"], ["#death:5"])  # a toll grows
    ''
    """
    if not counts or not story_counts:
        return ""
    told: dict[str, list[int]] = {}
    for item in story_counts:
        if item[:1] == COUNT_PREFIX:
            continue  # a toll: it grows as a story goes on
        noun, _, value = item.rpartition(":")
        told.setdefault(noun, []).append(int(value))
    for item in counts:
        if item[:1] == COUNT_PREFIX:
            continue
        noun, _, value = item.rpartition(":")
        number = int(value)
        values = told.get(noun)
        if values and not any(
            abs(told_value - number) <= ROUNDING * max(told_value, number) for told_value in values
        ):
            counted = ", ".join(map(str, values))
            return (
                f"the headline counts {number} {noun} where the story's headlines counted"
                f" {counted}: another incident"
            )
    return ""


def conclude(
    item: FingerprintedArticle,
    features: ArticleFeatures,
    choice: Choice,
    *,
    now: float,
    settings: StorySettings,
) -> Outcome:
    """Judge the article's novelty against its story (whose memory must be loaded)."""
    article = item.article
    story = choice.story
    reasons = dict(choice.reasons)
    if is_column(article.title):
        return _column(article, features, story, now, reasons)
    if is_roundup(article.title):
        reasons["roundup"] = "the headline names a roundup (موجز, أهم الأخبار): many stories' news"
        return Outcome(_decision(article, "no_news", None, reasons=reasons), None, None)
    if story is None:
        return _new_story(article, features, now, reasons, choice.headline_counts)
    if choice.absorbed is not None:
        merge_stories(story, choice.absorbed)
    novelty = assess_novelty(
        story,
        article.sentences,
        features.text.sentences,
        reported_containment=settings.reported_containment,
        development_min_score=settings.development_min_score,
        title=(article.title, features.text.title),
    )
    reasons["novelty"] = novelty.reasons()
    new_sentences = _lead_sentences(novelty)
    # A weakly joined article belongs to the story but is no anchor for later ones: through
    # it, one article after another, a story would chain to everything about its place or
    # its kind of event (every brawl of a province, every fire of a town).
    anchor = choice.score is None or choice.score >= settings.anchor_threshold
    merge_article(story, features, now=now, anchor=anchor, headline_counts=choice.headline_counts)
    record_reported(
        story,
        [features.text.title, *features.text.sentences],
        [article.title, *article.sentences],
    )
    _add_source(story, article)
    kind = "development" if novelty.is_development else "no_news"
    decision = _decision(
        article,
        kind,
        story.id,
        new_sentences=new_sentences if novelty.is_development else [],
        reasons=reasons,
    )
    alert = (
        build_alert(decision, story, features, novelty.score) if novelty.is_development else None
    )
    return Outcome(decision, alert, story, absorbed=choice.absorbed)


def _column(
    article: CleanArticle,
    features: ArticleFeatures,
    story: StoryState | None,
    now: float,
    reasons: dict[str, object],
) -> Outcome:
    """An opinion column: no alert. It joins the story it is about, as a source that anchors
    no later article and reports nothing (what it argues is not what happened), and starts
    none: a story needs an event."""
    reasons["opinion"] = "the headline names a column (an author's «يكتب:»): it tells no news"
    if story is not None:
        merge_article(story, features, now=now, anchor=False)
        _add_source(story, article)
    decision = _decision(
        article, "no_news", story.id if story is not None else None, reasons=reasons
    )
    return Outcome(decision, None, story)


def _needed(score: Similarity, settings: StorySettings) -> float:
    """The similarity an article needs to join a story: more when its headline shares no
    word or name with the story's headlines, or too little to name one event, or when the
    headlines are all they share (a byline or a dateline for a title, «الرياض - أ ش أ»;
    another brawl of the province under a headline naming it)."""
    return _requirement(score, settings)[0]


def _requirement(score: Similarity, settings: StorySettings) -> tuple[float, str]:
    """``_needed``, and what it asks for (an article that falls short gets it as its
    ``why_not_joined`` when its similarity reached ``same_story_threshold``). A body as close
    to the story as ``body_alone`` needs no headline in common: a reaction or a follow-up
    titled in its own words (the funeral, a faction's threat) tells the story's event."""
    if score.body < settings.body_alone:
        if score.title == 0:
            return settings.untitled_threshold, "the headlines share no word or name"
        if not _names_the_event(score):
            return settings.untitled_threshold, "the headlines share too little to name one event"
    if score.body < settings.body_floor and score.nearest < settings.nearest_floor:
        return settings.untitled_threshold, (
            f"the headline is all it shares (body {score.body:.3f} below "
            f"{settings.body_floor}, nearest article {score.nearest:.3f} below "
            f"{settings.nearest_floor})"
        )
    return settings.same_story_threshold, "the headlines name the same event"


def _names_the_event(score: Similarity) -> bool:
    """Whether the headlines share more than a kind of event and one word (a place): «حريق»
    and «الغردقة» are every fire of a town, a name or two words of their own one event."""
    if score.shared_entities:
        return True
    words = [key for key in score.shared_title if ":" not in key and not names_an_action(key)]
    return len(words) >= 2 or any(map(_is_a_name, words))


def _is_a_name(word: str) -> bool:
    """Whether a headline word reads as a name no gazetteer holds (أبوإسلام, أبوحامد): rare
    in the background corpus, without the article (the rare common nouns take it: السولار,
    المازوت; so a name that takes it, الفخراني, is not told from them) and not a town behind
    a preposition (بادفو)."""
    return (
        idf(word) >= NAME_IDF
        and word[:2] != _THE
        and not (word[:1] in _PROCLITICS and idf(word[1:]) >= NAME_IDF)
    )


_THE = "ال"
_PROCLITICS = frozenset("بلوفك")


def _lead_sentences(novelty: NoveltyResult) -> list[str]:
    """The new sentences an alert shows under the article's headline: the body's when it
    has any (the headline is shown already, and its body sentence tells it in full). A
    single one is followed by the next unreported sentence about the story, which tells the
    news's detail (who, how, what next) even where it names no new fact."""
    body = [s for s in novelty.new_sentences if s.index != TITLE_INDEX]
    shown = body or novelty.new_sentences
    if body and len(body) < len(novelty.new_sentences):
        # The headline's news: the body's first sentence tells it in full (the inverted
        # pyramid), though it adds no fact the headline has not claimed.
        first = next((s for s in novelty.details if s.index < body[0].index), None)
        if first is not None:
            shown = [first, *body]
    if len(shown) == 1:
        after = shown[0].index
        shown = shown + [s for s in novelty.details if s.index > after][:1]
    return [s.text for s in shown]


def merge_stories(into: StoryState, other: StoryState) -> None:
    """Fold ``other`` (memory loaded) into ``into``: summary, reported facts and sources."""
    known = {source["article"] for source in into.sources}
    sources = [source for source in other.sources if source["article"] not in known]
    into.sources = sorted(
        [*sources, *into.sources], key=lambda source: str(source.get("published") or "")
    )[-MAX_SOURCES:]
    absorb_story(into, other)
    merge_reported(into, other)


def decide_story(
    item: FingerprintedArticle,
    features: ArticleFeatures,
    candidates: list[Candidate],
    *,
    now: float,
    settings: StorySettings,
) -> Outcome:
    """``choose_story`` then ``conclude`` (candidates with their memory loaded)."""
    choice = choose_story(item, features, candidates, now=now, settings=settings)
    return conclude(item, features, choice, now=now, settings=settings)


def _new_story(
    article: CleanArticle,
    features: ArticleFeatures,
    now: float,
    reasons: dict[str, object],
    counts: list[str],
) -> Outcome:
    story = new_story_state(
        story_id_for(article.id),
        article.title,
        features,
        now=now,
        sentences=[],
        headline_counts=counts,
    )
    record_reported(
        story,
        [features.text.title, *features.text.sentences],
        [article.title, *article.sentences],
    )
    _add_source(story, article)
    reasons["why_new"] = (
        "no candidate story" if "best" not in reasons else "no story similar enough"
    )
    lead = [s for s in article.sentences[:3] if s.strip()]
    decision = _decision(article, "new_story", story.id, new_sentences=lead, reasons=reasons)
    return Outcome(decision, build_alert(decision, story, features, 1.0), story, created=True)


def decide_copy(
    item: FingerprintedArticle,
    features: ArticleFeatures,
    story: StoryState,
    *,
    now: float,
    settings: StorySettings,
) -> Outcome:
    """A reprint (``story``: its original's, memory loaded): a development when the text it
    adds to the original reports a new fact, else a duplicate."""
    novelty = assess_novelty(
        story,
        item.article.sentences,
        features.text.sentences,
        reported_containment=settings.reported_containment,
        development_min_score=settings.development_min_score,
    )  # no title: a copy's headline is its outlet's wording of the original's news
    if not novelty.is_development:
        outcome = decide_duplicate(item, story)
        outcome.decision.reasons["novelty"] = novelty.reasons()
        # What the copy adds without news (another wire's sentence, a detail) is reported
        # all the same: an article telling it later is no development.
        record_reported(story, features.text.sentences, item.article.sentences)
        return outcome
    reasons: dict[str, object] = {
        "fingerprint": item.kind,
        "copy_of": item.matched_id,
        "copy_of_outlet": item.matched_outlet,
        "overlap": round(item.overlap, 3),
    }
    return conclude(item, features, Choice(story, reasons), now=now, settings=settings)


def decide_duplicate(item: FingerprintedArticle, story: StoryState | None) -> Outcome:
    """An exact copy or a reprint: name the copied article's story, add the outlet."""
    article = item.article
    reasons: dict[str, object] = {
        "fingerprint": item.kind,
        "copy_of": item.matched_id,
        "copy_of_outlet": item.matched_outlet,
        "overlap": round(item.overlap, 3),
    }
    if story is None:
        reasons["story_unknown"] = "the copied article is in no story (rejected or expired)"
        return Outcome(_decision(article, "duplicate", None, reasons=reasons), None, None)
    _add_source(story, article)
    return Outcome(_decision(article, "duplicate", story.id, reasons=reasons), None, story)


def rejected_decision(rejection: Rejection) -> Decision:
    return Decision(
        article=rejection.id,
        outlet=rejection.outlet,
        decision="rejected",
        url=rejection.url,
        published=rejection.published,
        reasons={"stage": rejection.stage, "reason": rejection.reason, "detail": rejection.detail},
        trace=dict(rejection.trace),
    )


def build_alert(
    decision: Decision, story: StoryState, features: ArticleFeatures, score: float
) -> Alert:
    """The alert subscribers get for a ``new_story`` or ``development`` decision."""
    sources = [_alert_source(source) for source in story.sources]
    # most_common(10) without its Python-level heap: a stable sort ranks ties the same way.
    top = sorted(features.entities.items(), key=itemgetter(1), reverse=True)[:10]
    names = [key.partition(":")[2] for key, _ in top]
    kind = "new_story" if decision.decision == "new_story" else "development"
    return Alert(
        id=f"{story.id}:{decision.article}",
        kind=kind,
        story=story.id,
        story_title=story.title,
        article=decision.article,
        outlet=decision.outlet,
        title=decision.title,
        new_sentences=list(decision.new_sentences),
        sources=sources,
        links=[source.url for source in sources if source.url],
        score=round(score, 3),
        names=names,
        published=decision.published,
        reasons=dict(decision.reasons),
        trace=dict(decision.trace),
    )


_ALERT_SOURCES: dict[tuple[object, ...], AlertSource] = {}
_ALERT_SOURCES_MAX = 10_000
"""Sources kept validated (the recent stories' sources: a few MB)."""


def _alert_source(source: dict[str, object]) -> AlertSource:
    # A story's sources recur in every alert of the story (up to MAX_SOURCES each): each is
    # validated once. Alerts share the instances; nothing modifies an alert's sources.
    get = source.get
    key = (get("outlet"), get("article"), get("title"), get("url"), get("published"))
    found = _ALERT_SOURCES.get(key)
    if found is None:
        found = AlertSource(
            outlet=str(source["outlet"]),
            article=str(source["article"]),
            title=str(source.get("title") or ""),
            url=source.get("url"),
            published=_parse_time(source.get("published")),
        )
        if len(_ALERT_SOURCES) >= _ALERT_SOURCES_MAX:
            _ALERT_SOURCES.clear()
        _ALERT_SOURCES[key] = found
    return found


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None
