from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.commands.replay import decision_line
from monitor.core.records import Decision

DATA = Path(__file__).parent.parent / "data"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["replay", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_replay_seed_files_in_publication_order(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [
        str(next((DATA / "seeds").glob(f"{p}_*.txt"))) for p in ("002", "001", "000", "004", "003")
    ]
    lines = _run(capsys, *paths)
    assert [line["decision"] for line in lines][:2] == ["new_story", "development"]
    assert lines[4]["decision"] == "development"
    assert len({line["story"] for line in lines}) == 1
    assert set(lines[0]) >= {"article", "decision", "story", "new_sentences", "reasons"}
    assert any("مطار" in sentence for sentence in lines[4]["new_sentences"])


def test_replay_jsonl_says_the_dormant_story_was_resumed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _run(capsys, str(DATA / "seeds.jsonl"))
    assert lines[1]["reasons"]["resumed"]["idle_days"] == 277


def test_replay_missing_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "/nonexistent/file.txt"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.integration
def test_replay_with_redis(capsys: pytest.CaptureFixture[str], redis_url: str) -> None:
    lines = _run(capsys, "--redis", redis_url, str(DATA / "seeds.jsonl"))
    assert lines[0]["decision"] == "new_story"
    assert len({line["story"] for line in lines}) == 1


def _replay_bytes(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["replay", *args]) == 0
    return capsys.readouterr().out


def test_workers_write_what_one_process_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--workers 2`` and ``3`` (prep workers beside the deciding process) write the same
    bytes as ``--workers 1``: 150 stream articles (copies, developments, several outlets'
    templates), the seeds as files and as lines, and bad lines in between."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": 1}\n[1]\n\xff\n\n{"id": "x", "outlet": "o", "text": 7}\n')
    inputs = [
        str(DATA / "seeds.jsonl"),
        str(bad),
        str(DATA / "stream_sample.jsonl"),
        *sorted(str(path) for path in (DATA / "seeds").glob("*.txt")),
    ]
    one = _replay_bytes(capsys, "--workers", "1", *inputs)
    lines = one.splitlines()
    assert len(lines) == 5 + 5 + 150 + 5
    assert {json.loads(line)["decision"] for line in lines} >= {
        "new_story", "development", "duplicate", "rejected",
    }  # fmt: skip
    assert _replay_bytes(capsys, "--workers", "2", *inputs) == one
    assert _replay_bytes(capsys, "--workers", "3", *inputs) == one


def test_workers_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "--workers", "0", str(DATA / "seeds.jsonl")])
    assert exit_.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_a_replays_decisions_do_not_depend_on_the_wall_clock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fingerprint store's clock is held at the replay's start: were it the wall clock,
    # a replay that took 8 days between two articles (here: each reading of the clock)
    # would forget the original before its reprint comes.
    expected = _run(capsys, "--workers", "1", str(DATA / "seeds.jsonl"))
    assert [line["decision"] for line in expected].count("duplicate") == 1
    readings = iter(range(10**6))
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start + 8 * 86_400 * next(readings))
    lines = _run(capsys, "--workers", "1", str(DATA / "seeds.jsonl"))
    assert [line["decision"] for line in lines] == [line["decision"] for line in expected]


def test_a_decision_line_is_what_json_dumps_writes() -> None:
    """``decision_line``'s encoder, built once, writes the bytes of the straightforward
    ``json.dumps(..., ensure_ascii=False, default=str)``: Arabic kept, no story, values
    JSON has no form for (a time, a set) as their ``str``."""
    decision = Decision(
        article="a1",
        outlet="youm7",
        decision="development",
        story=None,
        title='بوتين يصل إلى "بيونغ يانغ"',
        new_sentences=["وصل الرئيس الروسي.", "line\nbreak \u2028 tab\t"],
        reasons={"score": 0.25, "at": datetime(2013, 7, 3, tzinfo=UTC), "nan": float("nan")},
    )
    straightforward = json.dumps(
        {
            "article": decision.article,
            "decision": decision.decision,
            "story": decision.story,
            "new_sentences": decision.new_sentences,
            "reasons": decision.reasons,
            "title": decision.title,
            "outlet": decision.outlet,
        },
        ensure_ascii=False,
        default=str,
    )
    assert decision_line(decision) == straightforward
    assert decision_line(decision) == straightforward  # the encoder keeps no state
