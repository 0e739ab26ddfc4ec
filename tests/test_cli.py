"""The ``monitor`` command line: each command imports what it uses (a quick command starts
quickly), and the help lists every command with the summary its module registers."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pydantic", "redis", "faust", "aiokafka", "httpx", "fastapi", "trafilatura")


def _imported_after(*argv: str) -> list[str]:
    """The heavy packages a ``monitor ARGV`` process had imported when it exited."""
    script = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}}"
        f" & set({list(HEAVY)!r}))), file=sys.stderr))\n"
        "from monitor.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [("--help",), ("replay", "--help")])
def test_help_imports_nothing_heavy(argv: tuple[str, ...]) -> None:
    assert _imported_after(*argv) == []


def test_replay_of_an_empty_file_imports_nothing_heavy(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert _imported_after("replay", str(empty)) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_summary_is_the_one_the_command_registers(command: str) -> None:
    module_name, summary = COMMANDS[command]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module_name).register(sub)
    [action] = sub._choices_actions
    assert (action.dest, action.help) == (command, summary)


def _replay_and_freeze_registered(*, as_program: bool) -> tuple[str, bool]:
    """A replay of the seeds in a new process, through ``main()`` as the console script
    calls it or ``main(argv)`` as a caller does: its output, and whether the freeze at exit
    was registered."""
    seeds = str(ROOT / "tests" / "data" / "seeds.jsonl")
    argv = ["replay", "--workers", "2", seeds]
    call = f"sys.argv = ['monitor', *{argv!r}]; code = main()"
    if not as_program:
        call = f"code = main({argv!r})"
    script = (
        "import atexit, sys\n"
        "names = []\n"
        "register = atexit.register\n"
        "atexit.register = lambda f, *a: names.append(f.__name__) or register(f, *a)\n"
        "from monitor.cli import main\n"
        f"{call}\n"
        "print('_freeze_at_exit' in names, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.splitlines()[-1] == "True"


def test_a_replay_run_as_the_program_freezes_the_collector_at_exit_and_writes_all() -> None:
    """``monitor replay`` as the process's command has ``main`` freeze the collector at exit
    (its last collections would walk every object left) and still writes every line, the
    same as in a caller's process; a caller of ``main(argv)`` (a test) keeps its collector."""
    program, frozen = _replay_and_freeze_registered(as_program=True)
    called, caller_frozen = _replay_and_freeze_registered(as_program=False)
    assert frozen and not caller_frozen
    assert len(program.splitlines()) == 5
    assert program == called
