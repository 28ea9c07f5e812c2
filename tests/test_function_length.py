"""No function in the packages' sources is longer than 80 lines.

A longer function is split into named steps (a reader sees the steps by their names, a test
can reach each one). The test reads every source module with ``ast``; a function's length runs
from its ``def`` line to its last line, docstring included, nested functions counted in the
function that holds them (and on their own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 80
SOURCES = sorted((ROOT / "packages").glob("*/src/**/*.py"))
EXEMPT_FOLDERS: tuple[str, ...] = ()  # none: the web app's routes are split into modules too


def _module_name(path: Path) -> str:
    src = next(p for p in path.parents if p.name == "src")
    return path.relative_to(src).as_posix()


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``(qualified name, lines)`` of each function in ``source`` longer than ``limit``."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                if lines > limit:
                    found.append((name, lines))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_the_sources_are_found() -> None:
    names = {_module_name(p) for p in SOURCES}
    assert {"forge_export/models.py", "scenario_forge/store.py", "model_forge/loop.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=_module_name)
def test_no_function_over_80_lines(path: Path) -> None:
    name = _module_name(path)
    if name.startswith(EXEMPT_FOLDERS):
        return
    long = long_functions(path.read_text(encoding="utf-8"))
    assert not long, f"{name}: split into named steps: " + ", ".join(
        f"{fn} ({n} lines)" for fn, n in long
    )


def test_the_check_measures_functions() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    source = f"class A:\n    def m(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n"
    assert long_functions(source) == [("A.m", 81)]
    assert long_functions(source, limit=81) == []
