"""Prep workers: processes that do the per-article work of the embedded pipeline.

Everything the pipeline does to one article without reading shared state runs here, on as
many cores as there are workers: parsing the input line, the clean stage's checks and text
extraction, boilerplate removal, the fingerprint sketch, the story features and the story
index keys. The process that owns the stores (``monitor.pipeline.Pipeline``) keeps what
depends on the order of the articles: the outlet template store, the fingerprint store and
the story stage, so the decisions are those of one process, byte for byte.

The one piece of shared state inside cleaning is the outlet template store (which short
lines an outlet repeats). Each chunk of articles therefore makes a round trip in two
halves: ``prepare`` (parse, check, split: the worker replies with each article's outlet and
short-line keys and keeps the prepared articles), then the owner counts those keys in its
template store in input order and sends back ``finish`` with the store's answers, and the
worker finishes cleaning and analyses the chunk.

Workers are forked (they start in milliseconds with the code and tables already loaded) and
talk over pipes of ``PIPE_BYTES``, which hold a whole message: a message then goes in one
write, where a pipe's default 64 KiB took a dozen, each waiting for the GIL (up to its 5 ms
switch interval) while the sending process computed, and the reader waited for the rest.
The owner sends through a thread per worker, so it never waits for a worker to read; a
worker sends its replies itself (the owner always reads them soon: no cycle of waits).
Each worker handles ``finish`` requests before ``prepare`` ones, so the chunk the owner
waits for comes first. A worker that fails sends its traceback and exits; the owner raises
it (``WorkerFailed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import select
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, cast

from monitor.core.analysis import read_article
from monitor.core.arabic import tokens
from monitor.core.boilerplate import TemplateLines
from monitor.core.clean import PreparedArticle
from monitor.core.entities import (
    WORD_HASH_COLUMN,
    FactColumns,
    fact_columns,
    load_gazetteer,
    word_facts,
)
from monitor.core.fingerprint import Fingerprint, FingerprintParams
from monitor.core.records import CleanArticle, RawArticle, Rejection
from monitor.core.stories import (
    ArticleFeatures,
    analyse_words,
    features_of,
    gram_idf_table,
    learn_sketch_grams,
    lookup_keys,
)
from monitor.core.terms import idf_table
from monitor.inputs import InputLine, to_input
from monitor.settings import Settings
from monitor.stages.clean import finish_batch, goes_on, prepare_batch, template_observations
from monitor.stages.fingerprint import article_fingerprint
from monitor.stores.templates import Observation

__all__ = [
    "Analysis",
    "Feed",
    "PrepPool",
    "Prepared",
    "Worker",
    "WorkerFailed",
    "available_cores",
    "warm_tables",
]

log = logging.getLogger(__name__)

Analysis = tuple[Fingerprint, ArticleFeatures | None, list[str] | None]
"""What a worker computes for the later stages of an Arabic article: its fingerprint, story
features and story lookup keys (``None`` for a repeat of content the worker has seen: the
story stage needs no features for an exact copy, and computes them should it need them)."""
Prepared = tuple[CleanArticle | Rejection, Analysis | None]
"""One input, prepared: its clean article (or the input's or the clean stage's rejection)
and, for an Arabic article, its analysis."""

_PREPARE, _FINISH, _PREPARED, _FINISHED, _FAILED = (
    "prepare",
    "finish",
    "prepared",
    "finished",
    "failed",
)

_UNREAD = {"paragraphs": [], "match_text": "", "removed": []}
"""Fields of an article that no later stage reads (``records.FINGERPRINTED_OMITS``)."""
_ANALYSED = {"match_title": "", "match_sentences": []}
"""Fields the story stage reads only to analyse an article that comes without features."""


PIPE_BYTES = 1 << 20
"""Capacity asked for each pipe (Linux's default limit for a process without privileges):
more than a chunk's reply (``pipeline.CHUNK`` articles of ~8 KB)."""
CONTENTS_KEPT = 200_000
"""Content hashes a worker remembers to spot repeats (about 20 MB at most)."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


class Feed:
    """Inputs read by a thread, taken as they come: a reader of a slow pipe hands on what
    has arrived, never waiting for a chunk to fill (a decision is written before the next
    line is read), and a reader of a file keeps ``limit`` inputs ahead."""

    def __init__(self, items: Iterable[Any], limit: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._buffer: deque[Any] = deque()
        self._space = threading.Condition()
        self._limit = limit
        self._stopped = False
        self._error: BaseException | None = None
        self.exhausted = False
        """Every input has been read (the buffer may still hold some)."""
        self._thread = threading.Thread(
            target=self._read, args=(iter(items),), name="monitor-feed", daemon=True
        )
        self._thread.start()

    def _read(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                with self._space:
                    while len(self._buffer) >= self._limit and not self._stopped:
                        self._space.wait()
                    if self._stopped:
                        return
                    self._buffer.append(item)
                    first = len(self._buffer) == 1
                if first:  # the owner may be waiting for it
                    self._loop.call_soon_threadsafe(self._arrived.set)
        except BaseException as exc:  # raised in the owner, by ``take``
            self._error = exc
        finally:
            self.exhausted = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self._loop.call_soon_threadsafe(self._arrived.set)

    def take(self, most: int) -> list[Any]:
        """Up to ``most`` inputs that have arrived (none: nothing yet, or the end)."""
        with self._space:
            taken = [self._buffer.popleft() for _ in range(min(most, len(self._buffer)))]
            self._space.notify()
        if not taken and self._error is not None:
            raise self._error
        return taken

    @property
    def finished(self) -> bool:
        """Every input has been read and taken."""
        return self.exhausted and not self._buffer

    async def arrival(self) -> None:
        """Wait for an input (or the end) if none is there to take."""
        while not self._buffer and not self.exhausted:
            self._arrived.clear()
            if self._buffer or self.exhausted:
                break
            await self._arrived.wait()

    def stop(self) -> None:
        with self._space:
            self._stopped = True
            self._space.notify()


def warm_tables() -> None:
    """Build the fixed tables the per-article work reads (word document frequencies, the
    character n-gram IDF table: 0.3 s, the gazetteer), so that workers forked afterwards
    share them instead of each building its own."""
    gram_idf_table()
    idf_table()
    load_gazetteer()


class WorkerFailed(RuntimeError):
    """A prep worker raised (its traceback is the message) or died."""


class PrepPool:
    """``size`` forked prep workers and the pipes to them (the owner's side).

    ``submit`` sends a chunk's ``prepare``; ``receive``/``poll`` return replies as
    ``(kind, chunk id, payload)``: ``("prepared", id, observations)``, to be answered with
    ``finish``; ``("finished", id, list of Prepared)``.
    """

    def __init__(self, size: int, settings: Settings) -> None:
        context = multiprocessing.get_context("fork")
        warm_tables()  # built once, here, and shared by the forked workers
        self.size = size
        self._outboxes: list[queue.SimpleQueue[bytes | None]] = []
        self._senders: list[threading.Thread] = []
        self._inboxes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._owner: dict[int, int] = {}
        self.in_flight = [0] * size
        """Chunks sent to each worker and not yet received back finished."""
        pipes = [(context.Pipe(duplex=False), context.Pipe(duplex=False)) for _ in range(size)]
        for pair in pipes:
            for _, write_end in pair:
                with contextlib.suppress(OSError, AttributeError):  # Linux only; else as is
                    fcntl.fcntl(write_end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        # Buffered output would be written again by each child as it exits.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for index, ((requests_read, _), (_, replies_write)) in enumerate(pipes):
            # A child closes every other end it inherits: a worker must see its pipe closed
            # when the owner closes it, not kept open by a sibling's copy.
            others = [
                end
                for other, pair in enumerate(pipes)
                for end in itertools.chain(*pair)
                if end not in (requests_read, replies_write)
            ]
            process = context.Process(
                target=_serve,
                args=(index, requests_read, replies_write, others, settings),
                name=f"monitor-prep-{index}",
                daemon=True,
            )
            process.start()
            self._processes.append(process)
        # One poll object for every reply pipe, kept: ``Connection.poll`` builds and tears
        # down a selector per call (3 us), and the owner polls between every two decisions.
        self._ready = select.poll()
        for (requests_read, requests_write), (replies_read, replies_write) in pipes:
            requests_read.close()
            replies_write.close()
            self._inboxes.append(replies_read)
            self._ready.register(replies_read.fileno(), select.POLLIN)
            outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
            sender = threading.Thread(target=_send_all, args=(outbox, requests_write), daemon=True)
            sender.start()
            self._outboxes.append(outbox)
            self._senders.append(sender)

    def idlest(self, limit: int) -> int | None:
        """The worker with the fewest chunks in flight, if it has fewer than ``limit``."""
        worker = min(range(self.size), key=self.in_flight.__getitem__)
        return worker if self.in_flight[worker] < limit else None

    def submit(self, worker: int, chunk_id: int, items: list[RawArticle | Rejection | InputLine]):
        self._owner[chunk_id] = worker
        self.in_flight[worker] += 1
        self._outboxes[worker].put(_dumps((_PREPARE, chunk_id, items)))

    def finish(self, chunk_id: int, answers: list[TemplateLines | None]) -> None:
        self._outboxes[self._owner[chunk_id]].put(_dumps((_FINISH, chunk_id, answers)))

    def poll(self) -> list[tuple[str, int, Any]]:
        """Replies that have arrived, without waiting (one from each worker at most, in the
        workers' order)."""
        # One poll(2) for all the pipes (this runs between every two decisions). A pipe
        # whose worker died is ready too (POLLHUP, reported unasked): reading it raises.
        ready = self._ready.poll(0)
        if not ready:
            return []
        descriptors = {descriptor for descriptor, _ in ready}
        return [self._read(inbox) for inbox in self._inboxes if inbox.fileno() in descriptors]

    async def receive(self) -> list[tuple[str, int, Any]]:
        """At least one reply, waiting for it without blocking the event loop."""
        replies = self.poll()
        while not replies:
            loop = asyncio.get_running_loop()
            ready = loop.create_future()

            def wake(future: asyncio.Future[None] = ready) -> None:
                if not future.done():
                    future.set_result(None)

            descriptors = [inbox.fileno() for inbox in self._inboxes]
            for descriptor in descriptors:
                loop.add_reader(descriptor, wake)
            try:
                await ready
            finally:
                for descriptor in descriptors:
                    loop.remove_reader(descriptor)
            replies = self.poll()
        return replies

    def _read(self, inbox: Connection) -> tuple[str, int, Any]:
        worker = self._inboxes.index(inbox)
        try:
            blob = inbox.recv_bytes()
        except (EOFError, OSError):
            code = self._processes[worker].exitcode
            raise WorkerFailed(f"prep worker {worker} died (exit code {code})") from None
        kind, chunk_id, payload = _loads(blob)
        if kind == _FAILED:
            raise WorkerFailed(f"prep worker {worker} failed:\n{payload}")
        if kind == _FINISHED:
            self.in_flight[worker] -= 1
            del self._owner[chunk_id]
            payload = _loads(payload)  # pickled by the worker itself
        return kind, chunk_id, payload

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers: politely (they finish what they hold), then by force."""
        for outbox in self._outboxes:
            outbox.put(None)
        deadline = time.monotonic() + timeout
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                process.kill()
                process.join()
        for inbox in self._inboxes:
            inbox.close()

    def terminate(self) -> None:
        """Stop the workers now (the owner gave up: an error, or its consumer stopped)."""
        for process in self._processes:
            if process.is_alive():
                process.kill()
        for process in self._processes:
            process.join()
        for inbox in self._inboxes:
            inbox.close()
        for outbox in self._outboxes:
            outbox.put(None)


def _dumps(message: object) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(blob: bytes) -> Any:
    # Unpickling a chunk allocates ~100k objects and no cycles; with the collector on, the
    # allocations trigger collections that walk the whole story state, which tripled the
    # cost of receiving a chunk (measured: 0.25 ms vs 0.07 ms per article).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(blob)
    finally:
        if enabled:
            gc.enable()


def _send_all(outbox: queue.SimpleQueue[bytes | None], connection: Connection) -> None:
    """Sender thread: write what is queued, in order, until ``None``."""
    try:
        while (blob := outbox.get()) is not None:
            connection.send_bytes(blob)
    except OSError:  # the other side is gone; its owner finds out on reading
        pass
    finally:
        connection.close()


# ----------------------------------------------------------------------------- worker side


def _serve(
    index: int,
    requests: Connection,
    replies: Connection,
    others: list[Connection],
    settings: Settings,
) -> None:
    """A prep worker's main loop (in the forked process)."""
    # What the owner had allocated (its stores, when it has decided before) is never freed
    # here: out of the collector's sight, it is neither walked nor copied by a collection.
    gc.freeze()
    for end in others:
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the owner's to handle
    worker = Worker(settings)
    waiting: deque[tuple[str, int, Any]] = deque()
    chunk_id = -1
    try:
        while True:
            # Everything that has arrived, finishing work first: the owner waits for it.
            while not waiting or requests.poll():
                message = _loads(requests.recv_bytes())
                waiting.append(message)
            finishes = [m for m in waiting if m[0] == _FINISH]
            message = min(finishes, key=lambda m: m[1]) if finishes else waiting[0]
            waiting.remove(message)
            kind, chunk_id, payload = message
            if kind == _PREPARE:
                reply: tuple[str, int, Any] = (
                    _PREPARED,
                    chunk_id,
                    worker.prepare(chunk_id, payload),
                )
            else:
                reply = (_FINISHED, chunk_id, worker.finish(chunk_id, payload))
            replies.send_bytes(_dumps(reply))
    except EOFError:  # the owner closed the pipe: done
        pass
    except BaseException:
        with contextlib.suppress(OSError):  # the owner is gone: nobody to tell
            replies.send_bytes(_dumps((_FAILED, chunk_id, traceback.format_exc())))
    finally:
        replies.close()


class Worker:
    """The per-article work, with the prepared chunks waiting for their template answers:
    ``prepare`` a chunk, then ``finish`` (pickled) or ``finished`` it with the answers. The
    owner runs one itself too, for the small chunks it prepares while it would wait."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.params = FingerprintParams.from_settings(settings.fingerprint)
        # chunk id -> (seconds spent so far, inputs: an input rejection or the index into
        # the prepared list, the prepared articles)
        self.contents: dict[str, None] = {}
        """Content hashes this worker has seen (at most ``CONTENTS_KEPT``)."""
        self.pending: dict[
            int, tuple[float, list[Rejection | int], list[PreparedArticle | Rejection]]
        ] = {}

    def _repeats(self, content_hash: str) -> bool:
        """Whether this worker has seen ``content_hash`` before (and remember it)."""
        if content_hash in self.contents:
            return True
        if len(self.contents) >= CONTENTS_KEPT:
            self.contents.clear()  # bounded: a forgotten one is only analysed again
        self.contents[content_hash] = None
        return False

    def prepare(
        self, chunk_id: int, items: list[RawArticle | Rejection | InputLine]
    ) -> list[Observation]:
        started = time.perf_counter()
        inputs: list[Rejection | int] = []
        raws: list[RawArticle] = []
        for item in items:
            if isinstance(item, InputLine):
                item = to_input(item)
            if isinstance(item, Rejection):
                inputs.append(item)
            else:
                inputs.append(len(raws))
                raws.append(item)
        prepared = prepare_batch(raws, self.settings)
        self.pending[chunk_id] = (time.perf_counter() - started, inputs, prepared)
        return template_observations(prepared)

    def finish(self, chunk_id: int, answers: list[TemplateLines | None]) -> bytes:
        return _dumps(self.finished(chunk_id, answers))

    def finished(self, chunk_id: int, answers: list[TemplateLines | None]) -> list[Prepared]:
        spent, inputs, prepared = self.pending.pop(chunk_id)
        cleaned = finish_batch(prepared, answers, self.settings, time.perf_counter() - spent)
        results: list[Prepared] = [
            (item, None) if isinstance(item, Rejection) else (cleaned[item], None)
            for item in inputs
        ]
        # Each step done for the whole chunk before the next (tokens, word facts,
        # fingerprints, analyses, novelty's reading, features): a step's tables stay in the
        # cache from one article to the next.
        going = [
            (index, article)
            for index, (article, _) in enumerate(results)
            if not isinstance(article, Rejection) and goes_on(article)
        ]
        # Tokenised once for both: the body's tokens are the sentences' in a row; the words'
        # facts looked up once for both (the fingerprint's word hashes too).
        token_lists = [
            [tokens(article.match_title), *map(tokens, article.match_sentences)]
            for _, article in going
        ]
        words = [list(itertools.chain.from_iterable(lists)) for lists in token_lists]
        columns = [fact_columns(word_facts(article_words)) for article_words in words]
        # (where in ``results``, fingerprint, tokens, fact columns) of the articles to analyse
        analysed: list[tuple[int, Fingerprint, list[list[str]], FactColumns]] = []
        for (index, article), lists, article_words, article_columns in zip(
            going, token_lists, words, columns, strict=True
        ):
            title_words = len(lists[0])
            fingerprint = article_fingerprint(
                article,
                self.params,
                article_words[title_words:],
                article_columns[WORD_HASH_COLUMN][title_words:],
            )
            # Left out of what is sent back (which halves it), now used.
            for name, empty in _UNREAD.items():
                setattr(article, name, empty)
            if self._repeats(article.content_hash):
                # Most likely an exact copy, which needs no features: left to the story
                # stage (with the texts it needs), which computes them only if not.
                results[index] = (article, (fingerprint, None, None))
            else:
                analysed.append((index, fingerprint, lists, article_columns))
        texts = [analyse_words(lists, article_columns) for _, _, lists, article_columns in analysed]
        for (index, _, lists, _), (text, terms) in zip(analysed, texts, strict=True):
            read_article(cast(CleanArticle, results[index][0]), text, lists, terms)
        # The grams of the chunk's new terms learnt together (one lookup in the gram table,
        # not one per article), then each article's features.
        learn_sketch_grams([text for text, _ in texts])
        features = [features_of(text) for text, _ in texts]
        for (index, fingerprint, _, _), article_features in zip(analysed, features, strict=True):
            article = cast(CleanArticle, results[index][0])
            results[index] = (
                article,
                (fingerprint, article_features, lookup_keys(article_features)),
            )
            for name, empty in _ANALYSED.items():
                setattr(article, name, empty)
        return results
