"""Speed of the service path (Kafka -> Faust workers -> Redis -> alerts topic), next to the
embedded pipeline alone on the same input, in one run.

    python benchmarks/bench_service.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/bench_service.py STREAM --limit 2000 --paced 1000 --layout single

Uses the Kafka and Redis of ``MONITOR_KAFKA__BOOTSTRAP`` / ``MONITOR_REDIS__URL`` when both are
set, else starts its own with ``scripts/services up`` in a temp dir and stops them at the end.
Every phase gets fresh topics and Redis keys (own prefixes).

1. embedded: ``Pipeline`` with in-process stores over the articles, in order: articles/s.
2. throughput: ``monitor worker`` processes (``--layout split``: one runs the story agent,
   ``--workers`` others the prep agent (clean, fingerprint, analysis); ``single``:
   ``--workers`` full workers); every article produced onto ``raw`` as fast as possible;
   articles/s from the first send to the moment the last decision is read from
   ``decisions``, and the CPU each process spent per article (workers, broker, Redis, this
   process). ``--repeat N`` runs it N times on fresh topics and keys.
3. latency: fresh workers and state; ``--paced`` articles produced at ``--rate`` articles/s;
   per alert, time from its article's produce (``trace['produced']``) to the alert read from
   ``alerts`` (p50/p99), and the same per decision.

Prints one line per figure and the ratio service/embedded (the cost of the service path).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.commands.replay import read_articles  # noqa: E402
from monitor.core.records import RawArticle  # noqa: E402
from monitor.lifecycle import tune_gc  # noqa: E402
from monitor.pipeline import Pipeline  # noqa: E402
from monitor.settings import Settings  # noqa: E402
from tests.system.helpers import (  # noqa: E402
    OutputReader,
    WorkerProcess,
    ensure_topics,
    isolated_settings,
    producer,
)


def start_services(run_dir: Path) -> tuple[str, str]:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services"), "up", "--dir", str(run_dir),
         "--owner-pid", str(os.getpid())],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )
    return exports["MONITOR_KAFKA__BOOTSTRAP"], exports["MONITOR_REDIS__URL"]


async def embedded(articles: list[RawArticle]) -> float:
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    async with Pipeline(Settings()) as pipeline:
        async for decision, _ in pipeline.process_many(articles):
            counts[decision.decision] += 1
    elapsed = time.perf_counter() - started
    print(f"embedded: {len(articles)} articles in {elapsed:.1f}s = "
          f"{len(articles) / elapsed:.0f} articles/s  {dict(counts)}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)  # fmt: skip
    return len(articles) / elapsed


def start_workers(
    settings: Settings, log_dir: Path, layout: str, workers: int
) -> list[WorkerProcess]:
    app_id = f"bench-{uuid.uuid4().hex[:6]}"
    # Split roles get a consumer group each: members of one group must read the same topics.
    roles: list[tuple[str, list[str]]]
    if layout == "split":
        roles = [(f"{app_id}-story", ["--stages", "story"])]
        roles += [(f"{app_id}-prep", ["--stages", "prep"])] * workers
    else:
        roles = [(app_id, [])] * workers
    processes = []
    for index, (group, args) in enumerate(roles):
        process = WorkerProcess(settings, log_dir / f"{group}-{index}.log", app_id=group, args=args)
        process.start()
        processes.append(process)
    return processes


def pid_cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(process: WorkerProcess) -> float:
    assert process.process is not None
    return pid_cpu_seconds(process.process.pid)


def service_pids(run_dir: Path | None) -> dict[str, int]:
    """The broker's and Redis's pids when this benchmark started them (else none)."""
    if run_dir is None:
        return {}
    files = {"kafka": run_dir / "kafka" / "kafka.pid", "redis": run_dir / "redis" / "redis.pid"}
    return {name: int(path.read_text()) for name, path in files.items() if path.exists()}


def others_line(pids: dict[str, int], before: dict[str, float], articles: int) -> str:
    """CPU per article of the broker, Redis and this process (producer and reader)."""
    used = {name: pid_cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    used["bench (producer+reader)"] = time.process_time() - before["bench (producer+reader)"]
    return "; ".join(f"{name} {1000 * u / articles:.1f} ms CPU/article" for name, u in used.items())


def others_before(pids: dict[str, int]) -> dict[str, float]:
    before = {name: pid_cpu_seconds(pid) for name, pid in pids.items()}
    before["bench (producer+reader)"] = time.process_time()
    return before


def cpu_line(processes: list[WorkerProcess], before: list[float], articles: int) -> str:
    used = [cpu_seconds(p) - b for p, b in zip(processes, before, strict=True)]
    return "; ".join(
        f"{p.app_id.rsplit('-', 1)[-1]} worker {1000 * u / articles:.1f} ms CPU/article"
        for p, u in zip(processes, used, strict=True)
    )


HOPS = ("produced", "cleaned", "fingerprinted", "decided")


def hops(got: Any) -> str:
    """Where the time goes, from the trace stamps of the decisions (and when each was read)."""
    parts = []
    for start, end in [*itertools.pairwise(HOPS), ("decided", "read")]:
        ms = np.array([
            ((got.decision_seen[d.article] if end == "read" else d.trace[end]) - d.trace[start])
            * 1000
            for d in got.decisions.values()
            if start in d.trace and (end == "read" or end in d.trace)
        ])  # fmt: skip
        if len(ms):
            parts.append(f"{start}->{end} {np.percentile(ms, 50):.0f}/{np.percentile(ms, 99):.0f}")
    return ", ".join(parts)


def copies(articles: list[RawArticle]) -> list[RawArticle]:
    return [article.model_copy(deep=True) for article in articles]


async def throughput(
    bootstrap: str,
    redis_url: str,
    articles: list[RawArticle],
    log_dir: Path,
    layout: str,
    workers: int,
    run_dir: Path | None = None,
    dump: Path | None = None,
    partitions: int | None = None,
) -> float:
    settings = isolated_settings(bootstrap, redis_url, f"bt{uuid.uuid4().hex[:6]}")
    if partitions is not None:
        kafka = settings.kafka.model_copy(update={"partitions": partitions})
        settings = settings.model_copy(update={"kafka": kafka})
    await ensure_topics(settings)
    processes = start_workers(settings, log_dir, layout, workers)
    reader = OutputReader(settings, light=dump is None)
    try:
        await asyncio.gather(*(p.wait_ready() for p in processes))
        await reader.start()
        before = [cpu_seconds(p) for p in processes]
        pids = service_pids(run_dir)
        before_others = others_before(pids)
        async with producer(settings, max_batch_size=256 * 1024) as kafka:
            topic = f"{settings.kafka.topic_prefix}raw"
            started = time.time()
            futures = []
            for article in articles:
                article.trace["produced"] = time.time()
                futures.append(await kafka.send(
                    topic, article.model_dump_json().encode(), key=article.id.encode()
                ))  # fmt: skip
            await asyncio.gather(*futures)
            produced = time.time() - started
            await reader.wait_decisions([a.id for a in articles], timeout=3600)
        last = max(reader.collected.decision_seen.values())
        elapsed = last - started
        got = reader.collected
        stage_done = {
            stage: got.last_stamp.get(stage, started) - started
            for stage in ("fingerprinted", "decided")
        }
        print(f"service throughput ({layout}, {len(processes)} worker processes): "
              f"{len(articles)} articles in {elapsed:.1f}s = {len(articles) / elapsed:.0f} "
              f"articles/s (all produced in {produced:.1f}s, fingerprinted by "
              f"{stage_done['fingerprinted']:.1f}s, decided by {stage_done['decided']:.1f}s); {got.decision_records} decision "
              f"records, {len(got.alert_ids)} alerts, {len(got.alert_duplicates())} duplicate alert "
              f"ids; {cpu_line(processes, before, len(articles))}; "
              f"{others_line(pids, before_others, len(articles))}; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)  # fmt: skip
        if dump is not None:
            with dump.open("w", encoding="utf-8") as out:
                for article in articles:
                    decision = got.decisions[article.id]
                    out.write(json.dumps(
                        {"article": decision.article, "decision": decision.decision,
                         "story": decision.story, "reasons": decision.reasons},
                        ensure_ascii=False, default=str) + "\n")  # fmt: skip
            print(f"decisions: {dump}", flush=True)
        return len(articles) / elapsed
    finally:
        await reader.stop()
        for process in processes:
            process.stop()


async def latency(
    bootstrap: str, redis_url: str, articles: list[RawArticle], log_dir: Path, layout: str,
    workers: int, rate: float,
) -> None:  # fmt: skip
    settings = isolated_settings(bootstrap, redis_url, f"bl{uuid.uuid4().hex[:6]}")
    await ensure_topics(settings)
    processes = start_workers(settings, log_dir, layout, workers)
    reader = OutputReader(settings)
    try:
        await asyncio.gather(*(p.wait_ready() for p in processes))
        await reader.start()
        async with producer(settings) as kafka:
            topic = f"{settings.kafka.topic_prefix}raw"
            started = time.monotonic()
            futures = []
            for index, article in enumerate(articles):
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                article.trace["produced"] = time.time()
                futures.append(await kafka.send(
                    topic, article.model_dump_json().encode(), key=article.id.encode()
                ))  # fmt: skip
            await asyncio.gather(*futures)
            sent_rate = len(articles) / (time.monotonic() - started)
            await reader.wait_decisions([a.id for a in articles], timeout=600)
            await asyncio.sleep(1.0)
        got = reader.collected
        alert_ms = np.array([
            (got.alert_seen[a.id] - a.trace["produced"]) * 1000 for a in got.alerts
            if "produced" in a.trace
        ])  # fmt: skip
        decision_ms = np.array([
            (got.decision_seen[d.article] - d.trace["produced"]) * 1000
            for d in got.decisions.values() if "produced" in d.trace
        ])  # fmt: skip
        print(f"service latency at {sent_rate:.1f} articles/s ({len(articles)} articles, "
              f"{len(alert_ms)} alerts): produce -> alert p50 {np.percentile(alert_ms, 50):.0f} ms, "
              f"p99 {np.percentile(alert_ms, 99):.0f} ms, max {alert_ms.max():.0f} ms; "
              f"produce -> decision p50 {np.percentile(decision_ms, 50):.0f} ms, "
              f"p99 {np.percentile(decision_ms, 99):.0f} ms", flush=True)  # fmt: skip
        print(f"  per hop (p50/p99 ms): {hops(got)}", flush=True)
    finally:
        await reader.stop()
        for process in processes:
            process.stop()


async def main(args: argparse.Namespace) -> None:
    articles = list(read_articles([args.stream]))[: args.limit]
    paced = list(read_articles([args.stream]))[: args.paced]
    run_dir: Path | None = None
    bootstrap = os.environ.get("MONITOR_KAFKA__BOOTSTRAP")
    redis_url = os.environ.get("MONITOR_REDIS__URL")
    if not (bootstrap and redis_url):
        run_dir = Path(tempfile.mkdtemp(prefix="bench-services.")) / "run"
        bootstrap, redis_url = start_services(run_dir)
        print(f"services: Kafka {bootstrap}, Redis {redis_url}", flush=True)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workers."))
    try:
        embedded_rate = await embedded(copies(articles))
        for attempt in range(args.repeat):
            if args.repeat > 1:
                print(f"throughput run {attempt + 1} of {args.repeat}", flush=True)
            dump = args.decisions / f"run-{attempt + 1}.jsonl" if args.decisions else None
            service_rate = await throughput(
                bootstrap, redis_url, copies(articles), log_dir, args.layout, args.workers,
                run_dir, dump, args.partitions,
            )  # fmt: skip
        print(f"ratio service/embedded: {service_rate / embedded_rate:.2f}", flush=True)
        if args.paced:
            await latency(
                bootstrap, redis_url, copies(paced), log_dir, args.layout, args.workers, args.rate
            )
    finally:
        if run_dir is not None:
            subprocess.run(["bash", str(ROOT / "scripts" / "services"), "down", str(run_dir)],
                           check=False, capture_output=True, timeout=300)  # fmt: skip
            shutil.rmtree(run_dir.parent, ignore_errors=True)
        print(f"worker logs: {log_dir}", flush=True)


if __name__ == "__main__":
    tune_gc()  # as every ``monitor`` command (the workers too) does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path, help="JSONL stream, e.g. egypt2013_stream.jsonl")
    parser.add_argument("--limit", type=int, help="use only the first N articles")
    parser.add_argument("--paced", type=int, default=1500, help="articles of the latency run")
    parser.add_argument("--rate", type=float, default=50.0, help="articles/s of the latency run")
    parser.add_argument("--layout", choices=("split", "single"), default="split")
    parser.add_argument("--workers", type=int, default=1, help="see the module docstring")
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions of the parallel topics (raw, clean) in the throughput runs "
        "(default: kafka.partitions' default, 4)",
    )
    parser.add_argument(
        "--decisions",
        type=Path,
        help="directory: write each throughput run's decisions there (run-N.jsonl, in input "
        "order; reading them whole costs the reader some CPU)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="throughput runs (fresh topics and keys each; the ratio uses the last: a "
        "long-running broker has its JIT warm)",
    )
    asyncio.run(main(parser.parse_args()))
