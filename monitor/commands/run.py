"""``monitor run``: the whole monitor in one process, without Kafka or Redis (embedded mode).

The real poller (``monitor.ingest.poller``) hands new entries to an in-process queue
(``QueueSink``); one task takes them in arrival order through the embedded
:class:`monitor.pipeline.Pipeline` (in-process stores); every alert goes to the real
:class:`monitor.alerts.dispatcher.Dispatcher`, whose ``console`` subscriber prints it on
stdout (``monitor.alerts.channels.console``), plus the subscribers of ``--subscriptions FILE`` if given. Decisions feed the
dispatcher's breaking-news detector as in the service.

Without ``--feeds`` it runs on the bundled sample (``monitor.samples``): 37 real articles
served as RSS feeds on a loopback port, one more released every ``--interval`` seconds, so
stories form, reprints are recognised (and not alerted) and developments arrive within about
half a minute. ``--once`` exits when the input is used up (sample: every article decided;
``--feeds``: every feed polled once and its new entries decided), ``--duration S`` after S
seconds, Ctrl-C (SIGINT) or SIGTERM at any time; pending alerts are printed before exit.

    monitor run --once                       # the bundled demo
    monitor run --feeds config/feeds.yaml    # live feeds, until Ctrl-C

Each alert prints as a short block::

    [10:31:02] NEW STORY (قصة جديدة) | 24.ae | 2023-09-14 09:00 UTC
      ‏القصة: بوتين يقبل دعوة كيم لزيارة كوريا الشمالية
      ‏• أكد الكرملين، الخميس، أن الرئيس الروسي فلاديمير بوتين قبِل دعوة ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from monitor.alerts.channels import Channel, ChannelContext, ConsoleChannel, make_channel
from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.sse import AlertBroadcaster
from monitor.alerts.subscriptions import Subscriber, Subscriptions, load_subscriptions
from monitor.commands.arguments import port, seconds
from monitor.core.records import Alert, RawArticle
from monitor.ingest.feeds import FeedConfig, load_feeds
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller
from monitor.ingest.sink import QueueSink
from monitor.lifecycle import stop_event
from monitor.metrics import start_metrics_server
from monitor.netguard import AddressGuard, guarded_client
from monitor.pipeline import Pipeline
from monitor.samples import SampleSite, load_samples
from monitor.settings import Settings, load_settings
from monitor.stores.deliveries import MemoryDeliveryStore
from monitor.stores.seen import MemorySeenStore
from monitor.stores.stories import MemoryStoryStore

__all__ = ["RunSummary", "register", "run_embedded"]

log = logging.getLogger(__name__)

CONSOLE_ID = "console"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the whole monitor in one process (bundled sample feeds unless --feeds)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--feeds", type=Path, help="feeds file (default: the bundled sample)")
    parser.add_argument("--subscriptions", type=Path, help="also deliver to these subscribers")
    parser.add_argument("--once", action="store_true", help="exit when the input is used up")
    parser.add_argument("--duration", type=seconds, metavar="S", help="exit after S seconds")
    parser.add_argument(
        "--interval", type=seconds, default=0.6, metavar="S",
        help="sample: release one article every S seconds (default 0.6)",
    )  # fmt: skip
    parser.add_argument("--metrics-port", type=port, default=0, help="serve /metrics (0: off)")
    parser.add_argument(
        "--web-port", type=port, help="serve the story browser here (default web.port; 0: off)"
    )
    parser.set_defaults(func=_main)


@dataclass
class RunSummary:
    """What one embedded run did."""

    articles: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)
    """Alerts the pipeline raised (and the dispatcher was handed), in order."""
    printed: list[Alert] = field(default_factory=list)
    """Alerts the console channel printed."""

    def line(self) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.decisions.items()))
        return (
            f"{self.articles} articles decided ({kinds or 'none'}); "
            f"{len(self.alerts)} alerts from the pipeline, {len(self.printed)} printed"
            " (breaking alerts come from the dispatcher)"
        )


def _console_subscriber() -> Subscriber:
    return Subscriber.model_validate({"id": CONSOLE_ID, "channel": {"type": "console"}})


def _subscriptions(extra: Path | None) -> Subscriptions:
    subscribers = [_console_subscriber()]
    if extra is not None:
        subscribers += [s for s in load_subscriptions(extra).subscribers if s.id != CONSOLE_ID]
    return Subscriptions(subscribers=subscribers)


async def run_embedded(
    settings: Settings,
    *,
    feeds: Sequence[FeedConfig] | None = None,
    once: bool = False,
    duration: float | None = None,
    out: TextIO = sys.stdout,
    sample_interval: float = 0.6,
    subscriptions: Path | None = None,
    stop: asyncio.Event | None = None,
    web_port: int = 0,
) -> RunSummary:
    """Poll, decide and print alerts until ``stop``, ``duration`` or (``once``) end of input.

    Without ``feeds``, serves the bundled sample on a loopback port and polls that.
    """
    stop = stop or asyncio.Event()
    summary = RunSummary()
    subscribers = _subscriptions(
        subscriptions
    )  # a configuration error stops us before anything runs
    site: SampleSite | None = None
    if feeds is None:
        site = SampleSite(load_samples(), interval=sample_interval)
        await site.start()
        # Poll faster than articles are released, so they arrive in release order.
        poll = max(0.05, min(0.25, sample_interval / 2))
        feeds = site.feeds(poll_min=poll, poll_max=poll)
        settings = settings.model_copy(deep=True)
        settings.poller.host_min_spacing_seconds = 0.0
        log.info("sample site on %s: %d articles, one every %.2fs",
                 site.base_url, len(site.articles), sample_interval)  # fmt: skip
    queue: asyncio.Queue[RawArticle] = asyncio.Queue()
    console = ConsoleChannel(out)
    client = guarded_client(
        AddressGuard.from_settings(settings.alerts.allowed_networks),
        timeout=httpx.Timeout(settings.alerts.http_timeout_seconds),
    )

    context = ChannelContext(client, settings.alerts.http_timeout_seconds, out)

    def channel_for(subscriber: Subscriber) -> Channel:
        # The run's own console: the summary counts what it printed.
        if subscriber.id == CONSOLE_ID:
            return console
        return make_channel(subscriber.channel, context)

    dispatcher = Dispatcher(
        subscribers,
        MemoryDeliveryStore(settings.alerts.delivered_ttl_seconds),
        settings.alerts,
        http_client=client,
        channel_factory=channel_for,
        poll_seconds=0.1,
        broadcaster=AlertBroadcaster(settings.alerts.sse_buffer),
        story_base_url=settings.web.base_url,
    )
    seen = MemorySeenStore(settings.poller.seen_ttl_seconds)
    tasks: list[asyncio.Task[Any]] = []
    try:
        async with (
            Pipeline(settings) as pipeline,
            Fetcher(
                FetchLimits.from_settings(settings.poller),
                user_agent=settings.poller.user_agent,
                guard=AddressGuard.from_settings(
                    # the sample site serves on loopback
                    [
                        *settings.poller.allowed_networks,
                        *(["127.0.0.0/8"] if site is not None else []),
                    ],
                    allow_all=settings.poller.allow_private_addresses,
                ),
            ) as fetcher,
        ):
            poller = Poller(feeds, fetcher=fetcher, seen=seen, sink=QueueSink(queue),
                            settings=settings.poller)  # fmt: skip
            polling = asyncio.create_task(poller.run(stop, shutdown_grace=5.0), name="poll")
            tasks = [
                asyncio.create_task(dispatcher.run(), name="delivery"),
                asyncio.create_task(_decide(queue, pipeline, dispatcher, summary), name="decide"),
                polling,
            ]
            if once:
                tasks.append(asyncio.create_task(
                    _stop_at_end(stop, poller, queue, site, summary), name="once"
                ))  # fmt: skip
            if duration is not None:
                tasks.append(asyncio.create_task(_stop_after(stop, duration), name="duration"))
            if web_port:
                tasks.append(asyncio.create_task(
                    _serve_web(pipeline, dispatcher, settings, web_port, stop), name="web"
                ))  # fmt: skip
            await _wait_stopped(stop, tasks)
            await polling  # returns once the polls under way finished
            await dispatcher.drain(timeout=10.0)
    finally:
        await dispatcher.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        if site is not None:
            await site.stop()
    summary.printed = list(console.printed)
    return summary


async def _decide(
    queue: asyncio.Queue[RawArticle],
    pipeline: Pipeline,
    dispatcher: Dispatcher,
    summary: RunSummary,
) -> None:
    while True:
        raw = await queue.get()
        try:
            decision, alert = await pipeline.process(raw)
            summary.articles += 1
            summary.decisions[decision.decision] += 1
            log.debug("%s %s %s", decision.decision, decision.outlet, decision.title)
            if alert is not None:
                summary.alerts.append(alert)
                await dispatcher.handle_alert(alert)
            await dispatcher.handle_decision(decision)
        except Exception:  # one bad article must not end the run
            log.exception("article %s from %s could not be processed", raw.id, raw.outlet)
        finally:
            queue.task_done()


async def _serve_web(
    pipeline: Pipeline, dispatcher: Dispatcher, settings: Settings, port: int, stop: asyncio.Event
) -> None:
    """The story browser over this run's stories (read only) and its alerts."""
    from monitor.commands.web import check_exposure, web_url
    from monitor.web.app import BroadcasterSource, create_app, serve
    from monitor.web.browse import MemoryStoryBrowser

    assert isinstance(pipeline.stories, MemoryStoryStore) and dispatcher.broadcaster is not None
    app = create_app(MemoryStoryBrowser(pipeline.stories), token=settings.web.token,
                     alerts=BroadcasterSource(dispatcher.broadcaster))  # fmt: skip
    host = settings.web.host
    check_exposure(host, settings.web.token)
    print(f"monitor run: stories at {web_url(host, port)}", file=sys.stderr, flush=True)
    try:
        await serve(app, host, port, stop)
    except OSError as error:  # port taken: the monitor runs on without its pages
        log.error("story browser not served on %s:%s: %s", host, port, error)
    except SystemExit:  # uvicorn exits when it cannot bind
        log.error("story browser not served on %s:%s", host, port)


