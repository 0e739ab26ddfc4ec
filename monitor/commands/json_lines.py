"""Reading JSON-lines input files one line at a time, where a bad line is a result, not a crash.

``monitor replay`` and ``monitor similarity`` promise one output line per input line. So every
line of the file is read and decoded on its own (an invalid UTF-8 byte spoils only its line),
parsed on its own, and handed on either as a JSON object (``JsonRow``) or as what is wrong
with it (``BadLine``: a machine-readable reason and a detail naming the file and the line).
Nothing is read ahead: the caller can write each result before the next line is read.

>>> rows = list(read_json_lines([b'{"id": 1}\\n', b"[1]\\n", b"\\xff\\n"], "in.jsonl"))
>>> rows[0]
JsonRow(number=1, row={'id': 1})
>>> [(bad.reason, bad.detail) for bad in rows[1:]]  # doctest: +NORMALIZE_WHITESPACE
[('not_an_object', 'in.jsonl line 2: expected a JSON object, got an array'),
 ('invalid_utf8', 'in.jsonl line 3: invalid UTF-8 (byte 0xff at column 1)')]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BadLine", "BadLineReason", "JsonRow", "parse_json_line", "read_json_lines"]

BadLineReason = Literal["blank_line", "invalid_utf8", "malformed_json", "not_an_object"]

_JSON_TYPES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


@dataclass(frozen=True, slots=True)
class JsonRow:
    number: int
    """1-based line number in the file."""
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadLine:
    number: int
    reason: BadLineReason
    detail: str
    """``"<source> line <number>: <what is wrong>"``, for people and logs."""


def read_json_lines(lines: Iterable[bytes | str], source: str) -> Iterator[JsonRow | BadLine]:
    """One ``JsonRow`` or ``BadLine`` per line of ``lines`` (bytes from a file opened in
    binary mode, or text), in order. ``source`` names the input in the details."""
    for number, line in enumerate(lines, 1):
        yield parse_json_line(number, line, source)


def parse_json_line(number: int, line: bytes | str, source: str) -> JsonRow | BadLine:
    """Line ``number`` (1-based) of ``source`` as a ``JsonRow`` or a ``BadLine``: the step
    of ``read_json_lines`` for one line, for a reader that hands lines to other processes."""
    where = f"{source} line {number}"
    if isinstance(line, bytes):
        try:
            # A byte-order mark may open the file; it is not part of the first row.
            line = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 1].hex()
            detail = f"{where}: invalid UTF-8 (byte 0x{bad} at column {exc.start + 1})"
            return BadLine(number, "invalid_utf8", detail)
    if not line.strip():
        return BadLine(number, "blank_line", f"{where}: blank line")
    try:
        row = json.loads(line, parse_constant=_reject_constant)
    except ValueError as exc:  # json.JSONDecodeError, NaN/Infinity, over-long integers
        return BadLine(number, "malformed_json", f"{where}: malformed JSON: {exc}")
    except RecursionError:
        return BadLine(number, "malformed_json", f"{where}: malformed JSON: nested too deep")
    if not isinstance(row, dict):
        kind = _JSON_TYPES.get(type(row), type(row).__name__)
        return BadLine(number, "not_an_object", f"{where}: expected a JSON object, got {kind}")
    return JsonRow(number, row)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and no field of ours may hold them.
    raise ValueError(f"{name} is not a JSON value")
