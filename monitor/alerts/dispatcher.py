"""The dispatcher: routes alerts to subscribers, throttles them and delivers them reliably.

Flow of one alert (``handle_alert``): publish it on the live stream, find the matching
subscribers, pass each through the ``Throttle`` (per-story cool-down, digests), and *enqueue*
the resulting notifications in the ``DeliveryStore``. When ``handle_alert`` returns, the
deliveries are durable (with the Redis store), so a Kafka consumer may commit the alert's offset.

Delivery (``run`` / ``deliver_due``): claim due deliveries with a lease, send each through its
subscriber's channel, then mark it done; on failure reschedule it with exponential backoff and
jitter; after ``max_attempts`` attempts (or a permanent error such as HTTP 404) hand it to the
dead-letter sink with the reason. See ``monitor.stores.deliveries`` for what survives a crash.

Decisions (``handle_decision``) feed the ``SpikeDetector``; a spike becomes a ``breaking`` alert
that goes through ``handle_alert`` like any other.

Known limits: the throttle (cool-down clocks, held alerts, digest buffers) lives in memory. A
graceful ``close`` enqueues what it holds (sent early rather than lost); a crash loses it, and
after any restart a story's next alert goes out at once (one extra message at most). The spike detector must see every decision of a story, so
run one ``monitor dispatch`` per Kafka group (or route decisions by story).

Embedded use::

    dispatcher = Dispatcher.from_settings(settings)   # or Dispatcher(SubscriptionsFile(path), store)
    task = asyncio.create_task(dispatcher.run())
    await dispatcher.handle_alert(alert)
    ...
    await dispatcher.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from redis.exceptions import RedisError

from monitor.alerts.channels import Channel, DeliveryError, make_channel
from monitor.alerts.records import DeadLetter, Notification
from monitor.alerts.spike import SpikeDetector
from monitor.alerts.sse import AlertBroadcaster
from monitor.alerts.subscriptions import Subscriber, Subscriptions, SubscriptionsFile
from monitor.core.records import Alert, Decision
from monitor.metrics import ALERTS, DELIVERIES, DELIVERY_LATENCY, REDIS_ERRORS
from monitor.netguard import AddressGuard, guarded_client
from monitor.settings import AlertSettings, Settings
from monitor.stores.deliveries import Claim, DeliveryStore, MemoryDeliveryStore, NewDelivery

__all__ = ["DeadLetterSink", "Dispatcher", "Throttle", "backoff_delay"]

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]
_MAX_HELD = 100


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with "equal jitter": half the delay fixed, half random.

    >>> backoff_delay(1, 2.0, 600.0, lambda: 0.0), backoff_delay(3, 2.0, 600.0, lambda: 1.0)
    (1.0, 8.0)
    """
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay / 2 + rng() * delay / 2


@dataclass(slots=True)
class _StoryClock:
    last_sent: float
    held: list[Alert] = field(default_factory=list)


@dataclass(slots=True)
class _Digest:
    started: float
    alerts: list[Alert] = field(default_factory=list)


