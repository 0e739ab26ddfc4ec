"""Every Kafka topic of the monitor: its name, key, record schema and who reads and writes it.

This table is the single place that documents the topics; the Faust app, the pollers, the
dispatcher, docker-compose's topic set-up and the tests all read it. Values are the pydantic
models of ``monitor.core.records`` serialised as UTF-8 JSON; keys are UTF-8 strings.
``fingerprinted`` records leave out the fields the story stage never reads (the normalised
texts when the record carries its analysis, all text but the title for a copy:
``monitor.core.records.fingerprinted_omits``); those fields have defaults, so the model
still reads them. Their ``analysis`` (``ArticleAnalysis``) carries, besides each sentence's
terms, hashes, entities and markers and the character sketch, novelty's reading of each
sentence alone (``actions``, ``background``: optional columns, added 2026-12-07; a record
without them is judged as before, the story stage reading the sentences itself).

>>> TOPICS["raw"].name("monitor.")
'monitor.raw'
"""

from __future__ import annotations

from collections.abc import Iterable
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
from monitor.settings import KafkaSettings

__all__ = ["TOPICS", "TopicSpec", "partitions_by_topic"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicSpec:
    """One topic: what its records are, who writes and who reads them, how it is split.

    >>> spec = TopicSpec(suffix="raw", key="article id", schema=RawArticle, producer="poller",
    ...                  consumers="prep agent", partitioned=True)
    >>> spec.partitions(KafkaSettings(partitions=8)), spec.name("monitor.")
    (8, 'monitor.raw')
    """

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

    def partitions(self, kafka: KafkaSettings) -> int:
        """The topic's partition count under ``kafka``."""
        return kafka.partitions if self.partitioned else 1


def partitions_by_topic(names: Iterable[str], kafka: KafkaSettings) -> dict[str, int]:
    """Topic name -> partitions for ``TOPICS[name]`` of each of ``names`` (``create_topics``)."""
    return {TOPICS[name].name(kafka.topic_prefix): TOPICS[name].partitions(kafka) for name in names}


TOPICS: dict[str, TopicSpec] = {
    "raw": TopicSpec(
        suffix="raw",
        key="article id",
        schema=RawArticle,
        producer="pollers (monitor poll)",
        consumers="prep agent (or clean agent)",
        partitioned=True,
    ),
    "clean": TopicSpec(
        suffix="clean",
        key="article id",
        schema=CleanArticle,
        producer="clean agent (split layout only)",
        consumers="fingerprint agent",
        partitioned=True,
    ),
    "non_arabic": TopicSpec(
        suffix="non_arabic",
        key="article id",
        schema=CleanArticle,
        producer="prep or clean agent",
        consumers="operators / other pipelines",
        partitioned=True,
    ),
    "rejected": TopicSpec(
        suffix="rejected",
        key="article id",
        schema=Rejection,
        producer="prep, clean and fingerprint agents",
        consumers="story agent (a rejected decision each)",
        partitioned=True,
    ),
    "fingerprinted": TopicSpec(
        suffix="fingerprinted",
        key="article id",
        schema=FingerprintedArticle,
        producer="prep (or fingerprint) agent",
        consumers="story agent",
        partitioned=False,
    ),
    "decisions": TopicSpec(
        suffix="decisions",
        key="article id",
        schema=Decision,
        producer="story agent",
        consumers="audit, dashboards, replay tools",
        partitioned=True,
    ),
    "alerts": TopicSpec(
        suffix="alerts",
        key="story id",
        schema=Alert,
        producer="story agent",
        consumers="dispatcher (monitor dispatch)",
        partitioned=True,
    ),
    "dead_letters": TopicSpec(
        suffix="dead_letters",
        key="alert id",
        schema=DeadLetter,
        producer="dispatcher",
        consumers="operators",
        partitioned=True,
    ),
}
