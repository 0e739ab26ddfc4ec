"""The records that flow between pipeline stages.

Every Kafka topic carries one of these models as UTF-8 JSON (see ``monitor.stream.topics``
for which topic carries which). The embedded pipeline passes the same objects in memory, so
the two modes cannot drift apart.

>>> raw = RawArticle(id="a1", outlet="seed", title="بوتين", text="وصل بوتين")
>>> RawArticle.model_validate_json(raw.model_dump_json()) == raw
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FINGERPRINTED_OMITS",
    "Alert",
    "AlertKind",
    "AlertSource",
    "ArticleAnalysis",
    "CleanArticle",
    "Decision",
    "DecisionKind",
    "DuplicateKind",
    "FingerprintedArticle",
    "RawArticle",
    "Rejection",
    "Removal",
    "fingerprinted_omits",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=False, extra="ignore")


class RawArticle(_Record):
    """An article as a poller (or a file) found it, before any cleaning.

    ``text`` holds plain or scraped text; ``html`` holds an HTML page or an HTML feed summary.
    At least one of them should be non-empty, otherwise the clean stage rejects the article.
    NaN and infinities (which Python's and pydantic's JSON readers accept) are invalid here,
    where records enter: a later stage would write them as ``null`` and fail to read its own
    output.
    """

    model_config = ConfigDict(frozen=False, extra="ignore", allow_inf_nan=False)

    id: str = Field(description="Stable id: hash of feed GUID or URL, or the id given in a file.")
    outlet: str = Field(description="Short outlet code, e.g. 'youm7'.")
    title: str = ""
    text: str = ""
    html: str | None = None
    url: str | None = None
    guid: str | None = None
    feed: str | None = Field(default=None, description="Feed name from config/feeds.yaml.")
    language: str | None = Field(default=None, description="Language declared by the feed.")
    published: datetime | None = Field(default=None, description="Publication time per the feed.")
    published_is_fetch_time: bool = Field(
        default=False, description="The feed gave no date: ``published`` is the fetch time."
    )
    fetched: datetime | None = Field(default=None, description="When the poller fetched it.")
    trace: dict[str, float] = Field(
        default_factory=dict,
        description="Unix timestamps per stage ('polled', 'produced', ...) for latency metrics.",
    )


class Removal(_Record):
    """One piece of text the clean stage removed, and why."""

    text: str
    reason: str


class CleanArticle(_Record):
    """An article after boilerplate removal and normalisation.

    ``paragraphs`` and ``sentences`` keep the outlet's original orthography (for people and
    alerts); ``match_*`` fields are normalised for machines and align index by index with
    ``sentences`` (``match_title`` is ``normalize(title)``, each ``match_sentences`` entry
    ``normalize`` of its sentence). ``fingerprinted`` records leave out what the story stage
    does not read (``fingerprinted_omits``), so those fields are optional here.
    """

    id: str
    outlet: str
    url: str | None = None
    guid: str | None = None
    feed: str | None = None
    published: datetime | None = None
    fetched: datetime | None = None
    title: str
    paragraphs: list[str] = Field(
        default_factory=list, description="Empty on ``fingerprinted``: no later stage reads it."
    )
    sentences: list[str] = Field(
        default_factory=list, description="Empty on ``fingerprinted`` copies (exact, reprint)."
    )
    match_title: str = Field(
        default="", description="Empty on ``fingerprinted`` records that carry an analysis."
    )
    match_sentences: list[str] = Field(
        default_factory=list,
        description="Empty on ``fingerprinted`` records that carry an analysis, and on copies.",
    )
    match_text: str = Field(
        default="",
        description="The normalised body the fingerprint is taken of; empty on "
        "``fingerprinted`` (``FINGERPRINTED_OMITS``).",
    )
    language: str = Field(description="ISO 639-1 code, e.g. 'ar', 'en'; 'und' when unknown.")
    content_hash: str = Field(description="Hex digest of the normalised body (exact-copy key).")
    removed: list[Removal] = Field(
        default_factory=list, description="Empty on ``fingerprinted``: no later stage reads it."
    )
    trace: dict[str, float] = Field(default_factory=dict)


class Rejection(_Record):
    """An article that could not be processed, with the reason (never silently dropped)."""

    id: str
    outlet: str
    stage: str
    reason: str = Field(
        description="Machine-readable reason, e.g. 'empty', 'garbage', 'too_large'."
    )
    detail: str = ""
    url: str | None = None
    published: datetime | None = None
    trace: dict[str, float] = Field(default_factory=dict)


DuplicateKind = Literal["new", "exact", "reprint", "revision"]


class ArticleAnalysis(_Record):
    """What the story stage reads of an article's text, worked out where the work is shared.

    Computed by the fingerprint stage (partitioned: any number of workers) so that the story
    stage (one process: story state is global) only compares and decides. Row 0 is the
    title, then one row per ``CleanArticle.match_sentences`` entry; columns instead of
    per-sentence objects, terms as one string per row and hashes as packed bytes keep the
    JSON small and quick to read (``monitor.core.analysis`` converts both ways).
    """

    terms: list[str] = Field(
        description="Content terms (``monitor.core.terms``) joined by single spaces (a term "
        "never holds whitespace)."
    )
    hashes: list[str] = Field(
        description="Sorted distinct 32-bit hashes of the terms (``stories.term_hashes``), "
        "as base64 of unsigned 32-bit little-endian integers."
    )
    entities: list[list[str]] = Field(description="Entity keys, ``KIND:name``.")
    markers: list[list[str]] = Field(description="Numbers and weekday/month names, in order.")
    sketch: str | None = Field(
        default=None,
        description="The character n-gram half of the article's sketch "
        "(``stories.text_sketch``): its grams as unsigned 32-bit integers, then their "
        "weights as 64-bit floats, little-endian, in order, base64; none: the story stage "
        "computes it.",
    )
    actions: list[list[str]] | None = Field(
        default=None,
        description="Per row, the actions (lexicon terms of ``monitor.core.novelty``) it "
        "reports as done, read with its original spelling (``novelty.read_sentences``); none: "
        "the story stage reads them.",
    )
    background: list[bool] | None = Field(
        default=None,
        description="Per row, whether it recalls what happened before "
        "(``novelty.read_sentences``); none: the story stage reads it.",
    )


_NEVER_READ = {"paragraphs", "match_text", "removed", "guid", "feed", "fetched"}
FINGERPRINTED_OMITS: dict[str, Any] = {"article": _NEVER_READ, "reasons": True}
"""Left out of every ``FingerprintedArticle`` record on Kafka (``model_dump_json(exclude=
...)``): the story stage never reads them. ``fingerprinted_omits`` adds what a given record
does not need: on the 2013 stream a record averages 3.8 KB instead of 7.4 KB."""


class FingerprintedArticle(_Record):
    """A clean article plus how it relates to recently seen articles.

    ``kind``: ``exact`` (same normalised content seen before), ``reprint`` (near duplicate of
    an article from another outlet), ``revision`` (same outlet re-published or updated an
    article: goes on to novelty detection), ``new``.
    """

    article: CleanArticle
    kind: DuplicateKind
    matched_id: str | None = None
    matched_outlet: str | None = None
    overlap: float = Field(
        default=0.0, description="Estimated containment of the shorter text in the match (0..1)."
    )
    reasons: dict[str, Any] = Field(
        default_factory=dict,
        description="How the kind was found; empty on ``fingerprinted``: no later stage reads it.",
    )
    analysis: ArticleAnalysis | None = Field(
        default=None,
        description="The article's story analysis (all but ``exact`` copies); the story "
        "stage computes it when absent.",
    )


_ANALYSED_OMITS: dict[str, Any] = {
    "article": _NEVER_READ | {"match_title", "match_sentences"},
    "reasons": True,
}
_COPY_OMITS: dict[str, Any] = {
    "article": _NEVER_READ | {"sentences", "match_title", "match_sentences"},
    "reasons": True,
}


def fingerprinted_omits(record: FingerprintedArticle) -> dict[str, Any]:
    """What ``record`` leaves out on Kafka: ``FINGERPRINTED_OMITS``, and the normalised
    texts when it carries their analysis (they are ``normalize`` of ``title`` and
    ``sentences``, so a story stage that cannot use the analysis recomputes them:
    ``monitor.core.analysis.match_texts``), or all the text but the title for an exact copy
    (the story stage only names its original's story; a reprint is judged for what it adds)."""
    if record.kind == "exact":
        return _COPY_OMITS
    return _ANALYSED_OMITS if record.analysis is not None else FINGERPRINTED_OMITS


DecisionKind = Literal["new_story", "development", "no_news", "duplicate", "rejected"]


class Decision(_Record):
    """Exactly one per article: what the monitor concluded, and why."""

    article: str
    outlet: str
    decision: DecisionKind
    story: str | None = None
    title: str = ""
    url: str | None = None
    published: datetime | None = None
    new_sentences: list[str] = Field(
        default_factory=list,
        description="What the article adds, in its order: the body's sentences that carry new"
        " facts, else (the news is in the headline alone) the headline; a single one is"
        " followed by the next unreported sentence about the story (its detail).",
    )
    reasons: dict[str, Any] = Field(default_factory=dict)
    decided_at: datetime = Field(default_factory=utcnow)
    trace: dict[str, float] = Field(default_factory=dict)


AlertKind = Literal["new_story", "development", "breaking"]


class AlertSource(_Record):
    outlet: str
    article: str
    title: str = ""
    url: str | None = None
    published: datetime | None = None


class Alert(_Record):
    """What subscribers receive. ``id`` is the idempotency key (one alert per story event)."""

    id: str
    kind: AlertKind
    story: str
    story_title: str
    article: str
    outlet: str
    title: str = ""
    new_sentences: list[str] = Field(
        default_factory=list, description="The decision's ``new_sentences``, shown under ``title``."
    )
    sources: list[AlertSource] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    story_url: str | None = Field(
        default=None,
        description="The story's page in the story browser (set when web.base_url is).",
    )
    score: float = 0.0
    names: list[str] = Field(
        default_factory=list, description="People, places and organisations named (normalised)."
    )
    published: datetime | None = None
    created: datetime = Field(default_factory=utcnow)
    reasons: dict[str, Any] = Field(default_factory=dict)
    trace: dict[str, float] = Field(default_factory=dict)
