"""Stage adapters: async functions that call the pure core and the stores, and record metrics.

Each module ``monitor/stages/<stage>.py`` exposes one ``async def <stage>_stage(...)``. The
embedded pipeline and the Faust agents (``monitor/stream/<stage>_agent.py``) both call these
functions, so the two modes run the same code. Adapters never talk to Kafka: the agent or the
embedded loop decides where a result goes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["labelled", "store_errors"]

_CHILDREN: dict[tuple[object, ...], Any] = {}


def labelled(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, kept: ``labels()`` costs a lock and a tuple build per call,
    too much for the stages' per-article counters.

    >>> from monitor.metrics import ALERTS
    >>> labelled(ALERTS, "new_story") is labelled(ALERTS, "new_story")
    True
    """
    key = (metric, *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


def store_errors() -> tuple[type[BaseException], ...]:
    """What a store raises when Redis is unreachable: ``RedisError`` or ``OSError`` (a
    ``TimeoutError`` is one), for ``except store_errors():``.

    A function rather than a tuple built at import: Python evaluates an ``except`` clause's
    expression only when an exception reaches it, so redis-py (110 ms to import) is loaded
    on the first failure of a Redis store, not by every start of the embedded pipeline,
    whose stores are in memory.

    >>> from redis.exceptions import ConnectionError
    >>> issubclass(ConnectionError, store_errors()) and issubclass(TimeoutError, store_errors())
    True
    """
    from redis.exceptions import RedisError

    return (RedisError, OSError)
