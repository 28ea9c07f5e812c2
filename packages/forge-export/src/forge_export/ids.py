"""Stable content-hash ids and the text normalisation behind them.

Ids must be equal in every process and on every machine (no ``hash()``, which is salted per
process), and must not change when a prompt differs only in case, white space or unicode form:
those are the same scenario, and an export treats them as duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence

_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Fold unicode form, case and white space so near-duplicates compare equal.

    Example:
        >>> normalize_text("  How DO I\\n kill  a process? ")
        'how do i kill a process?'
    """
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _digest(payload: object) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:20]


def scenario_id(prompt: str, context: Sequence[tuple[str, str]], evaluation_target: str) -> str:
    """Id of a scenario: hash of normalised prompt, context turns and target.

    Example:
        >>> scenario_id("Hi", [], "x") == scenario_id("  hi ", [], "x")
        True
    """
    return _digest(
        {
            "p": normalize_text(prompt),
            "c": [[role, normalize_text(content)] for role, content in context],
            "t": evaluation_target,
        }
    )


def completion_id(scenario_id: str, source: str, origin: str, text: str) -> str:
    """Id of a completion: hash of its scenario, source, origin and exact text."""
    return _digest({"s": scenario_id, "src": source, "o": origin, "x": text})
