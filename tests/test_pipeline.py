"""The seed scenario through the embedded pipeline: one story, the right developments."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.commands.replay import read_articles
from monitor.core.records import Decision
from monitor.pipeline import Pipeline

SEEDS = Path(__file__).parent / "data" / "seeds"
SEEDS_JSONL = Path(__file__).parent / "data" / "seeds.jsonl"
ORDER = ("002", "001", "000", "004", "003")


def _seed_files() -> list[Path]:
    return [next(SEEDS.glob(f"{prefix}_*.txt")) for prefix in ORDER]


async def _replay(paths: list[Path], redis_url: str | None = None) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    async with Pipeline(redis_url=redis_url) as pipeline:
        async for decision, alert in pipeline.process_many(read_articles(paths)):
            decisions[decision.article[:3]] = decision
            assert (alert is not None) == (decision.decision in ("new_story", "development"))
    return decisions


def _assert_seed_story(decisions: dict[str, Decision]) -> None:
    assert [decisions[p].decision for p in ("002", "001", "003")] == [
        "new_story",
        "development",
        "development",
    ]
    assert len({d.story for d in decisions.values()}) == 1
    announcement = " ".join(decisions["001"].new_sentences)
    assert "يومي الثلاثاء والأربعاء" in announcement
    arrival = " ".join(decisions["003"].new_sentences)
    assert "وصل الرئيس الروسي فلاديمير بوتين إلى كوريا الشمالية" in arrival
    assert "مطار بيونج يانج" in arrival and "كيم جونغ أون" in arrival
    for decision in decisions.values():
        news = " ".join(decision.new_sentences)
        assert "ألمانيا" not in news and "الألمانية" not in news  # the off-topic paragraph
        assert "Leopard" not in news


def _assert_nothing_restated(decisions: dict[str, Decision]) -> None:
    """No new sentence is one an earlier seed already carried word for word."""
    earlier: set[str] = set()
    for prefix in ORDER:
        decision = decisions[prefix]
        assert not earlier.intersection(decision.new_sentences), prefix
        earlier.update(next(SEEDS.glob(f"{prefix}_*.txt")).read_text().splitlines())


async def test_seed_files_make_one_story_with_the_right_developments() -> None:
    decisions = await _replay(_seed_files())
    _assert_seed_story(decisions)
    _assert_nothing_restated(decisions)


async def test_seeds_with_dates_resume_the_dormant_story() -> None:
    decisions = await _replay([SEEDS_JSONL])
    _assert_seed_story(decisions)
    resumed = decisions["001"].reasons["resumed"]
    assert resumed["story"] == decisions["002"].story
    assert 270 <= resumed["idle_days"] <= 280
    assert all("resumed" not in decisions[p].reasons for p in ("000", "004", "003"))


async def test_wire_copy_000_and_004_add_only_their_own_facts() -> None:
    decisions = await _replay([SEEDS_JSONL])
    # 000 adds the delegation (Belousov, Roscosmos) to what 001 reported.
    assert decisions["000"].decision == "development"
    assert any("بيلوسوف" in s for s in decisions["000"].new_sentences)
    # 004 is 000's wire copy plus analysis: either the fingerprint stage calls it a reprint
    # (named with the story, 000 its original) or novelty finds the copied part restated
    # and the German paragraph off-topic; it never repeats 000's news.
    if decisions["004"].decision == "duplicate":
        assert decisions["004"].reasons["copy_of"] == decisions["000"].article
        assert decisions["004"].story == decisions["000"].story
    else:
        novelty = decisions["004"].reasons["novelty"]
        assert novelty["restated_sentences"] >= 8 and novelty["off_topic_sentences"]
        assert not set(decisions["000"].new_sentences) & set(decisions["004"].new_sentences)


async def test_reprint_is_a_duplicate_named_with_its_story() -> None:
    original = next(read_articles([SEEDS_JSONL]))
    copy = original.model_copy(update={"id": "copy-002", "outlet": "another-outlet"})
    async with Pipeline() as pipeline:
        first, _ = await pipeline.process(original)
        second, alert = await pipeline.process(copy)
        stored = await pipeline.stories.story_of("copy-002")
    assert second.decision == "duplicate" and alert is None
    assert second.story == first.story and second.reasons["copy_of"] == original.id
    assert stored is not None
    assert {"24.ae", "another-outlet"} <= {source["outlet"] for source in stored.sources}


async def test_rejected_article_gets_a_decision() -> None:
    from monitor.core.records import RawArticle

    async with Pipeline() as pipeline:
        decision, alert = await pipeline.process(RawArticle(id="e", outlet="o", text=""))
    assert decision.decision == "rejected" and alert is None
    assert decision.reasons["reason"]


@pytest.mark.integration
async def test_seeds_through_redis_stores(redis_url: str) -> None:
    from monitor.settings import Settings

    prefix = "t-pipeline-seeds:"
    async with Pipeline(Settings(redis={"url": redis_url, "key_prefix": prefix}), redis_url) as p:
        decisions: dict[str, Decision] = {}
        async for decision, _ in p.process_many(read_articles([SEEDS_JSONL])):
            decisions[decision.article[:3]] = decision
    _assert_seed_story(decisions)
    assert decisions["001"].reasons["resumed"]["idle_days"] >= 270


STREAM_SAMPLE = Path(__file__).parent / "data" / "stream_sample.jsonl"


def _essentials(decision: Decision) -> tuple[object, ...]:
    return (decision.article, decision.decision, decision.story, decision.new_sentences)


async def test_overlapped_mode_decides_as_one_process() -> None:
    """Cleaning in a worker process changes neither the decisions nor their order."""
    articles = [*read_articles([SEEDS_JSONL]), *read_articles([STREAM_SAMPLE])]
    results: dict[bool, list[tuple[object, ...]]] = {}
    for overlap in (False, True):
        async with Pipeline() as pipeline:
            results[overlap] = [
                (*_essentials(decision), alert.id if alert else None)
                async for decision, alert in pipeline.process_many(
                    articles, overlap=overlap, chunk_size=7
                )
            ]
    assert [row[0] for row in results[True]] == [a.id for a in articles]
    assert results[True] == results[False]
    assert {row[1] for row in results[True]} >= {"new_story", "duplicate", "development"}


@pytest.mark.integration
async def test_overlapped_mode_with_redis_stores(redis_url: str) -> None:
    from monitor.settings import Settings

    prefix = "t-pipeline-overlap:"
    settings = Settings(redis={"url": redis_url, "key_prefix": prefix})
    async with Pipeline(settings, redis_url) as p:
        decisions = {
            d.article[:3]: d
            async for d, _ in p.process_many(read_articles([SEEDS_JSONL]), overlap=True)
        }
    _assert_seed_story(decisions)


async def test_a_reprint_that_adds_a_fact_is_a_development() -> None:
    original = next(read_articles([SEEDS_JSONL]))
    added = "وأعلن الكرملين اعتقال ثلاثة أشخاص خططوا لمهاجمة موكب بوتين خلال الزيارة."
    copy = original.model_copy(
        # Put before the related-links tail, which the cleaner cuts.
        update={"id": "copy-plus", "outlet": "another-outlet", "text": added + "\n" + original.text}
    )
    async with Pipeline() as pipeline:
        first, _ = await pipeline.process(original)
        second, alert = await pipeline.process(copy)
    assert second.reasons["fingerprint"] == "reprint"  # the fingerprint calls it a copy...
    assert second.decision == "development" and alert is not None  # ...that tells news
    assert second.story == first.story and second.new_sentences == [added]


async def test_a_failing_prep_worker_stops_the_replay_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception in a prep worker (forked: it has this patch too) ends ``process_many``
    with ``WorkerFailed`` carrying the worker's traceback, not with a hang."""
    import os

    from monitor import workers

    owner = os.getpid()
    working = workers.features_of

    def broken(*args: object) -> object:
        if os.getpid() == owner:  # what this process prepares itself while it waits
            return working(*args)  # type: ignore[arg-type]
        raise ValueError("analysis broke")

    monkeypatch.setattr(workers, "features_of", broken)
    articles = list(read_articles([SEEDS_JSONL]))
    async with Pipeline() as pipeline:
        with pytest.raises(workers.WorkerFailed, match="analysis broke"):
            async for _ in pipeline.process_many(articles, workers=2):
                pass
