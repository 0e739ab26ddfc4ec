"""CPU per article of a prep worker's work (``monitor.workers.Worker``), in one process.

    python benchmarks/bench_prep.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/bench_prep.py STREAM --rounds 3 --profile   # cProfile top 30 (tottime)

What a prep worker of ``monitor replay`` does to the stream, chunk by chunk (64 articles):
parse the lines, clean (``prepare`` and, with the template store's answers counted here in
input order, ``finished``), fingerprint sketch, story analysis. Prints the CPU milliseconds
per article of each round and a SHA-256 of what the worker sends back (the clean articles
without their trace times, fingerprints, features, lookup keys), to check that a change to
the per-article work leaves its output as it was (run with a fixed ``PYTHONHASHSEED`` when
comparing digests of two codes).
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

from monitor.inputs import InputLine, input_items
from monitor.lifecycle import tune_gc
from monitor.settings import Settings
from monitor.stages.clean import observe_templates
from monitor.stores.templates import memory_template_store
from monitor.workers import Worker, warm_tables

CHUNK = 64


async def prep_all(items: list[InputLine], digest: hashlib._Hash | None) -> float:
    """CPU seconds to prepare ``items`` (the template store's counting included)."""
    settings = Settings()
    templates = memory_template_store(settings)
    worker = Worker(settings)
    cpu = time.process_time()
    for chunk_id, start in enumerate(range(0, len(items), CHUNK)):
        observations = worker.prepare(chunk_id, items[start : start + CHUNK])
        answers = await observe_templates(templates, observations)
        results = worker.finished(chunk_id, answers)
        if digest is not None:
            for article, analysis in results:
                article.trace.clear()
                digest.update(pickle.dumps((article, analysis), protocol=5))
    return time.process_time() - cpu


def main() -> None:
    tune_gc()  # as every ``monitor`` command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    warm_tables()
    items = [item for item in input_items([args.stream]) if isinstance(item, InputLine)]
    items = items[: args.limit]
    for round_ in range(args.rounds):
        digest = hashlib.sha256() if round_ == 0 else None
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        seconds = asyncio.run(prep_all(items, digest))
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
        line = f"round {round_ + 1}: {seconds / len(items) * 1000:.3f} ms CPU/article"
        if digest is not None:
            line += f", output {digest.hexdigest()[:16]}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
