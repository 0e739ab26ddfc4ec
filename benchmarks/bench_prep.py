"""CPU per article of a prep worker's work (``monitor.workers.Worker``), in one process.

    python benchmarks/bench_prep.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/bench_prep.py STREAM --rounds 3 --profile   # cProfile top 30 (tottime)
    python benchmarks/bench_prep.py STREAM --sketch               # also the character sketch alone

What a prep worker of ``monitor replay`` does to the stream, chunk by chunk (64 articles):
parse the lines, clean (``prepare`` and, with the template store's answers counted here in
input order, ``finished``), fingerprint sketch, story analysis. Prints the CPU milliseconds
per article of each round and a SHA-256 of what the worker sends back (the clean articles
without their trace times, fingerprints, features, lookup keys), to check that a change to
the per-article work leaves its output as it was (run with a fixed ``PYTHONHASHSEED`` when
comparing digests of two codes). The digest is of the objects, not of how they pickle (every
dataclass as its class name and fields), and is computed after the timed round: the CPU
figures leave out the pickling of the replies (``--pickle``: time it, as a worker's
``finish`` does, within the round). ``--sketch``: then the character sketch alone
(``stories.char_sketch`` of each analysed article's title and lead terms), microseconds per
article, first with the sketch's per-term memo empty (as in a fresh worker), then again.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import hashlib
import io
import pickle
import pstats
import time
from pathlib import Path
from typing import Any

from monitor.core import stories
from monitor.inputs import InputLine, input_items
from monitor.lifecycle import tune_gc
from monitor.settings import Settings
from monitor.stages.clean import observe_templates
from monitor.stores.templates import memory_template_store
from monitor.workers import Prepared, Worker, warm_tables

CHUNK = 64


async def prep_all(
    items: list[InputLine],
    kept: list[Prepared] | None,
    texts: list[stories.ArticleText],
    pickled: bool,
) -> float:
    """CPU seconds to prepare ``items`` (the template store's counting included; the
    pickling of each chunk's reply if ``pickled``); the analysed articles are appended to
    ``texts``, and the results to ``kept``."""
    settings = Settings()
    templates = memory_template_store(settings)
    worker = Worker(settings)
    cpu = time.process_time()
    for chunk_id, start in enumerate(range(0, len(items), CHUNK)):
        observations = worker.prepare(chunk_id, items[start : start + CHUNK])
        answers = await observe_templates(templates, observations)
        results = worker.finished(chunk_id, answers)
        if pickled:
            pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        texts += [a[1].text for _, a in results if a is not None and a[1] is not None]
        if kept is not None:
            kept += results
    return time.process_time() - cpu


class _Canonical(pickle.Pickler):
    """Pickles a dataclass as its class name and fields, whatever its ``__reduce__``: a
    digest of the objects that does not change with how they are sent."""

    def reducer_override(self, obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            values = tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))
            return _record, (type(obj).__qualname__, values)
        return NotImplemented


def _record(name: str, values: tuple[Any, ...]) -> None:
    """Stands for a dataclass in ``_Canonical``'s output (never called: only hashed)."""


def output_digest(results: list[Prepared]) -> str:
    digest = hashlib.sha256()
    for article, analysis in results:
        article.trace.clear()
        buffer = io.BytesIO()
        _Canonical(buffer, protocol=5).dump((article, analysis))
        digest.update(buffer.getvalue())
    return digest.hexdigest()


def main() -> None:
    tune_gc()  # as every ``monitor`` command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--sketch", action="store_true")
    parser.add_argument("--pickle", action="store_true", help="time the replies' pickling")
    args = parser.parse_args()
    warm_tables()
    items = [item for item in input_items([args.stream]) if isinstance(item, InputLine)]
    items = items[: args.limit]
    for round_ in range(args.rounds):
        kept: list[Prepared] | None = [] if round_ == 0 else None
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        texts: list[stories.ArticleText] = []
        seconds = asyncio.run(prep_all(items, kept, texts, args.pickle))
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
        line = f"round {round_ + 1}: {seconds / len(items) * 1000:.3f} ms CPU/article"
        if kept is not None:
            line += f", output {output_digest(kept)[:16]}"
        print(line, flush=True)
    if args.sketch:
        stories._GRAMS.clear()
        for state in ("new memo", "again"):
            cpu = time.process_time()
            sketches = [stories.text_sketch(text) for text in texts]
            spent = (time.process_time() - cpu) / len(texts) * 1e6
            check = hashlib.sha256(repr([list(s.items()) for s in sketches]).encode())
            print(f"char sketch ({state}): {spent:.0f} us/article, {check.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
