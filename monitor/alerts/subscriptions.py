"""Who gets which alerts: subscriber models, matching, and a file that reloads itself.

``config/subscriptions.yaml`` lists subscribers; each has one channel (a type registered in
``monitor.alerts.channels``: webhook, slack, telegram, email, console), filters, an optional per-story cool-down and an optional digest interval.

Filter semantics: an empty filter does not constrain. ``words`` (searched in the alert's
story title, title and new sentences) and ``names`` (searched in ``alert.names``) together say
what the alert must be *about*: at least one of them must match. ``outlets``, ``stories`` and
``kinds`` must each contain the alert's value, and ``score`` must reach ``min_score``.
Words and names are compared on normalised Arabic (``monitor.core.arabic.normalize``), token by
token, so «بوتين» matches «وبوتين», «لبوتين» (attached prefixes) and «بوتين،», but not «بوتينية».

>>> subscriber = Subscriber.model_validate(
...     {"id": "desk", "channel": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
...      "filters": {"words": ["بوتين"]}})
>>> from monitor.core.records import Alert
>>> alert = Alert(id="a1", kind="development", story="s1", story_title="زيارة",
...               article="x", outlet="o", new_sentences=["وصل الرئيس فلاديمير بوتينُ"])
>>> subscriber.matches(alert)
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from monitor.alerts.channels import ChannelConfig
from monitor.core.arabic import normalize, tokens
from monitor.core.records import Alert, AlertKind
from monitor.metrics import SUBSCRIPTION_RELOADS
from monitor.settings import ConfigError, config_problems, read_yaml_mapping

__all__ = [
    "AlertText",
    "Filters",
    "Subscriber",
    "Subscriptions",
    "SubscriptionsFile",
    "load_subscriptions",
]

log = logging.getLogger(__name__)

# One-letter conjunctions/prepositions and the article that Arabic writes attached to a word.
_CLITIC_PREFIXES = ("", "و", "ف", "ب", "ل", "ك", "ال", "وال", "فال", "بال", "كال", "لل", "ولل")


class _Config(BaseModel):
    # A validation error must not quote the input: it may hold a token or a password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(normalize(text)))


class _TokenIndex:
    """Positions of each token of a text, also under the token stripped of a clitic prefix,
    so a phrase is found with one dictionary lookup instead of a scan."""

    __slots__ = ("positions", "tokens")

    def __init__(self, words: list[str]) -> None:
        self.tokens = words
        self.positions: dict[str, list[int]] = {}
        for index, token in enumerate(words):
            for prefix in _CLITIC_PREFIXES:
                if token.startswith(prefix) and len(token) > len(prefix):
                    self.positions.setdefault(token[len(prefix) :], []).append(index)

    def contains(self, phrase: tuple[str, ...]) -> bool:
        """True if ``phrase`` occurs as consecutive tokens; its first token may carry a prefix."""
        if not phrase:
            return False
        rest = list(phrase[1:])
        width = len(phrase)
        return any(
            self.tokens[start + 1 : start + width] == rest
            for start in self.positions.get(phrase[0], ())
        )


class AlertText:
    """An alert's searchable tokens, computed once and shared by every subscriber's filter."""

    __slots__ = ("names", "text")

    def __init__(self, alert: Alert) -> None:
        words = " ".join([alert.story_title, alert.title, *alert.new_sentences])
        self.text = _TokenIndex(tokens(normalize(words)))
        self.names = [_TokenIndex(tokens(normalize(name))) for name in alert.names]


@dataclass(frozen=True, slots=True)
class _Matcher:
    """A filter compiled to plain data (matching runs per alert per subscriber)."""

    kinds: frozenset[str]
    outlets: frozenset[str]
    stories: frozenset[str]
    min_score: float
    words: tuple[tuple[str, ...], ...]
    names: tuple[tuple[str, ...], ...]

    def matches(self, alert: Alert, text: AlertText | None) -> bool:
        if self.kinds and alert.kind not in self.kinds:
            return False
        if self.outlets and alert.outlet not in self.outlets:
            return False
        if self.stories and alert.story not in self.stories:
            return False
        if alert.score < self.min_score:
            return False
        if not self.words and not self.names:
            return True
        text = text or AlertText(alert)
        if any(text.text.contains(phrase) for phrase in self.words):
            return True
        return any(name.contains(phrase) for phrase in self.names for name in text.names)


class Filters(_Config):
    words: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    outlets: list[str] = Field(default_factory=list)
    stories: list[str] = Field(default_factory=list)
    kinds: list[AlertKind] = Field(default_factory=list)
    min_score: float = 0.0

    @model_validator(mode="after")
    def _no_empty_phrases(self) -> Filters:
        for phrase in [*self.words, *self.names]:
            if not _phrase(phrase):
                raise ValueError(f"filter phrase {phrase!r} has no word after normalisation")
        return self

    def compile(self) -> _Matcher:
        return _Matcher(
            kinds=frozenset(self.kinds),
            outlets=frozenset(self.outlets),
            stories=frozenset(self.stories),
            min_score=self.min_score,
            words=tuple(_phrase(word) for word in self.words),
            names=tuple(_phrase(name) for name in self.names),
        )

    def matches(self, alert: Alert, text: AlertText | None = None) -> bool:
        return self.compile().matches(alert, text)


class Subscriber(_Config):
    id: str = Field(pattern=r"^[A-Za-z0-9_.@-]+$")
    channel: ChannelConfig
    filters: Filters = Field(default_factory=Filters)
    cooldown_seconds: float = Field(
        0.0, ge=0, description="At most one message per story per this many seconds (0: off)."
    )
    digest_seconds: float | None = Field(
        None, gt=0, description="Send one message per interval listing the alerts instead."
    )
    enabled: bool = True

    def matches(self, alert: Alert, text: AlertText | None = None) -> bool:
        return self.enabled and self.filters.matches(alert, text)


class Subscriptions(_Config):
    subscribers: list[Subscriber] = Field(default_factory=list)
    _matchers: list[tuple[Subscriber, _Matcher]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Subscriptions:
        ids = [s.id for s in self.subscribers]
        if len(ids) != len(set(ids)):
            raise ValueError("subscriber ids must be unique")
        self._matchers = [(s, s.filters.compile()) for s in self.subscribers if s.enabled]
        return self

    def matching(self, alert: Alert) -> list[Subscriber]:
        text = AlertText(alert)
        return [
            subscriber for subscriber, matcher in self._matchers if matcher.matches(alert, text)
        ]

    def get(self, subscriber_id: str) -> Subscriber | None:
        return next((s for s in self.subscribers if s.id == subscriber_id), None)


def load_subscriptions(path: Path) -> Subscriptions:
    """Parse and validate a subscriptions file (raises ``ConfigError``, a ``ValueError``, one
    line per problem naming the file, the key and the problem, when invalid)."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        return Subscriptions.model_validate(read_yaml_mapping(path))
    except ValidationError as exc:
        # No value is quoted: a webhook URL or a bot token is a secret.
        raise ConfigError("\n".join(config_problems(exc, path))) from None


class SubscriptionsFile:
    """The subscriptions of a file, re-read whenever its mtime (or size) changes.

    An invalid or unreadable new version is logged and counted
    (``monitor_subscription_reloads_total{outcome="invalid"}``) and the previous one stays in
    force. A missing file at start means no subscribers.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._current = Subscriptions()
        self.current()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Subscriptions:
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp:
            return self._current
        self._stamp = stamp
        try:
            self._current = load_subscriptions(self.path)
        except (OSError, ValueError) as exc:
            log.error("keeping the previous subscriptions: %s", exc)
            SUBSCRIPTION_RELOADS.labels(outcome="invalid").inc()
        else:
            log.info("loaded %d subscribers from %s", len(self._current.subscribers), self.path)
            SUBSCRIPTION_RELOADS.labels(outcome="loaded").inc()
        return self._current
