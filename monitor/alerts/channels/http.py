"""What the HTTP channels share: the JSON POST, its error mapping and request signing.

Every request carries the notification's idempotency key (``Idempotency-Key``). With a
secret, ``X-Monitor-Timestamp: <unix seconds>`` and
``X-Monitor-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`` are added
(the convention of Stripe and Slack: the timestamp is signed, so a captured request cannot be
replayed once the receiver's tolerance has passed; each attempt is signed afresh, with the
same body and key); ``verify`` is the receiver's check.

>>> signature = sign(b"secret", b'{"a":1}', 1700000000)
>>> signature
'v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686'
>>> verify(b"secret", b'{"a":1}', "1700000000", signature, now=1700000100)
True
>>> verify(b"secret", b'{"a":1}', "1700000000", signature, now=1700000400)  # too old
False
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import time
from typing import Any, Generic, Self, TypeVar

import httpx
from pydantic import Field, SecretStr

from monitor import redaction
from monitor.alerts.channels.base import ChannelContext, ChannelSettings, DeliveryError
from monitor.netguard import PrivateAddressError

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "HttpChannel",
    "SignedChannelSettings",
    "post_json",
    "sign",
    "verify",
]

_RETRYABLE_4XX = frozenset({408, 409, 425, 429})
TIMESTAMP_HEADER = "X-Monitor-Timestamp"
SIGNATURE_HEADER = "X-Monitor-Signature"
SIGNATURE_VERSION = "v1="
SIGNATURE_TOLERANCE_SECONDS = 300.0
"""What receivers should accept (README, "Security"); a retry is signed afresh, so a
tolerance shorter than the longest retry delay loses nothing."""


class SignedChannelSettings(ChannelSettings):
    """A channel whose requests are signed when a secret is set."""

    secret: SecretStr | None = None
    secret_env: str | None = Field(None, description="Read the secret from this env variable.")

    def resolved_secret(self) -> str | None:
        if self.secret_env:
            value = os.environ.get(self.secret_env)
            redaction.register(value)
            return value
        return self.secret.get_secret_value() if self.secret else None


Config = TypeVar("Config", bound=ChannelSettings)


class HttpChannel(Generic[Config]):
    """A channel that posts with the dispatcher's HTTP client; subclasses say what."""

    kind: str

    def __init__(self, config: Config, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    @classmethod
    def build(cls, config: Config, context: ChannelContext) -> Self:
        """What ``register_channel`` is given."""
        return cls(config, context.client)


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Monitor-Signature`` header value of ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_VERSION + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check of the ``X-Monitor-Timestamp`` and ``X-Monitor-Signature``
    headers: the timestamp is within ``tolerance`` seconds of ``now`` and the signature is
    that of ``timestamp.body`` (compared in constant time)."""
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, int(timestamp)), signature)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the receiver asked us to wait: ``Retry-After``, or the Telegram Bot API's
    ``{"parameters": {"retry_after": N}}``."""
    value: Any = response.headers.get("Retry-After")
    if value is None and response.headers.get("Content-Type", "").startswith("application/json"):
        with contextlib.suppress(ValueError, AttributeError):
            value = response.json().get("parameters", {}).get("retry_after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def post_json(
    client: httpx.AsyncClient, url: str, payload: Any, headers: dict[str, str], secret: str | None
) -> httpx.Response:
    """POST ``payload`` as UTF-8 JSON; any failure is a ``DeliveryError``, permanent for a
    4xx reply other than those worth retrying (408, 409, 425, 429) and a refused URL."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    if secret:
        # Signed per attempt: a retry carries a fresh timestamp (and the same key and body).
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(secret.encode(), body, timestamp)
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout: {type(exc).__name__}") from exc
    except httpx.InvalidURL as exc:  # not an HTTPError: a misconfigured channel
        raise DeliveryError(f"invalid URL: {exc}", permanent=True) from exc
    except PrivateAddressError as exc:  # alerts.allowed_networks can allow it
        raise DeliveryError(f"refused: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.is_success:
        return response
    status = response.status_code
    permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
    raise DeliveryError(
        f"HTTP {status}: {response.text[:200]}",
        permanent=permanent,
        retry_after=_retry_after(response),
    )
