"""``monitor similarity FILE``: are two articles the same story? The story stage's own test.

Each input line is ``{"id", "a": {"title", "text", "published"?}, "b": {...}}``; each output
line ``{"id", "similarity": 0..1, "same_story": bool}``. ``a`` is made a one-article story
and ``b`` scored against it with exactly the function and threshold the story stage uses
(``monitor.core.stories.similarity``, ``StorySettings.same_story_threshold``); time decay
applies only when both have a ``published`` date. Texts are cleaned by the clean stage's
core (``monitor.core.clean.clean_article``) first. ``FILE`` may be ``-`` for stdin.

Every input line gets exactly one output line, written as soon as it is scored. A line that
cannot be scored (not UTF-8, not JSON, not an object, no ``a`` or ``b`` object, fields of the
wrong type, blank) gets ``{"id", "similarity": null, "same_story": null, "rejected": {"reason",
"detail"}}``, the detail naming the file, the line number and what is wrong. A pair without
an id is named ``<file stem>-<line number>``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from monitor.commands.json_lines import BadLine, read_json_lines
from monitor.core.arabic import normalize
from monitor.core.clean import clean_article
from monitor.core.decide import event_time
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.core.sentences import split_sentences
from monitor.core.stories import article_features, new_story_state, similarity
from monitor.settings import Settings, load_settings

__all__ = ["register", "score_lines", "score_pair"]

HOUR = 3600.0

logger = logging.getLogger(__name__)


class _Side(BaseModel):
    """One article of a pair: what ``score_pair`` reads of it, typed."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    text: str | None = None
    html: str | None = None
    published: datetime | None = None


class _Pair(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    a: _Side
    b: _Side


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


def score_lines(
    lines: Iterable[bytes | str],
    out: TextIO,
    settings: Settings | None = None,
    source: str = "<stdin>",
) -> int:
    """Score each line of ``lines`` (named ``source`` in rejections) into ``out``; returns
    the number of output lines (one per input line)."""
    settings = settings or load_settings()
    stem = Path(source).stem if source != "<stdin>" else "stdin"
    count = 0
    for line in read_json_lines(lines, source):
        default_id = f"{stem}-{line.number}"
        if isinstance(line, BadLine):
            result = _rejected(default_id, line.reason, line.detail)
        else:
            result = _score_row(line.row, default_id, f"{source} line {line.number}", settings)
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count


def _score_row(
    row: dict[str, Any], default_id: str, where: str, settings: Settings
) -> dict[str, Any]:
    try:
        pair = _Pair.model_validate(row)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        pair_id = row.get("id")
        name = str(pair_id) if isinstance(pair_id, str | int) and pair_id != "" else default_id
        return _rejected(name, "invalid_fields", f"{where}: {problems}")
    name = default_id if pair.id is None or pair.id == "" else str(pair.id)
    value, same = score_pair(
        pair.a.model_dump(exclude_none=True), pair.b.model_dump(exclude_none=True), settings
    )
    return {"id": name, "similarity": round(value, 4), "same_story": same}


def _rejected(name: str, reason: str, detail: str) -> dict[str, Any]:
    logger.warning("pair rejected (%s): %s", reason, detail)
    return {
        "id": name,
        "similarity": None,
        "same_story": None,
        "rejected": {"reason": reason, "detail": detail},
    }


def _run(args: argparse.Namespace) -> int:
    if args.file == "-":
        score_lines(sys.stdin.buffer, sys.stdout)
        return 0
    path = Path(args.file)
    if not path.exists() or path.is_dir():
        print(f"monitor similarity: no such file: {path}", file=sys.stderr)
        return 2
    with path.open("rb") as lines:
        score_lines(lines, sys.stdout, source=str(path))
    return 0
