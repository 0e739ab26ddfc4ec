"""Arabic news monitor: recognise the same story across outlets, alert on real developments."""

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
