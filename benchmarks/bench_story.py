"""The single-writer story stage alone: milliseconds of CPU per article on a JSONL stream.

    python benchmarks/bench_story.py STREAM --prepare inputs.pickle   # once: clean, fingerprint, features
    python benchmarks/bench_story.py STREAM --inputs inputs.pickle [--rounds 3] [--profile]

``--prepare`` runs the stages before the story stage in this process (clean, fingerprint
against in-memory stores, the story features and lookup keys a prep worker computes) and
pickles what the story stage receives. ``--inputs`` then times ``story_stage`` alone over a
fresh in-memory story store, as the deciding process of ``monitor replay --workers 2`` (or
the story worker of the service path) runs it: CPU time of this process
(``time.process_time``), so other load on the machine matters less than for wall time. Run
it with ``PYTHONPATH`` set to another checkout to compare code versions on the same inputs
(the pickled records must have the same fields). Prints a SHA-256 of the decisions and
alerts (without their wall-clock trace stamps) to check that two versions decide alike.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import pickle
import pstats
import time
from pathlib import Path
from typing import Any

from monitor.commands.replay import read_articles
from monitor.core.analysis import match_texts, read_article
from monitor.core.records import CleanArticle, FingerprintedArticle, RawArticle
from monitor.core.stories import ArticleFeatures, analyse, features_of, lookup_keys
from monitor.lifecycle import tune_gc
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.stages.clean import clean_stage
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stages.story import story_stage
from monitor.stores.stories import MemoryStoryStore

Input = tuple[FingerprintedArticle, ArticleFeatures | None, list[str] | None]


async def prepare(path: Path) -> list[Input]:
    """What the story stage receives for each Arabic article of the stream, in order."""
    pipeline = Pipeline(Settings())
    inputs: list[Input] = []
    for raw in read_articles([path]):
        if not isinstance(raw, RawArticle):
            continue
        cleaned = await clean_stage(raw, pipeline.templates, pipeline.settings)
        if not isinstance(cleaned, CleanArticle) or cleaned.language != "ar":
            continue
        item = await fingerprint_stage(cleaned, pipeline.fingerprints, pipeline.settings)
        if item.kind == "exact":
            inputs.append((item, None, None))
            continue
        # As a prep worker does (``monitor.workers``): analysed and read there.
        features = features_of(read_article(item.article, analyse(*match_texts(item.article))))
        inputs.append((item, features, lookup_keys(features)))
    return inputs


_CLOCK_FIELDS = {"trace", "decided_at", "created"}
"""Wall-clock stamps of a decision or alert: not part of what was decided."""


def _digest(decision: Any, alert: Any, sha: Any) -> None:
    sha.update(decision.model_dump_json(exclude=_CLOCK_FIELDS).encode())
    if alert is not None:
        sha.update(alert.model_dump_json(exclude=_CLOCK_FIELDS).encode())


async def run(inputs: list[Input]) -> tuple[float, str]:
    """CPU seconds of the story stage over ``inputs``, and the digest of its outcomes."""
    settings = Settings()
    store = MemoryStoryStore(settings.stories.timeline_entries)
    outcomes = []
    started = time.process_time()
    for item, features, lookup in inputs:
        outcomes.append(await story_stage(item, store, settings, features, lookup))
    cpu = time.process_time() - started
    sha = hashlib.sha256()
    for decision, alert in outcomes:
        _digest(decision, alert, sha)
    return cpu, sha.hexdigest()


def main() -> None:
    tune_gc()  # as every ``monitor`` command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--prepare", type=Path, metavar="PICKLE")
    parser.add_argument("--inputs", type=Path, metavar="PICKLE")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.prepare:
        inputs = asyncio.run(prepare(args.stream))
        args.prepare.write_bytes(pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"{len(inputs)} story-stage inputs -> {args.prepare}")
        return
    if not args.inputs:
        parser.error("--prepare PICKLE or --inputs PICKLE")
    for _ in range(args.rounds):
        # Fresh inputs per round: the stage keeps references to them in its stories.
        inputs = pickle.loads(args.inputs.read_bytes())
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        cpu, digest = asyncio.run(run(inputs))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats("/tmp/story.prof")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        print(
            f"story stage: {len(inputs)} articles, {cpu:.2f} s CPU = "
            f"{cpu / len(inputs) * 1000:.3f} ms/article ({len(inputs) / cpu:,.0f}/s per core); "
            f"outcomes sha256 {digest[:16]}"
        )


if __name__ == "__main__":
    main()
