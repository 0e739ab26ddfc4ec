"""How the long-running processes run: how they stop (one event, set by SIGTERM or SIGINT)
and how their garbage collector is set."""

from __future__ import annotations

import asyncio
import gc
import signal

__all__ = ["GC_THRESHOLDS", "stop_event", "tune_gc"]

GC_THRESHOLDS = (50_000, 20, 20)
"""Collector thresholds of monitor processes (CPython's default: 700, 10, 10). Each article
allocates tens of thousands of short-lived, acyclic objects (tokens, terms, records), so the
default collected every few hundred microseconds and walked the story state and the term
tables each time: 5-18 % of the pipeline's CPU (``benchmarks/bench_replay.py``, same run).
Cycles still get collected, a few times a second instead of a few thousand."""


def tune_gc() -> None:
    """Set ``GC_THRESHOLDS`` for this process (every ``monitor`` command calls it)."""
    gc.set_threshold(*GC_THRESHOLDS)


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
