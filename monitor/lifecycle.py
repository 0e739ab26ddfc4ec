"""How the long-running services stop: one event, set by SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

__all__ = ["stop_event"]


def stop_event(stop: asyncio.Event | None = None) -> asyncio.Event:
    """``stop`` itself when given (tests, embedding); otherwise a new event that SIGTERM and
    SIGINT set, so a service shuts down gracefully (flush, commit) instead of dying mid-batch.

    Must be called from inside the running event loop.
    """
    if stop is not None:
        return stop
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
