"""Sending a batch's output records and making sure each one lands, or is replaced.

:func:`deliver` hands every record to the producer, then waits until the broker has each
one, so the offsets acknowledged after a batch are never past an article whose output is not
on Kafka; a record that can never be sent (``UNSENDABLE``) is replaced by its ``instead`` (a
small rejection), any other failure is retried with backoff. Why Faust alone loses articles
here: docs/agents/README.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from faust.types import ProducerT

from monitor.core.records import CleanArticle, Rejection
from monitor.metrics import ARTICLES_REJECTED
from monitor.retry import Schedule

__all__ = [
    "SEND_RETRY",
    "TOO_LARGE",
    "UNSENDABLE",
    "Outgoing",
    "article_record",
    "article_rejection",
    "deliver",
    "rejection_record",
    "unsendable",
]

log = logging.getLogger(__name__)

UNSENDABLE: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
)
"""Errors that say the record itself can never be produced (too large for the producer's
``max_request_size`` or the broker's ``message.max.bytes``): sending it again cannot help."""
SEND_RETRY = Schedule((0.5, 1.0, 2.0, 5.0, 10.0))
"""How long a batch waits before sending again the records the broker did not take."""
TOO_LARGE = "record_too_large"
"""``Rejection.reason`` of an article whose output record could not be produced."""
_CUT = 200
"""Characters of an id or outlet kept in the rejection of a rejection too large to send."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce, and what to send should it never fit."""

    topic: str
    key: bytes
    value: bytes
    instead: Callable[[BaseException], Outgoing | None] | None = None
    """The record that stands for this one when it cannot be sent (given the error), e.g. a
    rejection of the article; None (or returning None): the record is only logged."""


def unsendable(error: BaseException) -> bool:
    """Whether ``error`` (from ``send`` or a delivery future) means the record can never be
    produced. Faust wraps the errors ``send`` raises in ``ProducerSendError``.

    >>> from faust.exceptions import ProducerSendError
    >>> wrapped = ProducerSendError("too big")
    >>> wrapped.__cause__ = MessageSizeTooLargeError("1200000 bytes")
    >>> unsendable(wrapped), unsendable(TimeoutError())
    (True, False)
    """
    return isinstance(error, UNSENDABLE) or isinstance(error.__cause__, UNSENDABLE)


async def deliver(
    producer: ProducerT,
    records: Sequence[Outgoing],
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Produce ``records`` (in order) and return once the broker has acknowledged each of
    them or its replacement (see the module docstring).

    The broker refuses a whole record batch when it is over its limit, so a record refused
    as too large by the broker is sent again on its own before it counts as unsendable; the
    producer's own size check is per record and final.
    """
    pending = [_Try(record) for record in records]
    attempt = 0
    while pending:
        again: list[_Try] = []
        in_flight: list[tuple[_Try, Awaitable[Any]]] = []
        for item in pending:
            if item.alone:
                continue
            try:
                in_flight.append((item, await _send(producer, item.record)))
            except Exception as error:  # what send raises: too large, buffer full, no metadata
                _failed(item, error, again, final=True)
        outcomes = await asyncio.gather(*(sent for _, sent in in_flight), return_exceptions=True)
        for (item, _), outcome in zip(in_flight, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                _failed(item, outcome, again, final=False)
        for item in pending:
            if item.alone:  # awaited one by one: a record batch of its own
                try:
                    await (await _send(producer, item.record))
                except Exception as error:
                    _failed(item, error, again, final=True)
        pending = again
        if any(item.retry for item in pending):
            attempt += 1
            delay = SEND_RETRY.delay(attempt)
            log.warning("%d record(s) not produced yet; retrying in %ss", len(pending), delay)
            await sleep(delay)


@dataclass(frozen=True, slots=True)
class _Try:
    record: Outgoing
    alone: bool = False
    """Send it in a record batch of its own (the broker refused a batch holding it)."""
    retry: bool = False
    """It failed for a passing reason: wait before sending it again."""


async def _send(producer: ProducerT, record: Outgoing) -> Awaitable[Any]:
    return await producer.send(record.topic, record.key, record.value, None, None, None)


def _failed(item: _Try, error: BaseException, again: list[_Try], *, final: bool) -> None:
    """Queue what to send next for a failed record: itself, or its replacement. ``final``:
    a size error is the record's own (not that of a batch it shared)."""
    record = item.record
    if not unsendable(error):
        log.warning("producing to %s failed (%r): will retry", record.topic, error)
        again.append(_Try(record, alone=item.alone, retry=True))
        return
    if not final and not item.alone:
        again.append(_Try(record, alone=True))
        return
    replacement = record.instead(error) if record.instead is not None else None
    log.error(
        "record %r of %d bytes cannot be produced to %s (%s); %s",
        record.key[:200],
        len(record.value),
        record.topic,
        error.__cause__ or error,
        f"sending a record of {len(replacement.value)} bytes to {replacement.topic} instead"
        if replacement is not None
        else "nothing stands for it",
    )
    if replacement is not None:
        again.append(_Try(replacement))


def _rejection_json(rejection: Rejection) -> bytes:
    return rejection.model_dump_json().encode("utf-8")


def rejection_record(
    topic: str, rejection: Rejection, encode: Callable[[Rejection], bytes] = _rejection_json
) -> Outgoing:
    """``rejection`` as a record of ``topic``, keyed by article id, its value ``encode``d (by
    default the rejection's JSON, for ``rejected``). Should even it not fit (an id or outlet
    of megabytes), a copy with those cut short stands for it."""

    def cut(error: BaseException) -> Outgoing:
        short = Rejection(
            id=rejection.id[:_CUT],
            outlet=rejection.outlet[:_CUT],
            stage=rejection.stage,
            reason=rejection.reason,
            detail=f"{rejection.detail[:_CUT]} (record cut: {error})"[:500],
        )
        return Outgoing(topic, short.id.encode("utf-8"), encode(short))

    return Outgoing(topic, rejection.id.encode("utf-8"), encode(rejection), instead=cut)


def article_rejection(article: CleanArticle, stage: str) -> Rejection:
    """The rejection of ``article`` at ``stage``, its reason still to be given."""
    return Rejection(
        id=article.id,
        outlet=article.outlet,
        stage=stage,
        reason="",
        url=article.url,
        published=article.published,
        trace=dict(article.trace),
    )


def article_record(
    topic: str,
    key: bytes,
    value: bytes,
    *,
    rejected_topic: str,
    rejection_of: Callable[[], Rejection],
) -> Outgoing:
    """An article's output record; should it not fit, the article's ``rejection_of()`` (its
    ``reason`` and ``detail`` set here: ``TOO_LARGE``, the record's size and the error) goes
    to ``rejected_topic`` instead, counted in ``ARTICLES_REJECTED{stage, reason}``."""

    def rejected(error: BaseException) -> Outgoing:
        rejection = rejection_of()
        rejection.reason = TOO_LARGE
        rejection.detail = f"{topic} record of {len(value)} bytes: {error.__cause__ or error}"[:500]
        ARTICLES_REJECTED.labels(stage=rejection.stage, reason=TOO_LARGE).inc()
        return rejection_record(rejected_topic, rejection)

    return Outgoing(topic, key, value, instead=rejected)
