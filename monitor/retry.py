"""Waiting between attempts: the back-off policies and the one retry loop that every caller uses.

A caller states its own policy (``Backoff``: exponential from ``first`` up to ``cap``,
optionally with "equal jitter"; ``Schedule``: fixed delays, the last repeated) and, for a loop
that must not give up, hands :func:`retry_until_done` the attempt, the errors worth retrying
and what to do about each failure (count it, log it, or raise it to stop). Callers that keep
their attempts elsewhere (a delivery in Redis, a feed's error count) ask the policy for
``delay(attempt)`` alone.

>>> Backoff(first=0.5, cap=30.0).delay(1), Backoff(first=0.5, cap=30.0).delay(8)
(0.5, 30.0)
>>> Schedule((0.5, 1.0, 5.0)).delay(2), Schedule((0.5, 1.0, 5.0)).delay(9)
(1.0, 5.0)
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["Backoff", "RetryPolicy", "Schedule", "retry_until_done"]

T = TypeVar("T")

_MAX_DOUBLINGS = 60
"""Beyond this the delay is the cap anyway; it keeps ``2 ** n`` a float of sensible size."""


class RetryPolicy(Protocol):
    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off: ``first`` after the first failure, doubling up to ``cap``.

    With ``jitter`` ("equal jitter") half of that delay is fixed and half random, so the
    delay ``d`` becomes a value in ``[d/2, d]``: callers that fail together (feeds of one
    host, deliveries to one receiver) do not retry together.
    """

    first: float
    cap: float
    jitter: bool = False

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        delay = min(self.cap, self.first * 2.0 ** min(max(0, attempt - 1), _MAX_DOUBLINGS))
        if not self.jitter:
            return delay
        return delay / 2 + rng() * delay / 2


@dataclass(frozen=True, slots=True)
class Schedule:
    """Fixed delays, one per failure in turn; the last one repeats."""

    delays: tuple[float, ...]

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        return self.delays[min(max(1, attempt), len(self.delays)) - 1]


async def retry_until_done(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    retry_on: tuple[type[BaseException], ...],
    failed: Callable[[BaseException, float], None],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``await attempt()`` until it returns, and return its result.

    After each failure with one of ``retry_on``, ``failed(error, delay)`` is called (count,
    log, undo; raising there ends the loop with that error), then the loop waits
    ``policy.delay(n)`` seconds for the n-th failure. Other errors end the loop at once.
    """
    failures = 0
    while True:
        try:
            return await attempt()
        except retry_on as error:
            failures += 1
            delay = policy.delay(failures)
            failed(error, delay)
            await sleep(delay)
