"""``monitor services``: real Kafka and Redis on this machine, without Docker (a checkout only).

A thin wrapper around ``scripts/services`` (see that script for details)::

    eval "$(monitor services up)"          # prints export MONITOR_KAFKA__BOOTSTRAP=... lines
    monitor services down "$MONITOR_SERVICES_DIR"
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

__all__ = ["register", "services_script"]

_SUBCOMMANDS = (
    "up",
    "down",
    "status",
    "stop-kafka",
    "start-kafka",
    "stop-redis",
    "start-redis",
    "fetch-kafka",
)


def services_script() -> Path:
    """``scripts/services`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "scripts" / "services"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "services", help="start/stop real Kafka and Redis on loopback (source checkout only)"
    )
    parser.add_argument("action", choices=_SUBCOMMANDS)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="e.g. the services dir")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    script = services_script()
    if not script.is_file():
        print(f"monitor services: {script} not found (needs a source checkout of the monitor)")
        return 2
    return subprocess.run(["bash", str(script), args.action, *args.args], check=False).returncode
