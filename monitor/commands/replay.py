"""``monitor replay PATH...``: run articles through the whole pipeline, one decision per line.

Inputs, processed in the order given: scraped ``.txt`` pages (the clean stage finds the title
and drops boilerplate), ``.html`` pages, and ``.jsonl`` files with one article per line
(``id``, ``title``, ``text`` or ``html``, ``outlet``, ``published``, ``url``). A ``.txt`` or
``.html`` file is its own outlet (named after the file), so two files are never taken for
one outlet's revisions. Writes ``{"article", "decision", "story", "new_sentences",
"reasons", "title", "outlet"}`` per article to stdout as JSON lines.

Example: ``monitor replay tests/data/seeds.jsonl`` or, with Redis stores,
``monitor replay --redis redis://127.0.0.1:6379/0 stream.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from monitor.core.records import Decision, RawArticle
from monitor.pipeline import Pipeline
from monitor.settings import load_settings

__all__ = ["decision_line", "read_articles", "register", "replay"]

PROGRESS_MIN_ARTICLES = 200


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="run article files through the pipeline, print one decision per line"
    )
    parser.add_argument("paths", nargs="+", type=Path, help=".txt, .html or .jsonl files")
    parser.add_argument("--redis", metavar="URL", help="use Redis stores at URL (default: memory)")
    parser.set_defaults(func=_run)


def read_articles(paths: list[Path]) -> Iterator[RawArticle]:
    """The articles of ``paths``, in order."""
    for path in paths:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    if line.strip():
                        yield _from_json(json.loads(line), f"{path.stem}-{number}")
        elif path.suffix in (".html", ".htm"):
            page = path.read_text(encoding="utf-8", errors="replace")
            yield RawArticle(id=path.stem, outlet=path.stem, html=page)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            yield RawArticle(id=path.stem, outlet=path.stem, text=text)


def _from_json(row: dict[str, Any], default_id: str) -> RawArticle:
    row = dict(row)
    row.setdefault("id", default_id)
    row["id"] = str(row["id"])
    row["outlet"] = str(row.get("outlet") or "unknown")
    for name in ("title", "text"):
        row[name] = row.get(name) or ""
    return RawArticle.model_validate(row)


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
    """Replay ``paths`` into ``out``; returns the number of articles."""
    articles = list(read_articles(paths))
    show = sys.stderr.isatty() and len(articles) >= PROGRESS_MIN_ARTICLES
    count = 0
    async with Pipeline(load_settings(), redis_url=redis_url) as pipeline:
        with tqdm(total=len(articles), disable=not show, unit="article", file=sys.stderr) as bar:
            async for decision, _alert in pipeline.process_many(articles):
                out.write(decision_line(decision) + "\n")
                count += 1
                bar.update()
    return count


def _run(args: argparse.Namespace) -> int:
    missing = [str(path) for path in args.paths if not path.is_file()]
    if missing:
        print(f"monitor replay: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    asyncio.run(replay(args.paths, sys.stdout, args.redis))
    return 0
