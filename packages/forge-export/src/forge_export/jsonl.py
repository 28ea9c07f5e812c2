"""Reading JSON Lines that people wrote: every bad line named, none of them a traceback.

One reader for every JSONL input of forge (scenario imports, inspect_ai samples, review
batches, judge and generate inputs), so each reports the same problems the same way: a line
that is not UTF-8, not JSON, nested too deeply for Python's parser, or not a JSON object.

Example:
    >>> lines = b'{"a": 1}\\n\\n[2]\\n'.split(b"\\n")
    >>> [(line.number, line.data, line.error) for line in parse_json_lines(lines, "in.jsonl")]
    [(1, {'a': 1}, None), (3, None, 'expected a JSON object, got list')]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_export.bounded import json_loads

__all__ = ["JsonLine", "parse_json_lines", "read_json_lines"]


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
        data = json_loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:  # NumberTooLong, checked before Python converts it
        return None, str(exc)
    except RecursionError:
        return None, "JSON nested too deeply; flatten the row"
    if not isinstance(data, dict):
        return None, f"expected {what}, got {type(data).__name__}"
    return data, None


def parse_json_lines(
    lines: Iterable[bytes | str], name: str, *, what: str = "a JSON object"
) -> Iterator[JsonLine]:
    """The non-blank lines of a JSONL input, parsed, in order; bad lines carry an error.

    Args:
        lines: The input's lines: bytes (decoded here, as UTF-8) or already decoded text.
        name: How the input is named in ``where`` (usually its path).
        what: What each line should be, for the "expected ..." message.

    Yields:
        One :class:`JsonLine` per non-blank line.
    """
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        data, error = _parse(raw, number, what)
        yield JsonLine(number, f"{name}:{number}", data, error)


def read_json_lines(
    path: str | os.PathLike[str], *, what: str = "a JSON object"
) -> Iterator[JsonLine]:
    """:func:`parse_json_lines` over a file, read line by line (never whole), so it can be of
    any size.

    Raises:
        OSError: The file cannot be opened or read.
    """
    with Path(path).open("rb") as fh:
        yield from parse_json_lines(fh, str(path), what=what)
