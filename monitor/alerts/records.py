"""Records of the delivery side."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from monitor.core.records import Alert, utcnow

__all__ = ["DeadLetter"]


class DeadLetter(BaseModel):
    """An alert that could not be delivered to one subscriber after every retry."""

    alert: Alert
    subscriber: str
    channel: str
    attempts: int
    reason: str
    failed_at: datetime = Field(default_factory=utcnow)
