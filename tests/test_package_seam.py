"""The seam between the packages: model-forge reaches scenario-forge only through its facade.

Dependencies run one way, ``forge_export ← scenario_forge ← model_forge``, and model-forge
imports nothing of scenario-forge but :mod:`scenario_forge.api`. Read statically (``ast``) from
every import of every module, at module level, inside functions or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = {
    "forge_export": ROOT / "packages" / "forge-export" / "src" / "forge_export",
    "scenario_forge": ROOT / "packages" / "scenario-forge" / "src" / "scenario_forge",
    "model_forge": ROOT / "packages" / "model-forge" / "src" / "model_forge",
}


def imports(folder: Path) -> Iterator[tuple[str, str]]:
    """(``file:line``, imported module) for every absolute import under ``folder``."""
    for f in sorted(folder.rglob("*.py")):
        name = f.relative_to(ROOT) if f.is_relative_to(ROOT) else f.name
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            where = f"{name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield where, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield where, node.module


def _top(module: str) -> str:
    return module.split(".")[0]


def test_model_forge_imports_scenario_forge_only_through_its_api() -> None:
    wide = [
        f"{where}: {module}"
        for where, module in imports(SRC["model_forge"])
        if _top(module) == "scenario_forge" and module != "scenario_forge.api"
    ]
    assert not wide, "import these through scenario_forge.api (extend it):\n" + "\n".join(wide)
    assert any(m == "scenario_forge.api" for _w, m in imports(SRC["model_forge"]))


def test_dependencies_run_one_way() -> None:
    upward = [
        f"{where}: {module}"
        for package, lower in (("forge_export", ()), ("scenario_forge", ("forge_export",)))
        for where, module in imports(SRC[package])
        if _top(module) in SRC and _top(module) not in (package, *lower)
    ]
    assert not upward, "\n".join(upward)


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "def f():\n    from scenario_forge.store import ScenarioStore\n    import scenario_forge.api\n"
    )
    assert [m for _w, m in imports(tmp_path)] == ["scenario_forge.store", "scenario_forge.api"]
