"""Fingerprint stage speed and Redis cost (issue 4).

    .venv/bin/python benchmarks/bench_fingerprint.py /work/shared/data/egypt2013_stream.jsonl
    .venv/bin/python benchmarks/bench_fingerprint.py STREAM --redis-url redis://127.0.0.1:6379/0

Reports, in one run:

1. fingerprints per second on one core (``article_fingerprint`` on the stream's clean
   articles; cleaning is not timed);
2. lookup+insert time per article (one Lua call each, and batches of 100: two script calls
   in one round trip) with
   10 thousand and with 1 million articles stored, and their ratio (goal ≤ 1.3); for the
   batches also the CPU the redis-server spends per article (``INFO cpu`` user+sys delta
   around each batch) and the CPU of this client process per article (packing the commands
   and parsing the replies);
3. Redis bytes per stored article (``INFO memory`` ``used_memory`` delta / count) at
   10 thousand, 200 thousand and 1 million stored (goal ≤ 600).

Each size is filled under its own key prefix with synthetic fingerprints (random sketches with
the stream's sketch sizes, stream-like ids and outlets) spread evenly over the TTL (7 days),
as a store in steady state holds them, loaded with pipelined bulk inserts. The timed part
uses the real articles of the stream, alternating calls between the 10-thousand and the
1-million store so that both see the same machine load. Without ``--redis-url`` a private ``redis-server`` is
started on a free port (and stopped at the end); with one, that database is FLUSHED.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from redis.asyncio import Redis

from monitor.core.clean import clean_article
from monitor.core.fingerprint import Fingerprint, FingerprintParams
from monitor.core.records import CleanArticle, RawArticle
from monitor.settings import Settings
from monitor.stages.fingerprint import article_fingerprint
from monitor.stores.fingerprints import NewArticle, RedisFingerprintStore

DAY = 86_400.0


def load_articles(path: Path, limit: int) -> list[CleanArticle]:
    articles = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            result = clean_article(
                RawArticle(
                    id=row["id"],
                    outlet=row["outlet"],
                    title=row.get("title") or "",
                    text=row.get("text") or "",
                )
            )
            if isinstance(result, CleanArticle):
                articles.append(result)
            if len(articles) >= limit:
                break
    return articles


def fingerprints_per_second(articles: Sequence[CleanArticle], params: FingerprintParams) -> float:
    started = time.perf_counter()
    for article in articles:
        article_fingerprint(article, params)
    return len(articles) / (time.perf_counter() - started)


def synthetic(
    count: int, stored_sizes: Sequence[int], outlets: Sequence[str], rng: np.random.Generator
) -> Iterator[NewArticle]:
    """Random fingerprints whose sketch sizes follow the real ones."""
    sizes = rng.choice(np.asarray(stored_sizes), size=count)
    for size in sizes.tolist():
        samples = np.sort(rng.integers(0, 2**64 - 1, size=size, dtype=np.uint64, endpoint=True))
        fingerprint = Fingerprint(
            samples=samples,
            stored=size,
            shingles=size * 4,
            content_key=int(rng.integers(0, 2**63)),
            locator_keys=(int(rng.integers(0, 2**63)),),
        )
        yield f"eg2013-{uuid.uuid4()}", outlets[int(rng.integers(len(outlets)))], fingerprint


async def fill(
    store: RedisFingerprintStore,
    count: int,
    stored_sizes: Sequence[int],
    outlets: Sequence[str],
    now: float,
    batch: int = 1000,
) -> float:
    """Bulk-load ``count`` synthetic articles spread evenly over the TTL; returns seconds."""
    rng = np.random.default_rng(count)
    batch = max(1, min(batch, count // 200))  # at least 200 timestamps over the TTL
    started = time.perf_counter()
    pending: list[NewArticle] = []
    span = store.ttl_seconds
    # A store in steady state: the day before the oldest one held a day's worth of entries,
    # which sizes the first generation's hashes like all the later ones.
    first_generation = int((now - span - 60) // store.generation_seconds)
    per_day = count * store.generation_seconds / span * (statistics.mean(stored_sizes) + 2)
    await store.client.set(f"{store.prefix}n:{first_generation - 1}", int(per_day), ex=60)
    for index, article in enumerate(synthetic(count, stored_sizes, outlets, rng)):
        pending.append(article)
        if len(pending) == batch or index == count - 1:
            inserted_at = now - span + span * (index + 1) / count - 60
            await store.add_many(pending, now=inserted_at)
            pending = []
    return time.perf_counter() - started


async def redis_cpu(client: Redis) -> float:
    """CPU seconds the redis-server has used so far (user + system)."""
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass(frozen=True)
class Timing:
    single: float
    """Median seconds per single call."""
    batched: float
    """Seconds per article in pipelined batches of 100."""
    redis_cpu: float
    """redis-server CPU seconds per article in those batches."""
    client_cpu: float
    """This process's CPU seconds per article in those batches."""


