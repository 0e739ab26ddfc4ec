"""CPU per article of each part of a prep worker's work, in one process (no profiler).

    python benchmarks/bench_prep_parts.py STREAM [--rounds 1]
    PYTHONPATH=DIR python benchmarks/bench_prep_parts.py STREAM      # the code in DIR

What ``monitor.workers.Worker`` does to each article of the stream, 64-article chunks, every
article analysed (no repeat skipped), each part timed on its own with ``time.process_time``
around it: parse the lines, clean (``prepare``, then ``finish`` with the template store's
answers, the store counted outside), tokenise the title and sentences, the fingerprint
sketch, the story analysis (``analyse_tokens``), novelty's reading (``read_article``), the
character sketch (``text_sketch``), the rest of the features (``features_of`` given that
sketch), the lookup keys, and the pickling of each chunk's reply. Prints microseconds per
input. Round 1 starts with empty per-word memo tables, as a fresh worker of ``monitor
replay`` does (learning the stream's words is counted where it happens); later rounds find
them filled. Runs on code that predates ``read_article``'s ``words`` (then not given).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import pickle
import time
from pathlib import Path
from typing import Any

from monitor.core.analysis import read_article
from monitor.core.arabic import tokens
from monitor.core.fingerprint import FingerprintParams
from monitor.core.records import Rejection
from monitor.core.stories import analyse_tokens, features_of, lookup_keys, text_sketch
from monitor.inputs import InputLine, input_items, to_input
from monitor.lifecycle import tune_gc
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
from monitor.workers import warm_tables

CHUNK = 64
PARTS = (
    "parse", "prepare", "finish", "tokens", "fingerprint", "analyse", "read", "features",
    "sketch", "keys", "pickle",
)  # fmt: skip
_WITH_WORDS = "words" in inspect.signature(read_article).parameters


async def parts(items: list[InputLine]) -> dict[str, float]:
    """CPU seconds of each part over ``items``."""
    clock = time.process_time
    settings = Settings()
    templates = memory_template_store(settings)
    params = FingerprintParams.from_settings(settings.fingerprint)
    spent = dict.fromkeys(PARTS, 0.0)
    for start in range(0, len(items), CHUNK):
        began = clock()
        inputs = [to_input(item) for item in items[start : start + CHUNK]]
        raws = [raw for raw in inputs if not isinstance(raw, Rejection)]
        spent["parse"] += clock() - began
        began = clock()
        prepared = prepare_batch(raws, settings)
        spent["prepare"] += clock() - began
        answers = await observe_templates(templates, template_observations(prepared))
        began = clock()
        cleaned = finish_batch(prepared, answers, settings, 0.0)
        spent["finish"] += clock() - began
        results: list[Any] = []
        for article in cleaned:
            if not goes_on(article):
                continue
            began = clock()
            token_lists = [tokens(article.match_title), *map(tokens, article.match_sentences)]
            body = list(itertools.chain.from_iterable(token_lists[1:]))
            spent["tokens"] += clock() - began
            began = clock()
            fingerprint = article_fingerprint(article, params, body)
            spent["fingerprint"] += clock() - began
            began = clock()
            text = analyse_tokens(token_lists)
            spent["analyse"] += clock() - began
            began = clock()
            if _WITH_WORDS:
                read_article(article, text, token_lists)
            else:
                read_article(article, text)
            spent["read"] += clock() - began
            began = clock()
            chars = text_sketch(text)
            spent["sketch"] += clock() - began
            began = clock()
            features = features_of(text, chars)
            spent["features"] += clock() - began
            began = clock()
            keys = lookup_keys(features)
            spent["keys"] += clock() - began
            results.append((article, (fingerprint, features, keys)))
        began = clock()
        pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        spent["pickle"] += clock() - began
    return spent


def main() -> None:
    tune_gc()  # as every ``monitor`` command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    warm_tables()
    items = [item for item in input_items([args.stream]) if isinstance(item, InputLine)]
    for round_ in range(args.rounds):
        spent = asyncio.run(parts(items))
        total = sum(spent.values()) / len(items) * 1e6
        line = "  ".join(
            f"{name} {seconds / len(items) * 1e6:.0f}" for name, seconds in spent.items()
        )
        print(f"round {round_ + 1}: {total:.0f} us/input  {line}", flush=True)


if __name__ == "__main__":
    main()
