"""The shared back-off policies and retry loop (``monitor.retry``)."""

from __future__ import annotations

import random

import pytest

from monitor.retry import Backoff, Schedule, retry_until_done


def test_backoff_doubles_from_its_first_delay_up_to_its_cap() -> None:
    policy = Backoff(first=0.5, cap=30.0)
    assert [policy.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    # A long outage neither overflows nor passes the cap.
    assert policy.delay(10_000) == 30.0


def test_jittered_backoff_stays_within_half_and_all_of_the_delay() -> None:
    policy = Backoff(first=1.0, cap=60.0, jitter=True)
    rng = random.Random(1)
    for attempt in range(1, 12):
        full = min(60.0, 2.0 ** (attempt - 1))
        delays = [policy.delay(attempt, rng.random) for _ in range(200)]
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(set(delays)) > 150  # random, not one fixed value
    assert policy.delay(3, lambda: 0.0) == 2.0 and policy.delay(3, lambda: 1.0) == 4.0


def test_schedule_repeats_its_last_delay() -> None:
    policy = Schedule((0.5, 1.0, 2.0, 5.0, 10.0))
    assert [policy.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 5.0, 10.0, 10.0, 10.0]


async def test_retry_until_done_waits_the_policy_between_failures() -> None:
    outcomes: list[Exception | str] = [OSError("down"), OSError("down"), OSError("down"), "done"]
    waited: list[float] = []
    seen: list[tuple[str, float]] = []

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    result = await retry_until_done(
        attempt,
        policy=Backoff(first=0.5, cap=1.0),
        retry_on=(OSError,),
        failed=lambda error, delay: seen.append((str(error), delay)),
        sleep=sleep,
    )
    assert result == "done"
    assert waited == [0.5, 1.0, 1.0]
    assert seen == [("down", 0.5), ("down", 1.0), ("down", 1.0)]


async def test_retry_until_done_stops_on_other_errors_and_when_told() -> None:
    async def broken() -> None:
        raise ValueError("a bug, not an outage")

    async def no_sleep(seconds: float) -> None:
        return None

    with pytest.raises(ValueError):
        await retry_until_done(
            broken, policy=Schedule((0.1,)), retry_on=(OSError,), failed=lambda e, d: None
        )

    async def down() -> None:
        raise OSError("down")

    def give_up(error: BaseException, delay: float) -> None:
        raise error

    with pytest.raises(OSError, match="down"):
        await retry_until_done(
            down, policy=Schedule((0.1,)), retry_on=(OSError,), failed=give_up, sleep=no_sleep
        )
