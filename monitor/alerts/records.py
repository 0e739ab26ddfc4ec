"""Records of the delivery side."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from monitor.core.records import Alert, utcnow

__all__ = ["DEAD_LETTER_MAX_BYTES", "DeadLetter", "Notification", "NotificationKind"]


DEAD_LETTER_MAX_BYTES = 1_000_000
"""A dead letter's JSON at most: under the Kafka producer's 1 MiB ``max_request_size`` with
room for its key and the record's overhead."""


@dataclass(frozen=True, slots=True)
class _Cut:
    """How short a cut dead letter makes its fields (characters)."""

    ids: int
    """An id, key, subscriber or link."""
    texts: int
    """A title or the reason."""
    folded_ids: int
    """Ids of folded alerts kept."""


_CUTS = (_Cut(ids=1_000, texts=2_000, folded_ids=100), _Cut(ids=100, texts=200, folded_ids=0))
"""Tried in turn. The first keeps about 120 K characters whatever the alerts hold (ids and
titles of megabytes included), under 750 KB in any encoding JSON uses; the second about
2 K characters, for a limit below that."""


class DeadLetter(BaseModel):
    """An alert that could not be delivered to one subscriber after every retry."""

    alert: Alert
    subscriber: str
    channel: str
    attempts: int
    reason: str
    failed_at: datetime = Field(default_factory=utcnow)
    idempotency_key: str = ""
    folded: list[Alert] = Field(
        default_factory=list, description="Further alerts the failed message carried."
    )
    folded_ids: list[str] = Field(
        default_factory=list,
        description="Ids of the further alerts, when a cut dead letter leaves them out.",
    )
    truncated: bool = Field(
        False,
        description="Cut to fit a Kafka record: the alert keeps its ids, kind, titles and "
        "links but not its texts, the folded alerts only their ids. The whole message is the "
        "delivery record `<key_prefix>delivery:<idempotency_key>` in Redis (payload) for "
        "alerts.delivered_ttl_seconds.",
    )
    original_bytes: int | None = Field(None, description="Size of the uncut dead letter (JSON).")

    def record_value(self, max_bytes: int = DEAD_LETTER_MAX_BYTES) -> tuple[bytes, bool]:
        """This dead letter as JSON of at most ``max_bytes`` (from 10 KB on), and whether it
        had to be cut (see ``truncated``).

        >>> alert = Alert(id="a1", kind="development", story="s", story_title="t",
        ...               article="x", outlet="o", new_sentences=["جملة طويلة " * 20_000])
        >>> dead = DeadLetter(alert=alert, subscriber="bob", channel="webhook", attempts=6,
        ...                   reason="HTTP 500", idempotency_key="a1:bob", folded=[alert])
        >>> value, cut = dead.record_value(max_bytes=100_000)
        >>> cut, len(value) < 100_000, DeadLetter.model_validate_json(value).folded_ids
        (True, True, ['a1'])
        """
        whole = self.model_dump_json().encode()
        if len(whole) <= max_bytes:
            return whole, False
        for cut in _CUTS:
            value = self._cut(cut, len(whole)).model_dump_json().encode()
            if len(value) <= max_bytes:
                break
        return value, True

    def _cut(self, cut: _Cut, original_bytes: int) -> DeadLetter:
        alert = self.alert
        bare = Alert(
            id=alert.id[: cut.ids],
            kind=alert.kind,
            story=alert.story[: cut.ids],
            story_title=alert.story_title[: cut.texts],
            article=alert.article[: cut.ids],
            outlet=alert.outlet[: cut.ids],
            title=alert.title[: cut.texts],
            links=[link[: cut.ids] for link in alert.links[:5]],
            story_url=alert.story_url[: cut.ids] if alert.story_url else None,
            score=alert.score,
            published=alert.published,
            created=alert.created,
        )
        return self.model_copy(
            update={
                "alert": bare,
                "subscriber": self.subscriber[: cut.ids],
                "channel": self.channel[: cut.ids],
                "reason": self.reason[: cut.texts],
                "idempotency_key": self.idempotency_key[: cut.ids],
                "folded": [],
                "folded_ids": [a.id[: cut.ids] for a in self.folded[: cut.folded_ids]],
                "truncated": True,
                "original_bytes": original_bytes,
            }
        )


NotificationKind = Literal["alert", "digest"]


class Notification(BaseModel):
    """One message to one subscriber: one alert, or several (a digest, or an alert with the
    developments its cool-down suppressed folded in).

    ``key`` is the idempotency key: ``<alert id>:<subscriber>`` for one alert, and
    ``digest-<hash of the alert ids>:<subscriber>`` for several, so a retried or re-built
    message keeps its key.

    >>> from monitor.core.records import Alert
    >>> a = Alert(id="a1", kind="new_story", story="s", story_title="t", article="x", outlet="o")
    >>> Notification.build("bob", [a]).key
    'a1:bob'
    """

    key: str
    subscriber: str
    kind: NotificationKind
    alerts: list[Alert] = Field(min_length=1)
    suppressed: int = Field(0, description="Alerts of this story the cool-down held back.")
    created: datetime = Field(default_factory=utcnow)

    @property
    def alert(self) -> Alert:
        """The newest alert (what the message is mainly about)."""
        return self.alerts[-1]

    @classmethod
    def build(
        cls, subscriber: str, alerts: list[Alert], *, digest: bool = False, suppressed: int = 0
    ) -> Notification:
        if len(alerts) == 1 and not digest:
            key = f"{alerts[0].id}:{subscriber}"
        else:
            ids = "\n".join(a.id for a in alerts)
            key = f"digest-{hashlib.sha256(ids.encode()).hexdigest()[:20]}:{subscriber}"
        return cls(
            key=key,
            subscriber=subscriber,
            kind="digest" if digest else "alert",
            alerts=alerts,
            suppressed=suppressed,
        )
