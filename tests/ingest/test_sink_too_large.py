"""An article whose raw record Kafka can never take is rejected, not retried for ever.

A page of megabytes makes a ``raw`` record over the producer's 1 MiB: the sink used to report
it unacknowledged at every poll, so the poller retried it for ever and it never got a
decision. Now its rejection goes to ``rejected`` (the story stage decides it ``rejected``)
and it is acknowledged; on the real broker.
"""

from __future__ import annotations

import pytest

from monitor.core.records import RawArticle, Rejection
from monitor.ingest.sink import KafkaSink
from monitor.metrics import ARTICLES_REJECTED
from monitor.settings import Settings
from monitor.stream.app import create_topics
from tests.stream.helpers import read_topic

pytestmark = pytest.mark.integration


async def test_an_article_too_large_for_kafka_is_rejected_and_acknowledged(
    service_settings: Settings,
) -> None:
    prefix = service_settings.kafka.topic_prefix
    raw, rejected = f"{prefix}raw", f"{prefix}rejected"
    await create_topics(service_settings, {raw: 1, rejected: 1})
    articles = [
        RawArticle(id="before", outlet="site", text="نص قصير"),
        RawArticle(
            id="huge",
            outlet="site",
            url="https://site.example/huge",
            html="<html><body>" + "<p>فقرة طويلة جدا</p>" * 100_000 + "</body></html>",
        ),
        RawArticle(id="after", outlet="site", text="نص قصير آخر"),
    ]
    counter = ARTICLES_REJECTED.labels(stage="poll", reason="too_large")
    before = counter._value.get()
    sink = KafkaSink(service_settings.kafka.bootstrap, raw, rejected_topic=rejected)
    await sink.start()
    try:
        assert await sink.send(articles) == [True, True, True]
    finally:
        await sink.stop()
    assert (await read_topic(service_settings.kafka.bootstrap, raw, 2)).keys() == {
        "before",
        "after",
    }
    (value,) = (await read_topic(service_settings.kafka.bootstrap, rejected, 1)).values()
    rejection = Rejection.model_validate_json(value)
    assert (rejection.id, rejection.stage, rejection.reason) == ("huge", "poll", "too_large")
    assert rejection.url == "https://site.example/huge"
    assert "raw record of" in rejection.detail
    assert counter._value.get() == before + 1
