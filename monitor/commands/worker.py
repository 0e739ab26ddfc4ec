"""``monitor worker``: the Faust worker of the service mode (clean, fingerprint and story agents).

Builds the Faust app with ``monitor.stream.app.build_worker_app`` from the one ``Settings``
(``config/monitor.yaml`` or ``MONITOR_CONFIG``, overridden by ``MONITOR_*`` variables), runs it
on Kafka (``kafka.bootstrap``) with its state in Redis (``redis.url``), serves Prometheus
metrics on ``metrics.port`` and measures its consumer group's lag (``CONSUMER_LAG``) every 15 s.

Scaling: start more workers with the same ``--app-id`` (the consumer group): they share the
partitions of ``raw`` (``kafka.partitions``), which the ``prep`` agent cleans, fingerprints
and analyses; ``fingerprinted`` has one partition, so exactly one of them runs the story agent
at a time and takes over if that one dies. ``--stages`` runs a subset: e.g. ``--stages prep``
on extra machines, or ``--stages story`` for a worker that only decides. ``clean`` and
``fingerprint`` split ``prep`` in two agents joined by the ``clean`` topic.

Delivery: agents take records in batches and send a batch's outputs before its offsets are
acknowledged; Faust commits acknowledged offsets after flushing the producer, so a killed
worker's last few seconds are processed again. Each stage is idempotent by article id (an article never matches its own
fingerprint; the story stage re-emits the recorded decision and alert of an article it
already decided), and the dispatcher's delivery store drops alerts it already delivered.

SIGTERM/SIGINT stop it gracefully (agents stop, offsets are committed, the producer flushed),
within ``--stop-timeout`` seconds even when the broker is gone.

    MONITOR_KAFKA__BOOTSTRAP=127.0.0.1:9092 MONITOR_REDIS__URL=redis://127.0.0.1:6379/0 \\
        monitor worker --metrics-port 9465

It logs ``worker ready`` (with its partitions) once its consumer owns partitions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from monitor.commands.arguments import port, seconds
from monitor.lifecycle import stop_event
from monitor.metrics import start_metrics_server
from monitor.settings import Settings, load_settings
from monitor.stream.app import (
    DEFAULT_APP_ID,
    DEFAULT_STAGES,
    STAGES,
    AppStopTimeout,
    MonitorApp,
    build_worker_app,
    running,
)
from monitor.stream.lag import ConsumerLagMonitor

__all__ = ["register", "run_worker", "source_topics"]

log = logging.getLogger(__name__)

KAFKA_RETRY_SECONDS = 2.0
PRODUCER_LINGER_SECONDS = 0.005
"""Output records wait this long to share a produce request (one request per record
otherwise: a syscall and a broker round trip each, the worker's largest Kafka cost)."""
PRODUCER_MAX_BATCH_BYTES = 512 * 1024
"""Bytes of one partition's records in a produce request. Faust's default (16 KiB) holds two
or three clean articles, so the agents' batches (``BATCH_SIZE`` records sent together) went
out as dozens of requests; the broker accepts 1 MiB per batch by default."""
CONSUMER_MAX_FETCH_BYTES = 16 * 1024 * 1024
"""Bytes of one partition a fetch may return. At Faust's 1 MiB a fetch held about 130
``fingerprinted`` records (7-8 KB each), fewer than one story batch, and the story worker sat
idle between fetches (in one service benchmark run its wait between batches went from 3.4 s
to 1.8 s with this size)."""
READY_TIMEOUT_SECONDS = 300.0
LAG_STOP_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 30.0
"""A graceful stop takes a few seconds; past this the worker logs an error and exits anyway
(with the broker gone, Faust's consumer thread can die while stopping and leave the stop
waiting forever). Offsets not committed are processed again by the next worker."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker", help="run the Faust agents (clean, fingerprint, story) on Kafka and Redis"
    )
    parser.add_argument(
        "--stages",
        help=f"comma-separated stages among {','.join(STAGES)} "
        f"(default: {','.join(DEFAULT_STAGES)})",
    )
    parser.add_argument(
        "--app-id", default=DEFAULT_APP_ID, help="Faust app id = Kafka consumer group"
    )
    parser.add_argument("--metrics-port", type=port, help="port of /metrics (0: off)")
    parser.add_argument(
        "--stop-timeout",
        type=seconds,
        default=STOP_TIMEOUT_SECONDS,
        help=f"seconds a graceful stop may take before the worker exits anyway "
        f"(default {STOP_TIMEOUT_SECONDS:g})",
    )
    parser.set_defaults(func=_main)


def source_topics(app: MonitorApp) -> list[str]:
    """The topics the app's agents read (what its consumer lag is measured on)."""
    return sorted({name for agent in app.agents.values() for name in agent.channel.topics})  # type: ignore[attr-defined]


async def _wait_for_kafka(bootstrap: str, stop: asyncio.Event) -> bool:
    """Until the broker answers (True) or ``stop`` is set (False)."""
    while not stop.is_set():
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        except Exception as exc:
            log.warning("Kafka at %s not reachable (%s); retrying", bootstrap, exc)
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=KAFKA_RETRY_SECONDS)
    return False


