"""Shared fixtures: real Kafka and Redis for integration tests.

The services start lazily, on the first test that asks for ``kafka_bootstrap``, ``redis_url``,
``services_dir`` or ``services`` (so a run of pure unit tests starts nothing), through
``scripts/services up`` on random loopback ports, and stop at the end of the session. When
``MONITOR_KAFKA__BOOTSTRAP`` and ``MONITOR_REDIS__URL`` are already set (e.g. after
``eval "$(scripts/services up)"``), those services are used instead and left running.
A service that cannot start fails the tests that need it; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from monitor.settings import KafkaSettings, RedisSettings, Settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES_SCRIPT = ROOT / "scripts" / "services"
SERVICE_ENV = ("MONITOR_KAFKA__BOOTSTRAP", "MONITOR_REDIS__URL")
LOOPBACK_NETWORKS = '["127.0.0.0/8"]'

# Test news sites, webhooks and chat servers listen on loopback, which the monitor refuses to
# reach by default (monitor.netguard): Settings in tests (and `monitor` child processes, which
# inherit the environment) allow it explicitly. Tests of the refusal build their own settings.
os.environ.setdefault("MONITOR_POLLER__ALLOWED_NETWORKS", LOOPBACK_NETWORKS)
os.environ.setdefault("MONITOR_ALERTS__ALLOWED_NETWORKS", LOOPBACK_NETWORKS)


@dataclass(frozen=True)
class Services:
    kafka_bootstrap: str
    redis_url: str
    dir: Path | None
    """Run dir of ``scripts/services`` (for ``stop-kafka DIR`` etc.); None when external."""

    def run(self, command: str, *args: str, timeout: float = 180) -> None:
        """``scripts/services COMMAND DIR ARGS``, e.g. ``run("stop-kafka")``."""
        if self.dir is None:
            raise RuntimeError("services were started outside the tests: cannot control them")
        run_services_script(command, str(self.dir), *args, timeout=timeout)

    async def arun(self, command: str, *args: str, timeout: float = 180) -> None:
        """Like :meth:`run`, without blocking the event loop (clients keep running meanwhile)."""
        if self.dir is None:
            raise RuntimeError("services were started outside the tests: cannot control them")
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(SERVICES_SCRIPT),
            command,
            str(self.dir),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise RuntimeError(
                f"scripts/services {command} failed ({process.returncode}):\n{stderr.decode()}"
            )


def run_services_script(*args: str, timeout: float = 300) -> str:
    """Run ``scripts/services ARGS``; return its stdout; raise with its stderr on failure."""
    result = subprocess.run(
        ["bash", str(SERVICES_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/services {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result.stdout


def parse_exports(text: str) -> dict[str, str]:
    """``export NAME=VALUE`` lines -> {NAME: VALUE}.

    >>> parse_exports("export A=1\\nexport B='x y'\\n")
    {'A': '1', 'B': 'x y'}
    """
    exports: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            exports[name] = value
    return exports


def start_services(run_dir: Path) -> Services:
    """``scripts/services up --dir run_dir``, cleaned up by its watchdog if this process dies."""
    exports = parse_exports(
        run_services_script("up", "--dir", str(run_dir), "--owner-pid", str(os.getpid()))
    )
    return Services(
        kafka_bootstrap=exports["MONITOR_KAFKA__BOOTSTRAP"],
        redis_url=exports["MONITOR_REDIS__URL"],
        dir=Path(exports["MONITOR_SERVICES_DIR"]),
    )


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    if all(os.environ.get(name) for name in SERVICE_ENV):
        external_dir = os.environ.get("MONITOR_SERVICES_DIR")
        yield Services(
            kafka_bootstrap=os.environ["MONITOR_KAFKA__BOOTSTRAP"],
            redis_url=os.environ["MONITOR_REDIS__URL"],
            dir=Path(external_dir) if external_dir else None,
        )
        return
    # `down` (or the watchdog, should this process die) removes the whole dir.
    started = start_services(Path(tempfile.mkdtemp(prefix="monitor-services.")))
    # Subprocesses the tests start (monitor worker, poll, ...) find the services too.
    saved = {name: os.environ.get(name) for name in (*SERVICE_ENV, "MONITOR_SERVICES_DIR")}
    os.environ["MONITOR_KAFKA__BOOTSTRAP"] = started.kafka_bootstrap
    os.environ["MONITOR_REDIS__URL"] = started.redis_url
    os.environ["MONITOR_SERVICES_DIR"] = str(started.dir)
    try:
        yield started
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        run_services_script("down", str(started.dir))


@pytest.fixture(scope="session")
def kafka_bootstrap(services: Services) -> str:
    return services.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(services: Services) -> str:
    return services.redis_url


@pytest.fixture(scope="session")
def services_dir(services: Services) -> Path | None:
    return services.dir


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix of this test alone, so tests on one broker never see each other's records."""
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the test Redis, with db 0 emptied before the test."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def service_settings(kafka_bootstrap: str, redis_url: str, topic_prefix: str) -> Settings:
    """Settings on the test services, with this test's topic prefix and Redis key prefix."""
    return Settings(
        kafka=KafkaSettings.model_validate(
            {"bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix}
        ),
        redis=RedisSettings.model_validate(
            {"url": redis_url, "key_prefix": f"{topic_prefix[:-1]}:"}
        ),
    )
