"""A Redis store that fails, seen by the stages (redis-py imported only then: ``stages.
store_errors``): the clean stage cleans without templates, the fingerprint stage raises
``FingerprintStoreUnavailable``; both count the error. Stores that raise here, no server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from monitor.core.fingerprint import Fingerprint
from monitor.core.records import CleanArticle, RawArticle
from monitor.settings import Settings
from monitor.stages import store_errors
from monitor.stages.clean import clean_stage, observe_templates
from monitor.stages.fingerprint import FingerprintStoreUnavailable, fingerprint_stage
from monitor.stores.templates import Observation

RAW = RawArticle(
    id="a1",
    outlet="wire",
    title="بوتين يصل إلى بيونغ يانغ",
    text="وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية تستغرق يومين.",
)


def _errors(operation: str) -> float:
    return REGISTRY.get_sample_value("monitor_redis_errors_total", {"operation": operation}) or 0.0


class _DownTemplates:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def observe(self, outlet: str, keys: Sequence[str], article_id: str) -> Any:
        raise self.error

    async def observe_many(self, observations: Sequence[Observation]) -> Any:
        raise self.error


class _DownFingerprints:
    async def match_and_add(
        self, article_id: str, outlet: str, fingerprint: Fingerprint, now: float | None = None
    ) -> Any:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1")

    async def match_and_add_many(self, articles: Sequence[Any], now: float | None = None) -> Any:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1")


def test_store_errors_are_the_ones_the_stages_caught_before() -> None:
    """``store_errors()`` catches what ``(TimeoutError, RedisError, OSError)`` caught, and
    nothing else (a bug in a store is not taken for an unreachable Redis)."""
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    for error in (RedisConnectionError, RedisTimeoutError, RedisError, TimeoutError, OSError):
        assert issubclass(error, store_errors())
    for error in (ValueError, KeyError, RuntimeError):
        assert not issubclass(error, store_errors())


@pytest.mark.parametrize("error", [RedisConnectionError("refused"), TimeoutError("slow")])
async def test_the_clean_stage_cleans_without_templates_when_the_store_fails(
    error: BaseException,
) -> None:
    before = _errors("template_observe")
    result = await clean_stage(RAW, _DownTemplates(error), Settings())
    assert isinstance(result, CleanArticle) and result.language == "ar"
    answers = await observe_templates(
        _DownTemplates(error),
        [Observation("wire", ["k"], "a1"), Observation("wire", ["k"], "a2")],
    )
    assert answers == [None, None]
    assert _errors("template_observe") == before + 2


async def test_a_bug_in_the_template_store_is_raised_not_taken_for_redis_down() -> None:
    with pytest.raises(ValueError, match="bug"):
        await clean_stage(RAW, _DownTemplates(ValueError("bug")), Settings())


async def test_the_fingerprint_stage_says_its_store_is_unavailable() -> None:
    article = await clean_stage(RAW, _DownTemplates(TimeoutError()), Settings())
    assert isinstance(article, CleanArticle)
    before = _errors("fingerprint")
    with pytest.raises(FingerprintStoreUnavailable, match="Error 111"):
        await fingerprint_stage(article, _DownFingerprints(), Settings())
    assert _errors("fingerprint") == before + 1
