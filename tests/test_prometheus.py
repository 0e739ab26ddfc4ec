"""Real Prometheus scrapes a real pipeline run; every dashboard panel and every alert rule must
find data.

Prometheus (Debian's binary) runs the repository's ``config/prometheus/prometheus.yml``, with
only the targets pointed at this test process and the intervals shortened to 1 s. This process
plays the poller, the worker and the dispatcher at once: it serves ``/metrics`` on a free port
while pollers fetch the seeds from a loopback news site (one feed flaky, one poller whose Redis
is unreachable) into a real Kafka, a replay of a slice of the real stream joins them on the raw
topic, the embedded pipeline (``monitor.pipeline.Pipeline`` on real Redis) decides on each
article as the worker would, and the real dispatcher (``run_dispatch``) delivers the alerts to
loopback webhooks, one of which always fails, so retries and dead letters happen. Consumer
lag is measured on the real consumer groups.

Rules are checked two ways: Prometheus loads and evaluates every rule with health "ok", and
the rule's signal (its expression without the top-level threshold comparison, which rules.yml
keeps as the last part of every expression) returns data. A rule that watches a misspelt metric
or label, or a series nothing records, therefore fails here instead of never firing.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from monitor.commands.dispatch import run_dispatch
from monitor.core.records import RawArticle
from monitor.ingest.feeds import FeedConfig
from monitor.ingest.fetch import Fetcher, FetchLimits
from monitor.ingest.poller import Poller
from monitor.ingest.sink import KafkaSink, QueueSink
from monitor.metrics import DELIVERIES
from monitor.netguard import AddressGuard
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.stores.seen import RedisSeenStore
from monitor.stream.app import create_topics
from monitor.stream.lag import ConsumerLagMonitor
from monitor.stream.topics import TOPICS, partitions_by_topic
from tests.ingest.newsite import NewsSite

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_CONFIG = ROOT / "config" / "prometheus" / "prometheus.yml"
RULES = ROOT / "config" / "prometheus" / "rules.yml"
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))
SERVICE_JOBS = ("poller", "worker", "dispatcher")

# What Grafana would put in place of its built-in variables. The run lasts seconds, so every
# window must reach back to its start.
GRAFANA_BUILTINS = {"$__rate_interval": "1m", "$__interval": "1s", "$__range": "1m"}
THRESHOLD = re.compile(
    r"^(?P<signal>.*\S)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?-?[0-9][0-9.e+_]*\s*$", re.DOTALL
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/test installs Debian's prometheus package"
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)


def test_promtool_accepts_config() -> None:
    result = _promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_rules() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_keeps_its_threshold_last() -> None:
    """The convention the data checks below rely on to find each rule's signal."""
    for rule in _rules():
        assert THRESHOLD.match(rule["expr"]), f"{rule['alert']}: end the expr with `OP NUMBER`"


def test_every_rule_is_named_and_described_for_the_overview() -> None:
    """The overview counts firing rules by the "Monitor" prefix; routing needs a severity."""
    for rule in _rules():
        assert rule["alert"].startswith("Monitor"), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_config_scrapes_every_service() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert set(SERVICE_JOBS) <= jobs
    assert config["rule_files"] == ["rules.yml"]


def test_config_targets_are_the_compose_services_and_their_metrics_port() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    port = Settings().metrics.port
    for job in config["scrape_configs"]:
        if job["job_name"] not in SERVICE_JOBS:
            continue
        (static,) = job["static_configs"]
        assert static["targets"] == [f"{job['job_name']}:{port}"]
        service = compose["services"][job["job_name"]]
        assert str(service["environment"]["MONITOR_METRICS__PORT"]) == str(port)
    mounts = {str(v).removesuffix(":ro") for v in compose["services"]["prometheus"]["volumes"]}
    # rule_files are relative to the config file, so rules.yml must sit beside it.
    assert "./config/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in mounts
    assert "./config/prometheus/rules.yml:/etc/prometheus/rules.yml" in mounts


