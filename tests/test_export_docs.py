"""The Python examples of docs/contract.md run as written (except those marked not run)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "contract.md"


def test_contract_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    runnable = [b for b in blocks if not b.startswith("# not run in tests")]
    assert len(runnable) >= 4
    namespace: dict[str, object] = {}
    for i, code in enumerate(runnable):
        exec(compile(code, f"{DOC.name}[python block {i}]", "exec"), namespace)  # noqa: S102
    assert namespace["summary"].scenarios_seen == 21  # type: ignore[attr-defined]
