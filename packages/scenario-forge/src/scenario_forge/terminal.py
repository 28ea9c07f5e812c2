"""Text meant for a terminal: scenario text is adversarial by design, so it is shown, not run."""

from __future__ import annotations

import unicodedata


def visible(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) written as ``\\xNN`` escapes.

    A scenario holding terminal escape sequences (clear screen, hidden text, a new window
    title) can then neither repaint nor hide what a reviewer sees; the stored text is unchanged.

    Args:
        text: Any text about to be printed.

    Returns:
        The text, with every other control character made visible.

    Example:
        >>> visible("a\\x1b[2Jb\\n")
        'a\\\\x1b[2Jb\\n'
    """
    if text.isprintable():
        return text
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in text
    )
