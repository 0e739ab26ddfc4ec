"""Dispatcher throughput: subscription matching, and delivery to a webhook on loopback.

Alerts are built from real articles of the stream (title + first sentences); subscribers watch
words drawn from those titles. Prints alerts/s for matching (against every subscriber) and
deliveries/s end to end (enqueue -> claim -> signed HTTP POST -> done) with the in-process
store and, given ``--redis-url``, the Redis store.

    .venv/bin/python benchmarks/bench_dispatch.py /work/shared/data/egypt2013_stream.jsonl \\
        --alerts 2000 --subscribers 200 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.subscriptions import Subscriptions
from monitor.core.arabic import normalize, tokens
from monitor.core.records import Alert
from monitor.settings import AlertSettings
from monitor.stores.deliveries import DeliveryStore, MemoryDeliveryStore, RedisDeliveryStore


def load_alerts(path: Path, count: int) -> list[Alert]:
    alerts: list[Alert] = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            sentences = [s for s in row["text"].split("\n") if s.strip()][:3]
            alerts.append(
                Alert(
                    id=row["id"],
                    kind="development",
                    story=f"s{len(alerts) % 300}",
                    story_title=row["title"],
                    article=row["id"],
                    outlet=row["outlet"],
                    title=row["title"],
                    new_sentences=sentences,
                )
            )
            if len(alerts) == count:
                break
    return alerts


def make_subscriptions(alerts: list[Alert], count: int, url: str, seed: int = 7) -> Subscriptions:
    rng = random.Random(seed)
    vocabulary = sorted({t for a in alerts for t in tokens(normalize(a.title)) if len(t) > 4})
    subscribers = [
        {
            "id": f"sub{i}",
            "channel": {"type": "webhook", "url": url, "secret": "bench"},
            "filters": {"words": rng.sample(vocabulary, 3)},
        }
        for i in range(count)
    ]
    return Subscriptions.model_validate({"subscribers": subscribers})


async def bench_delivery(alerts: list[Alert], store: DeliveryStore, subscriptions: Subscriptions) -> tuple[int, float]:  # fmt: skip
    settings = AlertSettings.model_validate(
        {"retry_base_seconds": 0.01, "allowed_networks": ["127.0.0.0/8"]}  # receiver on loopback
    )
    dispatcher = Dispatcher(subscriptions, store, settings, concurrency=64, poll_seconds=0.05)
    runner = asyncio.create_task(dispatcher.run())
    start = time.perf_counter()
    keys = 0
    for alert in alerts:
        keys += len(await dispatcher.handle_alert(alert))
    assert await dispatcher.drain(600)
    elapsed = time.perf_counter() - start
    await dispatcher.close()
    await runner
    return keys, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    received = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal received
        await request.read()
        received += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/hook"

    alerts = load_alerts(args.stream, args.alerts)
    subscriptions = make_subscriptions(alerts, args.subscribers, url)
    start = time.perf_counter()
    matches = sum(len(subscriptions.matching(a)) for a in alerts)
    elapsed = time.perf_counter() - start
    print(
        f"matching: {len(alerts)} alerts x {args.subscribers} subscribers in {elapsed:.2f} s "
        f"= {len(alerts) / elapsed:,.0f} alerts/s ({matches} matches)"
    )
    stores: list[tuple[str, DeliveryStore]] = [("memory", MemoryDeliveryStore())]
    client = None
    if args.redis_url:
        client = aioredis.Redis.from_url(args.redis_url)
        stores.append(("redis", RedisDeliveryStore(client, key_prefix=f"bench{time.time_ns()}:")))
    for name, store in stores:
        received = 0
        deliveries, elapsed = await bench_delivery(alerts, store, subscriptions)
        print(
            f"delivery ({name} store): {deliveries} deliveries in {elapsed:.2f} s "
            f"= {deliveries / elapsed:,.0f} deliveries/s (receiver got {received})"
        )
    if client is not None:
        await client.aclose()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
