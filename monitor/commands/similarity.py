"""``monitor similarity FILE``: are two articles the same story? The story stage's own test.

Each input line is ``{"id", "a": {"title", "text", "published"?}, "b": {...}}``; each output
line ``{"id", "similarity": 0..1, "same_story": bool}``. ``a`` is made a one-article story
and ``b`` scored against it with exactly the function and threshold the story stage uses
(``monitor.core.stories.similarity``, ``StorySettings.same_story_threshold``); time decay
applies only when both have a ``published`` date. Texts are cleaned by the clean stage's
core (``monitor.core.clean.clean_article``) first. ``FILE`` may be ``-`` for stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from monitor.core.arabic import normalize
from monitor.core.clean import clean_article
from monitor.core.decide import event_time
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.core.sentences import split_sentences
from monitor.core.stories import article_features, new_story_state, similarity
from monitor.settings import Settings, load_settings

__all__ = ["register", "score_lines", "score_pair"]

HOUR = 3600.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "similarity", help="score article pairs with the story stage's similarity"
    )
    parser.add_argument("file", help="JSON lines {id, a: {title, text}, b: {...}}; - for stdin")
    parser.set_defaults(func=_run)


def _clean(side: dict[str, Any], name: str, settings: Settings) -> CleanArticle:
    raw = RawArticle(
        id=name,
        outlet=name,
        title=str(side.get("title") or ""),
        text=str(side.get("text") or ""),
        html=side.get("html"),
        published=side.get("published"),
    )
    cleaned = clean_article(raw, settings=settings.clean)
    if isinstance(cleaned, Rejection):
        # Too short or odd for the cleaner: still compare what there is, normalised.
        sentences = split_sentences(raw.text) or [raw.text]
        return CleanArticle(
            id=name,
            outlet=name,
            title=raw.title,
            paragraphs=[raw.text],
            sentences=sentences,
            match_title=normalize(raw.title),
            match_sentences=[normalize(s) for s in sentences],
            match_text=normalize(raw.text),
            language="und",
            content_hash="",
            published=raw.published,
        )
    return cleaned


def score_pair(
    a: dict[str, Any], b: dict[str, Any], settings: Settings | None = None
) -> tuple[float, bool]:
    """(similarity, same_story) of article ``b`` against a story made of article ``a``."""
    settings = settings or load_settings()
    first, second = _clean(a, "a", settings), _clean(b, "b", settings)
    start = event_time(first, default=0.0)
    story = new_story_state(
        "a",
        first.title,
        article_features(first.match_title, first.match_sentences),
        now=start,
        sentences=[],
    )
    idle = 0.0
    if first.published is not None and second.published is not None:
        idle = max(0.0, event_time(second, default=start) - start) / HOUR
    score = similarity(
        article_features(second.match_title, second.match_sentences),
        story,
        idle_hours=idle,
        half_life_hours=settings.stories.half_life_hours,
        decay_floor=settings.stories.decay_floor,
    )
    return score.score, score.score >= settings.stories.same_story_threshold


def score_lines(lines: TextIO, out: TextIO, settings: Settings | None = None) -> int:
    settings = settings or load_settings()
    count = 0
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        value, same = score_pair(row["a"], row["b"], settings)
        out.write(
            json.dumps({"id": row.get("id"), "similarity": round(value, 4), "same_story": same})
            + "\n"
        )
        count += 1
    return count


def _run(args: argparse.Namespace) -> int:
    if args.file == "-":
        score_lines(sys.stdin, sys.stdout)
        return 0
    path = Path(args.file)
    if not path.is_file():
        print(f"monitor similarity: no such file: {path}", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8") as lines:
        score_lines(lines, sys.stdout)
    return 0
