"""How a notification reads: subject, plain text and right-to-left HTML, shared by the channels.

The original Arabic is kept and the newest alert comes first; ``shorten`` cuts a text to a
receiver's limit without splitting an escaped entity.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from monitor.alerts.records import Notification
from monitor.core.records import Alert

__all__ = [
    "KIND_LABELS",
    "alert_text",
    "more_line",
    "render_html",
    "render_text",
    "shorten",
    "subject",
]

KIND_LABELS = {"new_story": "قصة جديدة", "development": "تطور جديد", "breaking": "عاجل"}


def subject(notification: Notification) -> str:
    alert = notification.alert
    if notification.kind == "digest":
        return f"ملخص: {len(notification.alerts)} تنبيهات — {alert.story_title}"
    return f"[{KIND_LABELS[alert.kind]}] {alert.story_title}"


def more_line(notification: Notification) -> str | None:
    """The line saying how many earlier alerts a cool-down folded into this one, if any."""
    if notification.kind == "digest" or len(notification.alerts) < 2:
        return None
    return f"(+{len(notification.alerts) - 1} تطورات سابقة خلال فترة التهدئة)"


def alert_text(alert: Alert) -> list[str]:
    lines = [f"{KIND_LABELS[alert.kind]}: {alert.title or alert.story_title} — {alert.outlet}"]
    lines += [f"• {sentence}" for sentence in alert.new_sentences]
    if alert.kind == "breaking":
        outlets = ", ".join(s.outlet for s in alert.sources)
        lines.append(f"تتناقلها {len(alert.sources)} وسائل إعلام: {outlets}")
    lines += alert.links
    if alert.story_url:
        lines.append(f"القصة كاملة: {alert.story_url}")
    return lines


def render_text(notification: Notification) -> str:
    """Plain-text body (original Arabic, newest alert first)."""
    lines = [subject(notification), ""]
    if more := more_line(notification):
        lines += [more, ""]
    for alert in reversed(notification.alerts):
        lines += [*alert_text(alert), ""]
    return "\n".join(lines).strip() + "\n"


def _alert_html(alert: Alert) -> str:
    e = html.escape
    parts = [
        f"<h3>{e(KIND_LABELS[alert.kind])}: {e(alert.title or alert.story_title)}"
        f" <small>({e(alert.outlet)})</small></h3>"
    ]
    if alert.new_sentences:
        items = "".join(f"<li>{e(s)}</li>" for s in alert.new_sentences)
        parts.append(f"<ul>{items}</ul>")
    if alert.sources:
        items = "".join(
            f'<li><a href="{e(s.url)}">{e(s.outlet)}</a> {e(s.title)}</li>'
            if s.url
            else f"<li>{e(s.outlet)} {e(s.title)}</li>"
            for s in alert.sources
        )
        parts.append(f"<p>المصادر:</p><ul>{items}</ul>")
    links = [link for link in alert.links if not any(s.url == link for s in alert.sources)]
    parts += [f'<p><a href="{e(link)}">{e(link)}</a></p>' for link in links]
    if alert.story_url:
        parts.append(f'<p><a href="{e(alert.story_url)}">القصة كاملة</a></p>')
    return "\n".join(parts)


def render_html(notification: Notification) -> str:
    """A right-to-left HTML document of the notification."""
    e = html.escape
    body = [f"<h2>{e(subject(notification))}</h2>"]
    if more := more_line(notification):
        body.append(f"<p>{e(more)}</p>")
    body += [_alert_html(alert) for alert in reversed(notification.alerts)]
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head><meta charset="utf-8">'
        f"<title>{e(subject(notification))}</title></head>\n"
        '<body dir="rtl" lang="ar" style="direction:rtl;text-align:right">\n'
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def shorten(
    text: str,
    limit: int,
    escape: Callable[[str], str],
    measure: Callable[[str], int] = len,
) -> str:
    """``escape(text)``, cut to at most ``limit`` (as ``measure`` counts) with a final "…".

    The text is cut *before* escaping, so no entity is split; at a space when one is near.

    >>> shorten("a & b & c & d", 9, html.escape)
    'a &amp;…'
    """
    escaped = escape(text)
    if measure(escaped) <= limit:
        return escaped
    cut = text[: max(0, limit - 1)]
    while cut and measure(escape(cut)) + 1 > limit:
        # An escaped character is at most 6 long: drop enough at once, at least one.
        cut = cut[: len(cut) - max(1, (measure(escape(cut)) + 1 - limit) // 6)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return escape(cut.rstrip()) + "…"
