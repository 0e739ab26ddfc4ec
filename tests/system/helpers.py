"""Building blocks of the system tests and the service benchmark: worker processes, a loopback
webhook that counts deliveries, producing articles and collecting decisions and alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.core.records import Alert, Decision, RawArticle
from monitor.settings import KafkaSettings, RedisSettings, Settings
from monitor.stream.app import create_topics
from monitor.stream.topics import TOPICS, partitions_by_topic

ROOT = Path(__file__).resolve().parents[2]


def isolated_settings(kafka_bootstrap: str, redis_url: str, name: str | None = None) -> Settings:
    """Settings with a topic and key prefix of their own (tests never see each other)."""
    name = name or f"s{uuid.uuid4().hex[:8]}"
    return Settings(
        kafka=KafkaSettings.model_validate(
            {"bootstrap": kafka_bootstrap, "topic_prefix": f"{name}."}
        ),
        redis=RedisSettings.model_validate({"url": redis_url, "key_prefix": f"{name}:"}),
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that gives a child ``monitor`` process the same settings."""
    return {
        **os.environ,
        "MONITOR_KAFKA__BOOTSTRAP": settings.kafka.bootstrap,
        "MONITOR_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "MONITOR_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "MONITOR_REDIS__URL": settings.redis.url,
        "MONITOR_REDIS__KEY_PREFIX": settings.redis.key_prefix,
        "MONITOR_METRICS__PORT": "0",
        "PYTHONUNBUFFERED": "1",
    }


class WorkerProcess:
    """``monitor worker`` in a child process, its log in ``log_path``."""

    def __init__(
        self, settings: Settings, log_path: Path, *, app_id: str, args: Sequence[str] = ()
    ):
        self.settings = settings
        self.log_path = log_path
        self.app_id = app_id
        self.args = list(args)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "worker", "--app-id", self.app_id, *self.args],
            cwd=ROOT,
            env=settings_env(self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def log_text(self) -> str:
        return self.log_path.read_bytes()[self._log_offset :].decode("utf-8", errors="replace")

    async def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "worker ready" in self.log_text():
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited ({self.process.returncode}):\n{self.log_text()[-3000:]}"
                )
            await asyncio.sleep(0.2)
        raise TimeoutError(f"worker not ready in {timeout}s:\n{self.log_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or committed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait (SIGKILL after ``timeout``)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode


@dataclass
class Webhook:
    """A loopback webhook receiver that remembers every delivery's idempotency key."""

    keys: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        self.alerts.extend(Alert.model_validate(a) for a in body["alerts"])
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/alerts", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    def subscriptions_yaml(self, path: Path) -> Path:
        path.write_text(
            f"subscribers:\n  - id: test-hook\n    channel: {{type: webhook, url: '{self.url}'}}\n",
            encoding="utf-8",
        )
        return path

    def duplicates(self) -> dict[str, int]:
        return {key: n for key, n in Counter(self.keys).items() if n > 1}


async def ensure_topics(settings: Settings) -> None:
    await create_topics(settings, partitions_by_topic(TOPICS, settings.kafka))


@contextlib.asynccontextmanager
async def producer(settings: Settings, **options: object) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap, acks="all", enable_idempotence=True,
        linger_ms=5, **options,
    )  # fmt: skip
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


async def produce(
    kafka: AIOKafkaProducer, settings: Settings, articles: Iterable[RawArticle]
) -> int:
    """Send ``articles`` to the raw topic (stamping ``trace['produced']``); wait for the acks."""
    topic = TOPICS["raw"].name(settings.kafka.topic_prefix)
    futures = []
    for article in articles:
        article.trace["produced"] = time.time()
        futures.append(
            await kafka.send(topic, article.model_dump_json().encode(), key=article.id.encode())
        )
    await asyncio.gather(*futures)
    return len(futures)


@dataclass
class Collected:
    decisions: dict[str, Decision] = field(default_factory=dict)
    decision_records: int = 0
    decision_seen: dict[str, float] = field(default_factory=dict)
    """Article id -> wall time its (first) decision was read."""
    alerts: list[Alert] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)
    """Id of every alert record, in order (also in ``light`` mode)."""
    alert_seen: dict[str, float] = field(default_factory=dict)
    last_stamp: dict[str, float] = field(default_factory=dict)
    """Trace stage -> latest stamp of that stage among the decisions read."""

    def alert_duplicates(self) -> dict[str, int]:
        return {key: n for key, n in Counter(self.alert_ids).items() if n > 1}


_TRACE_STAMP = re.compile(rb'"(cleaned|fingerprinted|decided)":([0-9.]+)')


class OutputReader:
    """Reads the decisions and alerts topics from the beginning, in the background.

    ``light``: decisions are only counted by key (the article id) and alerts by id, without
    building the records (a benchmark's reader must not compete with the workers for CPU).
    """

    def __init__(self, settings: Settings, *, light: bool = False) -> None:
        self.light = light
        prefix = settings.kafka.topic_prefix
        self.decisions_topic = TOPICS["decisions"].name(prefix)
        self.alerts_topic = TOPICS["alerts"].name(prefix)
        self.settings = settings
        self.collected = Collected()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.decisions_topic,
            self.alerts_topic,
            bootstrap_servers=self.settings.kafka.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            now = time.time()
            for tp, records in batches.items():
                for record in records:
                    if record.value is None:
                        continue
                    got = self.collected
                    if tp.topic == self.alerts_topic:
                        if self.light:
                            alert_id = str(json.loads(record.value)["id"])
                        else:
                            alert = Alert.model_validate_json(record.value)
                            got.alerts.append(alert)
                            alert_id = alert.id
                        got.alert_ids.append(alert_id)
                        got.alert_seen.setdefault(alert_id, now)
                    else:
                        got.decision_records += 1
                        if self.light:
                            article = (record.key or b"").decode()
                            for stage, stamp in _TRACE_STAMP.findall(record.value):
                                name = stage.decode()
                                got.last_stamp[name] = max(
                                    got.last_stamp.get(name, 0.0), float(stamp)
                                )
                        else:
                            decision = Decision.model_validate_json(record.value)
                            article = decision.article
                            got.decisions.setdefault(article, decision)
                            for name, stamp in decision.trace.items():
                                got.last_stamp[name] = max(got.last_stamp.get(name, 0.0), stamp)
                        got.decision_seen.setdefault(article, now)

    async def wait_decisions(self, ids: Iterable[str], timeout: float) -> None:
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if wanted <= self.collected.decision_seen.keys():
                return
            if self._task is not None and self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        missing = wanted - self.collected.decision_seen.keys()
        raise TimeoutError(f"{len(missing)} of {len(wanted)} articles undecided after {timeout}s")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


async def settle(seconds: float) -> None:
    """Give in-flight records time to arrive (used only after everything was decided)."""
    await asyncio.sleep(seconds)