async def _stop_at_end(
    stop: asyncio.Event,
    poller: Poller,
    queue: asyncio.Queue[RawArticle],
    site: SampleSite | None,
    summary: RunSummary,
) -> None:
    """Set ``stop`` once the input is used up (see the module docstring)."""
    while True:
        await asyncio.sleep(0.1)
        if site is not None:
            if site.all_released() and summary.articles >= len(site.articles):
                break
        elif all(state.next_poll_at > 0 for state in poller.states.values()) and not any(
            state.pending for state in poller.states.values()
        ):
            await queue.join()
            break
    stop.set()


async def _stop_after(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    stop.set()


async def _wait_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[Any]]) -> None:
    """Until ``stop`` is set, or a task failed (its error is raised)."""
    stopper = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
    finally:
        stopper.cancel()


def _main(args: argparse.Namespace) -> int:
    if not args.verbose:
        # One line per feed request would drown the alerts.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    feeds = load_feeds(args.feeds) if args.feeds is not None else None
    if args.metrics_port:
        start_metrics_server(args.metrics_port)

    async def main() -> RunSummary:
        stop = stop_event()
        return await run_embedded(
            settings,
            feeds=feeds,
            once=args.once,
            duration=args.duration,
            sample_interval=args.interval,
            subscriptions=args.subscriptions,
            stop=stop,
            web_port=settings.web.port if args.web_port is None else args.web_port,
        )

    started = time.monotonic()
    summary = asyncio.run(main())
    print(f"monitor run: {summary.line()} in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0
