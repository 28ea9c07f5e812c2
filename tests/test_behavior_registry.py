"""One registry of expected behaviours: ``forge_export.models.ExpectedBehavior``.

Every module reads ``EXPECTED_BEHAVIORS`` / ``HARMFUL_BEHAVIORS`` from the contract; a list of
the behaviours written out again anywhere in the source fails here. The store's schema (a
numbered migration, never edited) states them in SQL and must agree.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from forge_export.models import EXPECTED_BEHAVIORS, HARMFUL_BEHAVIORS

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "packages" / "forge-export" / "src" / "forge_export" / "models.py"
# two behaviour names next to each other in a tuple, list, set or Literal
RESTATED = re.compile(
    r"""["'](refuse|safe_complete|comply)["']\s*,\s*["'](refuse|safe_complete|comply)["']"""
)


def test_the_registry() -> None:
    assert EXPECTED_BEHAVIORS == ("refuse", "safe_complete", "comply")
    assert {"refuse", "safe_complete"} == HARMFUL_BEHAVIORS


def test_no_module_restates_the_behaviours() -> None:
    found = []
    for f in sorted((ROOT / "packages").glob("*/src/**/*.py")):
        if f == REGISTRY or f.name in ("migrations.py", "pg_migrations.py"):  # frozen SQL
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if RESTATED.search(line):
                found.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "import EXPECTED_BEHAVIORS / HARMFUL_BEHAVIORS instead:\n" + "\n".join(found)


def test_the_store_schema_agrees(tmp_path: Path) -> None:
    from scenario_forge.store import ScenarioStore

    db = tmp_path / "s.db"
    ScenarioStore.open(db, create=True).close()
    with sqlite3.connect(db) as conn:
        sql = " ".join(r[0] or "" for r in conn.execute("SELECT sql FROM sqlite_master"))
    stated = re.search(r"expected_behavior IN \(([^)]*)\)", sql)
    assert stated is not None
    assert tuple(re.findall(r"'([a-z_]+)'", stated.group(1))) == EXPECTED_BEHAVIORS
