"""The ``monitor`` command.

Each subcommand lives in the module that owns it; this file only wires them up, so adding a
command never touches another's code. A command module exposes ``register(subparsers)`` which
adds its parser and sets ``func`` (a callable taking the parsed args and returning an exit code).

Only the module of the command being run is imported (``monitor --help`` and a quick command
do not pay for the imports of the others: Kafka clients, the web server, numpy); the others
appear in the help as their one-line summaries below (``tests/test_cli.py`` checks that each
summary is the one its module registers).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import logging
import sys
from collections.abc import Sequence

from monitor.lifecycle import tune_gc

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "monitor.commands.run",
        "run the whole monitor in one process (bundled sample feeds unless --feeds)",
    ),
    "replay": (
        "monitor.commands.replay",
        "run article files through the pipeline, print one decision per line",
    ),
    "similarity": (
        "monitor.commands.similarity",
        "score article pairs with the story stage's similarity",
    ),
    "poll": ("monitor.commands.poll", "poll the news feeds and produce new entries to Kafka"),
    "worker": (
        "monitor.commands.worker",
        "run the Faust agents (clean, fingerprint, story) on Kafka and Redis",
    ),
    "dispatch": (
        "monitor.commands.dispatch",
        "deliver alerts to subscribers (webhook, Slack, Telegram, email, SSE)",
    ),
    "services": (
        "monitor.commands.services",
        "start/stop real Kafka and Redis on loopback (source checkout only)",
    ),
    "web": ("monitor.commands.web", "serve the story browser and story API"),
}
"""Command -> (module providing ``register(subparsers)``, one-line summary for the help)."""

_GLOBAL_FLAGS = frozenset({"-v", "--verbose"})


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv``: the first argument that is not a global flag."""
    for arg in argv:
        if arg in _GLOBAL_FLAGS:
            continue
        return arg if arg in COMMANDS else None
    return None


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Arabic news monitor: same story across outlets, alerts on new developments.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = _command_in(argv)
    for name, (module_name, summary) in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=summary)  # listed in the help, never run
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not built yet
                continue
            raise
        module.register(sub)
    return parser


def _freeze_at_exit() -> None:
    """At interpreter exit, put every object still alive out of the collector's sight: the
    interpreter's last collections would walk all of them (the tables, the caches) for memory
    the system takes back anyway, 0.2 s after a replay of the 2013 stream. What is then left
    alive at exit is not finalized (no ``__del__`` of a module's object runs; the standard
    streams and open files are still flushed), so only a command that leaves nothing to
    finalize asks for it (``freeze_at_exit`` in its parser's defaults)."""
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    program = argv is None  # the process is this command (not a caller's, such as a test)
    if argv is None:
        argv = sys.argv[1:]
    tune_gc()  # before the command's imports, which allocate (and would collect) a lot
    args = _parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if program and getattr(args, "freeze_at_exit", False):
        atexit.register(_freeze_at_exit)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        from monitor.settings import ConfigError  # imported by every command that reads it

        if not isinstance(exc, ConfigError):
            raise
        # A configuration mistake is the operator's to fix: what and where, not a traceback.
        for line in str(exc).splitlines():
            print(f"monitor {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
