"""Every Prometheus metric the monitor exports, in one place.

Names follow Prometheus conventions (base units, ``_total`` for counters). Each process serves
them on one endpoint (``start_metrics_server``). The core never imports this module: the
adapters (pollers, agents, dispatcher, embedded pipeline) record what the core returns.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

__all__ = [
    "ALERTS",
    "ARTICLES_CLEANED",
    "ARTICLES_REJECTED",
    "BOILERPLATE_LINES_REMOVED",
    "CONSUMER_LAG",
    "DECISIONS",
    "DELIVERIES",
    "DELIVERY_LATENCY",
    "DUPLICATES",
    "END_TO_END_LATENCY",
    "FEED_ENTRIES",
    "FEED_ERRORS",
    "FEED_FETCHES",
    "FEED_FETCH_SECONDS",
    "FEED_LAST_SUCCESS",
    "NON_ARABIC_ARTICLES",
    "REDIS_ERRORS",
    "STAGE_SECONDS",
    "STORIES_ACTIVE",
    "STORIES_CREATED",
    "SUBSCRIPTION_RELOADS",
    "start_metrics_server",
]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

# Feeds (pollers)
FEED_FETCHES = Counter(
    "monitor_feed_fetches_total", "Feed fetches, by feed and HTTP outcome.", ["feed", "outcome"]
)
FEED_ERRORS = Counter(
    "monitor_feed_errors_total",
    "Feed errors, by feed and kind (timeout, http_5xx, http_429, dns, too_large, parse, ...).",
    ["feed", "kind"],
)
FEED_FETCH_SECONDS = Histogram(
    "monitor_feed_fetch_seconds", "Time to fetch one feed.", ["feed"], buckets=_LATENCY_BUCKETS
)
FEED_ENTRIES = Counter(
    "monitor_feed_entries_total", "Feed entries, by feed and state (new, seen).", ["feed", "state"]
)
FEED_LAST_SUCCESS = Gauge(
    "monitor_feed_last_success_timestamp_seconds", "Unix time of the last good fetch.", ["feed"]
)

# Clean stage
ARTICLES_CLEANED = Counter(
    "monitor_articles_cleaned_total",
    "Articles cleaned, by outlet and language.",
    ["outlet", "language"],
)
ARTICLES_REJECTED = Counter(
    "monitor_articles_rejected_total",
    "Articles rejected, by stage and reason.",
    ["stage", "reason"],
)
NON_ARABIC_ARTICLES = Counter(
    "monitor_non_arabic_articles_total", "Articles routed to the non-Arabic topic.", ["language"]
)
BOILERPLATE_LINES_REMOVED = Counter(
    "monitor_boilerplate_lines_removed_total", "Boilerplate lines removed, by reason.", ["reason"]
)

# Fingerprints
DUPLICATES = Counter(
    "monitor_fingerprint_results_total",
    "Fingerprint classification, by kind (new, exact, reprint, revision) and outlet.",
    ["kind", "outlet"],
)

# Stories and decisions
DECISIONS = Counter(
    "monitor_decisions_total",
    "Articles by decision (new_story, development, no_news, duplicate, rejected) and outlet.",
    ["decision", "outlet"],
)
STORIES_CREATED = Counter("monitor_stories_created_total", "Stories created.")
STORIES_ACTIVE = Gauge("monitor_stories_active", "Stories not yet closed.")

# Alerts and delivery
ALERTS = Counter("monitor_alerts_total", "Alerts raised, by kind.", ["kind"])
DELIVERIES = Counter(
    "monitor_deliveries_total",
    "Delivery attempts, by channel, subscriber and outcome (sent, failed, retried, dead_lettered, suppressed, dead_letter_truncated: a dead letter cut to fit a Kafka record).",
    ["channel", "subscriber", "outcome"],
)
SUBSCRIPTION_RELOADS = Counter(
    "monitor_subscription_reloads_total",
    "Subscription file reloads, by outcome (loaded, invalid: the previous version stays).",
    ["outcome"],
)
DELIVERY_LATENCY = Histogram(
    "monitor_delivery_latency_seconds",
    "Alert created -> delivered, by channel.",
    ["channel"],
    buckets=_E2E_BUCKETS,
)

# Pipeline health
STAGE_SECONDS = Histogram(
    "monitor_stage_seconds",
    "Processing time per article per stage.",
    ["stage"],
    buckets=_LATENCY_BUCKETS,
)
END_TO_END_LATENCY = Histogram(
    "monitor_end_to_end_latency_seconds",
    "Latency to the alert, by start point (published, polled, produced).",
    ["start"],
    buckets=_E2E_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "monitor_kafka_consumer_lag_messages", "Kafka consumer lag, by topic.", ["topic"]
)
REDIS_ERRORS = Counter("monitor_redis_errors_total", "Redis errors, by operation.", ["operation"])


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> None:
    """Serve /metrics for this process (port 0 disables it)."""
    if port:
        start_http_server(port, addr=addr)
