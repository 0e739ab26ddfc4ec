"""Derived fixed tables kept on disk between runs, so that a process does not rebuild them.

A table derived from bundled data alone (the character n-gram document frequencies, from
``monitor/data/df.json``: 1.3 s of Python on the development machine, paid by every
``monitor replay`` before its first decision) is stored as an ``.npz`` of plain arrays in
the user's cache directory (``$MONITOR_CACHE``, default ``~/.cache/arabic-news-monitor``,
the one the test scripts keep Kafka in), under a name that holds a digest of what it was
derived from and of how (``key``). A stale table is never read: changed data or a changed
derivation gives another name. Reading or writing the cache is best effort: any failure
(read-only home, damaged file) only means the table is computed again, and the computed
table is exactly what the cache would give.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["cache_dir", "cached_arrays"]

log = logging.getLogger(__name__)

Arrays = dict[str, npt.NDArray[np.generic]]


def cache_dir() -> Path:
    """Where derived tables are kept (``$MONITOR_CACHE``, else ``~/.cache/arabic-news-monitor``)."""
    configured = os.environ.get("MONITOR_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "arabic-news-monitor"


def cached_arrays(name: str, key: bytes, compute: Callable[[], Arrays]) -> Arrays:
    """``compute()``, or the arrays it returned before for the same ``name`` and ``key``.

    ``key``: everything the arrays depend on (the source data's bytes or digest and a
    version of the derivation); only arrays of plain numbers are stored (no pickles).
    """
    path = cache_dir() / "tables" / f"{name}-{hashlib.sha256(key).hexdigest()[:24]}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {field: stored[field] for field in stored.files}
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.debug("table cache %s unreadable (%s): computing it", path, error)
    arrays = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent reader sees the whole file or none.
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as sink:
                np.savez(sink, **arrays)  # type: ignore[arg-type]
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.debug("table cache %s not written (%s)", path, error)
    return arrays
