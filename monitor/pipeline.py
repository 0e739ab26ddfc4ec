"""The embedded pipeline: clean -> fingerprint -> story -> decision, in one process.

``Pipeline`` composes the stage functions the Faust agents call, over in-process stores or,
given a Redis URL, Redis stores (both built by the stores' factories), so ``monitor replay``,
``monitor run`` and the benchmarks run the service's logic; every article gets exactly one
decision (a rejected or non-Arabic one a ``rejected`` decision). ``process_many(items,
workers=N)`` prepares articles in N - 1 worker processes and decides in input order here,
with the decisions of one process (docs/pipeline.md).

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

import logging
import multiprocessing
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from monitor.core.records import Alert, CleanArticle, Decision, RawArticle, Rejection
from monitor.inputs import InputLine, to_input
from monitor.metrics import ARTICLES_REJECTED
from monitor.settings import Settings
from monitor.stages import labelled
from monitor.stages.clean import clean_stage, goes_on, observe_templates
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stages.story import rejection_stage, story_stage
from monitor.stores.fingerprints import (
    FingerprintStore,
    memory_fingerprint_store,
    redis_fingerprint_store,
)
from monitor.stores.stories import StoryStore, memory_story_store, redis_story_store
from monitor.stores.templates import (
    Observation,
    TemplateStore,
    memory_template_store,
    redis_template_store,
)
from monitor.workers import Analysis, Feed, Prepared, PrepPool, Worker

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["CHUNK", "Pipeline", "reject_input"]

log = logging.getLogger(__name__)

CHUNK = 64
"""Articles per worker task at most: large enough to amortise the round trips, small enough
to start soon (the first chunks are smaller: ``FIRST_CHUNK``) and for a reply to fit in a
pipe (``monitor.workers.PIPE_BYTES``)."""
AHEAD = 3
"""Chunks in flight per worker, so that none waits for this process; the chunks not decided
yet are at most twice as many (memory stays bounded when the workers are faster)."""
LOCAL_CHUNK = 8
"""Articles this process prepares itself when it would otherwise wait for the workers: few,
so that it is soon back to deciding (the single writer is the one that must not wait)."""
LOCAL_AHEAD = 4
"""Such chunks waiting to be decided, at most (beyond the workers' ``AHEAD``)."""
FIRST_CHUNK = 8
"""The first chunk's size; each next one is twice as large, up to the chunk size."""
OVERLAP_CHUNK = CHUNK  # the name before --workers


class Pipeline:
    """Clean, fingerprint and story stages over one set of stores.

    ``redis_url``: use Redis stores (shared with a running service if the key prefix is the
    same); default: in-process stores. ``clock``: the fingerprint store's time (default: the
    wall clock, as a live service); a replay holds it at its start, so that its decisions do
    not depend on when it runs (a day's boundary would split the store's index).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        redis_url: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._clock = clock
        self._redis: aioredis.Redis | None = None
        self._redis_url = redis_url
        self.templates: TemplateStore
        self.fingerprints: FingerprintStore
        self.stories: StoryStore
        if redis_url:
            # Imported here: in-memory stores (a replay's default) need no redis-py.
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(redis_url)
            self.templates = redis_template_store(self._redis, self.settings)
            self.fingerprints = redis_fingerprint_store(self._redis, self.settings)
            self.stories = redis_story_store(self._redis, self.settings)
        else:
            self.templates = memory_template_store(self.settings)
            self.fingerprints = memory_fingerprint_store(self.settings)
            self.stories = memory_story_store(self.settings)

    async def process(self, raw: RawArticle) -> tuple[Decision, Alert | None]:
        """One article through every stage: its decision, and its alert if any."""
        cleaned = await clean_stage(raw, self.templates, self.settings)
        return await self._decide(cleaned)

    async def _decide(
        self, cleaned: CleanArticle | Rejection, analysis: Analysis | None = None
    ) -> tuple[Decision, Alert | None]:
        """The stages after cleaning (``analysis``: fingerprint, story features and lookup
        keys, when known)."""
        if isinstance(cleaned, Rejection):
            if cleaned.stage == "input":
                return reject_input(cleaned), None
            return rejection_stage(cleaned), None
        if not goes_on(cleaned):
            return rejection_stage(_non_arabic(cleaned)), None
        fingerprint, features, lookup = analysis if analysis is not None else (None, None, None)
        fingerprinted = await fingerprint_stage(
            cleaned,
            self.fingerprints,
            self.settings,
            fingerprint,
            now=None if self._clock is None else self._clock(),
        )
        return await story_stage(fingerprinted, self.stories, self.settings, features, lookup)

    async def process_many(
        self,
        items: Iterable[RawArticle | Rejection | InputLine],
        *,
        workers: int = 1,
        overlap: bool = False,
        chunk_size: int = CHUNK,
        idle: Callable[[], object] | None = None,
    ) -> AsyncIterator[tuple[Decision, Alert | None]]:
        """Inputs in the given order (order matters: stories are built as they come): one
        decision (and alert or None) each, in order.

        An input is an article, the ``input`` rejection of one that could not be read
        (logged and counted, see ``reject_input``) or an unparsed ``.jsonl`` line
        (``monitor.inputs.InputLine``). ``workers``: processes to use; beyond this one,
        ``workers - 1`` prep workers parse, clean and analyse the articles, up to
        ``chunk_size`` at a time; same decisions, same order. ``overlap``: at least two.
        ``idle``: called whenever the pipeline is about to wait (for the next input, or for
        the workers) after a decision, so that the caller can flush what it has written of
        the decisions so far (``monitor replay``) rather than after each one.
        """
        if overlap:
            workers = max(workers, 2)
        if "fork" not in multiprocessing.get_all_start_methods():
            workers = 1  # workers are forked (see ``monitor.workers``): not on this system
        if workers <= 1:
            for item in items:
                if isinstance(item, InputLine):
                    item = to_input(item)
                if isinstance(item, RawArticle):
                    yield await self.process(item)
                else:
                    yield await self._decide(item)
                if idle is not None:
                    idle()  # the next input may be a blocking read
            return
        async for outcome in self._process_parallel(items, workers - 1, chunk_size, idle):
            yield outcome

    async def _process_parallel(
        self,
        items: Iterable[RawArticle | Rejection | InputLine],
        pool_size: int,
        chunk_size: int,
        idle: Callable[[], object] | None = None,
    ) -> AsyncIterator[tuple[Decision, Alert | None]]:
        """``process_many`` with ``pool_size`` prep workers (see ``monitor.workers``)."""
        pool = PrepPool(pool_size, self.settings)  # forked before the feed's thread starts
        feed = Feed(items, limit=2 * AHEAD * pool_size * chunk_size)
        submitted = 0  # chunks sent to a worker
        observed = 0  # chunks whose template observations were counted
        size = min(FIRST_CHUNK, chunk_size)  # small first chunks: decisions start sooner
        observations: dict[int, list[Observation]] = {}
        finished: dict[int, list[Prepared]] = {}
        decided = 0  # chunks decided
        local = Worker(self.settings)  # for the chunks prepared here
        here: set[int] = set()  # chunks prepared here whose templates are not counted yet
        local_chunks: set[int] = set()  # chunks prepared here, not decided yet

        def submit() -> None:
            nonlocal submitted, size
            while (
                submitted - decided - len(local_chunks) < 2 * AHEAD * pool_size
                and (worker := pool.idlest(AHEAD)) is not None
            ):
                chunk = feed.take(size)
                if not chunk:
                    break
                pool.submit(worker, submitted, chunk)
                submitted += 1
                size = min(chunk_size, 2 * size)

        async def handle(replies: list[tuple[str, int, object]]) -> None:
            nonlocal observed
            for kind, chunk_id, payload in replies:
                if kind == "finished":
                    finished[chunk_id] = payload  # type: ignore[assignment]
                    continue
                observations[chunk_id] = payload  # type: ignore[assignment]
            # The template store counts every chunk's lines in input order.
            while observed in observations:
                answers = await observe_templates(self.templates, observations.pop(observed))
                if observed in here:
                    here.discard(observed)
                    finished[observed] = local.finished(observed, answers)
                else:
                    pool.finish(observed, answers)
                observed += 1

        async def prepare_here() -> bool:
            """Rather than wait for the workers, prepare a small chunk here (the workers are
            busy: every worker has its chunks; this process would be idle)."""
            nonlocal submitted
            if len(local_chunks) >= LOCAL_AHEAD:
                return False
            chunk = feed.take(LOCAL_CHUNK)
            if not chunk:
                return False
            here.add(submitted)
            local_chunks.add(submitted)
            observations[submitted] = local.prepare(submitted, chunk)
            submitted += 1
            await handle([])
            return True

        try:
            while True:
                submit()
                if decided == submitted:  # nothing in flight: wait for input
                    if idle is not None:
                        idle()  # before waiting for the feed, or for the workers to stop
                    if feed.finished:
                        break
                    await feed.arrival()
                    continue
                while decided not in finished:
                    if replies := pool.poll():
                        await handle(replies)
                        submit()
                    elif not await prepare_here():
                        if idle is not None:
                            idle()
                        await handle(await pool.receive())
                prepared = finished.pop(decided)
                local_chunks.discard(decided)
                decided += 1
                submit()
                for cleaned, analysis in prepared:
                    yield await self._decide(cleaned, analysis)
                    # Between decisions, answer the workers (they must not wait for us).
                    if replies := pool.poll():
                        await handle(replies)
                        submit()
        except BaseException:
            feed.stop()
            pool.terminate()
            raise
        pool.close()

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


def reject_input(rejection: Rejection) -> Decision:
    """The decision for an input that could not be read as an article (logged, counted)."""
    log.warning("input rejected (%s): %s", rejection.reason, rejection.detail)
    labelled(ARTICLES_REJECTED, rejection.stage, rejection.reason).inc()
    return rejection_stage(rejection)
