"""The dispatcher: routes alerts to subscribers, throttles them and delivers them reliably.

Flow of one alert (``handle_alert``): publish it on the live stream, find the matching
subscribers, pass each through the ``Throttle`` (per-story cool-down, digests), and *enqueue*
the resulting notifications in the ``DeliveryStore``. When ``handle_alert`` returns, the
deliveries and the alerts held back are durable (with the Redis store), so a Kafka consumer
may commit the alert's offset.

Delivery (``run`` / ``deliver_due``): claim due deliveries with a lease, send each through its
subscriber's channel, then mark it done; on failure reschedule it with exponential backoff and
jitter; after ``max_attempts`` attempts (or a permanent error such as HTTP 404) hand it to the
dead-letter sink with the reason. See ``monitor.stores.deliveries`` for what survives a crash.

Decisions (``handle_decision``) feed the ``SpikeDetector``; a spike becomes a ``breaking`` alert
that goes through ``handle_alert`` like any other.

Throttle state (cool-down clocks, held alerts, digests) lives in the delivery store, changed
together with the deliveries it releases (``DeliveryStore.update_held``): with the Redis store
a restarted dispatcher sends what its predecessor held, when it is due, once; an alert read
again after a crash is not held twice. The in-memory store of the embedded mode is lost with
the process, so ``close`` sends what it holds early instead.

Known limits: the spike detector's memory is the process's, and it must see every decision of
a story, so run one ``monitor dispatch`` per Kafka group (or route decisions by story).

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
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
from redis.exceptions import RedisError

from monitor.alerts.channels import Channel, ChannelContext, DeliveryError, make_channel
from monitor.alerts.records import DeadLetter, Notification
from monitor.alerts.spike import SpikeDetector
from monitor.alerts.sse import AlertBroadcaster
from monitor.alerts.subscriptions import Subscriber, Subscriptions, SubscriptionsFile
from monitor.core.records import Alert, Decision
from monitor.metrics import ALERTS, DELIVERIES, DELIVERY_LATENCY, REDIS_ERRORS
from monitor.netguard import AddressGuard, guarded_client
from monitor.retry import Backoff
from monitor.settings import AlertSettings, Settings
from monitor.stores.deliveries import (
    Claim,
    DeliveryStore,
    Held,
    HeldChange,
    MemoryDeliveryStore,
    NewDelivery,
)

__all__ = ["DeadLetterSink", "Dispatcher", "Throttle"]

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]
_MAX_HELD = 100
"""Alerts one cool-down or digest holds at most (the oldest are dropped)."""
_RELEASE_BATCH = 100
"""Due cool-downs and digests looked at per delivery loop iteration."""


class Throttle:
    """Per-subscriber cool-down per story, and digests: pure logic on the ``Held`` state of
    one entry (kept in the delivery store, so a restarted dispatcher finds it); time is
    passed in.

    With a cool-down, the first alert of a story goes out at once; later ones within the
    cool-down are held (``admit`` returns nothing) and go out together when it ends, folded
    into the next alert of the story or by ``release``. A digest holds every alert of its
    subscriber until its interval ends.

    >>> sub = Subscriber.model_validate({"id": "s", "cooldown_seconds": 600,
    ...     "channel": {"type": "webhook", "url": "http://127.0.0.1:9/"}})
    >>> alerts = [Alert(id=f"a{i}", kind="development", story="st", story_title="t",
    ...                 article=str(i), outlet="o") for i in range(10)]
    >>> held, sent = None, []
    >>> for i, alert in enumerate(alerts):
    ...     held, out = Throttle.admit(sub, alert, held, now=6.0 * i)
    ...     sent += out
    >>> entry = Throttle.entry(sub, alerts[0])
    >>> held, later = Throttle.release(entry, sub, held, now=600.0)
    >>> entry, [len(n.alerts) for n in sent], [len(n.alerts) for n in later]
    ('cooldown:s:st', [1], [9])
    """

    @staticmethod
    def entry(subscriber: Subscriber, alert: Alert) -> str | None:
        """The held-state entry ``alert`` goes through for ``subscriber`` (None: sent at once).
        Subscriber ids have no colon, so the subscriber is the second field."""
        if subscriber.digest_seconds:
            return f"digest:{subscriber.id}"
        if subscriber.cooldown_seconds:
            return f"cooldown:{subscriber.id}:{alert.story}"
        return None

    @staticmethod
    def subscriber_of(entry: str) -> str:
        return entry.split(":", 2)[1]

    @staticmethod
    def admit(
        subscriber: Subscriber, alert: Alert, held: Held | None, now: float
    ) -> tuple[Held | None, list[Notification]]:
        """The entry's new state and the notifications to send now (empty: held back)."""
        if subscriber.digest_seconds:
            started = held or Held(since=now, due=now + subscriber.digest_seconds)
            return _holding(started, alert), []
        if held is None or now - held.since >= subscriber.cooldown_seconds:
            waiting = _held_alerts(held)
            notification = Notification.build(
                subscriber.id, [*waiting, alert], suppressed=len(waiting)
            )
            return Held(since=now, due=now + subscriber.cooldown_seconds), [notification]
        return _holding(held, alert), []

    @staticmethod
    def release(
        entry: str, subscriber: Subscriber | None, held: Held | None, now: float
    ) -> tuple[Held | None, list[Notification]]:
        """An entry that came due: a cool-down sends what it held (and starts again) or is
        forgotten if it held nothing; a digest sends what it held and ends. With the
        subscriber's interval lengthened since, it waits longer; with the subscriber gone
        (or no longer throttled that way), it ends now."""
        if held is None:
            return None, []
        subscriber_id = Throttle.subscriber_of(entry)
        alerts = _held_alerts(held)
        if entry.startswith("digest:"):
            interval = (subscriber.digest_seconds if subscriber else None) or 0.0
            if now - held.since < interval:
                return replace(held, due=held.since + interval), []
            return None, [Notification.build(subscriber_id, alerts, digest=True)] if alerts else []
        cooldown = subscriber.cooldown_seconds if subscriber else 0.0
        if now - held.since < cooldown:
            return replace(held, due=held.since + cooldown), []
        if not alerts:
            return None, []
        notification = Notification.build(subscriber_id, alerts, suppressed=len(alerts))
        return Held(since=now, due=now + cooldown), [notification]

    @staticmethod
    def flush(entry: str, held: Held | None) -> tuple[None, list[Notification]]:
        """Everything the entry holds, now, whatever the time (before losing it)."""
        alerts = _held_alerts(held)
        if not alerts:
            return None, []
        subscriber_id = Throttle.subscriber_of(entry)
        if entry.startswith("digest:"):
            return None, [Notification.build(subscriber_id, alerts, digest=True)]
        return None, [Notification.build(subscriber_id, alerts, suppressed=len(alerts))]