class Throttle:
    """Per-subscriber cool-down per story, and digests. Pure logic; time is passed in.

    With a cool-down, the first alert of a story goes out at once; later ones within the
    cool-down are held (``admit`` returns nothing) and go out together when it ends, folded
    into the next alert of the story or flushed by ``due``.

    >>> sub = Subscriber.model_validate({"id": "s", "cooldown_seconds": 600,
    ...     "channel": {"type": "webhook", "url": "http://127.0.0.1:9/"}})
    >>> alerts = [Alert(id=f"a{i}", kind="development", story="st", story_title="t",
    ...                 article=str(i), outlet="o") for i in range(10)]
    >>> throttle = Throttle()
    >>> sent = [n for i, a in enumerate(alerts) for n in throttle.admit(sub, a, now=6.0 * i)]
    >>> [len(n.alerts) for n in sent], [len(n.alerts) for n in throttle.due([sub], now=600.0)]
    ([1], [9])
    """

    def __init__(self) -> None:
        self._stories: dict[tuple[str, str], _StoryClock] = {}
        self._digests: dict[str, _Digest] = {}

    def admit(self, subscriber: Subscriber, alert: Alert, now: float) -> list[Notification]:
        """Notifications to send now for ``alert`` (empty: held back and counted)."""
        if subscriber.digest_seconds:
            digest = self._digests.setdefault(subscriber.id, _Digest(started=now))
            digest.alerts = [*digest.alerts, alert][-_MAX_HELD:]
            return []
        if not subscriber.cooldown_seconds:
            return [Notification.build(subscriber.id, [alert])]
        key = (subscriber.id, alert.story)
        clock = self._stories.get(key)
        if clock is None or now - clock.last_sent >= subscriber.cooldown_seconds:
            held = clock.held if clock else []
            self._stories[key] = _StoryClock(last_sent=now)
            return [Notification.build(subscriber.id, [*held, alert], suppressed=len(held))]
        clock.held = [*clock.held, alert][-_MAX_HELD:]
        return []

    def due(self, subscribers: list[Subscriber], now: float) -> list[Notification]:
        """Held alerts whose cool-down ended and digests whose interval ended."""
        by_id = {s.id: s for s in subscribers}
        out: list[Notification] = []
        for key, clock in list(self._stories.items()):
            subscriber = by_id.get(key[0])
            cooldown = subscriber.cooldown_seconds if subscriber else 0.0
            if now - clock.last_sent < cooldown:
                continue
            if clock.held:
                out.append(Notification.build(key[0], clock.held, suppressed=len(clock.held)))
                self._stories[key] = _StoryClock(last_sent=now)
            else:
                del self._stories[key]  # cool-down over and nothing held: forget the story
        for subscriber_id, digest in list(self._digests.items()):
            subscriber = by_id.get(subscriber_id)
            interval = subscriber.digest_seconds if subscriber else 0.0
            if now - digest.started >= (interval or 0.0):
                del self._digests[subscriber_id]
                if digest.alerts:
                    out.append(Notification.build(subscriber_id, digest.alerts, digest=True))
        return out

    def flush_all(self) -> list[Notification]:
        """Everything held, now, whatever the time (before a shutdown)."""
        out = [
            Notification.build(key[0], clock.held, suppressed=len(clock.held))
            for key, clock in self._stories.items()
            if clock.held
        ]
        out += [
            Notification.build(subscriber_id, digest.alerts, digest=True)
            for subscriber_id, digest in self._digests.items()
            if digest.alerts
        ]
        self._stories.clear()
        self._digests.clear()
        return out

    def held_count(self) -> int:
        return sum(len(c.held) for c in self._stories.values()) + sum(
            len(d.alerts) for d in self._digests.values()
        )


async def _log_dead_letter(dead: DeadLetter) -> None:
    log.error("dead letter %s for %s: %s", dead.alert.id, dead.subscriber, dead.reason)


