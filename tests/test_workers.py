"""The prep worker's per-chunk work against the straightforward per-article composition."""

from __future__ import annotations

import asyncio
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.commands.replay import read_articles
from monitor.core.analysis import read_article
from monitor.core.fingerprint import FingerprintParams
from monitor.core.records import CleanArticle, Rejection
from monitor.core.stories import ArticleFeatures, analyse, features_of, lookup_keys
from monitor.settings import Settings
from monitor.stages.clean import (
    finish_batch,
    goes_on,
    observe_templates,
    prepare_batch,
    template_observations,
)
from monitor.stages.fingerprint import article_fingerprint
from monitor.stores.templates import memory_template_store
from monitor.workers import PrepPool, Worker, WorkerFailed

STREAM_SAMPLE = Path(__file__).parent / "data" / "stream_sample.jsonl"
CHUNK = 64


def _features(features: ArticleFeatures | None) -> str | None:
    """Every field of ``features``, floats exact and orders kept, as text."""
    if features is None:
        return None
    weighing = features.weighing
    assert weighing is not None
    rows = [features.text.title, *features.text.sentences]
    return repr(
        (
            list(features.vector.items()),
            list(features.title.items()),
            list(features.entities.items()),
            sorted(features.title_entities),
            list(features.sketch.items()),
            [getattr(weighing, name) for name in weighing.__slots__],
            [[getattr(row, name) for name in row.__slots__] for row in rows],
        )
    )


def _worker_results(raws: list[Any]) -> list[Any]:
    async def run() -> list[Any]:
        settings = Settings()
        templates = memory_template_store(settings)
        worker = Worker(settings)
        results: list[Any] = []
        for chunk_id, start in enumerate(range(0, len(raws), CHUNK)):
            observations = worker.prepare(chunk_id, raws[start : start + CHUNK])
            answers = await observe_templates(templates, observations)
            results += worker.finished(chunk_id, answers)
        return results

    return asyncio.run(run())


def _straightforward(raws: list[Any]) -> list[Any]:
    """Each article cleaned, fingerprinted from its text, analysed, read, and its features
    and lookup keys worked out on its own (no columns, no chunk, no repeat skipped)."""

    async def run() -> list[Any]:
        settings = Settings()
        templates = memory_template_store(settings)
        params = FingerprintParams.from_settings(settings.fingerprint)
        results: list[Any] = []
        for start in range(0, len(raws), CHUNK):
            prepared = prepare_batch(raws[start : start + CHUNK], settings)
            answers = await observe_templates(templates, template_observations(prepared))
            for article in finish_batch(prepared, answers, settings, 0.0):
                if not goes_on(article):
                    results.append((article, None))
                    continue
                fingerprint = article_fingerprint(article, params)
                text = read_article(article, analyse(article.match_title, article.match_sentences))
                features = features_of(text)
                results.append((article, (fingerprint, features, lookup_keys(features))))
        return results

    return asyncio.run(run())


def test_a_workers_chunks_give_what_each_article_worked_out_alone_gives() -> None:
    """``Worker.finished`` (the word facts' columns shared by the fingerprint and the
    analysis, novelty reading with the known terms, a chunk's phases one after the other,
    its grams learnt together) gives each article the fingerprint, features and lookup
    keys of the straightforward composition: the stream sample, 150 articles."""
    raws = list(read_articles([STREAM_SAMPLE]))
    found = _worker_results(raws)
    expected = _straightforward(raws)
    assert len(found) == len(expected) == len(raws)
    compared = 0
    for (article, analysis), (straight, straight_analysis) in zip(found, expected, strict=True):
        assert isinstance(article, CleanArticle | Rejection)
        assert article.id == straight.id
        if straight_analysis is None:
            assert analysis is None
            continue
        assert analysis is not None
        fingerprint, features, keys = analysis
        assert pickle.dumps(fingerprint) == pickle.dumps(straight_analysis[0])
        if features is None:  # a repeat of content the worker has seen
            continue
        assert _features(features) == _features(straight_analysis[1])
        assert keys == straight_analysis[2]
        compared += 1
    assert compared > 100


def test_poll_returns_each_workers_reply_in_the_workers_order_and_raises_for_a_dead_one() -> None:
    """``PrepPool.poll`` (one poll object for all the pipes, kept) gives what the
    straightforward ``[read(inbox) for inbox in inboxes if inbox.poll()]`` gives: nothing
    before a reply, then one reply per worker that has one, in the workers' order; a worker
    that died makes it raise ``WorkerFailed`` rather than wait."""
    raws = list(read_articles([STREAM_SAMPLE]))[:4]
    pool = PrepPool(2, Settings())
    try:
        assert pool.poll() == []
        pool.submit(1, 0, raws[:2])
        pool.submit(0, 1, raws[2:])
        deadline = time.monotonic() + 60
        while not all(inbox.poll() for inbox in pool._inboxes):  # the straightforward test
            assert time.monotonic() < deadline, "no reply within 60 s"
            time.sleep(0.01)
        replies = pool.poll()
        assert [(kind, chunk_id) for kind, chunk_id, _ in replies] == [
            ("prepared", 1),
            ("prepared", 0),
        ]
        assert pool.poll() == []  # each read once
        pool._processes[0].kill()
        pool._processes[0].join()
        with pytest.raises(WorkerFailed, match="prep worker 0 died"):
            pool.poll()
    finally:
        pool.terminate()