# --------------------------------------------------------------------------------- harness


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _test_config(metrics_target: str, prometheus_target: str) -> dict[str, Any]:
    """The shipped config with targets pointed here and 1 s intervals; nothing else changes,
    so job names and the rule file are the ones production uses."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(RULES)]
    for job in config["scrape_configs"]:
        target = prometheus_target if job["job_name"] == "prometheus" else metrics_target
        job["static_configs"] = [{"targets": [target]}]
    return config


class PrometheusServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def query(self, expr: str) -> list[dict[str, Any]]:
        reply = self.http.get("/api/v1/query", params={"query": expr}).json()
        assert reply["status"] == "success", f"{expr}: {reply}"
        result = reply["data"]["result"]
        return result if isinstance(result, list) else [{"value": result}]

    def label_values(self, label: str, match: str) -> list[str]:
        reply = self.http.get(f"/api/v1/label/{label}/values", params={"match[]": match}).json()
        assert reply["status"] == "success", reply
        return list(reply["data"])

    def rules(self) -> list[dict[str, Any]]:
        groups = self.http.get("/api/v1/rules").json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def wait_for_scrapes(self, count: int) -> None:
        """Returns after ``count`` more scrapes of every service job."""
        last = {job: self._last_scrape(job) for job in SERVICE_JOBS}
        for _ in range(count):
            deadline = time.monotonic() + 15
            while any(self._last_scrape(job) == last[job] for job in SERVICE_JOBS):
                assert time.monotonic() < deadline, "Prometheus stopped scraping"
                time.sleep(0.2)
            last = {job: self._last_scrape(job) for job in SERVICE_JOBS}

    def _last_scrape(self, job: str) -> str | None:
        targets = self.http.get("/api/v1/targets").json()["data"]["activeTargets"]
        scrapes = [t["lastScrape"] for t in targets if t["labels"]["job"] == job]
        return scrapes[0] if scrapes and scrapes[0] != "0001-01-01T00:00:00Z" else None


@pytest.fixture(scope="module")
def metrics_target() -> Iterator[str]:
    from prometheus_client import start_http_server

    server, thread = start_http_server(0, addr="127.0.0.1")
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def prometheus(
    metrics_target: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: scripts/test installs Debian's prometheus package"
    workdir = tmp_path_factory.mktemp("prometheus")
    port = _free_port()
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(_test_config(metrics_target, f"127.0.0.1:{port}")))
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = PrometheusServer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (workdir / "prometheus.log").read_text()[-3000:]
            try:
                if server.http.get("/-/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Prometheus did not become ready"
            time.sleep(0.1)
        server.wait_for_scrapes(1)  # so the run's first increments land on existing samples
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# ------------------------------------------------------------------------ the pipeline run

STREAM_SAMPLE = ROOT / "tests" / "data" / "stream_sample.jsonl"
# Arabic outlets run English editions; their items must be routed, not decided on.
ENGLISH_EDITION = [
    RawArticle(
        id=f"english-{n}",
        outlet="ahram-en",
        title=title,
        text=f"{title}. The statement was issued on Monday after a meeting of the cabinet in "
        "Cairo, officials said, adding that further details would be announced later this week.",
    )
    for n, title in enumerate(
        [
            "Egypt's cabinet approves the draft budget for the coming fiscal year",
            "Opposition parties announce a boycott of the parliamentary elections",
        ]
    )
]


class Worker:
    """What the worker service does with each raw article, with the embedded pipeline in place
    of the Faust agents: decide, then publish the decision and the alert for the dispatcher."""

    def __init__(
        self, pipeline: Pipeline, producer: AIOKafkaProducer, topic: dict[str, str]
    ) -> None:
        self.pipeline = pipeline
        self.producer = producer
        self.topic = topic
        self.decisions: Counter[str] = Counter()

    async def process(self, raw: RawArticle) -> None:
        decision, alert = await self.pipeline.process(raw)
        self.decisions[decision.decision] += 1
        await self.producer.send(
            self.topic["decisions"], decision.model_dump_json().encode(), key=raw.id.encode()
        )
        if alert is not None:
            await self.producer.send(
                self.topic["alerts"], alert.model_dump_json().encode(), key=alert.story.encode()
            )


class Webhooks:
    """Loopback webhook receivers: ``/hook/ok`` accepts, ``/hook/down`` always answers 503."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/ok", self._ok)
        app.router.add_post("/hook/down", self._down)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _ok(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.json_response({"ok": True})

    async def _down(self, request: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")


def _dead_letters(subscriber: str) -> float:
    return sum(
        sample.value
        for family in DELIVERIES.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels["outcome"] == "dead_lettered"
        and sample.labels["subscriber"] == subscriber
    )


def _reloads(outcome: str) -> float:
    value = REGISTRY.get_sample_value("monitor_subscription_reloads_total", {"outcome": outcome})
    return value or 0.0


async def _eventually(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _consume(consumer: AIOKafkaConsumer, worker: Worker, timeout_ms: int) -> int:
    """One poll of the raw topic through the worker; commits like the service does."""
    batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=500)
    records = [record for batch in batches.values() for record in batch]
    for record in records:
        assert record.value is not None
        await worker.process(RawArticle.model_validate_json(record.value))
    if records:
        await consumer.commit()
    return len(records)


@pytest.fixture(scope="module")
async def pipeline_run(
    prometheus: PrometheusServer,
    kafka_bootstrap: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[None]:
    """Poller -> Kafka raw -> embedded pipeline -> Kafka alerts/decisions -> dispatcher ->
    webhooks, spread over several scrapes so rates and quantiles have something to show."""
    prefix = f"metrics-{uuid.uuid4().hex[:8]}."
    workdir = tmp_path_factory.mktemp("run")
    site = NewsSite(flaky_failures=2)
    hooks = Webhooks()
    await site.start()
    await hooks.start()
    subscriptions = workdir / "subscriptions.yaml"
    archive = f"{prefix}archive"  # unique: other tests' dead letters share the registry
    valid_subscriptions = yaml.safe_dump(
        {
            "subscribers": [
                {
                    "id": f"{prefix}desk",
                    "channel": {"type": "webhook", "url": hooks.url("/hook/ok")},
                },
                {"id": archive, "channel": {"type": "webhook", "url": hooks.url("/hook/down")}},
            ]
        }
    )
    subscriptions.write_text(valid_subscriptions)
    settings = Settings.model_validate(
        {
            "kafka": {"bootstrap": kafka_bootstrap, "topic_prefix": prefix},
            "redis": {"url": redis_url, "key_prefix": prefix},
            "alerts": {
                "subscriptions_file": subscriptions,
                "sse_port": 0,
                "consumer_group": f"{prefix}dispatch",
                "max_attempts": 3,
                "retry_base_seconds": 0.05,
                "retry_max_seconds": 0.2,
            },
            "metrics": {"port": 0},  # this process already serves /metrics
        }
    )
    topic = {name: spec.name(prefix) for name, spec in TOPICS.items()}
    worker_group = f"{prefix}worker"
    stop = asyncio.Event()
    # The dispatcher measures its own group's lag; this one stands for the worker's.
    lag_monitors = [
        ConsumerLagMonitor(kafka_bootstrap, worker_group, [topic["raw"]], interval=0.5),
    ]
    redis = Redis.from_url(redis_url)
    # A Redis nobody listens on: the poller of a site whose Redis is down.
    dead_redis = Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0", socket_timeout=1)
    fetcher = Fetcher(
        FetchLimits(host_min_spacing=0.01), guard=AddressGuard.allowing("127.0.0.0/8")
    )
    sink = KafkaSink(kafka_bootstrap, topic["raw"])
    main = {"name": "main", "outlet": "testsite", "url": site.url("/rss/main.xml")}
    feeds = [
        FeedConfig.model_validate({**main, "options": {"fetch_pages": True}}),
        FeedConfig.model_validate({**main, "name": "flaky", "url": site.url("/rss/flaky.xml")}),
    ]
    poller = Poller(
        feeds,
        fetcher=fetcher,
        sink=sink,
        seen=RedisSeenStore(redis, key_prefix=prefix, ttl_seconds=3600),
    )
    stranded = Poller(
        [FeedConfig.model_validate({**main, "name": "main-redis-down"})],
        fetcher=fetcher,
        sink=QueueSink(),
        seen=RedisSeenStore(dead_redis, key_prefix=prefix, ttl_seconds=3600),
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    consumer = AIOKafkaConsumer(
        topic["raw"],
        bootstrap_servers=kafka_bootstrap,
        group_id=worker_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    tasks: list[asyncio.Task[None]] = []
    pipeline: Pipeline | None = None
    invalid_reloads_before = _reloads("invalid")
    try:
        # As the worker does on start: every topic, with its partition count.
        await create_topics(settings, partitions_by_topic(TOPICS, settings.kafka))
        tasks.append(asyncio.create_task(run_dispatch(settings, stop), name="dispatcher"))
        await sink.start(give_up_after=30)
        await producer.start()
        await consumer.start()
        for monitor in lag_monitors:
            await monitor.start()
            tasks.append(asyncio.create_task(monitor.run(stop), name="consumer lag"))
        pipeline = Pipeline(settings, redis_url=redis_url)
        worker = Worker(pipeline, producer, topic)
        replay = [
            RawArticle.model_validate(row)
            for row in map(json.loads, STREAM_SAMPLE.read_text(encoding="utf-8").splitlines())
        ]
        replay[len(replay) // 3 : len(replay) // 3] = ENGLISH_EDITION[:1]
        replay[2 * len(replay) // 3 : 2 * len(replay) // 3] = ENGLISH_EDITION[1:]
        rounds = 6
        per_round = -(-len(replay) // rounds)
        for round_ in range(rounds):
            if site.published < len(site.stories):
                site.publish_next()
            for each in (poller, stranded):
                for state in each.states.values():
                    await each.poll_once(state)
            if round_ == 2:  # an operator's typo, fixed two rounds later
                subscriptions.write_text(valid_subscriptions.replace("channel:", "chanel:"))
            if round_ == 4:
                subscriptions.write_text(valid_subscriptions)
            # The benchmark stream arrives as a replay onto the same raw topic.
            assert all(await sink.send(replay[round_ * per_round : (round_ + 1) * per_round]))
            await _consume(consumer, worker, timeout_ms=1000)
            await asyncio.sleep(0.5)
        while await _consume(consumer, worker, timeout_ms=500):
            pass
        await producer.flush()
        # Sanity: the run really moved stories, not only counted articles.
        assert worker.decisions["new_story"] and worker.decisions["development"], worker.decisions
        assert sum(worker.decisions.values()) >= len(replay) + len(site.stories)
        await _eventually(lambda: hooks.received and _dead_letters(archive) > 0, "deliveries")
        assert _reloads("invalid") > invalid_reloads_before, "the typo went unnoticed"
        await asyncio.to_thread(prometheus.wait_for_scrapes, 2)
        for task in tasks:
            if task.done():
                task.result()  # a crashed dispatcher or lag monitor fails the run loudly
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for monitor in lag_monitors:
            await monitor.stop()
        await consumer.stop()
        await producer.stop()
        if pipeline is not None:
            await pipeline.aclose()
        await sink.stop()
        await fetcher.aclose()
        await redis.aclose()
        await dead_redis.aclose()
        await hooks.stop()
        await site.stop()


# ------------------------------------------------------------------------------- the checks


def _has_data(result: list[dict[str, Any]]) -> bool:
    """At least one finite value: NaN (e.g. a quantile of nothing) shows nothing in a panel."""
    for series in result:
        samples = [series["value"]] if "value" in series else series.get("values", [])
        if any(math.isfinite(float(value)) for _, value in samples):
            return True
    return False


def _panel_queries() -> list[tuple[str, str, dict[str, Any]]]:
    queries = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in _all_panels(board["panels"]):
            for target in panel.get("targets", []):
                queries.append(
                    (f"{path.name}: {panel['title']} [{target['refId']}]", target["expr"], board)
                )
    return queries


def _all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels", []))


def _substitute(expr: str, board: dict[str, Any]) -> str:
    for name, value in GRAFANA_BUILTINS.items():
        expr = expr.replace(name, value)
    for variable in board.get("templating", {}).get("list", []):
        # Grafana's default selection is "All", i.e. the variable's allValue.
        expr = expr.replace(f"${variable['name']}", variable["allValue"])
    assert "$" not in expr, f"unknown variable left in {expr}"
    return expr


LABEL_VALUES = re.compile(r"^label_values\((?P<match>.+),\s*(?P<label>\w+)\)$")


@pytest.mark.integration
def test_every_dashboard_variable_has_values(
    prometheus: PrometheusServer, pipeline_run: None
) -> None:
    empty = []
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            found = LABEL_VALUES.match(variable["query"]["query"])
            assert found, f"{path.name}: ${variable['name']}: expected label_values(metric, label)"
            if not prometheus.label_values(found["label"], found["match"]):
                empty.append(f"{path.name}: ${variable['name']}")
    assert not empty, f"variables without values: {empty}"


@pytest.mark.integration
def test_every_dashboard_panel_shows_data(prometheus: PrometheusServer, pipeline_run: None) -> None:
    queries = _panel_queries()
    assert len(queries) > 20
    blank = [
        f"{where}: {expr}"
        for where, expr, board in queries
        if not _has_data(prometheus.query(_substitute(expr, board)))
    ]
    assert not blank, "panels that show nothing:\n" + "\n".join(blank)


@pytest.mark.integration
def test_every_rule_is_healthy_and_its_signal_has_data(
    prometheus: PrometheusServer, pipeline_run: None
) -> None:
    expected = {rule["alert"] for rule in _rules()}
    deadline = time.monotonic() + 10
    while any(rule["health"] == "unknown" for rule in prometheus.rules()):
        assert time.monotonic() < deadline, "rules never evaluated"
        time.sleep(0.2)
    loaded = {rule["name"]: rule for rule in prometheus.rules()}
    assert set(loaded) == expected
    unhealthy = {
        name: rule.get("lastError") for name, rule in loaded.items() if rule["health"] != "ok"
    }
    assert not unhealthy
    silent = []
    for rule in _rules():
        signal = THRESHOLD.match(rule["expr"])
        assert signal
        if not _has_data(prometheus.query(signal["signal"])):
            silent.append(f"{rule['alert']}: {signal['signal']}")
    assert not silent, "rules whose signal has no data:\n" + "\n".join(silent)