class Dispatcher:
    def __init__(
        self,
        subscriptions: SubscriptionsFile | Subscriptions,
        store: DeliveryStore,
        settings: AlertSettings | None = None,
        *,
        dead_letters: DeadLetterSink = _log_dead_letter,
        broadcaster: AlertBroadcaster | None = None,
        spike: SpikeDetector | None = None,
        clock: Callable[[], float] = time.time,
        wall_clock: Callable[[], float] = time.time,
        http_client: httpx.AsyncClient | None = None,
        channel_factory: Callable[[Subscriber], Channel] | None = None,
        concurrency: int = 16,
        poll_seconds: float = 0.5,
        rng: Callable[[], float] = random.random,
        story_base_url: str | None = None,
    ) -> None:
        self.settings = settings or AlertSettings.model_validate({})
        # web.base_url: alerts link to their story page.
        self.story_base_url = story_base_url.rstrip("/") if story_base_url else None
        self._subscriptions = subscriptions
        self.store = store
        self.dead_letters = dead_letters
        self.broadcaster = broadcaster
        self.spike = spike or SpikeDetector(
            sensitivity=self.settings.spike_sensitivity,
            min_outlets=self.settings.spike_min_outlets,
            clock=clock,
        )
        # ``clock`` is the time alerts happen in (cool-downs, digests, spikes; a replay may
        # follow publication times); leases and retries are real time, always.
        self.clock = clock
        self.wall_clock = wall_clock
        self.throttle = Throttle()
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.rng = rng
        # A lease shorter than a request would let a slow delivery be claimed twice.
        self.lease_seconds = max(
            self.settings.lease_seconds, 2 * self.settings.http_timeout_seconds
        )
        self._own_client = http_client is None
        self._client = http_client or guarded_client(
            AddressGuard.from_settings(self.settings.allowed_networks),
            timeout=httpx.Timeout(self.settings.http_timeout_seconds),
            follow_redirects=False,
        )
        self._channel_factory = channel_factory
        self._channels: dict[str, tuple[Subscriber, Channel]] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._closing = False

    @classmethod
    def from_settings(
        cls, settings: Settings, store: DeliveryStore | None = None, **options: Any
    ) -> Dispatcher:
        """A dispatcher on ``settings.alerts.subscriptions_file`` (reloaded when it changes),
        with an in-process store unless one is given (the embedded mode)."""
        return cls(
            SubscriptionsFile(settings.alerts.subscriptions_file),
            store or MemoryDeliveryStore(settings.alerts.delivered_ttl_seconds),
            settings.alerts,
            **options,
        )

    # ------------------------------------------------------------------ input

    def subscriptions(self) -> Subscriptions:
        if isinstance(self._subscriptions, SubscriptionsFile):
            return self._subscriptions.current()
        return self._subscriptions

    async def handle_alert(self, alert: Alert) -> list[str]:
        """Route one alert; returns the idempotency keys enqueued (durable on return)."""
        if self.story_base_url is not None and alert.story_url is None:
            alert.story_url = f"{self.story_base_url}/stories/{quote(alert.story, safe='')}"
        if self.broadcaster is not None:
            self.broadcaster.publish(alert)
        if alert.kind != "breaking":
            self.spike.remember(alert)
        now = self.clock()
        notifications: list[Notification] = []
        for subscriber in self.subscriptions().matching(alert):
            admitted = self.throttle.admit(subscriber, alert, now)
            if not admitted and not subscriber.digest_seconds:
                DELIVERIES.labels(subscriber.channel.type, subscriber.id, "suppressed").inc()
            notifications += admitted
        return await self._enqueue(notifications)

    async def handle_decision(self, decision: Decision) -> Alert | None:
        """Count a decision for the breaking signal; returns the breaking alert if raised."""
        alert = self.spike.observe(decision)
        if alert is not None:
            ALERTS.labels(kind="breaking").inc()
            log.info("breaking: story %s in %s outlets", alert.story, len(alert.sources))
            await self.handle_alert(alert)
        return alert

    async def flush_due(self) -> list[str]:
        """Enqueue held-back alerts whose cool-down ended and finished digests."""
        return await self._enqueue(
            self.throttle.due(self.subscriptions().subscribers, self.clock())
        )

    async def _enqueue(self, notifications: list[Notification]) -> list[str]:
        if not notifications:
            return []
        await self.store.enqueue(
            [NewDelivery(n.key, n.subscriber, n.model_dump_json()) for n in notifications],
            self.wall_clock(),
        )
        self._wake.set()
        return [n.key for n in notifications]

    # ------------------------------------------------------------------ delivery

    def _channel(self, subscriber: Subscriber) -> Channel:
        cached = self._channels.get(subscriber.id)
        if cached is not None and cached[0] == subscriber:
            return cached[1]
        if self._channel_factory is not None:
            channel = self._channel_factory(subscriber)
        else:
            channel = make_channel(
                subscriber.channel, self._client, self.settings.http_timeout_seconds
            )
        self._channels[subscriber.id] = (subscriber, channel)
        return channel

    async def deliver_due(self) -> int:
        """Claim the deliveries due now and start sending them; returns how many started."""
        room = self.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        claims = await self.store.claim_due(self.wall_clock(), self.lease_seconds, room)
        for claim in claims:
            if claim.key in self._inflight:
                # Our own send outlived its lease (a stalled event loop): never run it twice.
                log.warning("delivery %s still in flight after its lease", claim.key)
                continue
            task = asyncio.create_task(self._deliver(claim), name=f"deliver {claim.key}")
            self._inflight[claim.key] = task
            task.add_done_callback(self._done)
        return len(claims)

    def _done(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._inflight.items()):
            if running is task:
                del self._inflight[key]
        self._wake.set()

    async def _deliver(self, claim: Claim) -> None:
        try:
            await self._deliver_claimed(claim)
        except Exception:
            # E.g. the store is unreachable: the claim's lease expires and it is retried.
            log.exception("delivery %s interrupted; retried after its lease", claim.key)

    async def _deliver_claimed(self, claim: Claim) -> None:
        notification = Notification.model_validate_json(claim.payload)
        subscriber = self.subscriptions().get(claim.subscriber)
        if subscriber is None:
            await self._dead_letter(
                claim, notification, "unknown", "subscriber no longer configured"
            )
            return
        kind = subscriber.channel.type
        try:
            await self._channel(subscriber).send(notification)
        except DeliveryError as exc:
            await self._failed(claim, notification, kind, exc)
            return
        except Exception as exc:  # a bug in a channel must not stop the dispatcher
            log.exception("channel %s crashed delivering %s", kind, claim.key)
            await self._failed(claim, notification, kind, DeliveryError(repr(exc)))
            return
        await self.store.complete(claim.key, self.wall_clock())
        DELIVERIES.labels(kind, subscriber.id, "sent").inc()
        DELIVERY_LATENCY.labels(kind).observe(
            max(0.0, time.time() - notification.alert.created.timestamp())
        )

    async def _failed(
        self, claim: Claim, notification: Notification, kind: str, exc: DeliveryError
    ) -> None:
        DELIVERIES.labels(kind, claim.subscriber, "failed").inc()
        log.warning("delivery %s attempt %d failed: %s", claim.key, claim.attempt, exc.reason)
        if exc.permanent or claim.attempt >= self.settings.max_attempts:
            reason = (
                exc.reason if exc.permanent else f"{claim.attempt} attempts; last: {exc.reason}"
            )
            await self._dead_letter(claim, notification, kind, reason)
            return
        delay = backoff_delay(
            claim.attempt, self.settings.retry_base_seconds, self.settings.retry_max_seconds,
            self.rng,
        )  # fmt: skip
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.settings.retry_max_seconds))
        if await self.store.retry(claim.key, claim.owner, self.wall_clock() + delay, exc.reason):
            DELIVERIES.labels(kind, claim.subscriber, "retried").inc()

    async def _dead_letter(
        self, claim: Claim, notification: Notification, kind: str, reason: str
    ) -> None:
        dead = DeadLetter(
            alert=notification.alert,
            subscriber=claim.subscriber,
            channel=kind,
            attempts=claim.attempt,
            reason=reason,
            idempotency_key=claim.key,
            folded=notification.alerts[:-1],
        )
        # Publish first: a crash in between repeats the dead letter rather than losing it.
        await self.dead_letters(dead)
        if await self.store.dead(claim.key, claim.owner, reason, self.wall_clock()):
            DELIVERIES.labels(kind, claim.subscriber, "dead_lettered").inc()

    # ------------------------------------------------------------------ service loop

    async def run(self) -> None:
        """Deliver until ``close``: flush the throttle, claim due deliveries, sleep."""
        while not self._closing:
            self._wake.clear()
            try:
                await self.flush_due()
                await self.deliver_due()
                next_due = await self.store.next_due()
            except (RedisError, OSError) as exc:
                REDIS_ERRORS.labels(operation="deliveries").inc()
                log.error("delivery store unavailable (retrying): %s", exc)
                next_due = None
            except Exception:
                log.exception("delivery loop error (retrying)")
                next_due = None
            timeout = self.poll_seconds
            if next_due is not None:
                timeout = min(timeout, max(0.0, next_due - self.wall_clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.01))

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending or in flight (or the timeout); True if drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._inflight and await self.store.pending_count() == 0:
                return True
            await asyncio.sleep(0.02)
        return False

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop: enqueue held-back alerts, let in-flight deliveries finish for
        ``grace_seconds`` (those cut short stay claimed in the store and are retried, same
        key, after their lease)."""
        self._closing = True
        self._wake.set()
        # Held-back alerts live in memory only: send them early rather than lose them.
        try:
            await self._enqueue(self.throttle.flush_all())
            await self.deliver_due()
        except Exception:
            log.exception("could not hand over the held-back alerts")
        tasks = list(self._inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._own_client:
            await self._client.aclose()
