"""Configuration mistakes: one clear line naming the file (or variable), the key and the
problem, and exit status 2; never a traceback, never a nonsense value or a misspelt key
accepted in silence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.alerts.subscriptions import load_subscriptions
from monitor.cli import main
from monitor.settings import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "data" / "seeds.jsonl"


@pytest.fixture(autouse=True)
def _no_monitor_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The services fixtures of other tests may have exported settings; these tests own theirs.
    for name in list(os.environ):
        if name.upper().startswith("MONITOR_") and name != "MONITOR_TEST_TIMEOUT":
            monkeypatch.delenv(name)


def _replay_with(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
) -> tuple[Path, list[str]]:
    path = tmp_path / "monitor.yaml"
    path.write_text(config, encoding="utf-8")
    monkeypatch.setenv("MONITOR_CONFIG", str(path))
    assert main(["replay", str(SEEDS)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return path, captured.err.splitlines()


@pytest.mark.parametrize(
    ("config", "key", "problem"),
    [
        ("stories:\n  same_story_threshold: [0.3\n", "", "invalid YAML"),
        ("stories:\n\tsame_story_threshold: 0.3\n", "", "invalid YAML"),
        ("- kafka\n", "", "expected a mapping at the top level, got a list"),
        ("kafka:\n  partitions: four\n", "kafka.partitions", "valid integer"),
        ("kafka: 4\n", "kafka", "valid dictionary"),
        ("clean:\n  max_html_bytes: -1\n", "clean.max_html_bytes", "greater than or equal to 1"),
        ("poller:\n  max_redirects: -2\n", "poller.max_redirects", "greater than or equal to 0"),
        ("stories:\n  same_story_threshold: -0.1\n", "stories.same_story_threshold", "(got -0.1)"),
        ("fingerprint:\n  threshold: 3\n", "fingerprint.threshold", "less than or equal to 1"),
        ("stories:\n  half_life_hours: .nan\n", "stories.half_life_hours", "finite number"),
        ("metrics:\n  port: 70000\n", "metrics.port", "less than or equal to 65535"),
        ("stories:\n  same_story_treshold: 0.5\n", "stories.same_story_treshold", "unknown"),
        ("storys:\n  same_story_threshold: 0.5\n", "storys", "did you mean stories?"),
    ],
)
def test_a_bad_setting_is_one_line_naming_file_key_and_problem(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    key: str,
    problem: str,
) -> None:
    path, lines = _replay_with(tmp_path, monkeypatch, capsys, config)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"monitor replay: {path}: {key}"), lines
    assert problem in lines[0]


def test_a_misspelt_key_says_which_key_was_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, lines = _replay_with(tmp_path, monkeypatch, capsys, "clean:\n  min_char: 10\n")
    assert lines == [
        f"monitor replay: {path}: clean.min_char: unknown setting (did you mean min_chars?)"
    ]


def test_every_problem_gets_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = "kafka:\n  partitions: 0\nstories:\n  candidates: -5\n  decay_floor: 2\n"
    _, lines = _replay_with(tmp_path, monkeypatch, capsys, config)
    keys = sorted(line.split(": ")[2] for line in lines)
    assert keys == ["kafka.partitions", "stories.candidates", "stories.decay_floor"]


def test_a_bad_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "monitor.yaml"
    empty.write_text("kafka:\n  partitions: 8\n", encoding="utf-8")
    monkeypatch.setenv("MONITOR_CONFIG", str(empty))
    monkeypatch.setenv("MONITOR_KAFKA__PARTITIONS", "-3")
    monkeypatch.setenv("MONITOR_REDIS__URLL", "redis://:secret@example/0")
    assert main(["replay", str(SEEDS)]) == 2
    err = capsys.readouterr().err
    assert "MONITOR_KAFKA__PARTITIONS: kafka.partitions: Input should be greater" in err
    assert "MONITOR_REDIS__URLL: redis.urll: unknown setting (did you mean url?)" in err
    assert "secret" not in err  # a value that may be a secret is never echoed


def test_a_missing_named_config_file_is_an_error_not_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / "monitr.yaml"))
    with pytest.raises(ConfigError, match=r"monitr\.yaml: no such file"):
        load_settings()


def test_valid_settings_still_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONITOR_CONFIG", str(REPO / "config" / "monitor.yaml"))
    assert load_settings() == Settings()
    config = tmp_path / "monitor.yaml"
    config.write_text("stories:\n  same_story_threshold: 0.4\nmetrics:\n  port: 0\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    monkeypatch.setenv("MONITOR_KAFKA__PARTITIONS", "2")
    settings = load_settings()
    assert settings.stories.same_story_threshold == 0.4 and settings.kafka.partitions == 2


def test_a_bad_feeds_file_is_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: a\n    outlet: x\n    url: not a url\n")
    assert main(["run", "--once", "--feeds", str(feeds)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"monitor run: {feeds}: feeds.0.url: ")
    feeds.write_text("feeds: [\n")
    assert main(["run", "--once", "--feeds", str(feeds)]) == 2
    assert f"{feeds}: invalid YAML" in capsys.readouterr().err


def test_a_bad_subscriptions_file_names_the_key_and_keeps_secrets_out(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yaml"
    token = "123456:AAE-very-secret-token"
    path.write_text(
        "subscribers:\n"
        "  - id: ops\n"
        "    channel: {type: telegram, token: '" + token + "', chat_id: 5, colour: red}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_subscriptions(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: subscribers.0.channel")
    assert token not in message


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["poll", "--metrics-port", "-1"], "--metrics-port"),
        (["dispatch", "--sse-port", "70000"], "--sse-port"),
        (["worker", "--stop-timeout", "nan"], "--stop-timeout"),
        (["run", "--interval", "-0.5"], "--interval"),
        (["run", "--duration", "soon"], "--duration"),
    ],
)
def test_a_nonsense_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], arguments: list[str], option: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert f"error: argument {option}: " in error
