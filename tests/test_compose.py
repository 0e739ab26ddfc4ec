"""docker-compose.yml is valid Compose and agrees with the code (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from monitor import cli
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
MONITOR_SERVICES = ("poller", "worker", "dispatcher", "web")
# Variables read by monitor/settings.py itself rather than mapped to a field.
SPECIAL_VARIABLES = {"MONITOR_CONFIG"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON schema, as vendored by check-jsonschema.

    Found without importing check_jsonschema: its CLI needs a newer click than faust allows.
    """
    spec = importlib.util.find_spec("check_jsonschema")
    assert spec is not None and spec.submodule_search_locations, "check-jsonschema not installed"
    package = Path(next(iter(spec.submodule_search_locations)))
    path = package / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def test_valid_against_the_compose_specification(compose: dict[str, Any]):
    schema = compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file(compose: dict[str, Any]):
    broken = {**compose, "services": {**compose["services"], "redis": {"image": 7}}}
    schema = compose_schema()
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))


def subcommands() -> set[str]:
    """Subcommands of ``monitor``: those in ``cli.COMMANDS`` whose module exists."""
    return {
        name
        for name, (module, _summary) in cli.COMMANDS.items()
        if importlib.util.find_spec(module) is not None
    }


def test_monitor_services_run_real_subcommands(compose: dict[str, Any]):
    known = subcommands()
    for name in MONITOR_SERVICES:
        command = compose["services"][name]["command"]
        assert command[0] == "monitor", name
        assert command[1] in known, f"{name}: `monitor {command[1]}` is not a subcommand"


def setting_exists(variable: str) -> bool:
    """Whether ``MONITOR_A__B`` names a field ``Settings().a.b``."""
    if variable in SPECIAL_VARIABLES:
        return True
    if not variable.startswith("MONITOR_"):
        return False
    model: type[BaseModel] | None = Settings
    for part in variable.removeprefix("MONITOR_").lower().split("__"):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return model is None  # a leaf, not a whole group


def test_setting_exists_rejects_unknown_names():
    assert setting_exists("MONITOR_KAFKA__BOOTSTRAP")
    assert not setting_exists("MONITOR_KAFKA__BOOTSTRAPS")
    assert not setting_exists("MONITOR_KAFKA")
    assert not setting_exists("KAFKA__BOOTSTRAP")


def test_monitor_environment_maps_to_settings(compose: dict[str, Any]):
    for name in MONITOR_SERVICES:
        environment = compose["services"][name]["environment"]
        assert isinstance(environment, dict), name
        for variable in environment:
            assert setting_exists(variable), f"{name}: {variable} is not a Settings field"
        assert environment["MONITOR_KAFKA__BOOTSTRAP"] == "kafka:9092"
        assert environment["MONITOR_REDIS__URL"] == "redis://redis:6379/0"


def test_monitor_services_wait_for_healthy_dependencies(compose: dict[str, Any]):
    services = compose["services"]
    for name in MONITOR_SERVICES:
        service = services[name]
        assert "healthcheck" in service, name
        for dependency, condition in service["depends_on"].items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency], dependency
        assert {"kafka", "redis"} <= set(service["depends_on"]), name


def test_mounted_files_exist(compose: dict[str, Any]):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_rules_are_mounted_where_the_config_expects_them(compose: dict[str, Any]):
    config = yaml.safe_load((ROOT / "config/prometheus/prometheus.yml").read_text("utf-8"))
    targets = {v.split(":")[1] for v in compose["services"]["prometheus"]["volumes"]}
    for rule_file in config.get("rule_files", []):
        assert str(Path("/etc/prometheus") / rule_file) in targets


def test_images_match_the_versions_the_tests_run(compose: dict[str, Any]):
    services_script = (ROOT / "scripts/services").read_text(encoding="utf-8")
    script_version = re.search(r"^KAFKA_VERSION=(\S+)$", services_script, re.M)
    pom = (ROOT / "scripts/kafka/pom.xml").read_text(encoding="utf-8")
    pom_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert script_version and pom_version
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{script_version[1]}"
    assert pom_version[1] == script_version[1]

    installed = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=True
    ).stdout
    installed_major = re.search(r"v=(\d+)\.", installed)
    assert installed_major
    assert compose["services"]["redis"]["image"] == f"redis:{installed_major[1]}"


def test_example_settings_file_names_real_settings():
    """config/monitor.yaml is all comments; its uncommented examples must be valid settings."""
    text = (ROOT / "config/monitor.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) is None  # nothing active: defaults live in monitor/settings.py
    examples = text.split("Examples (uncomment to use):", 1)[1]
    uncommented = "\n".join(
        line.removeprefix("#").removeprefix(" ") for line in examples.splitlines()
    )
    loaded = yaml.safe_load(uncommented)
    assert loaded, "no examples found"
    for group, values in loaded.items():
        model = Settings.model_fields[group].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel), group
        assert set(values) <= set(model.model_fields), (
            group,
            set(values) - set(model.model_fields),
        )
        model.model_validate(values)
