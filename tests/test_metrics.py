"""Every metric of ``monitor.metrics`` follows the Prometheus naming conventions.

https://prometheus.io/docs/practices/naming/: one ``monitor_`` prefix, snake_case, base units
spelled out as the last word (``_seconds``, ``_bytes``), ``_total`` only on counters, timestamps
as ``_timestamp_seconds``, and labels that neither clash with Prometheus's own (``job``,
``instance``, ``le``) nor explode cardinality (one series per article or story).
"""

from __future__ import annotations

import re

import pytest
from prometheus_client import Counter, Gauge, Histogram, Summary
from prometheus_client.metrics import MetricWrapperBase

import monitor.metrics as metrics

NAME = re.compile(r"^monitor_[a-z][a-z0-9]*(_[a-z0-9]+)*$")
LABEL = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
BASE_UNITS = ("seconds", "bytes", "ratio")
NON_BASE_UNITS = {
    "ms",
    "msec",
    "millis",
    "milliseconds",
    "microseconds",
    "nanoseconds",
    "minutes",
    "hours",
    "days",
    "kb",
    "kilobytes",
    "mb",
    "megabytes",
    "percent",
}
RESERVED_LABELS = {"job", "instance", "le", "quantile"}
# One series per article, story, alert or URL would grow without bound.
UNBOUNDED_LABELS = {"id", "article", "story", "alert", "url", "guid", "title"}

DEFINED: dict[str, MetricWrapperBase] = {
    attr: value for attr, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)
}


def exposed_name(metric: MetricWrapperBase) -> str:
    """The family name Prometheus sees (prometheus_client keeps counters without ``_total``)."""
    (family,) = metric.describe()
    return str(family.name)


def label_names(metric: MetricWrapperBase) -> tuple[str, ...]:
    return tuple(metric._labelnames)


def test_every_metric_is_exported_and_every_export_is_a_metric() -> None:
    exported = set(metrics.__all__) - {"start_metrics_server"}
    assert set(DEFINED) == exported


def test_names_are_unique() -> None:
    names = [exposed_name(m) for m in DEFINED.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("attr", sorted(DEFINED))
def test_name_and_help_follow_conventions(attr: str) -> None:
    metric = DEFINED[attr]
    name = exposed_name(metric)
    words = name.split("_")
    assert NAME.match(name), f"{name}: monitor_ prefix, snake_case"
    assert not NON_BASE_UNITS & set(words), f"{name}: use base units (seconds, bytes)"
    assert not name.endswith(("_count", "_sum", "_bucket")), (
        f"{name}: suffix reserved for histogram and summary samples"
    )
    if isinstance(metric, Counter):
        # prometheus_client appends _total; a declared "..._total_total" would show here.
        assert not name.endswith("_total"), f"{name}: counter declared with _total twice"
        assert f"{name}_total" in _sample_names(metric)
    else:
        assert not name.endswith("_total"), f"{name}: _total is for counters only"
    if isinstance(metric, Histogram | Summary):
        assert words[-1] in BASE_UNITS, f"{name}: a distribution needs its unit as last word"
    if "timestamp" in words:
        assert name.endswith("_timestamp_seconds"), f"{name}: timestamps are _timestamp_seconds"
        assert isinstance(metric, Gauge)
    doc = metric._documentation
    assert doc and doc[0].isupper() and doc.endswith("."), f"{name}: help is a sentence"


@pytest.mark.parametrize("attr", sorted(DEFINED))
def test_labels_follow_conventions(attr: str) -> None:
    metric = DEFINED[attr]
    for label in label_names(metric):
        assert LABEL.match(label), f"{attr}: label {label!r} is not snake_case"
        assert label not in RESERVED_LABELS, f"{attr}: label {label!r} clashes with Prometheus"
        assert label not in UNBOUNDED_LABELS, f"{attr}: label {label!r} has unbounded values"


def _sample_names(counter: Counter) -> set[str]:
    """Sample names of a counter, observed on a throwaway twin so the real one stays clean."""
    from prometheus_client import CollectorRegistry

    twin = Counter(
        exposed_name(counter), "Twin.", label_names(counter), registry=CollectorRegistry()
    )
    if label_names(counter):
        twin.labels(*["x"] * len(label_names(counter))).inc()
    else:
        twin.inc()
    return {sample.name for family in twin.collect() for sample in family.samples}
