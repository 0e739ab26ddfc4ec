"""Poller throughput: feeds polled per minute per CPU core.

A local news site (``tests/ingest/newsite.py``) runs in its own process serving ``--feeds``
RSS feeds of 20 entries each (one new entry per feed every ``--new-every`` s), spread over ``--hosts``
loopback addresses (127.0.0.1..N) because the poller allows one request at a time per host.
This process polls all of them with the real poller (httpx fetch, feedparser, seen check,
delivery to an in-process queue) for ``--seconds``; only this process's CPU time is counted
(``time.process_time``), so the figure is the poller's own cost.

    .venv/bin/python benchmarks/bench_poll.py --feeds 500 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client import REGISTRY

from monitor.ingest.feeds import FeedConfig, PollInterval
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller
from monitor.ingest.sink import QueueSink
from monitor.netguard import AddressGuard
from monitor.settings import PollerSettings
from monitor.stores.seen import MemorySeenStore

ROOT = Path(__file__).resolve().parents[1]
NEWSITE = ROOT / "tests" / "ingest" / "newsite.py"


def start_site(hosts: int, new_every: float) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(NEWSITE), "--hosts", str(hosts), "--bench-new-every", str(new_every)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"news site did not start: {line!r}")
    return process, int(line.split()[1])


def polls() -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "monitor_feed_fetches":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


async def bench(feeds: int, hosts: int, seconds: float, interval: float, port: int) -> None:
    configs = [
        FeedConfig(
            name=f"bench-{i}",
            outlet=f"o{i % 40}",
            url=f"http://127.0.0.{1 + i % hosts}:{port}/bench/{i}.xml",
            interval=PollInterval(min=interval, max=interval),
        )
        for i in range(feeds)
    ]
    settings = PollerSettings(host_min_spacing_seconds=0.0, max_concurrent_fetches=64)
    sink = QueueSink()
    async with Fetcher(
        FetchLimits.from_settings(settings),
        max_connections=128,
        guard=AddressGuard.allowing("127.0.0.0/8"),  # the news site runs on loopback
    ) as fetcher:
        poller = Poller(
            configs,
            fetcher=fetcher,
            seen=MemorySeenStore(ttl_seconds=3600),
            sink=sink,
            settings=settings,
            rng=random.Random(1),
        )

        async def drain() -> None:
            while True:
                await sink.queue.get()

        drainer = asyncio.create_task(drain())
        stop = asyncio.Event()
        running = asyncio.create_task(poller.run(stop, shutdown_grace=10))
        await asyncio.sleep(min(interval, 5.0) + 1.0)  # past the staggered first polls
        polls_before, cpu_before, wall_before = polls(), time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        polled = polls() - polls_before
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
        stop.set()
        await running
        drainer.cancel()
    errors = sum(state.errors > 0 for state in poller.states.values())
    print(f"feeds={feeds} hosts={hosts} interval={interval:g}s measured={wall:.1f}s")
    print(f"polls={polled:.0f} poller_cpu={cpu:.2f}s feeds_with_errors={errors}")
    print(f"feeds polled per minute (wall): {polled / wall * 60:,.0f}")
    print(f"feeds polled per minute per core (poller CPU): {polled / cpu * 60:,.0f}")
    print(f"CPU per poll: {cpu / polled * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval of every feed")
    parser.add_argument(
        "--new-every",
        type=float,
        default=60.0,
        help="each feed gets a new entry this often (seconds); below --interval every poll "
        "sees a changed body that must be parsed",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"new entry per feed every {args.new_every:g}s")
    site, port = start_site(args.hosts, args.new_every)
    try:
        asyncio.run(bench(args.feeds, args.hosts, args.seconds, args.interval, port))
    finally:
        site.terminate()
        site.wait(timeout=10)


if __name__ == "__main__":
    main()
