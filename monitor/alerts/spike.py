"""The breaking signal: a story suddenly carried by far more outlets than usual.

Every decision of the story stage that names a story (new stories, developments, no-news
follow-ups and, above all, duplicates and reprints) is one outlet carrying the story. For each
story the detector keeps the outlets seen in the last ``window_seconds`` (one hour) and a
baseline: an exponentially weighted mean of the distinct outlets per closed hour. A story
*breaks* when

    outlets in the last hour >= max(min_outlets, sensitivity * baseline)

It then raises one ``breaking`` alert and stays quiet for that story until ``rearm_seconds``
have passed. Pure logic (no I/O); time comes from an injectable clock.

State is small and bounded: per story at most ``max_outlets`` outlets (with their latest
article), a few numbers; at most ``max_stories`` stories (least recently seen evicted).

>>> from monitor.core.records import Decision
>>> clock = iter(range(0, 1000, 60)).__next__
>>> detector = SpikeDetector(min_outlets=3, clock=lambda: float(clock()))
>>> def seen(outlet: str) -> Alert | None:
...     return detector.observe(Decision(article=outlet, outlet=outlet, decision="duplicate",
...                                      story="s1", title="بوتين في بيونغ يانغ"))
>>> [seen(o) is None for o in ("a", "b")]
[True, True]
>>> seen("c").kind
'breaking'
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.core.records import Alert, AlertSource, Decision

__all__ = ["SpikeDetector"]

_STORY_DECISIONS = frozenset({"new_story", "development", "no_news", "duplicate"})


@dataclass(slots=True)
class _Seen:
    at: float
    article: str
    title: str
    url: str | None


@dataclass(slots=True)
class _StoryState:
    outlets: OrderedDict[str, _Seen] = field(default_factory=OrderedDict)
    bucket_start: float = 0.0
    bucket_outlets: set[str] = field(default_factory=set)
    baseline: float = 0.0
    last_alert: float = -math.inf
    title: str = ""
    names: list[str] = field(default_factory=list)


class SpikeDetector:
    def __init__(
        self,
        *,
        sensitivity: float = 3.0,
        min_outlets: int = 4,
        window_seconds: float = 3600.0,
        rearm_seconds: float | None = None,
        baseline_weight: float = 0.3,
        max_stories: int = 10_000,
        max_outlets: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sensitivity <= 0 or min_outlets < 1 or window_seconds <= 0:
            raise ValueError("sensitivity and window must be positive, min_outlets >= 1")
        self.sensitivity = sensitivity
        self.min_outlets = min_outlets
        self.window = window_seconds
        self.rearm = window_seconds if rearm_seconds is None else rearm_seconds
        self.weight = baseline_weight
        self.max_stories = max_stories
        self.max_outlets = max_outlets
        self._clock = clock
        self._stories: OrderedDict[str, _StoryState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._stories)

    def _state(self, story: str, now: float) -> _StoryState:
        state = self._stories.get(story)
        if state is None:
            state = _StoryState(bucket_start=now)
            self._stories[story] = state
            while len(self._stories) > self.max_stories:
                self._stories.popitem(last=False)
        else:
            self._stories.move_to_end(story)
        return state

    def _roll_buckets(self, state: _StoryState, now: float) -> None:
        closed = int((now - state.bucket_start) // self.window)
        if closed <= 0:
            return
        # The first closed bucket held what was counted; any further ones were empty.
        state.baseline += self.weight * (len(state.bucket_outlets) - state.baseline)
        state.baseline *= (1 - self.weight) ** (closed - 1)
        state.bucket_outlets.clear()
        state.bucket_start += closed * self.window

    def threshold(self, story: str) -> float:
        """Distinct outlets in the window at which ``story`` breaks now."""
        state = self._stories.get(story)
        baseline = state.baseline if state else 0.0
        return max(float(self.min_outlets), self.sensitivity * baseline)

    def remember(self, alert: Alert) -> None:
        """Keep the story title and names of a non-breaking alert for a later breaking one."""
        state = self._stories.get(alert.story)
        if state is not None:
            state.title = alert.story_title or state.title
            state.names = alert.names[:50]
        else:
            now = self._clock()
            state = self._state(alert.story, now)
            state.title, state.names = alert.story_title, alert.names[:50]

    def observe(self, decision: Decision) -> Alert | None:
        """Count one decision; returns a breaking alert when its story just spiked."""
        if decision.story is None or decision.decision not in _STORY_DECISIONS:
            return None
        now = self._clock()
        state = self._state(decision.story, now)
        self._roll_buckets(state, now)
        if not state.title and decision.decision == "new_story":
            state.title = decision.title
        state.outlets[decision.outlet] = _Seen(now, decision.article, decision.title, decision.url)
        state.outlets.move_to_end(decision.outlet)
        while state.outlets and (
            next(iter(state.outlets.values())).at <= now - self.window
            or len(state.outlets) > self.max_outlets
        ):
            state.outlets.popitem(last=False)
        state.bucket_outlets.add(decision.outlet)
        if len(state.bucket_outlets) > self.max_outlets:
            state.bucket_outlets.discard(next(iter(state.bucket_outlets)))

        count = len(state.outlets)
        threshold = max(float(self.min_outlets), self.sensitivity * state.baseline)
        if count < threshold or now - state.last_alert < self.rearm:
            return None
        state.last_alert = now
        return self._alert(decision, state, count, now)

    def _alert(self, decision: Decision, state: _StoryState, count: int, now: float) -> Alert:
        story = decision.story or ""
        sources = [
            AlertSource(outlet=outlet, article=seen.article, title=seen.title, url=seen.url)
            for outlet, seen in reversed(state.outlets.items())
        ]
        return Alert(
            id=f"breaking:{story}:{int(now // self.rearm) if self.rearm else int(now)}",
            kind="breaking",
            story=story,
            story_title=state.title or decision.title,
            article=decision.article,
            outlet=decision.outlet,
            title=decision.title,
            sources=sources,
            links=[s.url for s in sources if s.url],
            score=count / max(state.baseline, 1.0),
            names=list(state.names),
            published=decision.published,
            created=datetime.fromtimestamp(now, UTC),
            reasons={
                "outlets_in_window": count,
                "window_seconds": self.window,
                "baseline": round(state.baseline, 3),
                "sensitivity": self.sensitivity,
                "min_outlets": self.min_outlets,
            },
        )
