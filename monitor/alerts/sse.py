"""A live stream of alerts as Server-Sent Events: ``GET /alerts/stream``.

Each event has ``id:`` = the alert id, ``event:`` = its kind (``new_story``, ``development``,
``breaking``) and ``data:`` = the alert as one line of JSON. A reconnecting client sends
``Last-Event-ID`` (or ``?last_event_id=``) and first receives the alerts published after that
one, from a ring buffer of the latest ``buffer_size`` alerts; if that id has left the buffer it
receives the whole buffer (so it may see a few alerts again, but misses none the buffer still
holds). Comment lines (``: keep-alive``) every ``heartbeat_seconds`` keep proxies from closing
the connection. Slow clients are never allowed to block the dispatcher: each has a bounded
queue and is disconnected when it overflows.

    curl -N http://127.0.0.1:8088/alerts/stream
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from aiohttp import web

from monitor.core.records import Alert

__all__ = ["AlertBroadcaster", "create_app", "format_event", "serve"]

log = logging.getLogger(__name__)


def format_event(alert: Alert) -> bytes:
    """One SSE event (the JSON holds no raw newline, so it fits one ``data:`` line).

    >>> a = Alert(id="a1", kind="breaking", story="s", story_title="t", article="x", outlet="o")
    >>> format_event(a).decode().splitlines()[:2]
    ['id: a1', 'event: breaking']
    """
    data = alert.model_dump_json()
    return f"id: {alert.id}\nevent: {alert.kind}\ndata: {data}\n\n".encode()


class AlertBroadcaster:
    def __init__(self, buffer_size: int = 1000, client_queue: int = 1000) -> None:
        self._buffer: deque[Alert] = deque(maxlen=buffer_size)
        self._clients: set[asyncio.Queue[Alert | None]] = set()
        self._client_queue = client_queue

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, alert: Alert) -> None:
        self._buffer.append(alert)
        for queue in list(self._clients):
            try:
                queue.put_nowait(alert)
            except asyncio.QueueFull:
                log.warning("SSE client too slow, disconnecting it")
                self._clients.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    def since(self, last_event_id: str | None) -> list[Alert]:
        """Buffered alerts after ``last_event_id`` (all of them if it is unknown)."""
        if last_event_id is None:
            return []
        buffered = list(self._buffer)
        for index in range(len(buffered) - 1, -1, -1):
            if buffered[index].id == last_event_id:
                return buffered[index + 1 :]
        return buffered

    def subscribe(self) -> asyncio.Queue[Alert | None]:
        queue: asyncio.Queue[Alert | None] = asyncio.Queue(self._client_queue)
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Alert | None]) -> None:
        self._clients.discard(queue)

    def close(self) -> None:
        for queue in list(self._clients):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._clients.clear()


BROADCASTER_KEY = web.AppKey("broadcaster", AlertBroadcaster)
HEARTBEAT_KEY = web.AppKey("heartbeat_seconds", float)


async def _stream(request: web.Request) -> web.StreamResponse:
    broadcaster = request.app[BROADCASTER_KEY]
    heartbeat = request.app[HEARTBEAT_KEY]
    last_id = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    # Subscribe before replaying so nothing published in between is missed.
    queue = broadcaster.subscribe()
    try:
        replayed = broadcaster.since(last_id)
        seen = {a.id for a in replayed}
        await response.write(b"retry: 3000\n\n")
        for alert in replayed:
            await response.write(format_event(alert))
        while True:
            try:
                async with asyncio.timeout(heartbeat):
                    latest = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if latest is None:
                break
            if latest.id in seen:
                seen.discard(latest.id)
                continue
            await response.write(format_event(latest))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        broadcaster.unsubscribe(queue)
    return response


def create_app(broadcaster: AlertBroadcaster, heartbeat_seconds: float = 15.0) -> web.Application:
    app = web.Application()
    app[BROADCASTER_KEY] = broadcaster
    app[HEARTBEAT_KEY] = heartbeat_seconds
    app.router.add_get("/alerts/stream", _stream)
    app.router.add_get("/healthz", _healthz)
    return app


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def serve(
    broadcaster: AlertBroadcaster, host: str, port: int, heartbeat_seconds: float = 15.0
) -> web.AppRunner:
    """Start serving; returns the runner (``await runner.cleanup()`` to stop)."""
    runner = web.AppRunner(create_app(broadcaster, heartbeat_seconds), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
