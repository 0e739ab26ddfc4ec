"""The Faust application of the service mode, and how agents plug into it.

``create_app(settings)`` returns a :class:`MonitorApp` (a ``faust.App``) configured for the
monitor's Kafka. Records on every topic are the pydantic models of ``monitor.core.records``,
serialised by us as UTF-8 JSON, so Faust only moves raw bytes (``value_serializer="raw"``);
an agent decodes with ``TOPICS[name].schema.model_validate_json(value)`` and sends
``model.model_dump_json().encode()``.

Adding an agent
---------------
Write ``monitor/stream/<stage>_agent.py`` exposing ``register(app: MonitorApp) -> None``, which
declares the agent(s) on ``app`` with ``monitor.stream.batching.batch_agent``: the agent says
what it reads and what a batch becomes, the batching module does the rest, e.g. (see
``clean_agent.py``)::

    def register(app: MonitorApp) -> None:
        outputs = topic_names(app, "clean", "non_arabic", "rejected")

        async def clean(batch: Sequence[EventT]) -> list[Outgoing]:
            read = read_batch(batch, RawArticle, "clean", "raw")
            ...
            return [result_record(result, outputs) for result in results]

        batch_agent(app, "raw", "clean", clean)

Settings are on ``app.settings``; one shared Redis client per app is ``redis_client(app)``
(closed when the app stops). Then add the stage name to ``STAGES`` below so that
``build_worker_app(settings, stages=[...])`` (what ``monitor worker --stages`` runs) can
register it; ``DEFAULT_STAGES`` are what a worker runs by default.

Running
-------
* As a service: ``monitor worker`` builds the app with ``build_worker_app`` and runs it with
  :func:`serve` until SIGTERM. Start more workers (same app id) to share the partitions; the
  consumer group id is the app id.
* In tests / in-process: ``async with running(app): ...`` starts the app on the current loop and
  waits until its consumer owns partitions of every topic its agents read, then stops it
  (flushing the producer) on exit. A worker that may share topics with others uses
  ``running(app, all_sources=False)`` (ready after its first rebalance, partitions or not).

Faust-streaming gotchas (0.15.3 with aiokafka 0.14), and what this module does about them
--------------------------------------------------------------------------------------------
* The app id is the consumer group id *and* the prefix of Faust's internal topics
  (``<id>-__assignor-__leader``). Two apps with the same id on one broker share work, so tests
  give every app a unique id (``create_app(settings, app_id=...)``).
* Faust does NOT create the topics its agents read: when a source topic is missing at the first
  rebalance it logs "Ignoring missing topic" and does not consume it even after a producer
  creates it. ``MonitorApp.on_start`` therefore creates every topic of ``TOPICS`` (and every
  ``extra_topic``) with an admin client before the consumer subscribes, with the partitions of
  ``monitor.stream.topics`` (1 for the order-dependent story input); existing topics are left
  as they are, so a partition count is never changed behind an operator's back.
* ``app.agents`` is keyed by agent name, which defaults to the function's qualified name (the
  same for every app one ``register`` builds); ``register`` functions name agents after the app
  id so logs and Faust's per-agent channels stay apart.
* ``app.start()`` returns before the consumer group has joined; records produced before the
  join are still read (``consumer_auto_offset_reset="earliest"``), but :func:`running` waits for
  the assignment so tests do not time out on a slow first rebalance.
* ``stream_wait_empty=True`` (Faust's default) makes a rebalance wait until every buffered event
  is processed, which stalls shutdown and rebalances under backlog; we turn it off and rely on
  at-least-once delivery (stages are idempotent by article id).
* Offsets are committed every ``broker_commit_interval`` (2.8 s) for events the agent has moved
  past, so a crash re-delivers up to that much: agents must tolerate repeats.
* Per-record handling (``stream.items()``) costs Faust's event machinery, a Redis round trip
  and a produce request per record; the stage agents use ``stream.take_events(n, within=s)``
  instead, which acknowledges a batch's events once the body of the loop has run for it, *or
  raised* (its ``finally``), and Faust's flush before a commit does not fail for a record the
  producer gave up on. So agents send a batch's outputs with ``monitor.stream.outbox.deliver``,
  which returns only once the broker has every record (or, for one too large to produce, the
  rejection standing for it), and the at-least-once guarantee holds per batch. Outputs sent
  together share produce requests (``monitor worker`` sets ``producer_max_batch_size``; at
  Faust's 16 KiB default a produce request carries two or three articles).
* Faust's web server is off unless ``web_port`` is given: our metrics have their own endpoint
  (``monitor.metrics``), and a fixed default port would clash between workers on one host.
* Faust creates ``datadir`` (default ``<id>-data`` in the working directory) even with the
  ``memory://`` store; we point it into the temp directory.
* Faust's ``Worker`` installs signal handlers and configures logging; ``app.start()`` does not,
  which is what tests want.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import faust
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faust.types import TopicT

from monitor.lifecycle import stop_event
from monitor.settings import Settings
from monitor.stream.topics import TOPICS

__all__ = [
    "DEFAULT_STAGES",
    "STAGES",
    "AppStopTimeout",
    "MonitorApp",
    "build_worker_app",
    "create_app",
    "create_topics",
    "extra_topic",
    "redis_client",
    "running",
    "serve",
    "topic",
]

DEFAULT_APP_ID = "arabic-news-monitor"
FAUST_DATA_ROOT = Path(tempfile.gettempdir()) / "arabic-news-monitor-faust"

# Agent modules ``build_worker_app`` can register, in pipeline order: stage name -> module
# exposing ``register(app)``.
STAGES: dict[str, str] = {
    "prep": "monitor.stream.prep_agent",
    "clean": "monitor.stream.clean_agent",
    "fingerprint": "monitor.stream.fingerprint_agent",
    "story": "monitor.stream.story_agent",
}
DEFAULT_STAGES: tuple[str, ...] = ("prep", "story")
"""``prep`` cleans and fingerprints in one agent (``raw`` -> ``fingerprinted``); ``clean`` and
``fingerprint`` do the same as two agents joined by the ``clean`` topic."""


class MonitorApp(faust.App):
    """A ``faust.App`` that knows the monitor's settings and owns one Redis client.

    On start it creates every topic of ``TOPICS`` (with the settings' prefix) and every topic
    made with :func:`topic` or :func:`extra_topic` that does not exist yet, before its consumer
    subscribes.
    """

    settings: Settings
    _redis: aioredis.Redis | None = None

    def __init__(self, id: str, **options: Any) -> None:
        super().__init__(id, **options)
        self.declared_topics: dict[str, int] = {}

    async def on_start(self) -> None:
        await super().on_start()
        wanted = {
            spec.name(self.settings.kafka.topic_prefix): _partitions(
                self.settings, spec.partitioned
            )
            for spec in TOPICS.values()
        }
        wanted.update(self.declared_topics)
        await create_topics(self.settings, wanted)
        # The fixed tables (term and n-gram weights, gazetteer) take about a second to build:
        # built here, before the first record, they do not hold up the first alerts.
        from monitor.workers import warm_tables

        warm_tables()

    async def on_stop(self) -> None:
        await super().on_stop()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        if str(self.conf.store).startswith("memory:"):
            # Nothing of value in it: only the empty dirs Faust made on start.
            shutil.rmtree(self.conf.datadir, ignore_errors=True)


def create_app(
    settings: Settings,
    *,
    app_id: str = DEFAULT_APP_ID,
    web_port: int | None = None,
    **faust_options: Any,
) -> MonitorApp:
    """A Faust app on ``settings.kafka``; ``faust_options`` override any Faust setting.

    >>> app = create_app(Settings(kafka={"bootstrap": "10.0.0.5:9092,10.0.0.6:9092"}))
    >>> [str(url) for url in app.conf.broker]
    ['kafka://10.0.0.5:9092', 'kafka://10.0.0.6:9092']
    """
    brokers = [f"kafka://{host.strip()}" for host in settings.kafka.bootstrap.split(",") if host]
    options: dict[str, Any] = {
        "broker": brokers,
        "value_serializer": "raw",
        "key_serializer": "raw",
        "store": "memory://",
        "topic_partitions": settings.kafka.partitions,
        "topic_replication_factor": settings.kafka.replication,
        "producer_acks": -1,
        "consumer_auto_offset_reset": "earliest",
        "stream_wait_empty": False,
        # Faust's default datadir is "<id>-data" in the working directory; tables live in
        # memory (and Redis), so keep its empty bookkeeping dirs out of the way.
        "datadir": str(FAUST_DATA_ROOT / "{conf.name}"),
        "web_enabled": web_port is not None,
        "web_port": web_port or 6066,
        "autodiscover": False,
    }
    options.update(faust_options)
    FAUST_DATA_ROOT.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = MonitorApp(app_id, **options)
    app.settings = settings
    return app


def topic(app: MonitorApp, name: str) -> TopicT:
    """The Faust topic for ``TOPICS[name]``, with the app's prefix and partition count."""
    spec = TOPICS[name]
    return extra_topic(app, spec.suffix, partitions=_partitions(app.settings, spec.partitioned))


def extra_topic(app: MonitorApp, suffix: str, *, partitions: int = 1) -> TopicT:
    """A Faust topic ``<prefix><suffix>`` outside ``TOPICS`` (tests, experiments), raw bytes.

    The app creates it on start if missing.
    """
    name = f"{app.settings.kafka.topic_prefix}{suffix}"
    app.declared_topics[name] = partitions
    return app.topic(
        name,
        partitions=partitions,
        replicas=app.settings.kafka.replication,
        key_serializer="raw",
        value_serializer="raw",
    )


def _partitions(settings: Settings, partitioned: bool) -> int:
    return settings.kafka.partitions if partitioned else 1


async def create_topics(settings: Settings, partitions_by_topic: dict[str, int]) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, settings.kafka.replication)
            for name, partitions in partitions_by_topic.items()
            if name not in existing
        ]
        if missing:
            # Another worker may create the same topics at the same moment: that is fine.
            await admin.create_topics(missing)
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


