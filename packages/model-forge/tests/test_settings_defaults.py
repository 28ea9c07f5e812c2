"""Every default is written once, in its settings module: nowhere else a literal takes its place.

The settings modules (``*_config.py``) declare each setting's default once. Outside them, a
function parameter, a ``.get(KEY, DEFAULT)`` or a click option named after a setting must not
carry its own literal default: it takes ``None`` (unset) and asks the settings, so changing a
default is one edit. The judge package is left to its own rework (issue 27) and skipped.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from forge_export.settings import Settings, _keys
from model_forge.eval_config import EvalOptions
from model_forge.generate_config import GenerateOptions, GenerateRun, ModelGeneratorOptions
from model_forge.judge_config import JudgeOptions
from model_forge.loop_config import LoopConfig
from model_forge.train_config import TrainOptions

SOURCE = Path(__file__).resolve().parents[1] / "src" / "model_forge"
SETTINGS = (
    GenerateOptions,
    GenerateRun,
    ModelGeneratorOptions,
    EvalOptions,
    TrainOptions,
    JudgeOptions,
    LoopConfig,
)
NEUTRAL = (None, False, 0, 1, "", ())
"""Literals that say "nothing" (off, none, once) rather than choose a value."""

UNRELATED = {("attacks.py", "limit")}
"""Parameters that share a setting's name but not its meaning (how many few-shot examples)."""


def setting_names() -> set[str]:
    """Every key of every settings class, nested ones included."""
    names: set[str] = set()

    def walk(cls: type[Settings]) -> None:
        names.update(k.rsplit(".", 1)[-1] for k in _keys(cls))
        for f in dataclasses.fields(cls):
            value = getattr(cls(), f.name)
            if isinstance(value, Settings):
                walk(type(value))

    for cls in SETTINGS:
        walk(cls)
    return names


def _literal(node: ast.expr | None) -> object:
    """The value of a literal default that is not neutral; ``None`` otherwise."""
    if isinstance(node, ast.Constant) and node.value not in NEUTRAL:
        return node.value
    return None


def literal_defaults(tree: ast.AST, names: set[str]) -> list[tuple[int, str, object]]:
    """(line, name, literal) of every setting-named default written as a literal."""
    found: list[tuple[int, str, object]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            with_default = positional[len(positional) - len(args.defaults) :]
            pairs = list(zip(with_default, args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
            for arg, default in pairs:
                value = _literal(default)
                if arg.arg in names and value is not None:
                    found.append((node.lineno, arg.arg, value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and len(node.args) == 2:
                key, default = node.args
                value = _literal(default)
                if isinstance(key, ast.Constant) and key.value in names and value is not None:
                    found.append((node.lineno, str(key.value), value))
            if node.func.attr == "option":
                flags = [a.value for a in node.args if isinstance(a, ast.Constant)]
                named = [str(f).lstrip("-").split("/")[0].replace("-", "_") for f in flags]
                for kw in node.keywords:
                    value = _literal(kw.value)
                    if kw.arg == "default" and value is not None and set(named) & names:
                        found.append((node.lineno, named[0], value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = _literal(node.value)
            if node.target.id in names and value is not None:
                found.append((node.lineno, node.target.id, value))
    return found


def test_the_scan_finds_a_default_written_outside_its_settings() -> None:
    planted = """
import click
def answer(prompt, *, max_new_tokens: int = 96): ...
def pick(opts): return opts.get("temperature", 0.7)
@click.option("--batch-size", default=8)
def cmd(batch_size): ...
class Params:
    top_p: float = 0.9
def fine(max_new_tokens: int | None = None, lora: bool = False, seed: int = 0): ...
"""
    found = literal_defaults(ast.parse(planted), setting_names())
    assert sorted((name, value) for _, name, value in found) == [
        ("batch_size", 8),
        ("max_new_tokens", 96),
        ("temperature", 0.7),
        ("top_p", 0.9),
    ]


def test_no_setting_default_is_written_outside_the_settings_modules() -> None:
    names = setting_names()
    assert {"max_new_tokens", "batch_size", "judge", "model", "lora_r", "max_length"} <= names
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        rel = path.relative_to(SOURCE)
        if path.name.endswith("_config.py") or rel.parts[0] == "judge":
            continue
        for line, name, value in literal_defaults(ast.parse(path.read_text()), names):
            if (path.name, name) not in UNRELATED:
                offenders.append(f"{rel}:{line}: {name} = {value!r}")
    assert not offenders, "defaults belong in the settings modules:\n" + "\n".join(offenders)
