"""``monitor replay PATH...``: run articles through the whole pipeline, one decision per line.

Inputs, processed in the order given: scraped ``.txt`` pages (the clean stage finds the title
and drops boilerplate), ``.html`` pages, and ``.jsonl`` files with one article per line
(``id``, ``title``, ``text`` or ``html``, ``outlet``, ``published``, ``url``). A ``.txt`` or
``.html`` file is its own outlet (named after the file), so two files are never taken for
one outlet's revisions. Writes ``{"article", "decision", "story", "new_sentences",
"reasons", "title", "outlet"}`` per input to stdout as JSON lines, each as soon as it is
decided: exactly one line per ``.jsonl`` line, in order. A line that cannot be an article
(not UTF-8, not JSON, not an object, fields of the wrong type, blank) is a ``rejected``
decision whose ``reasons`` name the stage (``input``), the reason and, in ``detail``, the
file, the line number and what is wrong; the replay goes on.

Example: ``monitor replay tests/data/seeds.jsonl`` or, with Redis stores,
``monitor replay --redis redis://127.0.0.1:6379/0 stream.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from tqdm import tqdm

from monitor.commands.json_lines import BadLine, read_json_lines
from monitor.core.charset import decode_declared, meta_charset
from monitor.core.records import Decision, RawArticle, Rejection
from monitor.metrics import ARTICLES_REJECTED
from monitor.pipeline import Pipeline
from monitor.settings import load_settings
from monitor.stages import labelled
from monitor.stages.story import rejection_stage

__all__ = ["decision_line", "read_articles", "read_inputs", "register", "replay"]

logger = logging.getLogger(__name__)

PROGRESS_MIN_ARTICLES = 200


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="run article files through the pipeline, print one decision per line"
    )
    parser.add_argument("paths", nargs="+", type=Path, help=".txt, .html or .jsonl files")
    parser.add_argument("--redis", metavar="URL", help="use Redis stores at URL (default: memory)")
    parser.set_defaults(func=_run)


def read_inputs(paths: list[Path]) -> Iterator[RawArticle | Rejection]:
    """One article, or the rejection of what could not be read, per input, in order.

    An input is a ``.txt`` or ``.html`` file, or one line of a ``.jsonl`` file (read a line
    at a time). A line that is not a JSON object, or whose fields have the wrong types, is an
    ``input`` stage ``Rejection`` naming the file, the line and the problem. An article
    without an id gets ``<file stem>-<line number>``.
    """
    for path in paths:
        if path.suffix == ".jsonl":
            yield from _jsonl_inputs(path)
            continue
        try:
            page = _read_page(path)
        except OSError as exc:
            yield _input_rejection(path.stem, path.stem, "unreadable", f"{path}: {exc.strerror}")
        else:
            if path.suffix in (".html", ".htm"):
                yield RawArticle(id=path.stem, outlet=path.stem, html=page)
            else:
                yield RawArticle(id=path.stem, outlet=path.stem, text=page)


def _read_page(path: Path) -> str:
    """A ``.txt`` or ``.html`` file as text: UTF-8 unless an HTML page declares otherwise,
    and in the charset it really is in when that does not fit (an Arabic windows-1256 page
    saved from a site that declares UTF-8). Newlines as in text mode."""
    body = path.read_bytes()
    declared = [meta_charset(body)] if path.suffix in (".html", ".htm") else []
    text = decode_declared(body, declared).text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_articles(paths: list[Path]) -> Iterator[RawArticle]:
    """The articles of ``paths``, in order; raises ``ValueError`` at the first bad input
    (for callers that need every input to be an article: tests, benchmarks)."""
    for item in read_inputs(paths):
        if isinstance(item, Rejection):
            raise ValueError(item.detail)
        yield item


def _jsonl_inputs(path: Path) -> Iterator[RawArticle | Rejection]:
    try:
        lines = path.open("rb")
    except OSError as exc:
        yield _input_rejection(path.stem, path.stem, "unreadable", f"{path}: {exc.strerror}")
        return
    with lines:
        for line in read_json_lines(lines, str(path)):
            default_id = f"{path.stem}-{line.number}"
            if isinstance(line, BadLine):
                yield _input_rejection(default_id, "unknown", line.reason, line.detail)
            else:
                yield _from_json(line.row, default_id, f"{path} line {line.number}")


def _from_json(row: dict[str, Any], default_id: str, where: str) -> RawArticle | Rejection:
    row = dict(row)
    article_id = _name(row.get("id"), default_id)
    outlet = _name(row.get("outlet"), "unknown")
    if article_id is None or outlet is None:
        field = "id" if article_id is None else "outlet"
        detail = f"{where}: {field}: must be a string or an integer"
        return _input_rejection(
            article_id or default_id, outlet or "unknown", "invalid_fields", detail
        )
    row["id"], row["outlet"] = article_id, outlet
    for name in ("title", "text"):
        if row.get(name) is None:
            row[name] = ""
    try:
        return RawArticle.model_validate(row)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        return _input_rejection(article_id, outlet, "invalid_fields", f"{where}: {problems}")


def _name(value: Any, default: str) -> str | None:
    """An id or outlet as text: ``default`` when missing, null or empty; ``None`` when it is
    not a string or an integer (a list or an object has no text that names it)."""
    if value is None or value == "":
        return default
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def _input_rejection(article_id: str, outlet: str, reason: str, detail: str) -> Rejection:
    return Rejection(id=article_id, outlet=outlet, stage="input", reason=reason, detail=detail)


def decision_line(decision: Decision) -> str:
    return json.dumps(
        {
            "article": decision.article,
            "decision": decision.decision,
            "story": decision.story,
            "new_sentences": decision.new_sentences,
            "reasons": decision.reasons,
            "title": decision.title,
            "outlet": decision.outlet,
        },
        ensure_ascii=False,
        default=str,
    )


async def replay(paths: list[Path], out: TextIO, redis_url: str | None = None) -> int:
    """Replay ``paths`` into ``out``, one decision per input as soon as it is made (a bad
    input line is a ``rejected`` decision, logged and counted); returns the number of
    decisions."""
    show = sys.stderr.isatty()
    total = _count_inputs(paths) if show else 0
    count = 0
    async with Pipeline(load_settings(), redis_url=redis_url) as pipeline:
        with tqdm(
            total=total,
            disable=not show or total < PROGRESS_MIN_ARTICLES,
            unit="article",
            file=sys.stderr,
        ) as bar:
            for item in read_inputs(paths):
                if isinstance(item, Rejection):
                    decision = _reject_input(item)
                else:
                    decision, _alert = await pipeline.process(item)
                out.write(decision_line(decision) + "\n")
                out.flush()
                count += 1
                bar.update()
    return count


def _reject_input(rejection: Rejection) -> Decision:
    logger.warning("input rejected (%s): %s", rejection.reason, rejection.detail)
    labelled(ARTICLES_REJECTED, rejection.stage, rejection.reason).inc()
    return rejection_stage(rejection)


def _count_inputs(paths: list[Path]) -> int:
    """Inputs in ``paths`` (for the progress bar), counted without holding a file in memory."""
    count = 0
    for path in paths:
        if path.suffix != ".jsonl":
            count += 1
            continue
        with contextlib.suppress(OSError), path.open("rb") as lines:
            count += sum(1 for _ in lines)
    return count


def _run(args: argparse.Namespace) -> int:
    # Not is_file(): a named pipe (``<(zcat stream.jsonl.gz)``) is a fine input, read as it comes.
    missing = [str(path) for path in args.paths if not path.exists() or path.is_dir()]
    if missing:
        print(f"monitor replay: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    asyncio.run(replay(args.paths, sys.stdout, args.redis))
    return 0
