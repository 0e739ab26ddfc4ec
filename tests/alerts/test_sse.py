"""The live stream: real HTTP on loopback, event format and Last-Event-ID replay."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from monitor.alerts.sse import AlertBroadcaster, serve
from tests.alerts.conftest import make_alert


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def stream() -> AsyncIterator[tuple[AlertBroadcaster, str]]:
    broadcaster = AlertBroadcaster(buffer_size=3)
    port = _free_port()
    runner = await serve(broadcaster, "127.0.0.1", port, heartbeat_seconds=0.2)
    yield broadcaster, f"http://127.0.0.1:{port}/alerts/stream"
    broadcaster.close()
    await runner.cleanup()


async def _events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        if line.startswith(":"):
            current["comment"] = line
            continue
        name, _, value = line.partition(": ")
        current[name] = value
    return events


async def test_live_events_carry_id_kind_and_json(stream: tuple[AlertBroadcaster, str]) -> None:
    broadcaster, url = stream
    async with httpx.AsyncClient(timeout=5) as client, client.stream("GET", url) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        while broadcaster.clients == 0:
            await asyncio.sleep(0.01)
        alert = make_alert(1, kind="breaking")
        broadcaster.publish(alert)
        [event] = await asyncio.wait_for(_events(response, 1), 5)
    assert event["id"] == alert.id and event["event"] == "breaking"
    assert json.loads(event["data"])["new_sentences"] == alert.new_sentences


async def test_last_event_id_replays_what_was_missed(stream: tuple[AlertBroadcaster, str]) -> None:
    broadcaster, url = stream
    alerts = [make_alert(i) for i in range(5)]  # the buffer keeps the last 3: 2, 3, 4
    for alert in alerts:
        broadcaster.publish(alert)
    async with httpx.AsyncClient(timeout=5) as client:
        headers = {"Last-Event-ID": alerts[2].id}
        async with client.stream("GET", url, headers=headers) as response:
            replay = await asyncio.wait_for(_events(response, 2), 5)
        assert [e["id"] for e in replay] == [alerts[3].id, alerts[4].id]
        # An id that left the buffer: everything still buffered.
        headers = {"Last-Event-ID": alerts[0].id}
        async with client.stream("GET", url, headers=headers) as response:
            replay = await asyncio.wait_for(_events(response, 3), 5)
        assert [e["id"] for e in replay] == [a.id for a in alerts[2:]]


async def test_a_new_client_without_last_event_id_gets_only_new_alerts(
    stream: tuple[AlertBroadcaster, str],
) -> None:
    broadcaster, url = stream
    broadcaster.publish(make_alert(0))
    async with httpx.AsyncClient(timeout=5) as client, client.stream("GET", url) as response:
        while broadcaster.clients == 0:
            await asyncio.sleep(0.01)
        fresh = make_alert(7)
        broadcaster.publish(fresh)
        [event] = await asyncio.wait_for(_events(response, 1), 5)
    assert event["id"] == fresh.id


def test_slow_clients_are_dropped_not_waited_for() -> None:
    broadcaster = AlertBroadcaster(buffer_size=10, client_queue=2)
    queue = broadcaster.subscribe()
    for index in range(5):
        broadcaster.publish(make_alert(index))
    assert broadcaster.clients == 0
    items = [queue.get_nowait() for _ in range(queue.qsize())]
    assert items[-1] is None