def redis_client(app: MonitorApp) -> aioredis.Redis:
    """The app's Redis client on ``settings.redis.url`` (created on first use)."""
    if app._redis is None:
        app._redis = aioredis.Redis.from_url(app.settings.redis.url)
    return app._redis


def build_worker_app(
    settings: Settings,
    *,
    stages: Sequence[str] | None = None,
    app_id: str = DEFAULT_APP_ID,
    **faust_options: Any,
) -> MonitorApp:
    """The app with the agents of ``stages`` (names in ``STAGES``, or agent module paths;
    default ``DEFAULT_STAGES``).

    >>> build_worker_app(Settings(), stages=["prep", "clean"])
    Traceback (most recent call last):
    ...
    ValueError: stage 'prep' already cleans and fingerprints: run it or clean/fingerprint, not both
    """
    chosen = list(stages) if stages is not None else list(DEFAULT_STAGES)
    # prep reads the records clean reads and writes what fingerprint writes.
    if "prep" in chosen and ("clean" in chosen or "fingerprint" in chosen):
        raise ValueError(
            "stage 'prep' already cleans and fingerprints: run it or clean/fingerprint, not both"
        )
    app = create_app(settings, app_id=app_id, **faust_options)
    for stage in chosen:
        importlib.import_module(STAGES.get(stage, stage)).register(app)
    return app


