"""What production does to the service, on real Kafka and Redis of this module's own
(``scripts/services up`` in a temp dir, so the session's shared services are never disturbed):
a worker killed with SIGKILL mid-stream, Redis restarted, the broker restarted.

Every test counts articles in, decisions out and alerts out (on the alerts topic and
delivered to a loopback webhook, by idempotency key) and prints them (``pytest -s``). Topics
have one partition here, so the service decides in exactly the order the embedded pipeline
does and its decisions can be compared one for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.commands.dispatch import run_dispatch
from monitor.commands.poll import run_poll
from monitor.commands.replay import read_articles
from monitor.core.records import Alert, Decision, RawArticle, Rejection
from monitor.ingest.parse import parse_feed
from monitor.pipeline import Pipeline
from monitor.samples import SampleSite, load_samples
from monitor.settings import Settings
from tests.conftest import Services, run_services_script, start_services
from tests.system.helpers import (
    OutputReader,
    Webhook,
    WorkerProcess,
    ensure_topics,
    isolated_settings,
    produce,
    producer,
)

pytestmark = pytest.mark.integration

STREAM_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "stream_sample.jsonl"


@pytest.fixture(scope="module")
def own_services() -> Iterator[Services]:
    run_dir = Path(tempfile.mkdtemp(prefix="monitor-faults.")) / "run"
    services = start_services(run_dir)
    try:
        yield services
    finally:
        run_services_script("down", str(services.dir))
        run_dir.parent.rmdir()


def fault_settings(services: Services) -> Settings:
    settings = isolated_settings(services.kafka_bootstrap, services.redis_url)
    settings.kafka.partitions = 1
    return settings


async def expected_outcomes(articles: list[RawArticle]) -> tuple[dict[str, Decision], list[Alert]]:
    decisions: dict[str, Decision] = {}
    alerts: list[Alert] = []
    async with Pipeline() as pipeline:
        for article in articles:
            decision, alert = await pipeline.process(article.model_copy(deep=True))
            decisions[decision.article] = decision
            if alert is not None:
                alerts.append(alert)
    return decisions, alerts


@dataclass
class System:
    """A worker (child process), the dispatcher (in this process) and readers of the output."""

    settings: Settings
    tmp_path: Path
    webhook: Webhook = field(default_factory=Webhook)
    workers: list[WorkerProcess] = field(default_factory=list)
    app_id: str = field(default_factory=lambda: f"w-{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self.reader = OutputReader(self.settings)

    async def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(
            self.settings, self.tmp_path / f"worker-{len(self.workers)}.log", app_id=self.app_id
        )
        worker.start()
        self.workers.append(worker)
        await worker.wait_ready(timeout=180)
        return worker

    def report(self, name: str, articles: int) -> dict[str, int]:
        got = self.reader.collected
        delivered = Counter(self.webhook.keys)
        figures = {
            "articles_in": articles,
            "decided_articles": len(got.decisions),
            "decision_records": got.decision_records,
            "alert_records": len(got.alerts),
            "distinct_alerts": len({a.id for a in got.alerts}),
            "deliveries": len(self.webhook.keys),
            "distinct_deliveries": len(delivered),
            "duplicate_deliveries": sum(n - 1 for n in delivered.values()),
        }
        print(f"\n{name}: {json.dumps(figures)}")
        return figures


@contextlib.asynccontextmanager
async def running_system(settings: Settings, tmp_path: Path) -> AsyncIterator[System]:
    await ensure_topics(settings)
    system = System(settings, tmp_path)
    await system.webhook.start()
    dispatch_settings = settings.model_copy(deep=True)
    dispatch_settings.alerts.subscriptions_file = system.webhook.subscriptions_yaml(
        tmp_path / "subscriptions.yaml"
    )
    dispatch_settings.alerts.sse_port = 0
    dispatch_settings.alerts.consumer_group = f"dispatch-{uuid.uuid4().hex[:8]}"
    dispatch_settings.metrics.port = 0
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(run_dispatch(dispatch_settings, stop))
    try:
        await system.start_worker()
        await system.reader.start()
        yield system
    finally:
        await system.reader.stop()
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(dispatcher, 60)
        for worker in system.workers:
            worker.stop()
        await system.webhook.stop()


async def wait_until(condition: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


def delivered_ids(system: System) -> set[str]:
    return {a.id for a in system.webhook.alerts if a.kind != "breaking"}


def alerts_raised_and_delivered(system: System) -> bool:
    """Whether every alerting decision read so far has its alert on the alerts topic, and
    every alert there was delivered: what "all delivered" means for the alerts this run
    raised (when the arrival order differs from the embedded run's, so may the alerts)."""
    got = system.reader.collected
    alerting = {a for a, d in got.decisions.items() if d.decision in ("new_story", "development")}
    raised = {a.id for a in got.alerts}
    return alerting <= {a.article for a in got.alerts} and raised <= delivered_ids(system)


def assert_nothing_lost_alerted_once(system: System, expected: dict[str, Decision]) -> None:
    """Every article decided; every alert raised delivered exactly once, none other."""
    got = system.reader.collected
    assert got.decisions.keys() == expected.keys()
    alerting = {a for a, d in got.decisions.items() if d.decision in ("new_story", "development")}
    assert {a.article for a in got.alerts} == alerting
    assert delivered_ids(system) == {a.id for a in got.alerts}
    assert system.webhook.duplicates() == {}


def assert_decided_like_embedded(
    system: System, expected: dict[str, Decision], expected_alerts: list[Alert]
) -> None:
    got = system.reader.collected
    assert got.decisions.keys() == expected.keys()  # nothing lost
    wrong = {
        article: (got.decisions[article].decision, decision.decision)
        for article, decision in expected.items()
        if got.decisions[article].decision != decision.decision
    }
    assert wrong == {}
    # Alerts may be produced again after a crash (same id); each is delivered once.
    assert {a.id for a in got.alerts} == {a.id for a in expected_alerts}
    assert delivered_ids(system) == {a.id for a in expected_alerts}
    assert system.webhook.duplicates() == {}


async def test_worker_killed_mid_stream_loses_nothing_and_alerts_once(
    own_services: Services, tmp_path: Path
) -> None:
    settings = fault_settings(own_services)
    articles = list(read_articles([STREAM_SAMPLE]))
    expected, expected_alerts = await expected_outcomes(articles)
    async with running_system(settings, tmp_path) as system, producer(settings) as kafka:
        sending = asyncio.create_task(_paced(kafka, settings, articles, per_second=25))
        await wait_until(lambda: len(system.reader.collected.decisions) >= 40, 120, "40 decided")
        system.workers[0].kill()  # mid-stream: decisions made, offsets not all committed
        killed_at = len(system.reader.collected.decisions)
        await system.start_worker()
        await sending
        await system.reader.wait_decisions(expected, timeout=180)
        await wait_until(lambda: alerts_raised_and_delivered(system), 60, "all alerts delivered")
        await asyncio.sleep(2.0)  # a duplicate delivery would arrive by now
        figures = system.report("worker SIGKILL", len(articles))
        print(f"killed after {killed_at} decisions")
        assert 0 < killed_at < len(articles)
        assert_nothing_lost_alerted_once(system, expected)
        assert figures["duplicate_deliveries"] == 0
        # A story decision seen again is re-emitted unchanged (the recorded outcome), and an
        # article fingerprinted again (its batch killed before its records were sent) is
        # classified as its first pass did: the fingerprint store matches it only against
        # what was stored before that pass. (It was matched against the rest of its own
        # batch: an original became a copy of its own reprint, and its story never formed.)
        got = system.reader.collected
        assert figures["decision_records"] >= len(articles)
        differing = {
            article: (got.decisions[article].decision, decision.decision)
            for article, decision in expected.items()
            if got.decisions[article].decision != decision.decision
        }
        print(f"decisions differing from the embedded run: {differing}")
        assert differing == {}
        assert {a.id for a in got.alerts} == {a.id for a in expected_alerts}


async def test_redis_restart_keeps_the_state_no_reprint_alerted(
    own_services: Services, tmp_path: Path
) -> None:
    settings = fault_settings(own_services)
    articles = list(read_articles([STREAM_SAMPLE]))
    expected, expected_alerts = await expected_outcomes(articles)
    half = 60
    async with running_system(settings, tmp_path) as system, producer(settings) as kafka:
        await _paced(kafka, settings, articles[:half], per_second=25)
        await system.reader.wait_decisions([a.id for a in articles[:half]], timeout=120)
        await own_services.arun("stop-redis")
        await own_services.arun("start-redis")
        await _paced(kafka, settings, articles[half:], per_second=25)
        await system.reader.wait_decisions(expected, timeout=180)
        await wait_until(lambda: alerts_raised_and_delivered(system), 60, "all alerts delivered")
        await asyncio.sleep(2.0)
        system.report("Redis restart", len(articles))
        # Reprints after the restart of originals from before it: still recognised.
        reprints = [
            a.id for a in articles[half:]
            if expected[a.id].decision == "duplicate"
            and expected[a.id].story in {expected[b.id].story for b in articles[:half]}
        ]  # fmt: skip
        assert len(reprints) >= 3
        got = system.reader.collected
        assert all(got.decisions[a].decision == "duplicate" for a in reprints)
        assert not {a.article for a in got.alerts} & set(reprints)
        assert_decided_like_embedded(system, expected, expected_alerts)


async def test_broker_restart_pollers_and_agents_resume_nothing_lost(
    own_services: Services, tmp_path: Path
) -> None:
    settings = fault_settings(own_services)
    site = SampleSite(load_samples(), interval=0.4)
    await site.start()
    feeds = site.feeds(poll_min=0.2, poll_max=0.2)
    settings.poller.host_min_spacing_seconds = 0.0
    site_all = SampleSite(site.articles, interval=0.0)  # everything out: what to expect
    site_all.port, site_all._started = site.port, 0.0
    polled = [
        article
        for feed in feeds
        for article in parse_feed(site_all.feed_xml(feed.name).encode(), feed).articles
    ]
    order = {sample.id: index for index, sample in enumerate(site.articles)}
    polled.sort(key=lambda article: order[article.guid or ""])
    expected, _ = await expected_outcomes(polled)
    try:
        async with running_system(settings, tmp_path) as system:
            stop = asyncio.Event()
            # The articles come out one by one from the first poll on, however long the
            # worker took to start (on a busy machine, most of them were out by then and
            # the first poll took them all at once, in feed order).
            site.restart_release()
            poller = asyncio.create_task(run_poll(settings, feeds, stop))
            await wait_until(lambda: len(system.reader.collected.decisions) >= 8, 120, "8 decided")
            await own_services.arun("stop-kafka")
            await asyncio.sleep(3.0)  # articles keep coming out meanwhile
            await own_services.arun("start-kafka")
            await system.reader.wait_decisions(expected, timeout=240)
            # Not the embedded run's alerts: see the comment on the seed story below.
            await wait_until(
                lambda: alerts_raised_and_delivered(system), 90, "all alerts delivered"
            )
            await asyncio.sleep(2.0)
            stop.set()
            await asyncio.wait_for(poller, 60)
            figures = system.report("broker restart", len(polled))
            assert all(w.process is not None and w.process.poll() is None for w in system.workers)
            assert_nothing_lost_alerted_once(system, expected)
            assert figures["decision_records"] == len(polled)  # no article produced twice
            # The outage changes the arrival order across feeds (each retries its own
            # entries), and so does a poll finding several new articles at once: originals
            # and copies may swap, and a story's new_story and development become a
            # new_story and a no_news (fewer alerts than the embedded run). The seed story
            # still forms.
            seeds = [a.id for a in polled if a.outlet in {"24.ae", "independentarabia", "seed003"}]
            got = system.reader.collected
            assert len({got.decisions[a].story for a in seeds}) == 1
    finally:
        await site.stop()


async def _paced(
    kafka: object, settings: Settings, articles: list[RawArticle], per_second: float
) -> None:
    for article in articles:
        await produce(kafka, settings, [article.model_copy(deep=True)])  # type: ignore[arg-type]
        await asyncio.sleep(1 / per_second)


async def test_an_article_delivered_again_gets_its_recorded_decision_and_alert(
    own_services: Services,
) -> None:
    """What makes a redelivery after a crash harmless: the story stage re-emits the outcome
    it recorded with the story update, instead of judging the article against itself."""
    import redis.asyncio as aioredis

    from monitor.core.clean import clean_article
    from monitor.core.records import FingerprintedArticle
    from monitor.stages.story import story_stage
    from monitor.stores.stories import MemoryStoryStore, RedisStoryStore

    settings = Settings()
    seeds = list(read_articles([Path(__file__).resolve().parents[1] / "data" / "seeds.jsonl"]))
    client = aioredis.Redis.from_url(own_services.redis_url)
    try:
        for store in (MemoryStoryStore(), RedisStoryStore(client, f"r{uuid.uuid4().hex[:6]}:")):
            for raw in seeds[:2]:
                cleaned = clean_article(raw)
                assert not isinstance(cleaned, Rejection)
                item = FingerprintedArticle(article=cleaned, kind="new")
                first = await story_stage(item.model_copy(deep=True), store, settings)
                again = await story_stage(item.model_copy(deep=True), store, settings)
                assert first[1] is not None  # new story, then a development: both alerted
                assert again[0].model_dump() == first[0].model_dump()
                assert again[1] is not None and again[1].model_dump() == first[1].model_dump()
    finally:
        await client.aclose()


async def test_a_worker_whose_broker_is_gone_stops_on_sigterm(
    own_services: Services, tmp_path: Path
) -> None:
    """With the broker dead, Faust's consumer thread can die while stopping and leave the
    stop waiting forever; the worker gives its stop ``--stop-timeout`` seconds."""
    settings = fault_settings(own_services)
    worker = WorkerProcess(
        settings, tmp_path / "worker.log", app_id=f"gone-{uuid.uuid4().hex[:6]}",
        args=["--stop-timeout", "5"],
    )  # fmt: skip
    worker.start()
    try:
        await worker.wait_ready()
        await own_services.arun("stop-kafka", "--hard")
        await asyncio.sleep(3.0)
        assert worker.process is not None
        started = asyncio.get_running_loop().time()
        worker.process.terminate()
        while worker.process.poll() is None and asyncio.get_running_loop().time() - started < 30:
            await asyncio.sleep(0.2)
        stopped_after = asyncio.get_running_loop().time() - started
        print(f"\nstopped {stopped_after:.1f} s after SIGTERM with the broker gone")
        assert worker.process.poll() is not None, "\n".join(
            line for line in worker.log_text().splitlines() if "aiokafka" not in line
        )[-4000:]
        assert stopped_after < 20
    finally:
        worker.kill()
        await own_services.arun("start-kafka")
