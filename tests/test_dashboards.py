"""The Grafana dashboards and their provisioning are consistent with the metrics and compose.

Static checks only (tests/test_prometheus.py runs every panel's query against real data):
each dashboard is valid JSON with a unique uid, panels fit the 24-column grid without
overlapping, every query names metrics that ``monitor.metrics`` defines and only labels those
metrics carry, and the provisioning files point where docker-compose mounts the files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

import monitor.metrics as metrics

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_DIR = ROOT / "dashboards"
DASHBOARDS = sorted(DASHBOARD_DIR.glob("*.json"))
DATASOURCES = DASHBOARD_DIR / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = DASHBOARD_DIR / "provisioning" / "dashboards" / "monitor.yml"
COMPOSE = ROOT / "docker-compose.yml"

TARGET_LABELS = {"job", "instance"}
METRIC = re.compile(r"\b(monitor_[a-z0-9_]+|up|ALERTS)\b(?:\{(?P<matchers>[^}]*)\})?")
MATCHER_LABEL = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def _series_labels() -> dict[str, set[str]]:
    """Every series name the monitor exposes -> the labels it carries."""
    series: dict[str, set[str]] = {
        "up": set(TARGET_LABELS),
        # Prometheus's own series of firing/pending rules (rules.yml adds "severity").
        "ALERTS": {"alertname", "alertstate", "severity"},
    }
    for metric in vars(metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        (family,) = metric.describe()
        labels = set(metric._labelnames) | TARGET_LABELS
        if isinstance(metric, Counter):
            series[f"{family.name}_total"] = labels
        elif isinstance(metric, Histogram):
            series[f"{family.name}_bucket"] = labels | {"le"}
            series[f"{family.name}_count"] = labels
            series[f"{family.name}_sum"] = labels
        else:
            series[family.name] = labels
    return series


SERIES = _series_labels()


def _board(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _datasource_uid() -> str:
    (datasource,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    return str(datasource["uid"])


def test_the_four_dashboards_exist_with_unique_uids_and_titles() -> None:
    names = {path.name for path in DASHBOARDS}
    assert {"overview.json", "feeds.json", "pipeline.json", "stories-alerts.json"} <= names
    boards = [_board(path) for path in DASHBOARDS]
    assert len({b["uid"] for b in boards}) == len(boards)
    assert len({b["title"] for b in boards}) == len(boards)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_use_the_provisioned_datasource(path: Path) -> None:
    uid = _datasource_uid()
    board = _board(path)
    for panel in _panels(board["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel.get("description"), f"{panel['title']}: say what the panel shows"
        assert panel["targets"], f"{panel['title']}: no query"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_fit_the_grid_without_overlap(path: Path) -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in _panels(_board(path)["panels"]):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_queries_name_existing_metrics_and_labels(path: Path) -> None:
    board = _board(path)
    exprs = [
        (panel["title"], target["expr"])
        for panel in _panels(board["panels"])
        for target in panel.get("targets", [])
    ]
    exprs += [(f"${v['name']}", v["query"]["query"]) for v in board["templating"]["list"]]
    for where, expr in exprs:
        used = list(METRIC.finditer(expr))
        assert used, f"{where}: no monitor metric in {expr}"
        available: set[str] = set()
        for match in used:
            name = match.group(1)
            assert name in SERIES, f"{where}: unknown series {name}"
            available |= SERIES[name]
            for label in MATCHER_LABEL.findall(match["matchers"] or ""):
                assert label in SERIES[name], f"{where}: {name} has no label {label}"
        for grouping in GROUPING.findall(expr):
            for label in filter(None, (part.strip() for part in grouping.split(","))):
                assert label in available, f"{where}: no metric in {expr} has label {label}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_variables_default_to_all(path: Path) -> None:
    for variable in _board(path)["templating"]["list"]:
        assert variable["includeAll"] and variable["allValue"] == ".*", variable["name"]
        assert variable["current"]["value"] == ["$__all"], variable["name"]


def test_dashboard_provider_reads_the_directory_compose_mounts() -> None:
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    compose = yaml.safe_load(COMPOSE.read_text())
    grafana_volumes = [str(v) for v in compose["services"]["grafana"]["volumes"]]
    assert f"./dashboards:{provider['options']['path']}" in {
        v.removesuffix(":ro") for v in grafana_volumes
    }
    assert any(
        v.removesuffix(":ro") == "./dashboards/provisioning:/etc/grafana/provisioning"
        for v in grafana_volumes
    )


def test_datasource_points_at_the_compose_prometheus() -> None:
    (datasource,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    compose = yaml.safe_load(COMPOSE.read_text())
    assert "prometheus" in compose["services"]
    assert datasource["url"] == "http://prometheus:9090"


def test_every_metric_is_on_some_dashboard() -> None:
    """A metric no panel shows is invisible to operators: add a panel when adding a metric."""
    shown = {
        match.group(1)
        for path in DASHBOARDS
        for panel in _panels(_board(path)["panels"])
        for target in panel.get("targets", [])
        for match in METRIC.finditer(target["expr"])
    }
    families = {
        name.removesuffix(suffix)
        for name in shown
        for suffix in ("_total", "_bucket", "_count", "_sum")
        if name.endswith(suffix)
    }
    families |= shown
    missing = []
    for attr, metric in vars(metrics).items():
        if isinstance(metric, MetricWrapperBase):
            (family,) = metric.describe()
            if family.name not in families:
                missing.append(f"{attr} ({family.name})")
    assert not missing, f"metrics on no dashboard: {missing}"
