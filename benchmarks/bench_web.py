"""Story browser speed on a large Redis, and what timelines cost the story agent.

    python benchmarks/bench_web.py --redis redis://127.0.0.1:6379/0 \\
        --stream /work/shared/data/egypt2013_stream.jsonl

1. Web: fills Redis (a fresh key prefix, deleted afterwards) with ``--stories`` synthetic
   stories (summaries, index filings, 1-8 timeline entries each) through the story agent's
   own write path (``RedisStoryStore(write_behind=True)``), starts ``monitor web --redis``
   (a real server, another process) and times ``--requests`` sequential requests of each
   kind from this process: p50 and p99 in milliseconds.
2. Story agent: the first ``--articles`` articles of ``--stream`` are cleaned and
   fingerprinted once; then the story agent's batch loop (``decide_outcomes``, batches of
   200, write-behind store on Redis) decides them with timelines off and on, alternating
   ``--rounds`` times on fresh prefixes (after an uncounted warm-up round), in this one run:
   articles/s of each (best round), and CPU milliseconds per article of this process plus
   Redis (least of the rounds): the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from monitor.commands.replay import read_articles
from monitor.core.arabic import normalize
from monitor.core.records import CleanArticle, Decision, FingerprintedArticle
from monitor.core.stories import article_features, index_keys, new_story_state
from monitor.lifecycle import tune_gc
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.stages.clean import clean_stage
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stores.stories import RedisStoryStore
from monitor.stream.story_agent import BATCH_SIZE, decide_outcomes

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("بوتين", "كيم", "القاهرة", "الانتخابات", "الاقتصاد", "غزة", "النفط", "الأهلي",
         "الزمالك", "البرلمان", "الحكومة", "الرئيس", "الوزير", "المحكمة", "الجيش", "السودان",
         "ليبيا", "تونس", "الجزائر", "المغرب", "العراق", "سوريا", "لبنان", "الأردن", "اليمن")  # fmt: skip
KINDS = ("new_story", "development", "no_news", "duplicate")


async def fill(client: aioredis.Redis, prefix: str, count: int) -> list[str]:
    store = RedisStoryStore(client, prefix, write_behind=True, cache_size=1000)
    rng = random.Random(7)
    now = time.time()
    ids: list[str] = []
    for i in range(count):
        words = rng.sample(WORDS, 4)
        title = " ".join(words) + f" {i}"
        features = article_features(normalize(title), [normalize(" ".join(words * 3))])
        at = now - rng.random() * 30 * 86_400
        state = new_story_state(f"st-{i:06d}", title, features, now=at, sentences=[])
        timeline = [
            Decision.model_validate({
                "article": f"a-{i}-{j}", "outlet": f"outlet{rng.randrange(40)}",
                "decision": "new_story" if j == 0 else rng.choice(KINDS), "story": state.id,
                "title": title, "url": f"https://example.com/{i}/{j}",
                "published": at + j * 600, "new_sentences": [title] * rng.randrange(3),
            })
            for j in range(rng.randint(1, 8))
        ]  # fmt: skip
        await store.save(state, keys=index_keys(state), articles=[d.article for d in timeline],
                         retention=365 * 86_400, timeline=timeline)  # fmt: skip
        ids.append(state.id)
        if len(ids) % BATCH_SIZE == 0:
            await store.flush()
    await store.flush()
    return ids


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"


async def bench_web(redis_url: str, stories: int, requests: int) -> None:
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"bench-web-{uuid.uuid4().hex[:6]}:"
    try:
        started = time.perf_counter()
        ids = await fill(client, prefix, stories)
        print(f"filled {stories} stories in {time.perf_counter() - started:.0f}s")
        port = _free_port()
        env = {**os.environ, "MONITOR_REDIS__KEY_PREFIX": prefix}
        server = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "web", "--redis", redis_url, "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as web:
                for _ in range(200):
                    try:
                        if (await web.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                first = (await web.get("/api/stories", params={"limit": 50})).json()
                rng = random.Random(1)
                kinds = {
                    "/api/stories (50)": lambda: ("/api/stories", {"limit": 50}),
                    "/api/stories next page": lambda: ("/api/stories", {"limit": 50, "cursor": first["next"]}),
                    "/api/stories?q=": lambda: ("/api/stories", {"q": rng.choice(WORDS)}),
                    "/api/stories?outlet=": lambda: ("/api/stories", {"outlet": f"outlet{rng.randrange(40)}"}),
                    "/api/stories/{id}": lambda: (f"/api/stories/{rng.choice(ids)}", {}),
                    "/stories/{id} (page)": lambda: (f"/stories/{rng.choice(ids)}", {}),
                    "/ (list page)": lambda: ("/", {}),
                }  # fmt: skip
                for name, request in kinds.items():
                    samples = []
                    for _ in range(requests):
                        path, params = request()
                        began = time.perf_counter()
                        answer = await web.get(path, params=params)
                        samples.append(time.perf_counter() - began)
                        assert answer.status_code == 200, (path, answer.status_code)
                    print(f"  {name:26s} {_percentiles(samples)}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=10_000)]
        for i in range(0, len(keys), 10_000):
            await client.delete(*keys[i : i + 10_000])
        await client.aclose()


async def fingerprinted(stream: Path, limit: int) -> list[FingerprintedArticle]:
    settings = Settings()
    records: list[FingerprintedArticle] = []
    async with Pipeline(settings) as pipeline:
        for raw in read_articles([stream]):
            cleaned = await clean_stage(raw, pipeline.templates, settings)
            if isinstance(cleaned, CleanArticle) and cleaned.language == "ar":
                records.append(await fingerprint_stage(cleaned, pipeline.fingerprints, settings))
                if len(records) >= limit:
                    break
    return records


async def bench_agent(redis_url: str, stream: Path, articles: int, rounds: int) -> None:
    records = await fingerprinted(stream, articles)
    client = aioredis.Redis.from_url(redis_url)
    rates: dict[str, list[float]] = {"off": [], "on": []}
    # CPU per article, this process (the agent) plus Redis: steadier than the wall clock on
    # a shared machine.
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    try:
        # Round 0 only warms the per-word caches of the core (not counted).
        for round_number in range(rounds + 1):
            for mode, size in (("off", 0), ("on", 100)):
                settings = Settings()
                settings.stories.timeline_entries = size
                prefix = f"bench-agent-{uuid.uuid4().hex[:6]}:"
                store = RedisStoryStore(client, prefix, write_behind=True, timeline_size=size)
                redis_before = await _redis_cpu(client)
                began, cpu_began = time.perf_counter(), time.process_time()
                for i in range(0, len(records), BATCH_SIZE):
                    await decide_outcomes(records[i : i + BATCH_SIZE], store, settings)
                wall, used = time.perf_counter() - began, time.process_time() - cpu_began
                used += await _redis_cpu(client) - redis_before
                if round_number:
                    rates[mode].append(len(records) / wall)
                    cpu[mode].append(used / len(records) * 1000)
                keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=10_000)]
                for j in range(0, len(keys), 10_000):
                    await client.delete(*keys[j : j + 10_000])
    finally:
        await client.aclose()
    best = {mode: max(values) for mode, values in rates.items()}
    print(f"story agent, {len(records)} articles, {rounds} rounds each (articles/s):")
    for mode, values in rates.items():
        print(
            f"  timelines {mode:3s}: best {best[mode]:6.0f}  all {', '.join(f'{v:.0f}' for v in values)}"
        )
    print(f"  change with timelines on: {(best['on'] / best['off'] - 1) * 100:+.1f}%")
    least = {mode: min(values) for mode, values in cpu.items()}
    for mode, values in cpu.items():
        print(f"  CPU ms/article (agent + Redis), timelines {mode:3s}: least {least[mode]:.3f}"
              f"  all {', '.join(f'{v:.3f}' for v in values)}")  # fmt: skip
    print(f"  throughput change by CPU: {(least['off'] / least['on'] - 1) * 100:+.1f}%")


async def _redis_cpu(client: aioredis.Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True, metavar="URL")
    parser.add_argument("--stream", type=Path, help="JSONL stream for the story agent part")
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-web", action="store_true")
    args = parser.parse_args()
    tune_gc()
    if not args.skip_web:
        asyncio.run(bench_web(args.redis, args.stories, args.requests))
    if args.stream is not None:
        asyncio.run(bench_agent(args.redis, args.stream, args.articles, args.rounds))


if __name__ == "__main__":
    main()
