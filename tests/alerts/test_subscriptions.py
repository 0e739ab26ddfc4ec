"""Subscriber filters and the self-reloading subscriptions file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.alerts.channels import EmailChannelConfig, WebhookChannelConfig
from monitor.alerts.subscriptions import Subscriber, SubscriptionsFile, load_subscriptions
from monitor.metrics import SUBSCRIPTION_RELOADS
from tests.alerts.conftest import make_alert

ROOT = Path(__file__).resolve().parents[2]


def _subscriber(**filters: object) -> Subscriber:
    return Subscriber.model_validate(
        {
            "id": "s",
            "channel": {"type": "webhook", "url": "http://127.0.0.1:9/"},
            "filters": filters,
        }
    )


@pytest.mark.parametrize(
    ("word", "sentence", "expected"),
    [
        ("بوتين", "وصل بوتين إلى بيونغ يانغ", True),
        ("بوتين", "رحب كيم وبوتين بالاتفاق", True),  # attached conjunction
        ("بوتين", "قال لبوتين، إن", True),  # preposition + Arabic comma
        ("بوتينُ", "وصل بوتين", True),  # tashkeel in the filter
        ("بوتين", "الحقبة البوتينية", False),  # a different word
        ("كوريا الشمالية", "زار كوريا الشمالية أمس", True),
        ("كوريا الشمالية", "زار كوريا الجنوبية ثم الشمالية", False),
        ("مسؤول", "قال مسئول روسي", True),  # hamza carrier variants
        ("أبوظبي", "وصل إلى ابوظبى", True),  # alef and final ya variants
    ],
)
def test_words_match_on_normalised_tokens(word: str, sentence: str, expected: bool) -> None:
    alert = make_alert(sentences=[sentence], title="", story_title="زيارة")
    assert _subscriber(words=[word]).matches(alert) is expected


def test_words_also_search_titles() -> None:
    alert = make_alert(sentences=["لا شيء"], title="الكرملين يعلن الزيارة", story_title="زيارة")
    assert _subscriber(words=["الكرملين"]).matches(alert)


def test_names_match_within_the_alert_names() -> None:
    alert = make_alert(sentences=["نص"], names=["فلاديمير بوتين"])
    assert _subscriber(names=["بوتين"]).matches(alert)
    assert not _subscriber(names=["بايدن"]).matches(alert)
    # words OR names: either is enough
    assert _subscriber(words=["بايدن"], names=["بوتين"]).matches(alert)


def test_other_filters_must_all_hold() -> None:
    alert = make_alert(kind="development", outlet="youm7", story="s9", score=0.5)
    assert _subscriber(kinds=["development"], outlets=["youm7"], stories=["s9"]).matches(alert)
    assert not _subscriber(kinds=["breaking"]).matches(alert)
    assert not _subscriber(outlets=["ahram"]).matches(alert)
    assert not _subscriber(stories=["s1"]).matches(alert)
    assert not _subscriber(min_score=0.6).matches(alert)
    assert _subscriber(min_score=0.5).matches(alert)
    assert _subscriber().matches(alert)


def test_disabled_subscribers_match_nothing() -> None:
    subscriber = _subscriber().model_copy(update={"enabled": False})
    assert not subscriber.matches(make_alert())


def test_filter_phrases_without_words_are_rejected() -> None:
    with pytest.raises(ValueError, match="no word"):
        _subscriber(words=["،؟"])


def test_shipped_example_is_valid_and_watches_putin() -> None:
    subscriptions = load_subscriptions(ROOT / "config" / "subscriptions.yaml")
    [desk] = subscriptions.subscribers
    assert isinstance(desk.channel, WebhookChannelConfig)
    assert desk.channel.url.startswith("http://127.0.0.1")
    assert desk.matches(make_alert(sentences=["أعلن الكرملين أن بوتين سيزور كوريا"]))
    assert not desk.matches(make_alert(sentences=["فيضانات في باكستان"], title="", story_title="x"))


def test_commented_examples_of_the_shipped_file_are_valid(tmp_path: Path) -> None:
    text = (ROOT / "config" / "subscriptions.yaml").read_text(encoding="utf-8")
    _header, body = text.split("\nsubscribers:\n")
    uncommented = "subscribers:\n" + "\n".join(
        line.replace("#  ", "  ", 1) if line.startswith("#  ") else line
        for line in body.splitlines()
    )
    path = tmp_path / "all.yaml"
    path.write_text(uncommented, encoding="utf-8")
    subscribers = load_subscriptions(path).subscribers
    assert [s.channel.type for s in subscribers] == ["webhook", "slack", "telegram", "email"]
    email = subscribers[3].channel
    assert isinstance(email, EmailChannelConfig) and email.sender == "monitor@example.org"
    assert subscribers[3].digest_seconds == 3600


def _write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_file_reloads_on_change_and_keeps_the_old_version_when_invalid(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yaml"
    one = "subscribers:\n  - id: a\n    channel: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
    _write(path, one, 1_000)
    source = SubscriptionsFile(path)
    assert [s.id for s in source.current().subscribers] == ["a"]

    two = one + "  - id: b\n    channel: {type: webhook, url: 'http://127.0.0.1:2/'}\n"
    _write(path, two, 2_000)
    assert [s.id for s in source.current().subscribers] == ["a", "b"]

    invalid = SUBSCRIPTION_RELOADS.labels(outcome="invalid")
    before = invalid._value.get()
    _write(path, "subscribers:\n  - id: c\n    channel: {type: pigeon}\n", 3_000)
    assert [s.id for s in source.current().subscribers] == ["a", "b"]
    assert invalid._value.get() == before + 1
    _write(path, "subscribers: [: broken yaml", 4_000)
    assert [s.id for s in source.current().subscribers] == ["a", "b"]
    assert invalid._value.get() == before + 2
    # An unchanged (still invalid) file is not re-read or re-counted.
    assert [s.id for s in source.current().subscribers] == ["a", "b"]
    assert invalid._value.get() == before + 2

    _write(path, one, 5_000)
    assert [s.id for s in source.current().subscribers] == ["a"]


def test_duplicate_subscriber_ids_are_invalid(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    entry = "  - id: a\n    channel: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
    path.write_text("subscribers:\n" + entry + entry, encoding="utf-8")
    with pytest.raises(ValueError, match="unique"):
        load_subscriptions(path)
