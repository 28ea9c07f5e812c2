"""No import cycle inside a package, and model-forge reaches scenario-forge through its facade.

The graph is read statically (``ast``) from every ``import`` in each module, at module level or
inside a function: a lazy import closes a circle as surely as a top-level one, only later.
An edge goes to the module an import names (``from a.b import c`` → ``a.b.c`` when that is a
module, else ``a.b``) and to the packages on the way (importing ``a.b.c`` runs ``a/__init__``
and ``a/b/__init__`` first, so a package ``__init__`` that imports every command closes a circle
with any module that imports one module of that package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "forge_export": ROOT / "packages" / "forge-export" / "src",
    "scenario_forge": ROOT / "packages" / "scenario-forge" / "src",
    "model_forge": ROOT / "packages" / "model-forge" / "src",
}


def modules(src: Path) -> dict[str, Path]:
    """Every module under ``src``, by dotted name."""
    out = {}
    for f in sorted(src.rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def imported(name: str, path: Path, mods: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(dotted module name, line) of every import in the module, anywhere in it."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                up = parts[: len(parts) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in mods else base), node.lineno


def with_packages(target: str, importer: str, mods: dict[str, Path]) -> set[str]:
    """``target`` and the packages an import of it runs first: importing ``a.b.c`` also runs
    ``a/__init__`` and ``a/b/__init__``. The importer's own packages are left out: they run
    before the importer itself, whatever it imports."""
    parts = target.split(".")
    out = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {t for t in out if t in mods and t != importer and not importer.startswith(f"{t}.")}


def graph(src: Path) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports (with the packages on the way)."""
    mods = modules(src)
    return {
        m: {u for t, _ in imported(m, p, mods) for u in with_packages(t, m, mods)}
        for m, p in mods.items()
    }


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycle_inside_a_package(package: str) -> None:
    found = cycles(graph(PACKAGES[package]))
    assert not found, f"{package}: modules that import each other (directly or round): {found}"


def test_the_cycle_finder_finds_a_lazy_circle(tmp_path: Path) -> None:
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from p.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("def g():\n    import p.a\n")
    assert cycles(graph(tmp_path)) == [["p.a", "p.b", "p.c"]]


def test_an_import_runs_the_package_init_on_the_way(tmp_path: Path) -> None:
    """``p.review.a`` imports ``p.cli.util``; ``p/cli/__init__`` imports every command, one of
    which imports ``p.review.a``: a circle through the package ``__init__`` alone."""
    pkg = tmp_path / "p"
    for sub in ("review", "cli"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "cli" / "__init__.py").write_text("from p.cli import cmd\n")
    (pkg / "cli" / "util.py").write_text("def table():\n    pass\n")
    (pkg / "cli" / "cmd.py").write_text("from p.review import a\n")
    (pkg / "review" / "a.py").write_text("def f():\n    from p.cli.util import table\n")
    assert cycles(graph(tmp_path)) == [["p.cli", "p.cli.cmd", "p.review.a"]]