def _held_alerts(held: Held | None) -> list[Alert]:
    return [Alert.model_validate_json(alert) for alert in held.alerts] if held else []


def _holding(held: Held, alert: Alert) -> Held:
    return replace(held, alerts=(*held.alerts, alert.model_dump_json())[-_MAX_HELD:])


def _deliveries(notifications: list[Notification]) -> list[NewDelivery]:
    return [NewDelivery(n.key, n.subscriber, n.model_dump_json()) for n in notifications]


def _flushing(entry: str) -> HeldChange:
    def change(held: Held | None) -> tuple[Held | None, list[NewDelivery]]:
        after, notifications = Throttle.flush(entry, held)
        return after, _deliveries(notifications)

    return change


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
        self._channel_context = ChannelContext(self._client, self.settings.http_timeout_seconds)
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
        at_once: list[Notification] = []
        keys: list[str] = []
        for subscriber in self.subscriptions().matching(alert):
            entry = Throttle.entry(subscriber, alert)
            if entry is None:
                at_once.append(Notification.build(subscriber.id, [alert]))
            else:
                keys += await self._admit(entry, subscriber, alert, now)
        return keys + await self._enqueue(at_once)

    async def _admit(
        self, entry: str, subscriber: Subscriber, alert: Alert, now: float
    ) -> list[str]:
        """Pass ``alert`` through ``subscriber``'s cool-down or digest (state in the store)."""

        def change(held: Held | None) -> tuple[Held | None, list[NewDelivery]]:
            after, notifications = Throttle.admit(subscriber, alert, held, now)
            return after, _deliveries(notifications)

        # ``once``: an alert read again after a crash is not held (or sent) a second time.
        keys = await self._update_held(entry, change, once=f"{alert.id}:{subscriber.id}")
        if keys is None:
            log.info("alert %s already passed to %s's throttle", alert.id, subscriber.id)
            return []
        if not keys and not subscriber.digest_seconds:
            DELIVERIES.labels(subscriber.channel.type, subscriber.id, "suppressed").inc()
        return keys

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
        now = self.clock()
        subscriptions = self.subscriptions()
        keys: list[str] = []
        for entry in await self.store.held_due(now, _RELEASE_BATCH):
            subscriber = subscriptions.get(Throttle.subscriber_of(entry))

            def change(
                held: Held | None, entry: str = entry, subscriber: Subscriber | None = subscriber
            ) -> tuple[Held | None, list[NewDelivery]]:
                after, notifications = Throttle.release(entry, subscriber, held, now)
                return after, _deliveries(notifications)

            keys += await self._update_held(entry, change) or []
        return keys

    async def _update_held(
        self, entry: str, change: HeldChange, *, once: str | None = None
    ) -> list[str] | None:
        keys = await self.store.update_held(entry, change, self.wall_clock(), once=once)
        if keys:
            self._wake.set()
        return keys

    async def _enqueue(self, notifications: list[Notification]) -> list[str]:
        if not notifications:
            return []
        await self.store.enqueue(_deliveries(notifications), self.wall_clock())
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
            channel = make_channel(subscriber.channel, self._channel_context)
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
        backoff = Backoff(
            first=self.settings.retry_base_seconds,
            cap=self.settings.retry_max_seconds,
            jitter=True,  # deliveries to one receiver that failed together spread out
        )
        delay = backoff.delay(claim.attempt, self.rng)
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
        try:
            if not self.store.durable:
                # Held-back alerts live in this process only: send them early rather than
                # lose them (a durable store keeps them for the next dispatcher).
                for entry in await self.store.held_entries():
                    await self._update_held(entry, _flushing(entry))
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