async def time_interleaved(
    stores: dict[int, RedisFingerprintStore],
    articles: Sequence[tuple[CleanArticle, Fingerprint]],
) -> dict[int, Timing]:
    """Per store: single-call and batched times, and the CPU per article of both sides.

    Calls alternate between the stores (in a shuffled order per article), so that the
    machine's load, which varies from second to second here, weighs on every size alike.
    """
    rng = random.Random(7)
    single: dict[int, list[float]] = {size: [] for size in stores}
    for article, fingerprint in articles[: len(articles) // 2]:
        order = list(stores)
        rng.shuffle(order)
        for size in order:
            started = time.perf_counter()
            await stores[size].match_and_add(f"t-{article.id}", article.outlet, fingerprint)
            single[size].append(time.perf_counter() - started)
    batched: dict[int, float] = dict.fromkeys(stores, 0.0)
    server_cpu: dict[int, float] = dict.fromkeys(stores, 0.0)
    client_cpu: dict[int, float] = dict.fromkeys(stores, 0.0)
    client = next(iter(stores.values())).client
    rest = articles[len(articles) // 2 :]
    for start in range(0, len(rest), 100):
        batch = [(f"t-{a.id}", a.outlet, fp) for a, fp in rest[start : start + 100]]
        order = list(stores)
        rng.shuffle(order)
        for size in order:
            # INFO's own cost falls partly inside the window; over 100 articles it is noise
            cpu_before = await redis_cpu(client)
            process_before = time.process_time()
            started = time.perf_counter()
            await stores[size].match_and_add_many(batch)
            batched[size] += time.perf_counter() - started
            client_cpu[size] += time.process_time() - process_before
            server_cpu[size] += await redis_cpu(client) - cpu_before
    count = max(1, len(rest))
    return {
        size: Timing(
            single=statistics.median(single[size]),
            batched=batched[size] / count,
            redis_cpu=server_cpu[size] / count,
            client_cpu=client_cpu[size] / count,
        )
        for size in stores
    }


async def used_memory(client: Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


@contextmanager
def private_redis() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="bench-redis.")
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


async def run(args: argparse.Namespace, redis_url: str) -> None:
    settings = Settings()
    params = FingerprintParams.from_settings(settings.fingerprint)
    articles = load_articles(args.stream, args.articles)
    print(f"{len(articles)} clean articles from {args.stream}")
    rate = fingerprints_per_second(articles, params)
    print(f"fingerprints per second (one core): {rate:,.0f}")

    fingerprints = [(a, article_fingerprint(a, params)) for a in articles]
    stored_sizes = [fp.stored for _, fp in fingerprints]
    print(
        f"stored samples per article: mean {statistics.mean(stored_sizes):.1f}, "
        f"median {statistics.median(stored_sizes)}"
    )
    outlets = sorted({a.outlet for a in articles})
    random.Random(1).shuffle(fingerprints)
    timed = fingerprints[: args.timed]

    client = Redis.from_url(redis_url)
    await client.flushdb()

    def store_for(size: int) -> RedisFingerprintStore:
        return RedisFingerprintStore(
            client,
            key_prefix=f"bench{size}:",
            ttl_seconds=settings.fingerprint.ttl_seconds,
            index_bucket_bits=settings.fingerprint.index_bucket_bits,
        )

    for size in args.sizes:
        # Sizes only measured for memory are filled alone, then dropped.
        store = store_for(size)
        before = await used_memory(client)
        seconds = await fill(store, size, stored_sizes, outlets, time.time())
        after = await used_memory(client)
        encodings: dict[str, int] = {}
        async for key in client.scan_iter(match=f"bench{size}:fp:h:*", count=10_000):
            encoding = (await client.object("ENCODING", key)).decode()
            encodings[encoding] = encodings.get(encoding, 0) + 1
            if sum(encodings.values()) >= 2000:
                break
        print(
            f"stored {size:>9,}: filled in {seconds:.1f}s, redis {(after - before) / size:.0f} "
            f"bytes/article (index hash encodings in a sample: {encodings})"
        )
        if size not in (args.small, args.large):
            async for key in client.scan_iter(match=f"bench{size}:*", count=10_000):
                await client.unlink(key)
    results = await time_interleaved(
        {args.small: store_for(args.small), args.large: store_for(args.large)}, timed
    )
    for size, timing in results.items():
        print(
            f"lookup+insert with {size:>9,} stored: {timing.single * 1e3:.3f} ms per call "
            f"(median, one round trip), {timing.batched * 1e3:.3f} ms per article in pipelined "
            f"batches of 100; CPU per article in those batches: redis-server "
            f"{timing.redis_cpu * 1e3:.3f} ms, client {timing.client_cpu * 1e3:.3f} ms"
        )
    large, small = results[args.large], results[args.small]
    print(
        f"ratio {args.large:,} / {args.small:,} stored: single call "
        f"{large.single / small.single:.2f}, batched {large.batched / small.batched:.2f}, "
        f"redis-server CPU {large.redis_cpu / small.redis_cpu:.2f} (goal <= 1.3)"
    )
    await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--redis-url", help="Use (and FLUSH) this Redis instead of a private one.")
    parser.add_argument("--articles", type=int, default=6033)
    parser.add_argument("--timed", type=int, default=2000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--memory-at", type=int, default=200_000)
    args = parser.parse_args(argv)
    args.sizes = sorted({args.small, args.memory_at, args.large})
    if args.redis_url:
        asyncio.run(run(args, args.redis_url))
    else:
        with private_redis() as url:
            asyncio.run(run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
