"""Faust agent of the clean and fingerprint stages in one: ``raw`` -> ``fingerprinted`` |
``non_arabic`` | ``rejected``.

The default layout of ``monitor worker``. A clean article goes straight on to the fingerprint
stage in the same process instead of through the ``clean`` topic: one JSON encode and decode,
one produce and one fetch less per article, which is a large share of the service path's CPU
(``benchmarks/bench_service.py``). The separate ``clean`` and ``fingerprint`` agents remain
for deployments that scale cleaning apart (``monitor worker --stages clean`` on more
machines); a worker runs either this agent or those two, never both. Per batch: the clean
agent's ``clean_records``, then the fingerprint agent's ``fingerprint_until_done`` of the
Arabic articles, then every result to its topic in input order (``batching.result_record``).
"""

from __future__ import annotations

from collections.abc import Sequence

from faust.types import EventT

from monitor.stages.clean import goes_on
from monitor.stores.fingerprints import redis_fingerprint_store
from monitor.stream.app import MonitorApp, redis_client
from monitor.stream.batching import (
    StageResult,
    batch_agent,
    on_first_use,
    result_record,
    topic_names,
)
from monitor.stream.clean_agent import clean_records, template_store
from monitor.stream.fingerprint_agent import fingerprint_until_done
from monitor.stream.outbox import Outgoing

__all__ = ["register"]


def register(app: MonitorApp) -> None:
    settings = app.settings
    outputs = topic_names(app, "fingerprinted", "non_arabic", "rejected")
    templates = on_first_use(lambda: template_store(app))
    fingerprints = on_first_use(lambda: redis_fingerprint_store(redis_client(app), settings))

    async def prep(batch: Sequence[EventT]) -> list[Outgoing]:
        cleaned = await clean_records(batch, templates(), settings)
        arabic = [result for result in cleaned if goes_on(result)]
        judged = iter(await fingerprint_until_done(arabic, fingerprints(), settings))
        results: list[StageResult] = [
            next(judged) if goes_on(result) else result for result in cleaned
        ]
        return [result_record(result, outputs) for result in results]

    batch_agent(app, "raw", "prep", prep)
