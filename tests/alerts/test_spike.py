"""The breaking signal: distinct outlets per hour against the story's own baseline."""

from __future__ import annotations

from monitor.alerts.spike import SpikeDetector
from monitor.core.records import Decision

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _decision(outlet: str, story: str = "s1", kind: str = "duplicate", n: int = 0) -> Decision:
    return Decision.model_validate(
        {
            "article": f"{outlet}-{n}",
            "outlet": outlet,
            "decision": kind,
            "story": story,
            "title": f"عنوان {outlet}",
            "url": f"https://{outlet}.example/{n}",
        }
    )


def test_many_outlets_within_the_hour_break_once() -> None:
    clock = Clock()
    detector = SpikeDetector(sensitivity=3.0, min_outlets=4, clock=clock)
    results = []
    for index, outlet in enumerate(["a", "b", "c", "d", "e", "f"]):
        clock.now = index * 60.0
        results.append(
            detector.observe(_decision(outlet, kind="new_story" if not index else "duplicate"))
        )
    assert [r is not None for r in results] == [False, False, False, True, False, False]
    alert = results[3]
    assert alert is not None and alert.kind == "breaking" and alert.story == "s1"
    assert [s.outlet for s in alert.sources] == ["d", "c", "b", "a"]
    assert alert.reasons["outlets_in_window"] == 4
    assert alert.story_title == "عنوان a"  # the title of the decision that opened the story


def test_the_same_outlet_repeating_is_not_a_spike() -> None:
    clock = Clock()
    detector = SpikeDetector(min_outlets=3, clock=clock)
    for n in range(50):
        clock.now = n * 10.0
        assert detector.observe(_decision("youm7", n=n)) is None


def test_outlets_spread_over_hours_are_not_a_spike() -> None:
    clock = Clock()
    detector = SpikeDetector(min_outlets=3, clock=clock)
    for index, outlet in enumerate("abcdefgh"):
        clock.now = index * 1.5 * HOUR  # never two in one hour
        assert detector.observe(_decision(outlet)) is None


def test_a_busy_story_needs_sensitivity_times_its_baseline() -> None:
    clock = Clock()
    detector = SpikeDetector(sensitivity=2.0, min_outlets=2, baseline_weight=1.0, clock=clock)
    outlets = [f"o{i}" for i in range(30)]
    # Hours 0-5: the same 3 outlets each hour -> baseline 3, threshold 6.
    fired = []
    for hour in range(6):
        for index, outlet in enumerate(outlets[:3]):
            clock.now = hour * HOUR + index * 60.0
            fired.append(detector.observe(_decision(outlet, n=hour)))
    assert [i for i, a in enumerate(fired) if a is not None] == [1]  # the story's first hour
    assert detector.threshold("s1") == 6.0
    # Hour 6: new outlets from minute 10 on (hour 5's have left the window); the 6th breaks.
    results = []
    for index, outlet in enumerate(outlets[3:10]):
        clock.now = 6 * HOUR + (10 + index) * 60.0
        results.append(detector.observe(_decision(outlet, n=6)))
    assert [r is not None for r in results] == [False] * 5 + [True, False]


def test_higher_sensitivity_is_harder_to_trigger() -> None:
    def fires(sensitivity: float) -> bool:
        clock = Clock()
        detector = SpikeDetector(
            sensitivity=sensitivity, min_outlets=2, baseline_weight=1.0, clock=clock
        )
        for index, outlet in enumerate("ab"):  # hour 0: two outlets -> baseline 2
            clock.now = index * 60.0
            detector.observe(_decision(outlet))
        hits = []
        for index, outlet in enumerate("cdefg"):  # hour 1: five new outlets
            clock.now = HOUR + index * 60.0 + 1
            hits.append(detector.observe(_decision(outlet)))
        return any(h is not None for h in hits)

    assert fires(2.0)
    assert not fires(3.0)


def test_rearms_after_the_rearm_time_with_a_new_id() -> None:
    clock = Clock()
    detector = SpikeDetector(min_outlets=2, rearm_seconds=HOUR, clock=clock)
    first = [detector.observe(_decision(o)) for o in "ab"]
    clock.now = HOUR + 10
    second = [detector.observe(_decision(o)) for o in "cd"]
    ids = [a.id for a in [*first, *second] if a is not None]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_state_is_bounded() -> None:
    clock = Clock()
    detector = SpikeDetector(min_outlets=1000, max_stories=50, max_outlets=20, clock=clock)
    for story in range(200):
        for outlet in range(40):
            detector.observe(_decision(f"o{outlet}", story=f"s{story}"))
    assert len(detector) == 50
    assert all(len(state.outlets) <= 20 for state in detector._stories.values())
    assert all(len(state.bucket_outlets) <= 20 for state in detector._stories.values())


def test_decisions_without_a_story_or_rejected_are_ignored() -> None:
    detector = SpikeDetector(min_outlets=1, clock=Clock())
    assert detector.observe(_decision("a", kind="rejected")) is None
    no_story = _decision("a").model_copy(update={"story": None})
    assert detector.observe(no_story) is None
    assert len(detector) == 0
