"""Bad input lines in ``monitor replay`` and ``monitor similarity``: one output line per input
line, a bad line rejected with its file, line number and problem, the run goes on, and
decisions stream out as they are made."""

from __future__ import annotations

import errno
import itertools
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from prometheus_client import REGISTRY

from monitor.cli import main
from monitor.commands.replay import read_articles

ROOT = Path(__file__).resolve().parents[2]
SEEDS_JSONL = ROOT / "tests" / "data" / "seeds.jsonl"

ARTICLE = {
    "id": "good",
    "outlet": "wire",
    "title": "بوتين يصل إلى بيونغ يانغ",
    "text": "وصل الرئيس الروسي فلاديمير بوتين إلى بيونغ يانغ في زيارة رسمية تستغرق يومين "
    "يلتقي خلالها الزعيم الكوري الشمالي كيم جونغ أون.",
}


def _line(row: Any) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode() + b"\n"


# (line, reason, words the detail must contain): one of every kind of bad line.
BAD_LINES: list[tuple[bytes, str, str]] = [
    (b'{"id": "x", "text": \n', "malformed_json", "malformed JSON"),
    (b'{"id": "x", "text": "caf\xe9"}\n', "invalid_utf8", "invalid UTF-8"),
    (b"[1, 2]\n", "not_an_object", "got an array"),
    (b'"just a string"\n', "not_an_object", "got a string"),
    (b"\n", "blank_line", "blank line"),
    (_line({"id": "x", "text": 5}), "invalid_fields", "text"),
    (_line({"id": "x", "text": "نص", "published": "yesterday"}), "invalid_fields", "published"),
    (_line({"id": ["x"], "text": "نص"}), "invalid_fields", "id"),
    (_line({"id": "x", "outlet": {"a": 1}, "text": "نص"}), "invalid_fields", "outlet"),
    (b'{"id": "x", "text": "t", "trace": {"polled": NaN}}\n', "malformed_json", "NaN"),
]


def _replay(capsys: pytest.CaptureFixture[str], *paths: Path) -> list[dict[str, Any]]:
    assert main(["replay", *map(str, paths)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _rejected(reason: str) -> float:
    labels = {"stage": "input", "reason": reason}
    return REGISTRY.get_sample_value("monitor_articles_rejected_total", labels) or 0.0


def test_replay_gives_every_line_one_decision_and_goes_on_after_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(line for line, _, _ in BAD_LINES) + _line(ARTICLE))
    before = _rejected("malformed_json")

    lines = _replay(capsys, path)

    assert len(lines) == len(BAD_LINES) + 1
    for number, (decision, (_, reason, words)) in enumerate(zip(lines, BAD_LINES, strict=False), 1):
        assert decision["decision"] == "rejected", number
        assert decision["reasons"]["stage"] == "input"
        assert decision["reasons"]["reason"] == reason, number
        detail = decision["reasons"]["detail"]
        assert detail.startswith(f"{path} line {number}: ") and words in detail, detail
        assert f"line {number}" in caplog.text
    assert lines[-1]["article"] == "good" and lines[-1]["decision"] == "new_story"
    assert _rejected("malformed_json") == before + 2


def test_replay_decides_good_lines_as_without_the_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = SEEDS_JSONL.read_bytes().splitlines(keepends=True)
    mixed = tmp_path / "seeds.jsonl"
    bad_lines = itertools.cycle(line for line, _, _ in BAD_LINES)
    mixed.write_bytes(b"".join(line + next(bad_lines) for line in seeds))

    clean = _replay(capsys, SEEDS_JSONL)
    with_bad = _replay(capsys, mixed)

    def kept(line: dict[str, Any]) -> dict[str, Any]:
        return {key: line[key] for key in ("article", "decision", "story", "new_sentences")}

    assert len(with_bad) == 2 * len(seeds)
    assert [kept(line) for line in with_bad[::2]] == [kept(line) for line in clean]


def test_a_missing_or_null_id_is_named_after_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        _line({**ARTICLE, "id": None})
        + _line({key: value for key, value in ARTICLE.items() if key != "id"})
        + _line({**ARTICLE, "id": ""})
        + b"{broken\n"
        + _line({**ARTICLE, "id": None, "text": 7})
    )
    ids = [line["article"] for line in _replay(capsys, path)]
    assert ids == ["feed-1", "feed-2", "feed-3", "feed-4", "feed-5"]


