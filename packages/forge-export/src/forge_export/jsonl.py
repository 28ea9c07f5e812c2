"""Reading JSON Lines that people wrote: every bad line named, none of them a traceback.

One reader for every JSONL input of forge (scenario imports, inspect_ai samples, review
batches, judge and generate inputs), so each reports the same problems the same way: a line
that is not UTF-8, not JSON, nested too deeply for Python's parser, or not a JSON object.

Example:
    >>> [(line.number, line.data, line.error) for line in read_json_lines(b'{"a": 1}\\n\\n[2]\\n')]
    [(1, {'a': 1}, None), (3, None, 'expected a JSON object, got list')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["JsonLine", "read_json_lines"]


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSONL input.

    Attributes:
        number: The 1-based line number.
        where: ``name:number``, for messages.
        data: The parsed object, or ``None`` when the line is bad.
        error: Why the line is bad (without ``where``), or ``None``.
    """

    number: int
    where: str
    data: dict[str, Any] | None
    error: str | None = None


def _parse(raw: bytes | str, number: int, what: str) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, (
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                "save the file as UTF-8"
            )
    else:
        text = raw
    if number == 1:
        text = text.removeprefix("\ufeff")  # a byte order mark some editors write
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, "JSON nested too deeply; flatten the row"
    if not isinstance(data, dict):
        return None, f"expected {what}, got {type(data).__name__}"
    return data, None


def read_json_lines(
    source: str | os.PathLike[str] | bytes,
    name: str | None = None,
    *,
    what: str = "a JSON object",
    text: str | None = None,
) -> Iterator[JsonLine]:
    """The non-blank lines of a JSONL file, parsed, in order; bad lines carry an error.

    A file is read line by line (never whole), so it can be of any size.

    Args:
        source: A file path, or the file's bytes.
        name: How the input is named in ``where`` (default: the path, or ``<input>``).
        what: What each line should be, for the "expected ..." message.
        text: Already decoded text to read instead of ``source`` (its lines are not decoded
            again).

    Yields:
        One :class:`JsonLine` per non-blank line.

    Raises:
        OSError: The file cannot be opened or read.
    """
    if text is not None:
        yield from _lines(text.split("\n"), name or str(source), what)
    elif isinstance(source, bytes):
        yield from _lines(source.split(b"\n"), name or "<input>", what)
    else:
        path = Path(source)
        with path.open("rb") as fh:
            yield from _lines(fh, name or str(path), what)


def _lines(lines: Iterable[bytes | str], label: str, what: str) -> Iterator[JsonLine]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        data, error = _parse(raw, number, what)
        yield JsonLine(number, f"{label}:{number}", data, error)
