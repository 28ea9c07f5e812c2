"""Storage behind one door: SQL lives only in the store's backend modules.

Every other module calls typed methods of :class:`scenario_forge.store.ScenarioStore` (or of
:class:`scenario_forge.store_file.StoreFile` for the file-level check and backup), so a new
store backend is one set of methods, not a hunt through the code base. The test reads every
source module with ``ast`` and fails on a string that reads like SQL or a call of
``.execute(`` / ``.executemany(`` / ``.executescript(`` outside the allow-list below.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from forge_export.cli_support import StoreLocation

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "packages").glob("*/src/**/*.py"))
SQL = re.compile(r"\b(SELECT|INSERT (OR \w+ )?INTO|UPDATE \w+ SET|DELETE FROM)\b")
EXECUTE = {"execute", "executemany", "executescript"}

ALLOWED = {
    # the store and its backends: the one door
    "scenario_forge/store.py",
    "scenario_forge/store_review.py",
    "scenario_forge/store_accounts.py",
    "scenario_forge/store_file.py",
    "scenario_forge/pg_backend.py",
    "scenario_forge/migrations.py",
    "scenario_forge/pg_migrations.py",
    "scenario_forge/pg_throwaway.py",
    "scenario_forge/store_copy.py",
    # a private SQLite file of its own (cached generations keyed by request hash), not the
    # scenario store: no other code reads it and it has no second backend
    "model_forge/generation/cache.py",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may say SELECT)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _sql_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EXECUTE
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and SQL.search(node.value)
        ):
            found.append(f"line {node.lineno}: {node.value.strip()[:60]!r}")
    return found


def _module_name(path: Path) -> str:
    src = next(p for p in path.parents if p.name == "src")
    return path.relative_to(src).as_posix()


def test_the_sources_are_found() -> None:
    names = {_module_name(p) for p in SOURCES}
    assert "scenario_forge/store.py" in names and "model_forge/loop.py" in names
    assert not ALLOWED - names, f"allow-list names a module that is gone: {ALLOWED - names}"


@pytest.mark.parametrize("path", SOURCES, ids=_module_name)
def test_no_sql_outside_the_store(path: Path) -> None:
    name = _module_name(path)
    if name in ALLOWED:
        return
    found = _sql_in(path)
    assert not found, (
        f"{name} holds SQL ({'; '.join(found)}): add a typed method to the store "
        "(scenario_forge/store.py, store_review.py or store_accounts.py) and call it"
    )


def test_the_check_sees_sql(tmp_path: Path) -> None:
    """The detector itself: SQL in a string and a raw execute call are found, prose is not."""
    module = tmp_path / "m.py"
    module.write_text(
        '"""Prose may say SELECT a thing FROM a list."""\n'
        "def f(conn):\n"
        '    """DELETE FROM nowhere, in a docstring."""\n'
        '    conn.execute("SELECT 1 FROM scenarios")\n'
        '    q = "UPDATE scenarios SET data = ?"\n',
        encoding="utf-8",
    )
    found = _sql_in(module)
    assert sorted(f.split(":")[0] for f in found) == ["line 4", "line 4", "line 5"], found


POSTGRES_TEST = re.compile(r"""startswith\(\s*\(?\s*["']postgres""")


@pytest.mark.parametrize("path", SOURCES, ids=_module_name)
def test_one_place_decides_sqlite_or_postgresql(path: Path) -> None:
    """Only StoreLocation tests whether a location is a PostgreSQL URL."""
    if _module_name(path) == "forge_export/cli_support.py":
        return
    text = path.read_text(encoding="utf-8")
    assert not POSTGRES_TEST.search(text), (
        f"{_module_name(path)} tests for a postgresql:// prefix itself; "
        "call forge_export.cli_support.StoreLocation.is_postgres / .parse"
    )


def test_store_location_decides() -> None:
    assert StoreLocation.is_postgres("postgresql://forge@db/forge")
    assert StoreLocation.is_postgres("postgres://forge@db/forge")
    assert not StoreLocation.is_postgres("forge.db")
    assert not StoreLocation.is_postgres(Path("postgresql:/x"))
    assert StoreLocation.parse("postgresql://forge@db/forge") == "postgresql://forge@db/forge"
    assert StoreLocation.parse("data/forge.db") == Path("data/forge.db")
