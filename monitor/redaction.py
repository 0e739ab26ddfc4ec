"""Keep secrets out of log lines, exception messages, dead letters and metric labels.

A secret (a Telegram bot token, a Slack webhook URL, a webhook signing secret or authorisation
header, the password of a Redis URL or an SMTP login) is registered with ``register`` when the
configuration holding it is loaded or resolved. From then on ``redact`` replaces it with
``[REDACTED]``, and so does every log record of the process before any handler sees it: the
first ``register`` installs a log-record factory. That catches what we do not write ourselves,
e.g. httpx, which logs every request URL at INFO (a Telegram URL carries the bot token).

Error texts that may quote a secret (``DeliveryError``, ``FetchError``) are redacted when they
are built, so the retry reason kept in Redis and the dead letter are clean too.

>>> register("123456:AAE-example-bot-token")
>>> redact("POST https://api.telegram.org/bot123456:AAE-example-bot-token/sendMessage")
'POST https://api.telegram.org/bot[REDACTED]/sendMessage'
>>> url_secrets("redis://:p%40ss@redis:6379/0?ssl_cert_reqs=none")
['p%40ss', 'p@ss']
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "REDACTED",
    "header_secrets",
    "redact",
    "register",
    "sensitive_name",
    "url_secrets",
]

REDACTED = "[REDACTED]"
# Shorter values would blank out ordinary words of unrelated log lines.
_MIN_LENGTH = 4
_SENSITIVE_NAME = re.compile(
    r"auth|token|secret|passw|key|sig|cookie|session|credential|bearer", re.IGNORECASE
)

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_factory_installed = False


def sensitive_name(name: str) -> bool:
    """Whether a header or query parameter of this name usually carries a credential.

    >>> sensitive_name("Authorization"), sensitive_name("X-Api-Key"), sensitive_name("X-Team")
    (True, True, False)
    """
    return bool(_SENSITIVE_NAME.search(name))


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: the password of its user info (as written and decoded)
    and the values of query parameters named like credentials."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found: list[str] = []
    if password:
        found += [password, unquote(password)]
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if sensitive_name(name):
            found.append(value)
    return sorted(set(found))


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """Values of the headers named like credentials (``Authorization``, ``X-Api-Key``, ...)."""
    return [value for name, value in headers.items() if sensitive_name(name)]


def register(*values: str | None) -> None:
    """Redact these values from now on (empty and very short values are ignored)."""
    global _pattern
    new = {value for value in values if value and len(value) >= _MIN_LENGTH} - _secrets
    if not new:
        return
    with _lock:
        _secrets.update(new)
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(secret) for secret in ordered))
        _install_log_redaction()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[REDACTED]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def _install_log_redaction() -> None:
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _pattern is not None:
            _redact_record(record)
        return record

    logging.setLogRecordFactory(redacting_factory)


def _redact_record(record: logging.LogRecord) -> None:
    # Records are only made once the level check passed, so formatting them here is no waste.
    try:
        message = record.getMessage()
    except Exception:  # malformed arguments: logging reports those itself when emitting
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters use a ready exc_text instead of formatting the traceback again.
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
