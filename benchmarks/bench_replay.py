"""Throughput of the embedded pipeline (clean -> fingerprint -> story) on a JSONL stream.

    python benchmarks/bench_replay.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/bench_replay.py STREAM --redis redis://127.0.0.1:6399/0
    python benchmarks/bench_replay.py STREAM --limit 2000 --profile   # cProfile top 25

Articles are replayed in file order (the stream is sorted by time) through fresh stores;
with ``--redis`` the keys live under a fresh prefix that is deleted afterwards. Prints
articles/s for the whole pipeline, the decision counts, and the milliseconds per article
each stage took (from the stages' ``monitor_stage_seconds`` histograms).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
import uuid
from collections import Counter
from pathlib import Path

import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from monitor.commands.replay import read_articles
from monitor.pipeline import Pipeline
from monitor.settings import Settings

STAGES = ("clean", "fingerprint", "story")


def _stage_seconds() -> dict[str, float]:
    """Seconds spent per stage so far (the stages' own STAGE_SECONDS histograms)."""
    return {
        stage: REGISTRY.get_sample_value("monitor_stage_seconds_sum", {"stage": stage}) or 0.0
        for stage in STAGES
    }


async def bench(path: Path, redis_url: str | None, limit: int | None) -> None:
    articles = list(read_articles([path]))[:limit]
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    settings = Settings(redis={"url": redis_url or "redis://unused", "key_prefix": prefix})
    counts: Counter[str] = Counter()
    before = _stage_seconds()
    started = time.perf_counter()
    async with Pipeline(settings, redis_url=redis_url) as pipeline:
        async for decision, _ in pipeline.process_many(articles):
            counts[decision.decision] += 1
    elapsed = time.perf_counter() - started
    store = f"redis {redis_url}" if redis_url else "memory"
    print(
        f"{len(articles)} articles in {elapsed:.2f}s = {len(articles) / elapsed:,.0f} articles/s "
        f"({store} stores)"
    )
    print("decisions:", dict(counts.most_common()))
    after = _stage_seconds()
    per_stage = ", ".join(
        f"{stage} {(after[stage] - before[stage]) / len(articles) * 1000:.2f}" for stage in STAGES
    )
    print(f"ms per article by stage: {per_stage}")
    if redis_url:
        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--redis", metavar="URL")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="profile order (cumulative, tottime)")
    args = parser.parse_args()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(bench(args.stream, args.redis, args.limit))
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
    else:
        asyncio.run(bench(args.stream, args.redis, args.limit))


if __name__ == "__main__":
    main()
