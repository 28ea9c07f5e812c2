"""The row type every foreign-format reader yields to the importer."""

from __future__ import annotations

from typing import Any

Row = tuple[str, int | None, dict[str, Any] | None, str | None]
"""(where, line, scenario fields or None, problem or None)."""
