from __future__ import annotations

from monitor.core.arabic import normalize
from monitor.core.stories import (
    StoryState,
    article_features,
    decay,
    index_keys,
    lookup_keys,
    merge_article,
    new_story_state,
    similarity,
)

VISIT = (
    "بوتين يصل إلى بيونغ يانغ",
    ["وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية يلتقي خلالها كيم جونغ أون"],
)
VISIT_AGAIN = (
    "الزعيم الكوري الشمالي يستقبل بوتين في مطار بيونج يانج",
    ["استقبل كيم جونج اون الرئيس بوتين في مطار بيونج يانج صباح الأربعاء"],
)
FOOTBALL = (
    "الأهلي يفوز على الزمالك",
    ["فاز النادي الأهلي على الزمالك بهدفين في نهائي كأس مصر على استاد القاهرة"],
)


def features(item: tuple[str, list[str]]):  # type: ignore[no-untyped-def]
    return article_features(normalize(item[0]), [normalize(s) for s in item[1]])


def story_of(item: tuple[str, list[str]], now: float = 0.0) -> StoryState:
    return new_story_state("s", item[0], features(item), now=now, sentences=[])


def test_same_event_scores_above_unrelated() -> None:
    story = story_of(VISIT)
    same = similarity(features(VISIT_AGAIN), story)
    other = similarity(features(FOOTBALL), story)
    assert same.score >= 0.3 > other.score
    assert "PER:فلاديمير بوتين" in same.shared_entities


def test_decay_cools_idle_stories_but_never_below_the_floor() -> None:
    story = story_of(VISIT)
    fresh = similarity(features(VISIT_AGAIN), story)
    idle = similarity(
        features(VISIT_AGAIN), story, idle_hours=48, half_life_hours=24, decay_floor=0.5
    )
    assert idle.raw == fresh.raw
    assert idle.score == fresh.score * decay(48, 24, 0.5) < fresh.score
    assert decay(10_000, 24, 0.5) >= 0.5


def test_merge_keeps_state_bounded_and_counts_articles() -> None:
    story = story_of(VISIT)
    for _ in range(50):
        merge_article(story, features(VISIT_AGAIN), now=10.0)
    assert story.articles == 51 and story.updated == 10.0
    assert len(story.centroid) <= 120 and len(story.title_features) <= 40


def test_core_entities_come_from_titles() -> None:
    story = story_of(VISIT)
    merge_article(story, features(VISIT_AGAIN), now=1.0)
    assert "PER:فلاديمير بوتين" in story.core_entities()


def test_index_keys_are_what_lookups_use() -> None:
    story = story_of(VISIT)
    assert set(lookup_keys(features(VISIT_AGAIN))) & set(index_keys(story))
    assert "@LOC:مصر" not in lookup_keys(features(FOOTBALL))  # too common to index


def test_state_round_trips_through_a_dict() -> None:
    story = story_of(VISIT)
    assert StoryState.from_dict(story.to_dict()) == story