async def run_worker(
    settings: Settings,
    *,
    stages: Sequence[str] | None = None,
    app_id: str = DEFAULT_APP_ID,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    stop_timeout: float = STOP_TIMEOUT_SECONDS,
    **faust_options: Any,
) -> None:
    """Run the agents until ``stop`` is set (or SIGTERM/SIGINT when no event is given).

    ``ready`` is set once the consumer owns its partitions. Raises ``AppStopTimeout`` when
    the stop takes longer than ``stop_timeout`` seconds.
    """
    stop = stop_event(stop)
    if not await _wait_for_kafka(settings.kafka.bootstrap, stop):
        return
    faust_options.setdefault("producer_linger", PRODUCER_LINGER_SECONDS)
    faust_options.setdefault("producer_max_batch_size", PRODUCER_MAX_BATCH_BYTES)
    faust_options.setdefault("consumer_max_fetch_size", CONSUMER_MAX_FETCH_BYTES)
    app = build_worker_app(settings, stages=stages, app_id=app_id, **faust_options)
    topics = source_topics(app)
    lag = ConsumerLagMonitor(settings.kafka.bootstrap, app.conf.id, topics)
    lag_stop = asyncio.Event()
    lag_task: asyncio.Task[None] | None = None
    async with running(app, ready_timeout=READY_TIMEOUT_SECONDS, stop_timeout=stop_timeout):
        log.info(
            "worker ready: group %s, agents %s, partitions %s",
            app.conf.id,
            ", ".join(sorted(app.agents)),
            sorted(f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment()),
        )
        if ready is not None:
            ready.set()
        try:
            await lag.start()
            lag_task = asyncio.create_task(lag.run(lag_stop), name="consumer lag")
        except Exception as exc:  # lag is only a metric: never keep the agents from running
            log.warning("consumer lag monitor not started: %s", exc)
        try:
            await stop.wait()
        finally:
            log.info("worker stopping")
            lag_stop.set()
            # Bounded: with the broker gone, the lag monitor's admin calls can wait forever.
            try:
                if lag_task is not None:
                    await asyncio.wait_for(lag_task, LAG_STOP_SECONDS)
                await asyncio.wait_for(lag.stop(), LAG_STOP_SECONDS)
            except TimeoutError:
                log.warning("consumer lag monitor did not stop within %g s", LAG_STOP_SECONDS)
    log.info("worker stopped")


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.metrics_port is not None:
        settings.metrics.port = args.metrics_port
    stages = [s.strip() for s in args.stages.split(",") if s.strip()] if args.stages else None
    start_metrics_server(settings.metrics.port)
    try:
        asyncio.run(
            run_worker(settings, stages=stages, app_id=args.app_id, stop_timeout=args.stop_timeout)
        )
    except AppStopTimeout as error:
        log.error("worker stop failed: %s; exiting anyway", error)
        logging.shutdown()
        # A stuck consumer thread would keep the interpreter from exiting.
        os._exit(1)
    return 0
