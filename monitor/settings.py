"""One typed settings object for every service, with documented defaults.

Values come from, in order of precedence: keyword arguments, environment variables
(``MONITOR_`` prefix, ``__`` between levels, e.g. ``MONITOR_KAFKA__BOOTSTRAP=127.0.0.1:9092``),
a YAML file named by ``MONITOR_CONFIG`` (default ``config/monitor.yaml`` when it exists), then the
defaults below.

>>> Settings(redis={"url": "redis://127.0.0.1:6390/0"}).redis.url
'redis://127.0.0.1:6390/0'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = [
    "AlertSettings",
    "CleanSettings",
    "FingerprintSettings",
    "KafkaSettings",
    "MetricsSettings",
    "PollerSettings",
    "RedisSettings",
    "Settings",
    "StorySettings",
    "WebSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("config/monitor.yaml")
DAY = 86_400.0


class KafkaSettings(BaseModel):
    bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    topic_prefix: str = Field("monitor.", description="Prefix of every topic name.")
    partitions: int = Field(4, description="Partitions of the parallel topics (raw, clean).")
    replication: int = Field(1, description="Replication factor of created topics.")


class RedisSettings(BaseModel):
    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL (service mode).")
    key_prefix: str = Field("mon:", description="Namespace of every key the monitor writes.")


class CleanSettings(BaseModel):
    max_html_bytes: int = Field(5_000_000, description="Larger pages are rejected as too_large.")
    min_chars: int = Field(40, description="Articles with less clean body text are rejected.")
    template_min_articles: int = Field(
        20, description="Articles an outlet must have before its template lines are learned."
    )
    template_min_share: float = Field(
        0.3, description="A line in this share of an outlet's articles is template boilerplate."
    )
    template_max_lines: int = Field(
        20_000, description="Distinct lines counted per outlet for templates (memory bound)."
    )
    template_decay_every: int = Field(
        1_000, description="Template counts of an outlet are halved every this many articles."
    )


class FingerprintSettings(BaseModel):
    ttl_seconds: float = Field(7 * DAY, description="How long fingerprints are remembered.")
    threshold: float = Field(
        0.3, description="Estimated containment above which texts are near copies."
    )
    shingle_words: int = Field(
        3, description="Words per shingle of the near-duplicate fingerprint."
    )
    sample_rate: int = Field(
        4, description="About one shingle in this many is sampled into the fingerprint."
    )
    min_samples: int = Field(16, description="Short texts keep at least this many samples.")
    max_stored_samples: int = Field(48, description="Samples stored per article (memory cap).")
    max_query_samples: int = Field(256, description="Samples looked up per article (time cap).")
    min_shared: int = Field(3, description="Shared samples needed before a match is considered.")
    generation_seconds: float = Field(
        DAY, description="Redis index generation length (keys expire a generation at a time)."
    )
    index_bucket_bits: int = Field(
        15, description="Bucket bits of the first Redis index generation (later ones adapt)."
    )


class StorySettings(BaseModel):
    same_story_threshold: float = Field(0.3, description="Similarity needed to join a story.")
    half_life_hours: float = Field(24.0, description="Time decay of story similarity.")
    close_after_days: float = Field(30.0, description="Idle stories close after this long.")
    decay_floor: float = Field(
        0.5, description="Share of its similarity an idle (still open) story keeps at most decay."
    )
    archive_days: float = Field(
        365.0, description="Closed stories stay resumable (archive index) for this long."
    )
    resume_threshold: float = Field(
        0.35, description="Undecayed similarity needed to resume a closed (dormant) story."
    )
    resume_min_entities: int = Field(
        2, description="Core entities a dormant story and the article must share to resume."
    )
    resume_min_title: int = Field(
        2, description="Title terms or names the article must share with a dormant story."
    )
    candidates: int = Field(20, description="Candidate stories scored per article (index hits).")
    reported_containment: float = Field(
        0.6, description="A sentence this contained in an already reported sentence is restated."
    )
    development_min_score: float = Field(
        1.5, description="Weighted new facts (in new relevant sentences) that make a development."
    )
    timeline_entries: int = Field(
        100,
        ge=0,
        description="Timeline entries (decisions) kept per story for the web, the latest "
        "published; 0: no timelines.",
    )


class PollerSettings(BaseModel):
    feeds_file: Path = Field(Path("config/feeds.yaml"), description="Feeds to watch.")
    seen_ttl_seconds: float = Field(30 * DAY, description="How long seen entries are remembered.")
    user_agent: str = Field("arabic-news-monitor/0.1 (+https://github.com/)")
    allow_private_addresses: bool = Field(
        False, description="Allow article links on private/loopback addresses (tests only)."
    )
    connect_timeout_seconds: float = Field(10.0, description="TCP/TLS connect timeout.")
    read_timeout_seconds: float = Field(20.0, description="Longest silence while reading.")
    fetch_deadline_seconds: float = Field(
        60.0, description="Wall-clock limit of one whole fetch (cuts responses that never end)."
    )
    max_response_bytes: int = Field(10_000_000, description="Larger responses are cut: too_large.")
    max_redirects: int = Field(5, description="More redirects than this: redirect_loop.")
    host_min_spacing_seconds: float = Field(
        1.0, description="Minimum time between two requests to the same host."
    )
    max_backoff_seconds: float = Field(3600.0, description="Cap of the error back-off.")
    max_retry_after_seconds: float = Field(
        6 * 3600.0, description="Cap of a server's Retry-After (a feed is never dropped for good)."
    )
    conditional_verify_every: int = Field(
        12,
        description="Every Nth poll of a feed skips ETag/If-Modified-Since to catch lying servers.",
    )
    max_concurrent_fetches: int = Field(32, description="Fetches in flight across all feeds.")


class AlertSettings(BaseModel):
    subscriptions_file: Path = Field(
        Path("config/subscriptions.yaml"), description="Who gets which alerts."
    )
    max_attempts: int = Field(6, description="Deliveries after which an alert is dead-lettered.")
    sse_port: int = Field(8088, description="Port of the Server-Sent Events stream of alerts.")
    sse_host: str = Field("127.0.0.1", description="Address the SSE stream listens on.")
    sse_buffer: int = Field(1000, description="Alerts kept in memory for Last-Event-ID replay.")
    consumer_group: str = Field(
        "monitor-dispatch", description="Kafka group of `monitor dispatch`."
    )
    http_timeout_seconds: float = Field(10.0, description="Timeout of one webhook request.")
    retry_base_seconds: float = Field(2.0, description="First retry delay (doubles per attempt).")
    retry_max_seconds: float = Field(600.0, description="Longest retry delay.")
    lease_seconds: float = Field(
        60.0, description="A claimed delivery not finished within this is retried (crash recovery)."
    )
    delivered_ttl_seconds: float = Field(
        7 * DAY, description="How long finished deliveries are remembered (no resend window)."
    )
    spike_sensitivity: float = Field(
        3.0, description="Breaking when outlets in the last hour >= this times the baseline."
    )
    spike_min_outlets: int = Field(4, description="Fewest distinct outlets in an hour to break.")


class WebSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `monitor web` listens on.")
    port: int = Field(8080, description="Port of `monitor web` (the story browser and API).")
    base_url: str | None = Field(
        None,
        description="Public address of the story browser, e.g. https://news.example/; when "
        "set, alerts carry a link to their story page (`Alert.story_url`).",
    )
    token: str | None = Field(
        None,
        description="Bearer token required by the API and pages (none: open, so keep the "
        "default loopback address).",
    )
    alerts_stream_url: str | None = Field(
        None,
        description="The dispatcher's SSE stream that `/api/alerts/stream` relays (service "
        "mode); default: http://{alerts.sse_host}:{alerts.sse_port}/alerts/stream.",
    )


class MetricsSettings(BaseModel):
    port: int = Field(9464, description="Port of the /metrics endpoint of this process (0: off).")


class Settings(BaseSettings):
    """Everything configurable, grouped by concern."""

    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="ignore"
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    clean: CleanSettings = Field(default_factory=CleanSettings)
    fingerprint: FingerprintSettings = Field(default_factory=FingerprintSettings)
    stories: StorySettings = Field(default_factory=StorySettings)
    poller: PollerSettings = Field(default_factory=PollerSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("MONITOR_CONFIG", DEFAULT_CONFIG_FILE))
        if not path.is_file():
            return {}
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
        return loaded


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
