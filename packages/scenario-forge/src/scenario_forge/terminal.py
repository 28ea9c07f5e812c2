"""Text meant for a terminal: scenario text is adversarial by design, so it is shown, not run."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any


def visible(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) written as ``\\xNN`` escapes
    and bidirectional overrides as ``\\uXXXX``.

    A scenario holding terminal escape sequences (clear screen, hidden text, a new window
    title) can then neither repaint nor hide what a reviewer sees; the stored text is unchanged.

    Args:
        text: Any text about to be printed.

    Returns:
        The text, with every other control character made visible.

    Example:
        >>> visible("a\\x1b[2Jb\\n")
        'a\\\\x1b[2Jb\\n'
        >>> visible("abc\\u202edef")
        'abc\\\\u202edef'
    """
    if text.isprintable():
        return text
    return "".join(_show(c) for c in text)


BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Bidirectional overrides and isolates: they can reorder what a terminal shows ("Trojan
Source"), so :func:`visible` writes them as ``\\uXXXX``."""


def _show(c: str) -> str:
    if c in "\n\t":
        return c
    if c in BIDI_CONTROLS:
        return f"\\u{ord(c):04x}"
    if unicodedata.category(c) == "Cc":
        return f"\\x{ord(c):02x}"
    return c


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain-text table with left-aligned columns (outside the ``cli`` package, so code the
    commands import, like reviewer statistics, can print one without importing every command).

    Example:
        >>> print(table([("a", 1)], ["name", "n"]))
        name  n
        ----  -
        a     1
    """
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
