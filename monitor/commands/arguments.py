"""Checked argument types for the subcommands' options: a nonsense value (a negative port or
duration) is argparse's one-line usage error and exit status 2, like a bad setting."""

from __future__ import annotations

import argparse
import math

__all__ = ["port", "seconds"]


def port(text: str) -> int:
    """A TCP port, 0 (off) to 65535.

    >>> port("9464")
    9464
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} outside 0..65535")
    return value


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds.

    >>> seconds("0.5")
    0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} seconds: must be a finite number >= 0")
    return value
