"""``monitor replay PATH...``: run articles through the whole pipeline, one decision per line.

Inputs, processed in the order given: scraped ``.txt`` pages (the clean stage finds the title
and drops boilerplate), ``.html`` pages, and ``.jsonl`` files with one article per line
(``id``, ``title``, ``text`` or ``html``, ``outlet``, ``published``, ``url``). A ``.txt`` or
``.html`` file is its own outlet (named after the file), so two files are never taken for
one outlet's revisions. Writes ``{"article", "decision", "story", "new_sentences",
"reasons", "title", "outlet"}`` per input to stdout as JSON lines, each as soon as it is
decided (out by the time the replay waits for more input): exactly one line per ``.jsonl``
line, in order. A line that cannot be an article (not UTF-8, not JSON, not an object,
fields of the wrong type, blank) is a ``rejected`` decision whose ``reasons`` name the
stage (``input``), the reason and, in ``detail``, the file, the line number and what is
wrong; the replay goes on.

``--workers N`` (default: the cores this process may use) runs the per-article work (parsing,
cleaning, fingerprint sketches, story features) in N - 1 worker processes beside this one,
which keeps the stores and decides in order: the output is the same, byte for byte, as with
``--workers 1`` (everything in this one process). See ``monitor.workers``.

Example: ``monitor replay tests/data/seeds.jsonl`` or, with Redis stores,
``monitor replay --redis redis://127.0.0.1:6379/0 stream.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from monitor.inputs import count_inputs, input_items, read_articles, read_inputs

if TYPE_CHECKING:
    from monitor.core.records import Decision

# The pipeline (numpy, pydantic models, the stores) and the settings are imported once there
# is an input to decide: ``monitor replay --help`` and a replay of an empty file take a
# fraction of the time (``tests/test_cli.py``).

__all__ = ["decision_line", "read_articles", "read_inputs", "register", "replay"]

logger = logging.getLogger(__name__)

PROGRESS_MIN_ARTICLES = 200


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="run article files through the pipeline, print one decision per line"
    )
    parser.add_argument("paths", nargs="+", type=Path, help=".txt, .html or .jsonl files")
    parser.add_argument("--redis", metavar="URL", help="use Redis stores at URL (default: memory)")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="processes to use (default: the available cores); 1: all in this process",
    )
    # Its pipeline, pool and loop are closed when it returns: nothing left to finalize at
    # exit, where the collector's last passes would take 0.2 s (``monitor.cli``).
    parser.set_defaults(func=_run, freeze_at_exit=True)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} workers: must be at least 1")
    return value


_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode
"""``json.dumps(..., ensure_ascii=False, default=str)``, its encoder built once rather than
per line."""


def decision_line(decision: Decision) -> str:
    return _ENCODE(
        {
            "article": decision.article,
            "decision": decision.decision,
            "story": decision.story,
            "new_sentences": decision.new_sentences,
            "reasons": decision.reasons,
            "title": decision.title,
            "outlet": decision.outlet,
        }
    )


async def replay(
    paths: list[Path], out: TextIO, redis_url: str | None = None, workers: int | None = None
) -> int:
    """Replay ``paths`` into ``out``, one decision per input (a bad input line is a
    ``rejected`` decision, logged and counted); returns the number of decisions.
    ``workers``: processes to use (``None``: the available cores).

    What is decided is flushed whenever the pipeline is about to wait (for input or for its
    workers): a line is out before the next input is read, while a busy replay writes its
    lines a buffer at a time instead of making a write call per line (``Pipeline.
    process_many``'s ``idle``)."""
    items = input_items(paths)
    first = next(items, None)
    if first is None:
        return 0
    from monitor.pipeline import Pipeline
    from monitor.settings import load_settings
    from monitor.workers import available_cores

    settings = load_settings()
    if workers is None:
        workers = available_cores()
    show = sys.stderr.isatty()
    total = count_inputs(paths) if show else 0
    count = 0
    started = time.time()  # the stores' clock for the whole replay (see ``Pipeline``)
    async with Pipeline(settings, redis_url=redis_url, clock=lambda: started) as pipeline:
        bar = _progress(total) if show and total >= PROGRESS_MIN_ARTICLES else None
        try:
            async for decision, _alert in pipeline.process_many(
                itertools.chain([first], items), workers=workers, idle=out.flush
            ):
                out.write(decision_line(decision) + "\n")
                count += 1
                if bar is not None:
                    bar.update()
        finally:
            out.flush()
            if bar is not None:
                bar.close()
    return count


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="article", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    # Not is_file(): a named pipe (``<(zcat stream.jsonl.gz)``) is a fine input, read as it comes.
    missing = [str(path) for path in args.paths if not path.exists() or path.is_dir()]
    if missing:
        print(f"monitor replay: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    asyncio.run(replay(args.paths, sys.stdout, args.redis, args.workers))
    return 0