class AppStopTimeout(RuntimeError):
    """The app did not stop in time (seen when the broker is gone: the consumer's thread
    dies while stopping and the app waits for it forever)."""


@contextlib.asynccontextmanager
async def running(
    app: MonitorApp,
    *,
    ready_timeout: float = 60.0,
    all_sources: bool = True,
    stop_timeout: float | None = None,
) -> AsyncIterator[MonitorApp]:
    """Run ``app`` in this process and event loop for the duration of the block.

    When the app has agents, waits (at most ``ready_timeout`` seconds) until its consumer owns
    partitions of every topic its agents read (``all_sources``, what a test wants), or only
    until its first rebalance is done (``all_sources=False``: one of several workers sharing
    a topic may legitimately own none of its partitions). ``stop_timeout``: seconds the stop
    may take before ``AppStopTimeout`` is raised (None: no limit).
    """
    await app.start()
    try:
        if app.agents:
            ready = _assigned(app) if all_sources else _rebalanced(app)
            await asyncio.wait_for(ready, ready_timeout)
        yield app
    finally:
        if stop_timeout is None:
            await app.stop()
        else:
            try:
                await asyncio.wait_for(app.stop(), stop_timeout)
            except TimeoutError:
                raise AppStopTimeout(f"the app did not stop within {stop_timeout:g} s") from None


async def serve(app: MonitorApp, stop: asyncio.Event | None = None) -> None:
    """Run ``app`` until ``stop`` is set (or SIGTERM/SIGINT when no event is given).

    What ``monitor worker`` needs: no waiting for partitions (a worker beyond the partition
    count legitimately gets none), a graceful stop that flushes the producer and commits.
    """
    stop = stop_event(stop)
    await app.start()
    try:
        await stop.wait()
    finally:
        await app.stop()


async def _assigned(app: MonitorApp) -> None:
    sources = {name for agent in app.agents.values() for name in _topic_names(agent.channel)}
    while True:
        assigned = {tp.topic for tp in app.consumer.assignment()}
        if sources <= assigned and not app.rebalancing:
            return
        await asyncio.sleep(0.05)


async def _rebalanced(app: MonitorApp) -> None:
    while app.rebalancing_count < 1 or app.rebalancing:
        await asyncio.sleep(0.05)


def _topic_names(channel: object) -> list[str]:
    return list(getattr(channel, "topics", ()))
