"""Stage adapters: async functions that call the pure core and the stores, and record metrics.

Each module ``monitor/stages/<stage>.py`` exposes one ``async def <stage>_stage(...)``. The
embedded pipeline and the Faust agents (``monitor/stream/<stage>_agent.py``) both call these
functions, so the two modes run the same code. Adapters never talk to Kafka: the agent or the
embedded loop decides where a result goes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["labelled"]

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
