"""The prep agent on the real broker and Redis: raw -> fingerprinted | non_arabic | rejected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from monitor.core.analysis import features_from_record, match_texts
from monitor.core.records import Decision, FingerprintedArticle, RawArticle, Rejection
from monitor.core.stories import article_features
from monitor.settings import Settings
from monitor.stream.app import build_worker_app, running
from tests.stream.helpers import read_topic

SEEDS = Path(__file__).parent.parent / "data" / "seeds"


def raw_seeds() -> list[RawArticle]:
    return [
        RawArticle(
            id=f"seed-{path.name[:3]}",
            outlet=f"outlet-{path.name[:3]}",
            text=path.read_text(encoding="utf-8"),
        )
        for path in sorted(SEEDS.glob("0*.txt"))
    ]


ENGLISH = RawArticle(
    id="english",
    outlet="wire-en",
    title="Putin arrives in Pyongyang",
    text="Russian President Vladimir Putin arrived in Pyongyang on Tuesday for a state visit. "
    "He was met at the airport by Kim Jong Un, state media reported.",
)


@pytest.mark.integration
async def test_prep_agent_cleans_fingerprints_and_analyses_in_one_hop(
    service_settings: Settings,
) -> None:
    prefix = service_settings.kafka.topic_prefix
    seeds = raw_seeds()
    app = build_worker_app(service_settings, stages=["prep"], app_id=f"{prefix}prep")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            # One key, so one partition: the seeds arrive in this order.
            for article in [*seeds, ENGLISH]:
                await producer.send_and_wait(
                    f"{prefix}raw", article.model_dump_json().encode(), key=b"same-partition"
                )
            await producer.send_and_wait(f"{prefix}raw", b"{not json", key=b"broken")
        finally:
            await producer.stop()
        bootstrap = service_settings.kafka.bootstrap
        fingerprinted, non_arabic, rejected = await asyncio.gather(
            read_topic(bootstrap, f"{prefix}fingerprinted", len(seeds)),
            read_topic(bootstrap, f"{prefix}non_arabic", 1),
            read_topic(bootstrap, f"{prefix}rejected", 1),
        )

    results = {
        key: FingerprintedArticle.model_validate_json(value) for key, value in fingerprinted.items()
    }
    assert results["seed-000"].kind == "new"
    assert results["seed-004"].kind == "reprint"
    assert results["seed-004"].matched_id == "seed-000"
    # A reprint is judged for what it adds to its original: it carries its analysis too.
    assert results["seed-004"].analysis is not None
    for seed in ("seed-000", "seed-001", "seed-002", "seed-003"):
        result = results[seed]
        assert result.kind == "new"
        assert {"cleaned", "fingerprinted"} <= result.article.trace.keys()
        assert result.analysis is not None
        # What the story stage rebuilds from the record is what it would compute itself
        # (from the normalised text, which the record leaves out as the analysis has it).
        assert not result.article.match_sentences
        shipped = features_from_record(result.analysis)
        computed = article_features(*match_texts(result.article))
        assert shipped.vector == computed.vector
        assert shipped.title == computed.title
        assert shipped.entities == computed.entities
    arrival = results["seed-003"].analysis
    assert arrival is not None
    assert any("بوتين" in key for row in arrival.entities for key in row)
    assert len(arrival.terms) == len(results["seed-003"].article.sentences) + 1
    # A near copy keeps its text: its new sentences are what a development would report.
    assert results["seed-004"].article.sentences
    assert (
        FingerprintedArticle.model_validate_json(fingerprinted["seed-003"]) == results["seed-003"]
    )
    english = non_arabic["english"]
    assert b"Pyongyang" in english and b'"language":"en"' in english
    assert Rejection.model_validate_json(rejected["broken"]).reason == "invalid_record"


def test_a_worker_runs_prep_or_clean_and_fingerprint_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        build_worker_app(Settings(), stages=["prep", "fingerprint"])
    app = build_worker_app(Settings())
    assert sorted(name.rsplit(".", 1)[-1] for name in app.agents) == [
        "prep",
        "story",
        "story-rejections",
    ]


@pytest.mark.integration
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_a_raw_record_with_a_non_finite_number_is_rejected_where_it_enters(
    service_settings: Settings, number: str
) -> None:
    """Python's and pydantic's JSON readers take NaN and infinities; written again they
    become ``null``, which the story stage could not read back (it rejected the article
    there, after the fingerprint store had taken it). The prep stage rejects it."""
    prefix = service_settings.kafka.topic_prefix
    article = raw_seeds()[0]
    good = article.model_dump_json().encode()
    bad = good.replace(b'"trace":{}', b'"trace":{"polled":' + number.encode() + b"}")
    assert bad != good
    app = build_worker_app(service_settings, app_id=f"{prefix}worker")
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=service_settings.kafka.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(f"{prefix}raw", bad, key=b"bad")
            await producer.send_and_wait(f"{prefix}raw", good, key=b"good")
        finally:
            await producer.stop()
        bootstrap = service_settings.kafka.bootstrap
        decided, fingerprinted = await asyncio.gather(
            read_topic(bootstrap, f"{prefix}decisions", 2),
            read_topic(bootstrap, f"{prefix}fingerprinted", 1),
        )
    assert fingerprinted.keys() == {article.id}  # only the good one went on
    decision = Decision.model_validate_json(decided["bad"])
    assert decision.decision == "rejected"
    assert (decision.reasons["stage"], decision.reasons["reason"]) == ("clean", "invalid_record")
    assert "trace.polled" in decision.reasons["detail"]
    assert "finite number" in decision.reasons["detail"]
    assert Decision.model_validate_json(decided[article.id]).decision == "new_story"
