"""One typed settings object for every service, with documented defaults.

Values come from, in order of precedence: keyword arguments, environment variables
(``MONITOR_`` prefix, ``__`` between levels, e.g. ``MONITOR_KAFKA__BOOTSTRAP=127.0.0.1:9092``),
a YAML file named by ``MONITOR_CONFIG`` (default ``config/monitor.yaml`` when it exists), then
the defaults below. Every value is checked where it enters: an unknown (misspelt) key, a
wrong type, a negative size or a share outside 0..1 is a ``ConfigError`` whose lines each
name the source (file or environment variable), the key and the problem (``monitor`` exits
with status 2).

>>> Settings(redis={"url": "redis://127.0.0.1:6390/0"}).redis.url
'redis://127.0.0.1:6390/0'
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor import redaction

__all__ = [
    "AlertSettings",
    "CleanSettings",
    "ConfigError",
    "FingerprintSettings",
    "KafkaSettings",
    "MetricsSettings",
    "PollerSettings",
    "RedisSettings",
    "Settings",
    "StorySettings",
    "WebSettings",
    "config_problems",
    "load_settings",
    "read_yaml_mapping",
]

DEFAULT_CONFIG_FILE = Path("config/monitor.yaml")
DAY = 86_400.0

# The kinds of value a setting can be; a value outside its kind is a configuration error.
Count = Annotated[int, Field(ge=1)]
"""How many of something where none makes no sense (sizes, limits, every-N)."""
Amount = Annotated[int, Field(ge=0)]
"""How many of something, zero allowed."""
Share = Annotated[float, Field(ge=0, le=1)]
"""A share or similarity threshold, 0..1."""
Span = Annotated[float, Field(gt=0)]
"""A duration or factor that must be positive."""
Extent = Annotated[float, Field(ge=0)]
"""A duration or score that may be zero."""
Port = Annotated[int, Field(ge=0, le=65535)]
Bits = Annotated[int, Field(ge=1, le=32)]


class ConfigError(ValueError):
    """Invalid configuration: one line per problem, each naming the source, key and problem."""


class _Group(BaseModel):
    # A misspelt key would otherwise be ignored in silence and its default used.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class KafkaSettings(_Group):
    bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    topic_prefix: str = Field("monitor.", description="Prefix of every topic name.")
    partitions: Count = Field(4, description="Partitions of the parallel topics (raw, clean).")
    replication: Count = Field(1, description="Replication factor of created topics.")


class RedisSettings(_Group):
    # A validation error must not quote the URL: it may hold the password.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, hide_input_in_errors=True)

    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL (service mode).")
    key_prefix: str = Field("mon:", description="Namespace of every key the monitor writes.")

    @model_validator(mode="after")
    def _register_password(self) -> RedisSettings:
        # Known as soon as settings are loaded, before a connection error can quote it.
        redaction.register(*redaction.url_secrets(self.url))
        return self


class CleanSettings(_Group):
    max_html_bytes: Count = Field(5_000_000, description="Larger pages are rejected as too_large.")
    max_text_chars: Count = Field(
        100_000,
        description="Articles whose title and text (extracted from the page when there is "
        "one) have more characters are rejected as too_large: five times the longest news "
        "article, and what keeps its records under Kafka's 1 MiB (about 4.3 bytes of "
        "``fingerprinted`` record per character).",
    )
    min_chars: Amount = Field(40, description="Articles with less clean body text are rejected.")
    template_min_articles: Count = Field(
        20, description="Articles an outlet must have before its template lines are learned."
    )
    template_min_share: Share = Field(
        0.3, description="A line in this share of an outlet's articles is template boilerplate."
    )
    template_max_lines: Count = Field(
        20_000, description="Distinct lines counted per outlet for templates (memory bound)."
    )
    template_decay_every: Count = Field(
        1_000, description="Template counts of an outlet are halved every this many articles."
    )


class FingerprintSettings(_Group):
    ttl_seconds: Span = Field(7 * DAY, description="How long fingerprints are remembered.")
    threshold: Share = Field(
        0.3, description="Estimated containment above which texts are near copies."
    )
    shingle_words: Count = Field(
        3, description="Words per shingle of the near-duplicate fingerprint."
    )
    sample_rate: Count = Field(
        4, description="About one shingle in this many is sampled into the fingerprint."
    )
    min_samples: Count = Field(16, description="Short texts keep at least this many samples.")
    max_stored_samples: Count = Field(48, description="Samples stored per article (memory cap).")
    max_query_samples: Count = Field(256, description="Samples looked up per article (time cap).")
    min_shared: Count = Field(3, description="Shared samples needed before a match is considered.")
    generation_seconds: Span = Field(
        DAY, description="Redis index generation length (keys expire a generation at a time)."
    )
    index_bucket_bits: Bits = Field(
        15, description="Bucket bits of the first Redis index generation (later ones adapt)."
    )


class StorySettings(_Group):
    same_story_threshold: Share = Field(0.27, description="Similarity needed to join a story.")
    untitled_threshold: Share = Field(
        0.6,
        description="Similarity needed to join a story whose headlines share no word or name "
        "with the article's headline, or no name and only a kind of event and one word (a "
        "town's fire is not every fire of the town).",
    )
    body_floor: Share = Field(
        0.15,
        description="Body similarity (to the story's centroid) below which, with the nearest "
        "article below nearest_floor too, an article's headline is all it shares with the "
        "story: it then needs untitled_threshold to join.",
    )
    nearest_floor: Share = Field(
        0.25, description="Similarity to the story's nearest article: see body_floor."
    )
    body_alone: Share = Field(
        0.36,
        description="Body similarity (to the story's centroid) from which an article joins at "
        "same_story_threshold whatever its headline shares: a reaction or a follow-up titled "
        "in its own words.",
    )
    anchor_threshold: Share = Field(
        0.35,
        description="Similarity at which a joining article becomes one of the recent articles "
        "later ones are compared with (below it, it joins without extending the story's reach).",
    )
    merge_threshold: Share = Field(
        0.6, description="Similarity to two open stories at which they merge into one."
    )
    half_life_hours: Span = Field(24.0, description="Time decay of story similarity.")
    close_after_days: Span = Field(30.0, description="Idle stories close after this long.")
    decay_floor: Share = Field(
        0.5, description="Share of its similarity an idle (still open) story keeps at most decay."
    )
    archive_days: Extent = Field(
        365.0, description="Closed stories stay resumable (archive index) for this long."
    )
    resume_threshold: Share = Field(
        0.35, description="Undecayed similarity needed to resume a closed (dormant) story."
    )
    resume_min_entities: Amount = Field(
        2, description="Core entities a dormant story and the article must share to resume."
    )
    resume_min_title: Amount = Field(
        2, description="Title terms or names the article must share with a dormant story."
    )
    candidates: Count = Field(20, description="Candidate stories scored per article (index hits).")
    reported_containment: Share = Field(
        0.6, description="A sentence this contained in an already reported sentence is restated."
    )
    development_min_score: Extent = Field(
        1.5, description="Weighted new facts (in new relevant sentences) that make a development."
    )
    timeline_entries: int = Field(
        100,
        ge=0,
        description="Timeline entries (decisions) kept per story for the web, the latest "
        "published; 0: no timelines (nor the web's outlet and search indexes).",
    )


class PollerSettings(_Group):
    feeds_file: Path = Field(Path("config/feeds.yaml"), description="Feeds to watch.")
    seen_ttl_seconds: Span = Field(30 * DAY, description="How long seen entries are remembered.")
    user_agent: str = Field("arabic-news-monitor/0.1 (+https://github.com/)")
    allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks feeds and article pages may be fetched from although not global "
        "(an internal feed server; tests use 127.0.0.0/8). Any other non-global address is "
        "refused, on every redirect hop.",
    )
    allow_private_addresses: bool = Field(
        False, description="Allow every address, private and loopback included (tests only)."
    )
    connect_timeout_seconds: Span = Field(10.0, description="TCP/TLS connect timeout.")
    read_timeout_seconds: Span = Field(20.0, description="Longest silence while reading.")
    fetch_deadline_seconds: Span = Field(
        60.0, description="Wall-clock limit of one whole fetch (cuts responses that never end)."
    )
    max_response_bytes: Count = Field(
        10_000_000, description="Larger responses are cut: too_large."
    )
    max_redirects: Amount = Field(5, description="More redirects than this: redirect_loop.")
    host_min_spacing_seconds: Extent = Field(
        1.0, description="Minimum time between two requests to the same host."
    )
    max_backoff_seconds: Span = Field(3600.0, description="Cap of the error back-off.")
    max_retry_after_seconds: Extent = Field(
        6 * 3600.0, description="Cap of a server's Retry-After (a feed is never dropped for good)."
    )
    conditional_verify_every: Count = Field(
        12,
        description="Every Nth poll of a feed skips ETag/If-Modified-Since to catch lying servers.",
    )
    max_concurrent_fetches: Count = Field(32, description="Fetches in flight across all feeds.")


class AlertSettings(_Group):
    subscriptions_file: Path = Field(
        Path("config/subscriptions.yaml"), description="Who gets which alerts."
    )
    max_attempts: Count = Field(6, description="Deliveries after which an alert is dead-lettered.")
    sse_port: Port = Field(8088, description="Port of the Server-Sent Events stream of alerts.")
    sse_host: str = Field("127.0.0.1", description="Address the SSE stream listens on.")
    sse_buffer: Amount = Field(1000, description="Alerts kept in memory for Last-Event-ID replay.")
    consumer_group: str = Field(
        "monitor-dispatch", description="Kafka group of `monitor dispatch`."
    )
    http_timeout_seconds: Span = Field(10.0, description="Timeout of one webhook request.")
    allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks webhook, Slack and Telegram URLs may point to although not global "
        "(an internal chat server; tests use 127.0.0.0/8). Any other non-global address is "
        "refused.",
    )
    retry_base_seconds: Extent = Field(2.0, description="First retry delay (doubles per attempt).")
    retry_max_seconds: Extent = Field(600.0, description="Longest retry delay.")
    lease_seconds: Span = Field(
        60.0, description="A claimed delivery not finished within this is retried (crash recovery)."
    )
    delivered_ttl_seconds: Span = Field(
        7 * DAY, description="How long finished deliveries are remembered (no resend window)."
    )
    spike_sensitivity: Span = Field(
        3.0, description="Breaking when outlets in the last hour >= this times the baseline."
    )
    spike_min_outlets: Count = Field(4, description="Fewest distinct outlets in an hour to break.")


class WebSettings(_Group):
    host: str = Field("127.0.0.1", description="Address `monitor web` listens on.")
    port: Port = Field(8080, description="Port of `monitor web` (the story browser and API).")
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

    @model_validator(mode="after")
    def _register_token(self) -> WebSettings:
        # The token must never reach a log line (a request log quoting an Authorization header).
        if self.token:
            redaction.register(self.token)
        return self


class MetricsSettings(_Group):
    port: Port = Field(9464, description="Port of the /metrics endpoint of this process (0: off).")


class Settings(BaseSettings):
    """Everything configurable, grouped by concern."""

    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid"
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
        return _read_config_file(config_file())


def config_file() -> Path:
    """The settings file: ``MONITOR_CONFIG``, or ``config/monitor.yaml``."""
    return Path(os.environ.get("MONITOR_CONFIG", DEFAULT_CONFIG_FILE))


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        if "MONITOR_CONFIG" in os.environ:  # named on purpose: a typo must not mean defaults
            raise ConfigError(f"{path}: no such file (named by MONITOR_CONFIG)")
        return {}
    return read_yaml_mapping(path)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping a YAML file holds (empty for an empty file); ``ConfigError`` naming the
    file, the place and the problem when it is unreadable, not YAML or not a mapping."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {_yaml_problem(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{path}: expected a mapping at the top level, got a {type(loaded).__name__}"
        )
    return loaded


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's message on one line: what is wrong, and where."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = " ".join(part for part in (error.context, error.problem) if part)
        return f"{what} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


def config_problems(
    error: ValidationError,
    source: str | Path,
    data: Mapping[str, Any] | None = None,
    model: type[BaseModel] | None = None,
) -> list[str]:
    """One line per problem of ``error``: ``"<source>: <key>: <problem>"``.

    With ``data`` (what the file ``source`` held), a key set by an environment variable is
    blamed on the variable (it wins over the file), one the file does not hold on the
    arguments. A value is quoted only when it is a number, a boolean or null: a string may be
    a secret (a password in a URL, a bot token). An unknown key of ``model`` (the validated
    model) comes with the closest known one.
    """
    lines = []
    for problem in error.errors(include_url=False):
        location = tuple(str(part) for part in problem["loc"])
        key = ".".join(location) or "(top level)"
        where = str(source)
        if data is not None:
            where = _env_name(location) or (where if _holds(data, location) else "arguments")
        what = problem["msg"]
        value = problem.get("input")
        if problem["type"] == "extra_forbidden":
            what = "unknown setting" + _suggestion(model, location)
        elif value is None or isinstance(value, bool | int | float):
            what += f" (got {value!r})" if problem["type"] != "missing" else ""
        lines.append(f"{where}: {key}: {what}")
    return lines


def _suggestion(model: type[BaseModel] | None, location: tuple[str, ...]) -> str:
    for part in location[:-1]:
        field = model.model_fields.get(part) if model is not None else None
        annotation = field.annotation if field is not None else None
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if model is None or not location:
        return ""
    close = difflib.get_close_matches(location[-1], list(model.model_fields), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _holds(data: Mapping[str, Any], location: tuple[str, ...]) -> bool:
    node: Any = data
    for part in location:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _env_name(location: tuple[str, ...]) -> str | None:
    prefix = "MONITOR_" + "__".join(location).upper()
    for name in os.environ:
        upper = name.upper()
        if upper == prefix or (upper.startswith("MONITOR_") and prefix.startswith(upper + "__")):
            return name
    return None


def load_settings(**overrides: Any) -> Settings:
    """The settings (see the module docstring); raises ``ConfigError`` when any is invalid."""
    path = config_file()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = config_problems(exc, path, _read_config_file(path), Settings)
        raise ConfigError("\n".join(problems)) from None
