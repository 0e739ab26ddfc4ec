"""Throughput of the embedded pipeline (clean -> fingerprint -> story) on a JSONL stream.

    python benchmarks/bench_replay.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/bench_replay.py STREAM --redis redis://127.0.0.1:6399/0
    python benchmarks/bench_replay.py STREAM --limit 2000 --profile --mode one  # cProfile top 30

Articles are replayed in file order (the stream is sorted by time) through fresh stores,
once in one process and once with cleaning, fingerprint sketches and story features in a
worker process overlapped with the rest (``Pipeline.process_many(workers=2)``, what
``monitor replay`` does on two cores: ``monitor.workers``), so the ratio comes from one run; with ``--redis`` the keys live under a fresh prefix that is
deleted afterwards. Prints articles/s for the whole pipeline (wall clock), articles per CPU
second of the busiest process (what an otherwise idle machine sustains: on a loaded one
the overlapped mode has no free core and its wall figure drops), the decision counts, and
the milliseconds per article each stage took in this process (``monitor_stage_seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import resource
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from monitor.commands.replay import read_articles
from monitor.core.records import RawArticle
from monitor.lifecycle import tune_gc
from monitor.pipeline import Pipeline
from monitor.settings import Settings

STAGES = ("clean", "fingerprint", "story")


def _stage_seconds() -> dict[str, float]:
    """Seconds spent per stage so far (the stages' own STAGE_SECONDS histograms)."""
    return {
        stage: REGISTRY.get_sample_value("monitor_stage_seconds_sum", {"stage": stage}) or 0.0
        for stage in STAGES
    }


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    """CPU time of this process: unlike wall time, hardly affected by other load."""
    worker_cpu_seconds: float
    counts: Counter[str]
    stage_seconds: dict[str, float]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def replay(articles: list[RawArticle], redis_url: str | None, overlap: bool) -> Run:
    """Timings, decision counts and seconds per stage of one replay through fresh stores."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    settings = Settings(redis={"url": redis_url or "redis://unused", "key_prefix": prefix})
    counts: Counter[str] = Counter()
    before = _stage_seconds()
    children_before = _children_cpu()
    started = time.perf_counter()
    cpu_started = time.process_time()
    async with Pipeline(settings, redis_url=redis_url) as pipeline:
        async for decision, _ in pipeline.process_many(articles, overlap=overlap):
            counts[decision.decision] += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    after = _stage_seconds()
    if redis_url:
        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
        await client.aclose()
    return Run(
        seconds=elapsed,
        cpu_seconds=cpu,
        worker_cpu_seconds=_children_cpu() - children_before,  # the worker has exited
        counts=counts,
        stage_seconds={stage: after[stage] - before[stage] for stage in STAGES},
    )


async def bench(path: Path, redis_url: str | None, limit: int | None, modes: list[str]) -> None:
    articles = list(read_articles([path]))[:limit]
    store = f"redis {redis_url}" if redis_url else "memory"
    rates: dict[str, float] = {}
    capacities: dict[str, float] = {}
    for mode in modes:
        run = await replay(articles, redis_url, mode == "overlap")
        count = len(articles)
        rates[mode] = count / run.seconds
        # What the machine sustains without other load: each process is bound by its own
        # CPU time (the stores' round trips aside, which are mostly CPU on a local Redis).
        capacities[mode] = count / max(run.cpu_seconds, run.worker_cpu_seconds)
        print(
            f"[{mode}] {count} articles in {run.seconds:.2f}s = {rates[mode]:,.0f} "
            f"articles/s ({store} stores); CPU: this process {run.cpu_seconds:.2f}s, "
            f"worker {run.worker_cpu_seconds:.2f}s = {capacities[mode]:,.0f} articles/CPU-s "
            "of the busiest process"
        )
        print(f"[{mode}] decisions:", dict(run.counts.most_common()))
        # In overlap mode the clean stage runs (and is timed) in the worker process.
        per_stage = ", ".join(
            f"{stage} {run.stage_seconds[stage] / count * 1000:.2f}"
            for stage in STAGES
            if run.stage_seconds[stage]
        )
        print(f"[{mode}] ms per article by stage (this process): {per_stage}")
    if "one" in rates and "overlap" in rates:
        print(
            f"overlap / one process: {rates['overlap'] / rates['one']:.2f}x wall, "
            f"{capacities['overlap'] / capacities['one']:.2f}x by CPU time"
        )


def main() -> None:
    tune_gc()  # as every ``monitor`` command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--redis", metavar="URL")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="profile order (cumulative, tottime)")
    parser.add_argument(
        "--mode",
        choices=("both", "one", "overlap"),
        default="both",
        help="one process, clean in a worker process overlapped with the rest, or both",
    )
    args = parser.parse_args()
    modes = ["one", "overlap"] if args.mode == "both" else [args.mode]
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(bench(args.stream, args.redis, args.limit, modes))
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
    else:
        asyncio.run(bench(args.stream, args.redis, args.limit, modes))


if __name__ == "__main__":
    main()