def _writer(fifo: Path, reader: subprocess.Popen[bytes]) -> BinaryIO:
    """The write end of ``fifo`` once ``reader`` has opened it (fails, not hangs, if it never
    does: opening a pipe for writing waits for a reader)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            assert reader.poll() is None, f"exited with {reader.returncode} without reading"
            assert time.monotonic() < deadline, "the input was never opened"
            time.sleep(0.05)
            continue
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "wb")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_replay_writes_each_decision_before_reading_the_next_line(
    tmp_path: Path, workers: str
) -> None:
    """The input is a named pipe that gets its second line only once the first decision is
    out: a replay that reads the whole input first (or holds its output back) never ends.
    In one process (the next line is a blocking read) and with a prep worker (the deciding
    process waits for the feed), as the replay flushes only before it waits."""
    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    replay = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "replay", "--workers", workers, str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert replay.stdout is not None
        with _writer(fifo, replay) as feed:
            feed.write(_line(ARTICLE))
            feed.flush()
            ready, _, _ = select.select([replay.stdout], [], [], 60)
            assert ready, "no decision within 60 s of the first line"
            first = json.loads(replay.stdout.readline())
            feed.write(b"not json\n")
        second = json.loads(replay.stdout.readline())
        assert replay.wait(timeout=60) == 0
    finally:
        replay.kill()
    assert first["article"] == "good" and first["decision"] == "new_story"
    assert second["decision"] == "rejected" and "line 2" in second["reasons"]["detail"]


def test_read_articles_raises_on_a_bad_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(_line(ARTICLE) + b"[]\n")
    with pytest.raises(ValueError, match=r"a\.jsonl line 2: expected a JSON object"):
        list(read_articles([path]))


def test_similarity_gives_every_line_one_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    side = {"title": ARTICLE["title"], "text": ARTICLE["text"]}
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(
        b"".join(line for line, _, _ in BAD_LINES[:5])
        + _line({"id": "ok", "a": side, "b": side})
        + _line({"id": None, "a": side, "b": side})
        + _line({"a": side})
        + _line({"id": "typed", "a": side, "b": {"text": ["not", "text"]}})
    )
    assert main(["similarity", str(path)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert len(rows) == 9
    for number, (row, (_, reason, words)) in enumerate(
        zip(rows[:5], BAD_LINES[:5], strict=True), 1
    ):
        assert row["id"] == f"pairs-{number}"
        assert row["same_story"] is None and row["rejected"]["reason"] == reason
        assert row["rejected"]["detail"].startswith(f"{path} line {number}: ")
        assert words in row["rejected"]["detail"]
    assert rows[5]["id"] == "ok" and rows[5]["same_story"] is True
    assert rows[6]["id"] == "pairs-7" and rows[6]["same_story"] is True
    assert rows[7]["id"] == "pairs-8" and "b: Field required" in rows[7]["rejected"]["detail"]
    assert rows[8]["id"] == "typed" and "b.text" in rows[8]["rejected"]["detail"]


def test_similarity_streams_each_result(tmp_path: Path) -> None:
    """As for replay: the second pair is only written after the first result is out."""
    fifo = tmp_path / "pairs.jsonl"
    os.mkfifo(fifo)
    side = {"title": ARTICLE["title"], "text": ARTICLE["text"]}
    command = [sys.executable, "-m", "monitor.cli", "similarity", str(fifo)]
    scorer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        assert scorer.stdout is not None
        with _writer(fifo, scorer) as feed:
            feed.write(_line({"id": "p1", "a": side, "b": side}))
            feed.flush()
            ready, _, _ = select.select([scorer.stdout], [], [], 60)
            assert ready, "no result within 60 s of the first pair"
            assert json.loads(scorer.stdout.readline())["id"] == "p1"
            feed.write(b"\xff\n")
        assert json.loads(scorer.stdout.readline())["rejected"]["reason"] == "invalid_utf8"
        assert scorer.wait(timeout=60) == 0
    finally:
        scorer.kill()
