"""The embedded monitor (``monitor run``) on the bundled sample: real poller, pipeline and
dispatcher in one process, alerts printed as they happen."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from monitor.commands.run import run_embedded
from monitor.samples import SampleSite, load_samples
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


async def test_sample_run_prints_the_putin_story_its_developments_and_no_reprints() -> None:
    out = io.StringIO()
    summary = await run_embedded(Settings(), once=True, out=out, sample_interval=0.4)
    samples = load_samples()
    assert summary.articles == len(samples)  # every article polled and decided exactly once
    assert summary.decisions["duplicate"] >= 10  # the sample's reprints ...
    pipeline_alerts = [a for a in summary.printed if a.kind != "breaking"]
    # ... raise no alert: one alert per new story or development, each printed once.
    assert len(pipeline_alerts) == summary.decisions["new_story"] + summary.decisions["development"]
    assert sorted(a.id for a in pipeline_alerts) == sorted(a.id for a in summary.alerts)
    assert not [k for k, n in Counter(a.id for a in summary.printed).items() if n > 1]

    putin = [a for a in pipeline_alerts if "بوتين" in a.story_title]
    assert [(a.kind, a.outlet) for a in putin][:3] == [
        ("new_story", "24.ae"),
        ("development", "independentarabia"),
        ("development", "khaleejion24"),
    ]
    assert putin[-1].outlet == "seed003" and putin[-1].kind == "development"
    assert len({a.story for a in putin}) == 1
    assert "vetogate" not in {a.outlet for a in putin}  # 004: the wire copy of 000
    arrival = " ".join(putin[-1].new_sentences)
    assert "وصل الرئيس الروسي فلاديمير بوتين إلى كوريا الشمالية" in arrival

    text = out.getvalue()
    assert text.count("NEW STORY (قصة جديدة)") == summary.decisions["new_story"]
    assert "DEVELOPMENT (تطور جديد) | independentarabia" in text
    assert "القصة: بوتين يقبل دعوة كيم لزيارة كوريا الشمالية" in text


def test_command_prints_alerts_and_stops_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--interval", "0.3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        first = ""
        while time.monotonic() < deadline and "NEW STORY" not in first:
            first = process.stdout.readline()
        assert "NEW STORY" in first
        process.send_signal(signal.SIGINT)
        _rest, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert "articles decided" in errors


def test_duration_ends_the_run() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run", "--duration", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "NEW STORY" in result.stdout
    assert time.monotonic() - started < 30


async def test_once_on_given_feeds_polls_each_feed_once_then_exits() -> None:
    site = SampleSite(load_samples(), interval=0.0)  # every article already out
    await site.start()
    try:
        out = io.StringIO()
        settings = Settings(poller={"host_min_spacing_seconds": 0.0})
        feeds = site.feeds(poll_min=60, poll_max=60)
        summary = await run_embedded(settings, feeds=feeds, once=True, out=out)
    finally:
        await site.stop()
    assert summary.articles == len(site.articles)
    alerting = summary.decisions["new_story"] + summary.decisions["development"]
    assert len([a for a in summary.printed if a.kind != "breaking"]) == alerting > 0
