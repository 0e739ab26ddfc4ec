"""Article files as inputs of the pipeline: ``.txt`` and ``.html`` pages, ``.jsonl`` lines.

Every input becomes one article or one ``input`` stage ``Rejection`` (a line that is not a
JSON object of the right types, an unreadable file), in order; ``monitor replay`` writes one
decision per input. ``read_inputs`` parses as it reads; ``input_items`` leaves each
``.jsonl`` line as its bytes (``InputLine``) for ``to_input`` to parse later, so that a
reader can hand the parsing to the processes that clean the articles
(``monitor.workers``) and only read lines itself. Both give the same inputs.

Imports are light on purpose: the records (pydantic) are imported on first use.

>>> from pathlib import Path
>>> line = InputLine(source="feed.jsonl", stem="feed", number=3, data=b'{"id": 7, "title": "x"}')
>>> to_input(line).id, to_input(line).outlet
('7', 'unknown')
>>> to_input(InputLine("feed.jsonl", "feed", 4, b"[1]")).detail
'feed.jsonl line 4: expected a JSON object, got an array'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.commands.json_lines import BadLine, parse_json_line

if TYPE_CHECKING:
    from monitor.core.records import RawArticle, Rejection

__all__ = [
    "InputLine",
    "count_inputs",
    "input_items",
    "read_articles",
    "read_inputs",
    "to_input",
]


@dataclass(frozen=True, slots=True)
class InputLine:
    """One line of a ``.jsonl`` file, not parsed yet."""

    source: str
    """The file as named on the command line (details name it)."""
    stem: str
    """The file's stem: an article without an id gets ``<stem>-<number>``."""
    number: int
    """1-based line number."""
    data: bytes


def read_inputs(paths: Iterable[Path]) -> Iterator[RawArticle | Rejection]:
    """One article, or the rejection of what could not be read, per input, in order.

    An input is a ``.txt`` or ``.html`` file, or one line of a ``.jsonl`` file (read a line
    at a time). A line that is not a JSON object, or whose fields have the wrong types, is an
    ``input`` stage ``Rejection`` naming the file, the line and the problem. An article
    without an id gets ``<file stem>-<line number>``.
    """
    for item in input_items(paths):
        yield to_input(item) if isinstance(item, InputLine) else item


def read_articles(paths: Iterable[Path]) -> Iterator[RawArticle]:
    """The articles of ``paths``, in order; raises ``ValueError`` at the first bad input
    (for callers that need every input to be an article: tests, benchmarks)."""
    from monitor.core.records import Rejection

    for item in read_inputs(paths):
        if isinstance(item, Rejection):
            raise ValueError(item.detail)
        yield item


def input_items(paths: Iterable[Path]) -> Iterator[RawArticle | Rejection | InputLine]:
    """``read_inputs`` with each ``.jsonl`` line left unparsed (``to_input`` parses it)."""
    for path in paths:
        if path.suffix == ".jsonl":
            yield from _jsonl_lines(path)
        else:
            yield _page(path)


def to_input(line: InputLine) -> RawArticle | Rejection:
    """The article of a ``.jsonl`` line, or the ``input`` rejection that says what is wrong."""
    parsed = parse_json_line(line.number, line.data, line.source)
    default_id = f"{line.stem}-{line.number}"
    if isinstance(parsed, BadLine):
        return _input_rejection(default_id, "unknown", parsed.reason, parsed.detail)
    return _from_json(parsed.row, default_id, f"{line.source} line {line.number}")


def count_inputs(paths: Iterable[Path]) -> int:
    """Inputs in ``paths`` (for a progress bar), counted without holding a file in memory."""
    count = 0
    for path in paths:
        if path.suffix != ".jsonl":
            count += 1
            continue
        try:
            with path.open("rb") as lines:
                count += sum(1 for _ in lines)
        except OSError:
            pass
    return count


def _page(path: Path) -> RawArticle | Rejection:
    from monitor.core.records import RawArticle

    try:
        page = _read_page(path)
    except OSError as exc:
        return _input_rejection(path.stem, path.stem, "unreadable", f"{path}: {exc.strerror}")
    if path.suffix in (".html", ".htm"):
        return RawArticle(id=path.stem, outlet=path.stem, html=page)
    return RawArticle(id=path.stem, outlet=path.stem, text=page)


def _read_page(path: Path) -> str:
    """A ``.txt`` or ``.html`` file as text: UTF-8 unless an HTML page declares otherwise,
    and in the charset it really is in when that does not fit (an Arabic windows-1256 page
    saved from a site that declares UTF-8). Newlines as in text mode."""
    from monitor.core.charset import decode_declared, meta_charset

    body = path.read_bytes()
    declared = [meta_charset(body)] if path.suffix in (".html", ".htm") else []
    text = decode_declared(body, declared).text
    return text.replace("\r\n", "\n").replace("\r", "\n")


_READ_BUFFER = 1 << 20
"""Bytes read at a time from a ``.jsonl`` file (a pipe gives what it has, never waits for
more): a read is a system call, which gives up the GIL to the threads of a replay."""


def _jsonl_lines(path: Path) -> Iterator[RawArticle | Rejection | InputLine]:
    try:
        lines = path.open("rb", buffering=_READ_BUFFER)
    except OSError as exc:
        yield _input_rejection(path.stem, path.stem, "unreadable", f"{path}: {exc.strerror}")
        return
    source, stem = str(path), path.stem
    with lines:
        for number, data in enumerate(lines, 1):
            yield InputLine(source, stem, number, data)


def _from_json(row: dict[str, Any], default_id: str, where: str) -> RawArticle | Rejection:
    from pydantic import ValidationError

    from monitor.core.records import RawArticle

    row = dict(row)
    article_id = _name(row.get("id"), default_id)
    outlet = _name(row.get("outlet"), "unknown")
    if article_id is None or outlet is None:
        field = "id" if article_id is None else "outlet"
        detail = f"{where}: {field}: must be a string or an integer"
        return _input_rejection(
            article_id or default_id, outlet or "unknown", "invalid_fields", detail
        )
    row["id"], row["outlet"] = article_id, outlet
    for name in ("title", "text"):
        if row.get(name) is None:
            row[name] = ""
    try:
        return RawArticle.model_validate(row)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        return _input_rejection(article_id, outlet, "invalid_fields", f"{where}: {problems}")


def _name(value: Any, default: str) -> str | None:
    """An id or outlet as text: ``default`` when missing, null or empty; ``None`` when it is
    not a string or an integer (a list or an object has no text that names it)."""
    if value is None or value == "":
        return default
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def _input_rejection(article_id: str, outlet: str, reason: str, detail: str) -> Rejection:
    from monitor.core.records import Rejection

    return Rejection(id=article_id, outlet=outlet, stage="input", reason=reason, detail=detail)
