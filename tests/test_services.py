"""scripts/services: real Redis and Kafka that start, answer, restart with their data, and stop
without leaving processes behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.conftest import SERVICES_SCRIPT, Services, start_services

pytestmark = pytest.mark.integration


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (e.g. a services run dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def second_services(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    """A second pair of services beside the session's, to restart without disturbing it."""
    run_dir = tmp_path_factory.mktemp("second") / "run"
    started = start_services(run_dir)
    try:
        yield started
    finally:
        subprocess.run(["bash", str(SERVICES_SCRIPT), "down", str(run_dir)], check=True)


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        while len(values) < count:
            message = await asyncio.wait_for(consumer.getone(), 30)
            assert message.value is not None
            values.append(message.value)
        return values
    finally:
        await consumer.stop()


async def test_session_services_answer(kafka_bootstrap: str, redis_url: str, topic_prefix: str):
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()
    await produce(kafka_bootstrap, f"{topic_prefix}ping", [b"one", b"two"])
    assert await consume(kafka_bootstrap, f"{topic_prefix}ping", 2) == [b"one", b"two"]


def test_a_second_instance_uses_other_ports(services: Services, second_services: Services):
    assert second_services.kafka_bootstrap != services.kafka_bootstrap
    assert second_services.redis_url != services.redis_url
    assert second_services.dir != services.dir
    assert second_services.kafka_bootstrap.startswith("127.0.0.1:")


async def test_redis_restart_keeps_data_and_port(second_services: Services):
    client = aioredis.Redis.from_url(second_services.redis_url)
    try:
        await client.set("survives", "yes")
        second_services.run("stop-redis", "--hard")  # a crash: only the append-only file saves it
        with pytest.raises(aioredis.ConnectionError):
            await client.ping()
        second_services.run("start-redis")
        assert await client.get("survives") == b"yes"
    finally:
        await client.aclose()


async def test_kafka_restart_keeps_records_and_port(second_services: Services):
    bootstrap = second_services.kafka_bootstrap
    await produce(bootstrap, "restart", [b"before"])
    await second_services.arun("stop-kafka")
    assert second_services.dir is not None
    assert not processes_mentioning(f"{second_services.dir}/kafka/server.properties")
    await second_services.arun("start-kafka")
    await produce(bootstrap, "restart", [b"after"])
    assert await consume(bootstrap, "restart", 2) == [b"before", b"after"]


def test_failed_start_cleans_up_and_says_why(tmp_path: Path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        ["bash", str(SERVICES_SCRIPT), "up", "--dir", str(run_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "MONITOR_SERVICES_START_TIMEOUT": "0"},
        check=False,
    )
    assert result.returncode != 0
    assert "would not start" in result.stderr
    assert result.stdout == ""
    assert not run_dir.exists()
    assert not processes_mentioning(str(run_dir))


def test_watchdog_stops_services_when_the_owner_dies(tmp_path: Path):
    run_dir = tmp_path / "run"
    owner = subprocess.Popen(["sleep", "600"])
    try:
        subprocess.run(
            [
                "bash",
                str(SERVICES_SCRIPT),
                "up",
                "--dir",
                str(run_dir),
                "--owner-pid",
                str(owner.pid),
            ],
            capture_output=True,
            check=True,
        )
    finally:
        owner.kill()
        owner.wait()
    for _ in range(300):
        if not run_dir.exists():
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert not run_dir.exists()
    assert not processes_mentioning(str(run_dir))


def test_monitor_services_command_wraps_the_script(services_dir: Path | None):
    assert services_dir is not None, "needs services started by the tests or scripts/services"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("monitor")), "services", "status", str(services_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "kafka: running" in result.stdout
    assert "redis: running" in result.stdout


def test_down_stops_everything_and_removes_the_dir(second_services: Services):
    # Last in the module: it takes down the module's second services (fixture teardown is then
    # a no-op), instead of paying for a third start.
    run_dir = second_services.dir
    assert run_dir is not None and processes_mentioning(str(run_dir))
    subprocess.run(["bash", str(SERVICES_SCRIPT), "down", str(run_dir)], check=True)
    assert not run_dir.exists()
    assert not processes_mentioning(str(run_dir))
