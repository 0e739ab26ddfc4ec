"""Story browser speed on a large Redis, and what timelines cost the story agent.

    python benchmarks/bench_web.py --redis redis://127.0.0.1:6379/0 \\
        --stream /work/shared/data/egypt2013_stream.jsonl

1. Web: fills Redis (a fresh key prefix, deleted afterwards) with ``--stories`` synthetic
   stories (summaries, index filings, 1-8 timeline entries each) through the story agent's
   own write path (``WriteBehindStoryStore``), starts ``monitor web --redis``
   (a real server, another process) and times ``--requests`` sequential requests of each
   kind from this process: p50 and p99 in milliseconds.
2. Story agent: the first ``--articles`` articles of ``--stream`` are cleaned and
   fingerprinted once per worker process; then the story agent's batch loop
   (``decide_outcomes``, batches of 200, write-behind store on Redis) decides them with
   timelines off and on, ``--rounds`` times on fresh prefixes (after an uncounted warm-up
   round), the variants interleaved batch by batch; with ``--before DIR`` (the root of
   another checkout) that code's agent runs in a second worker, interleaved the same way.
   Reports CPU milliseconds per article (the worker's process time plus Redis's), least and
   median of the rounds, and the change with timelines on as the median of the paired
   rounds: the steadier figures on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from monitor.commands.replay import read_articles
from monitor.core.arabic import normalize
from monitor.core.records import Decision, FingerprintedArticle
from monitor.core.stories import article_features, index_keys, new_story_state
from monitor.lifecycle import tune_gc
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.stages.clean import clean_stage, goes_on
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stores.stories import WriteBehindStoryStore, write_behind_story_store
from monitor.stream.batching import BATCH_SIZE
from monitor.stream.story_agent import decide_outcomes

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("بوتين", "كيم", "القاهرة", "الانتخابات", "الاقتصاد", "غزة", "النفط", "الأهلي",
         "الزمالك", "البرلمان", "الحكومة", "الرئيس", "الوزير", "المحكمة", "الجيش", "السودان",
         "ليبيا", "تونس", "الجزائر", "المغرب", "العراق", "سوريا", "لبنان", "الأردن", "اليمن")  # fmt: skip
KINDS = ("new_story", "development", "no_news", "duplicate")
TIMELINE_ON = 100
"""Timeline entries per story when timelines are on (the default)."""


async def fill(client: aioredis.Redis, prefix: str, count: int) -> list[str]:
    store = WriteBehindStoryStore(client, prefix, cache_size=1000)
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
        memory_before = int((await client.info("memory"))["used_memory"])
        ids = await fill(client, prefix, stories)
        used = int((await client.info("memory"))["used_memory"]) - memory_before
        print(f"filled {stories} stories in {time.perf_counter() - started:.0f}s "
              f"({used / stories:.0f} bytes of Redis memory per story)")  # fmt: skip
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
                # Cursors 20 pages deep into a search and an outlet's list.
                deep: dict[str, str] = {}
                for name, filters in (("q", {"q": WORDS[0]}), ("outlet", {"outlet": "outlet0"})):
                    cursor = None
                    for _ in range(20):
                        params = {**filters, "limit": 50, **({"cursor": cursor} if cursor else {})}
                        cursor = (await web.get("/api/stories", params=params)).json()["next"]
                    deep[name] = cursor
                rng = random.Random(1)
                kinds = {
                    "/api/stories (50)": lambda: ("/api/stories", {"limit": 50}),
                    "/api/stories next page": lambda: ("/api/stories", {"limit": 50, "cursor": first["next"]}),
                    "/api/stories?q=": lambda: ("/api/stories", {"q": rng.choice(WORDS)}),
                    "?q= page 21": lambda: ("/api/stories", {"q": WORDS[0], "cursor": deep["q"]}),
                    "?q=TWO WORDS": lambda: ("/api/stories", {"q": " ".join(rng.sample(WORDS, 2))}),
                    "/api/stories?outlet=": lambda: ("/api/stories", {"outlet": f"outlet{rng.randrange(40)}"}),
                    "?outlet= page 21": lambda: ("/api/stories", {"outlet": "outlet0", "cursor": deep["outlet"]}),
                    "?q=&outlet=": lambda: ("/api/stories", {"q": rng.choice(WORDS), "outlet": f"outlet{rng.randrange(40)}"}),
                    "/api/stories/{id}": lambda: (f"/api/stories/{rng.choice(ids)}", {}),
                    "/stories/{id} (page)": lambda: (f"/stories/{rng.choice(ids)}", {}),
                    "/ (list page)": lambda: ("/", {}),
                }  # fmt: skip
                for name, request in kinds.items():
                    samples = []
                    listed = 0
                    for _ in range(requests):
                        path, params = request()
                        began = time.perf_counter()
                        answer = await web.get(path, params=params)
                        samples.append(time.perf_counter() - began)
                        assert answer.status_code == 200, (path, answer.status_code)
                        if path == "/api/stories":
                            listed += len(answer.json()["stories"])
                    shown = f"  ({listed / requests:.1f} stories a page)" if listed else ""
                    print(f"  {name:26s} {_percentiles(samples)}{shown}")
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
            if goes_on(cleaned):
                records.append(await fingerprint_stage(cleaned, pipeline.fingerprints, settings))
                if len(records) >= limit:
                    break
    return records


async def agent_worker(redis_url: str, stream: Path, articles: int) -> None:
    """One side of ``bench_agent``, in its own process (``--agent-worker``): fingerprints the
    articles once and says ``ready``; then reads commands on stdin: ``start`` (a fresh key
    prefix and store per mode), ``off N`` or ``on N`` (decide batch N with timelines off or
    on; prints one JSON line: wall seconds, this process's CPU seconds and Redis's) and
    ``end`` (the round's keys deleted)."""
    import monitor

    records = await fingerprinted(stream, articles)
    batches = [records[i : i + BATCH_SIZE] for i in range(0, len(records), BATCH_SIZE)]
    client = aioredis.Redis.from_url(redis_url)
    code = str(Path(monitor.__file__).parents[1])
    print(json.dumps({"batches": len(batches), "articles": len(records), "code": code}))
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    stores: dict[str, tuple[WriteBehindStoryStore, Settings]] = {}
    prefix = ""
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            command, _, number = line.partition(" ")
            if command == "start":
                prefix = f"bench-agent-{uuid.uuid4().hex[:6]}"
                for mode, size in (("off", 0), ("on", TIMELINE_ON)):
                    settings = Settings()
                    settings.stories.timeline_entries = size
                    settings.redis.key_prefix = f"{prefix}-{mode}:"
                    stores[mode] = write_behind_story_store(client, settings), settings
                continue
            if command == "end":
                keys = [key async for key in client.scan_iter(match=f"{prefix}-*", count=10_000)]
                for j in range(0, len(keys), 10_000):
                    await client.delete(*keys[j : j + 10_000])
                continue
            store, settings = stores[command]
            redis_before = await _redis_cpu(client)
            began, cpu_began = time.perf_counter(), time.process_time()
            await decide_outcomes(batches[int(number)], store, settings)
            wall, used = time.perf_counter() - began, time.process_time() - cpu_began
            redis_used = await _redis_cpu(client) - redis_before
            print(json.dumps({"wall": wall, "cpu": used, "redis": redis_used}))
            sys.stdout.flush()
    finally:
        await client.aclose()


def bench_agent(
    redis_url: str, stream: Path, articles: int, rounds: int, before: Path | None
) -> None:
    """The story agent's batch loop with timelines off and on, in worker processes
    (``agent_worker``): this tree's code and, with ``before`` (another checkout's root),
    that code too. Each round decides all the articles with every variant, interleaved
    batch by batch (the order turning from batch to batch), so that a shared machine's
    changing speed weighs on every variant alike."""
    trees = {"after": ROOT} if before is None else {"before": before, "after": ROOT}
    workers: dict[str, subprocess.Popen[str]] = {}
    command = [sys.executable, str(Path(__file__).resolve()), "--agent-worker",
               "--redis", redis_url, "--stream", str(stream.resolve()),
               "--articles", str(articles)]  # fmt: skip

    def ask(worker: subprocess.Popen[str], line: str) -> dict[str, Any] | None:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(line + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline()) if " " in line else None

    try:
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}
            workers[name] = subprocess.Popen(
                command, cwd=tree, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )  # fmt: skip
        batches = 0
        for name, worker in workers.items():
            assert worker.stdout is not None
            ready = json.loads(worker.stdout.readline())
            batches, articles = ready["batches"], ready["articles"]
            print(f"{name}: {articles} articles in {batches} batches, code in {ready['code']}")
        # (tree, mode) -> per round: CPU ms/article (agent + Redis), articles/s.
        cpu: dict[tuple[str, str], list[float]] = {}
        redis_cpu: dict[tuple[str, str], list[float]] = {}
        rates: dict[tuple[str, str], list[float]] = {}
        runs = [(name, mode) for name in workers for mode in ("off", "on")]
        # Round 0 only warms the per-word caches of the core (not counted).
        for round_number in range(rounds + 1):
            used = dict.fromkeys(runs, 0.0)
            by_redis = dict.fromkeys(runs, 0.0)
            wall = dict.fromkeys(runs, 0.0)
            for worker in workers.values():
                ask(worker, "start")
            for batch in range(batches):
                turn = (batch + round_number) % len(runs)
                for name, mode in runs[turn:] + runs[:turn]:
                    took = ask(workers[name], f"{mode} {batch}")
                    assert took is not None
                    used[name, mode] += took["cpu"] + took["redis"]
                    by_redis[name, mode] += took["redis"]
                    wall[name, mode] += took["wall"]
            for worker in workers.values():
                ask(worker, "end")
            if round_number:
                for run in runs:
                    cpu.setdefault(run, []).append(used[run] / articles * 1000)
                    redis_cpu.setdefault(run, []).append(by_redis[run] / articles * 1000)
                    rates.setdefault(run, []).append(articles / wall[run])
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    print(f"story agent, {articles} articles, {rounds} rounds (timelines on: "
          f"{TIMELINE_ON} entries per story):")  # fmt: skip
    for name, mode in runs:
        values = cpu[name, mode]
        print(f"  {name:6s} timelines {mode:3s}: CPU ms/article (agent + Redis) least "
              f"{min(values):.3f} median {statistics.median(values):.3f} "
              f"[{', '.join(f'{v:.3f}' for v in values)}]; articles/s best "
              f"{max(rates[name, mode]):.0f} median {statistics.median(rates[name, mode]):.0f}; "
              f"of which Redis median {statistics.median(redis_cpu[name, mode]):.3f}")  # fmt: skip
    for name in workers:
        off, on = cpu[name, "off"], cpu[name, "on"]
        paired = [a / b - 1 for a, b in zip(off, on, strict=True)]
        print(f"  {name}: throughput change with timelines on, by CPU: median of rounds "
              f"{statistics.median(paired) * 100:+.1f}% [{', '.join(f'{v * 100:+.1f}' for v in paired)}]"
              f"; least {(min(off) / min(on) - 1) * 100:+.1f}%")  # fmt: skip
    if before is not None:
        for mode in ("off", "on"):
            was, now = cpu["before", mode], cpu["after", mode]
            paired = [a / b - 1 for a, b in zip(was, now, strict=True)]
            print(f"  after vs before, timelines {mode}: throughput by CPU, median of rounds "
                  f"{statistics.median(paired) * 100:+.1f}% [{', '.join(f'{v * 100:+.1f}' for v in paired)}]")  # fmt: skip


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
    parser.add_argument(
        "--before", type=Path, metavar="DIR",
        help="root of another checkout (e.g. git archive of the previous commit): its story "
        "agent is measured too, interleaved with this one's",
    )  # fmt: skip
    parser.add_argument("--agent-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tune_gc()
    if args.agent_worker:
        asyncio.run(agent_worker(args.redis, args.stream, args.articles))
        return
    if not args.skip_web:
        asyncio.run(bench_web(args.redis, args.stories, args.requests))
    if args.stream is not None:
        bench_agent(args.redis, args.stream, args.articles, args.rounds, args.before)


if __name__ == "__main__":
    main()
