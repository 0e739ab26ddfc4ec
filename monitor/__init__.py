"""Arabic news monitor: recognise the same story across outlets, alert on real developments."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.core.records import (
        Alert,
        CleanArticle,
        Decision,
        FingerprintedArticle,
        RawArticle,
        Rejection,
    )
    from monitor.settings import Settings, load_settings

__all__ = [
    "Alert",
    "CleanArticle",
    "Decision",
    "FingerprintedArticle",
    "RawArticle",
    "Rejection",
    "Settings",
    "load_settings",
]
__version__ = "0.1.0"

_HOMES = {name: "monitor.core.records" for name in __all__[:6]} | {
    "Settings": "monitor.settings",
    "load_settings": "monitor.settings",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: ``monitor --help`` and quick commands need neither pydantic
    # models nor settings.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
