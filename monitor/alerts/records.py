"""Records of the delivery side."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from monitor.core.records import Alert, utcnow

__all__ = ["DeadLetter", "Notification", "NotificationKind"]


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
