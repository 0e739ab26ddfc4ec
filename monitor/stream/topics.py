"""Every Kafka topic of the monitor: its name, key, record schema and who reads and writes it.

This table is the single place that documents the topics; the Faust app, the pollers, the
dispatcher, docker-compose's topic set-up and the tests all read it. Values are the pydantic
models of ``monitor.core.records`` serialised as UTF-8 JSON; keys are UTF-8 strings.
``fingerprinted`` records leave out the fields the story stage never reads (the normalised
texts when the record carries its analysis, all text but the title for a copy:
``monitor.core.records.fingerprinted_omits``); those fields have defaults, so the model
still reads them.

>>> TOPICS["raw"].name("monitor.")
'monitor.raw'
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from monitor.alerts.records import DeadLetter
from monitor.core.records import (
    Alert,
    CleanArticle,
    Decision,
    FingerprintedArticle,
    RawArticle,
    Rejection,
)

__all__ = ["TOPICS", "TopicSpec"]


@dataclass(frozen=True, slots=True)
class TopicSpec:
    suffix: str
    key: str
    schema: type[BaseModel]
    producer: str
    consumers: str
    partitioned: bool
    """True: ``KafkaSettings.partitions`` partitions (work shared by workers). False: one
    partition, because the consumer keeps global order-dependent state (story assignment)."""

    def name(self, prefix: str) -> str:
        return f"{prefix}{self.suffix}"


TOPICS: dict[str, TopicSpec] = {
    "raw": TopicSpec(
        "raw",
        "article id",
        RawArticle,
        "pollers (monitor poll)",
        "prep agent (or clean agent)",
        True,
    ),
    "clean": TopicSpec(
        "clean",
        "article id",
        CleanArticle,
        "clean agent (split layout only)",
        "fingerprint agent",
        True,
    ),
    "non_arabic": TopicSpec(
        "non_arabic",
        "article id",
        CleanArticle,
        "prep or clean agent",
        "operators / other pipelines",
        True,
    ),
    "rejected": TopicSpec(
        "rejected",
        "article id",
        Rejection,
        "prep, clean and fingerprint agents",
        "story agent (a rejected decision each)",
        True,
    ),
    "fingerprinted": TopicSpec(
        "fingerprinted",
        "article id",
        FingerprintedArticle,
        "prep (or fingerprint) agent",
        "story agent",
        False,
    ),
    "decisions": TopicSpec(
        "decisions", "article id", Decision, "story agent", "audit, dashboards, replay tools", True
    ),
    "alerts": TopicSpec(
        "alerts", "story id", Alert, "story agent", "dispatcher (monitor dispatch)", True
    ),
    "dead_letters": TopicSpec(
        "dead_letters", "alert id", DeadLetter, "dispatcher", "operators", True
    ),
}
