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
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("config/monitor.yaml")
DAY = 86_400.0


class KafkaSettings(BaseModel):
    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated.")
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


class FingerprintSettings(BaseModel):
    ttl_seconds: float = Field(7 * DAY, description="How long fingerprints are remembered.")
    threshold: float = Field(0.5, description="Estimated overlap above which texts are near copies.")


class StorySettings(BaseModel):
    same_story_threshold: float = Field(0.3, description="Similarity needed to join a story.")
    half_life_hours: float = Field(24.0, description="Time decay of story similarity.")
    close_after_days: float = Field(30.0, description="Idle stories close after this long.")


class PollerSettings(BaseModel):
    feeds_file: Path = Field(Path("config/feeds.yaml"), description="Feeds to watch.")
    seen_ttl_seconds: float = Field(30 * DAY, description="How long seen entries are remembered.")
    user_agent: str = Field("arabic-news-monitor/0.1 (+https://github.com/)")
    allow_private_addresses: bool = Field(
        False, description="Allow article links on private/loopback addresses (tests only)."
    )


class AlertSettings(BaseModel):
    subscriptions_file: Path = Field(
        Path("config/subscriptions.yaml"), description="Who gets which alerts."
    )
    max_attempts: int = Field(6, description="Deliveries after which an alert is dead-lettered.")
    sse_port: int = Field(8088, description="Port of the Server-Sent Events stream of alerts.")


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
