"""The ``monitor`` command.

Each subcommand lives in the module that owns it; this file only wires them up, so adding a
command never touches another's code. A command module exposes ``register(subparsers)`` which
adds its parser and sets ``func`` (a callable taking the parsed args and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from monitor.lifecycle import tune_gc
from monitor.settings import ConfigError

__all__ = ["main"]

# module path -> provides register(subparsers)
_COMMAND_MODULES: tuple[str, ...] = (
    "monitor.commands.run",
    "monitor.commands.replay",
    "monitor.commands.similarity",
    "monitor.commands.poll",
    "monitor.commands.worker",
    "monitor.commands.dispatch",
    "monitor.commands.services",
    "monitor.commands.web",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Arabic news monitor: same story across outlets, alerts on new developments.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tune_gc()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        # A configuration mistake is the operator's to fix: what and where, not a traceback.
        for line in str(exc).splitlines():
            print(f"monitor {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
