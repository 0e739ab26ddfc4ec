"""``monitor web``: the story browser and story API (read-only).

    monitor web                                  # the service's stories, from its Redis
    monitor web --replay tests/data/seeds.jsonl  # replay files embedded, then browse them

Without ``--replay`` it reads the stories the service keeps in Redis (``--redis URL``, else
``redis.url``) and relays the dispatcher's alert stream (``web.alerts_stream_url``). With
``--replay`` it first runs the files through the embedded pipeline (as ``monitor replay``)
and serves the stories it built; its alert stream holds the replay's alerts. It listens on
``--host``/``--port`` (default ``web.host``/``web.port``: loopback); set ``web.token``
(``MONITOR_WEB__TOKEN``) before listening on any other address.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from monitor.alerts.sse import AlertBroadcaster
from monitor.commands.replay import read_articles
from monitor.lifecycle import stop_event
from monitor.pipeline import Pipeline
from monitor.settings import Settings, load_settings
from monitor.stores.stories import MemoryStoryStore
from monitor.web.app import BroadcasterSource, RelaySource, create_app, serve
from monitor.web.browse import MemoryStoryBrowser, RedisStoryBrowser

__all__ = ["check_exposure", "register", "replay_into", "web_url"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "web", help="serve the story browser and story API", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--replay", nargs="+", type=Path, metavar="FILE",
                        help="replay these article files embedded, then serve the result")  # fmt: skip
    parser.add_argument("--redis", metavar="URL", help="the service's Redis (default: redis.url)")
    parser.add_argument("--host", help="listen address (default: web.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: web.port, 8080)")
    parser.set_defaults(func=_main)


def web_url(host: str, port: int) -> str:
    """The address to open in a browser.

    >>> web_url("0.0.0.0", 8080)
    'http://127.0.0.1:8080/'
    """
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def check_exposure(host: str, token: str | None) -> None:
    """Warn when the stories are served beyond this machine without a token."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and token is None:
        log.warning("serving on %s without web.token: anyone who can reach it reads the stories",
                    host)  # fmt: skip


async def replay_into(
    paths: list[Path], settings: Settings, broadcaster: AlertBroadcaster
) -> MemoryStoryStore:
    """Run ``paths`` through the embedded pipeline; its story store, alerts published."""
    async with Pipeline(settings) as pipeline:
        count = 0
        async for _decision, alert in pipeline.process_many(read_articles(paths)):
            count += 1
            if alert is not None:
                broadcaster.publish(alert)
        log.info("replayed %d articles", count)
        assert isinstance(pipeline.stories, MemoryStoryStore)
        return pipeline.stories


async def run_web(args: argparse.Namespace, settings: Settings) -> int:
    web = settings.web
    host = args.host or web.host
    port = args.port if args.port is not None else web.port
    stop = stop_event()
    client: aioredis.Redis | None = None
    if args.replay:
        broadcaster = AlertBroadcaster(settings.alerts.sse_buffer)
        store = await replay_into(args.replay, settings, broadcaster)
        app = create_app(MemoryStoryBrowser(store), token=web.token,
                         alerts=BroadcasterSource(broadcaster))  # fmt: skip
    else:
        client = aioredis.Redis.from_url(args.redis or settings.redis.url)
        stream = web.alerts_stream_url or (
            f"http://{settings.alerts.sse_host}:{settings.alerts.sse_port}/alerts/stream"
        )
        app = create_app(RedisStoryBrowser(client, settings.redis.key_prefix), token=web.token,
                         alerts=RelaySource(stream))  # fmt: skip
    check_exposure(host, web.token)
    print(f"monitor web: {web_url(host, port)}", file=sys.stderr, flush=True)
    try:
        await serve(app, host, port, stop)
    finally:
        if client is not None:
            await client.aclose()
    return 0


def _main(args: argparse.Namespace) -> int:
    missing = [str(path) for path in args.replay or () if not path.is_file()]
    if missing:
        print(f"monitor web: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    return asyncio.run(run_web(args, load_settings()))
