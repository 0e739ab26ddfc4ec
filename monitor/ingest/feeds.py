"""The feeds to watch (``config/feeds.yaml``): typed, validated, loaded once at start-up.

The YAML file holds an optional ``defaults`` mapping merged under every feed, and a ``feeds``
list::

    defaults: {language: ar, interval: {min: 120, max: 1800}}
    feeds:
      - {name: bbc-arabic, outlet: bbc, url: "https://feeds.bbci.co.uk/arabic/rss.xml"}

>>> feeds = parse_feeds({"feeds": [{"name": "a", "outlet": "x", "url": "https://x.example/rss"}]})
>>> feeds[0].interval.min, feeds[0].options.fetch_pages
(120.0, False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor import redaction
from monitor.settings import ConfigError, config_problems, read_yaml_mapping

__all__ = ["FeedConfig", "FeedOptions", "FeedsFile", "PollInterval", "load_feeds", "parse_feeds"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PollInterval(_Strict):
    """Bounds of the adaptive poll interval, in seconds."""

    min: float = Field(120.0, gt=0, description="Fastest polling, when many entries are new.")
    max: float = Field(1800.0, gt=0, description="Slowest polling, when nothing is new.")

    @model_validator(mode="after")
    def _ordered(self) -> PollInterval:
        if self.min > self.max:
            raise ValueError(f"interval.min ({self.min}) is above interval.max ({self.max})")
        return self


class FeedOptions(_Strict):
    fetch_pages: bool = Field(
        False, description="Fetch each new entry's article page and pass its HTML on."
    )


class FeedConfig(_Strict):
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Unique feed id (metric label)."
    )
    outlet: str = Field(min_length=1, description="Short outlet code, e.g. 'youm7'.")
    url: AnyHttpUrl
    language: str = Field("ar", description="ISO 639-1 code the feed is declared in.")
    interval: PollInterval = Field(default_factory=PollInterval)
    options: FeedOptions = Field(default_factory=FeedOptions)

    @property
    def url_text(self) -> str:
        return str(self.url)

    @model_validator(mode="after")
    def _register_credentials(self) -> FeedConfig:
        # A feed URL may carry a password or an API key: never in a log line or error.
        redaction.register(*redaction.url_secrets(self.url_text))
        return self


class FeedsFile(_Strict):
    defaults: dict[str, Any] = Field(default_factory=dict)
    feeds: list[FeedConfig]

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        defaults = data.get("defaults") or {}
        feeds = data.get("feeds")
        if isinstance(defaults, dict) and isinstance(feeds, list):
            data = {
                **data,
                "feeds": [_merge(defaults, f) if isinstance(f, dict) else f for f in feeds],
            }
        return data

    @field_validator("feeds")
    @classmethod
    def _unique_names(cls, feeds: list[FeedConfig]) -> list[FeedConfig]:
        names = [feed.name for feed in feeds]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate feed names: {', '.join(duplicates)}")
        return feeds


def _merge(defaults: dict[str, Any], feed: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in feed.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_feeds(data: Any) -> list[FeedConfig]:
    """Validate an already loaded feeds document (raises ``pydantic.ValidationError``)."""
    return FeedsFile.model_validate(data).feeds


def load_feeds(path: Path | str) -> list[FeedConfig]:
    """Load and validate a feeds YAML file (``ConfigError``, one line per problem naming
    the file, the key and the problem, when it is missing or invalid)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        return parse_feeds(read_yaml_mapping(path))
    except ValidationError as exc:
        raise ConfigError("\n".join(config_problems(exc, path))) from None
