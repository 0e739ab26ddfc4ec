"""Alerts link to their story page when ``web.base_url`` is set."""

from __future__ import annotations

from monitor.alerts.channels import render_html, render_text
from monitor.alerts.dispatcher import Dispatcher
from monitor.alerts.records import Notification
from monitor.alerts.sse import AlertBroadcaster
from monitor.alerts.subscriptions import Subscriptions
from monitor.core.records import Alert
from monitor.stores.deliveries import MemoryDeliveryStore


def alert() -> Alert:
    return Alert(
        id="a1", kind="new_story", story="st-1 x", story_title="زيارة", article="x", outlet="o"
    )


async def test_alerts_carry_the_story_url_when_base_url_is_set() -> None:
    broadcaster = AlertBroadcaster()
    linked = Dispatcher(Subscriptions(subscribers=[]), MemoryDeliveryStore(60), broadcaster=broadcaster,
                        story_base_url="https://news.example/monitor/")  # fmt: skip
    await linked.handle_alert(sent := alert())
    assert sent.story_url == "https://news.example/monitor/stories/st-1%20x"
    assert broadcaster.since("none")[0].story_url == sent.story_url
    unlinked = Dispatcher(Subscriptions(subscribers=[]), MemoryDeliveryStore(60))
    await unlinked.handle_alert(plain := alert())
    assert plain.story_url is None


def test_channels_show_the_story_link() -> None:
    linked = alert()
    linked.story_url = "https://news.example/stories/st-1"
    notification = Notification.build("s", [linked])
    assert "https://news.example/stories/st-1" in render_text(notification)
    assert 'href="https://news.example/stories/st-1"' in render_html(notification)
