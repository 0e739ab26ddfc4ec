"""The embedded pipeline: clean -> fingerprint -> story -> decision, in one process.

It composes the same stage functions the Faust agents call, with in-process stores by
default or Redis stores given a URL, so ``monitor replay``, the embedded ``monitor run`` and
the benchmarks exercise exactly the service's logic. Articles the clean stage rejects, and
articles not in Arabic (the service routes those to the ``non_arabic`` topic), get a
``rejected`` decision: every article gets exactly one decision.

>>> import asyncio
>>> from monitor.core.records import RawArticle
>>> pipeline = Pipeline()
>>> raw = RawArticle(id="a1", outlet="wire", title="بوتين يصل إلى بيونغ يانغ",
...                  text="وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية.")
>>> decision, alert = asyncio.run(pipeline.process(raw))
>>> decision.decision, alert is not None
('new_story', True)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from types import TracebackType

import redis.asyncio as aioredis

from monitor.core.records import Alert, CleanArticle, Decision, RawArticle, Rejection
from monitor.settings import Settings
from monitor.stages.clean import clean_stage
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stages.story import rejection_stage, story_stage
from monitor.stores.fingerprints import (
    FingerprintStore,
    MemoryFingerprintStore,
    RedisFingerprintStore,
)
from monitor.stores.stories import MemoryStoryStore, RedisStoryStore, StoryStore
from monitor.stores.templates import (
    MemoryTemplateStore,
    RedisTemplateStore,
    TemplateStore,
    template_store_settings,
)

__all__ = ["Pipeline"]


class Pipeline:
    """Clean, fingerprint and story stages over one set of stores.

    ``redis_url``: use Redis stores (shared with a running service if the key prefix is the
    same); default: in-process stores.
    """

    def __init__(self, settings: Settings | None = None, redis_url: str | None = None) -> None:
        self.settings = settings or Settings()
        self._redis: aioredis.Redis | None = None
        self.templates: TemplateStore
        self.fingerprints: FingerprintStore
        self.stories: StoryStore
        fp = self.settings.fingerprint
        if redis_url:
            self._redis = aioredis.Redis.from_url(redis_url)
            prefix = self.settings.redis.key_prefix
            self.templates = RedisTemplateStore(
                self._redis, key_prefix=prefix, **template_store_settings(self.settings.clean)
            )
            self.fingerprints = RedisFingerprintStore(
                self._redis,
                key_prefix=prefix,
                ttl_seconds=fp.ttl_seconds,
                generation_seconds=fp.generation_seconds,
                index_bucket_bits=fp.index_bucket_bits,
                min_shared=fp.min_shared,
            )
            self.stories = RedisStoryStore(self._redis, key_prefix=prefix)
        else:
            self.templates = MemoryTemplateStore(**template_store_settings(self.settings.clean))
            self.fingerprints = MemoryFingerprintStore(
                ttl_seconds=fp.ttl_seconds,
                generation_seconds=fp.generation_seconds,
                min_shared=fp.min_shared,
            )
            self.stories = MemoryStoryStore()

    async def process(self, raw: RawArticle) -> tuple[Decision, Alert | None]:
        """One article through every stage: its decision, and its alert if any."""
        cleaned = await clean_stage(raw, self.templates, self.settings)
        if isinstance(cleaned, Rejection):
            return rejection_stage(cleaned), None
        if cleaned.language != "ar":
            return rejection_stage(_non_arabic(cleaned)), None
        fingerprinted = await fingerprint_stage(cleaned, self.fingerprints, self.settings)
        return await story_stage(fingerprinted, self.stories, self.settings)

    async def process_many(
        self, articles: Iterable[RawArticle]
    ) -> AsyncIterator[tuple[Decision, Alert | None]]:
        """Articles in the given order (order matters: stories are built as they come)."""
        for raw in articles:
            yield await self.process(raw)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _non_arabic(article: CleanArticle) -> Rejection:
    return Rejection(
        id=article.id,
        outlet=article.outlet,
        stage="clean",
        reason="non_arabic",
        detail=f"language {article.language}: routed to the non_arabic topic in service mode",
        url=article.url,
        published=article.published,
        trace=dict(article.trace),
    )
