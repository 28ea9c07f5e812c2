"""`LoopConfig` is the one place a loop default lives: the CLI and the docs table follow it."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from model_forge.cli import main
from model_forge.loop_config import QUICK, LoopConfig, cli_fields, field_default

ROOT = Path(__file__).resolve().parents[1]


def _docs_table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "model-forge.md").read_text(encoding="utf-8")
    text = text[text.index("## The main job") : text.index("## `model-forge train`")]
    rows = re.findall(r"^\| `--([a-z-]+)` \| `([^`]*)` \|\s*`?([^`|]*?)`?\s*\|$", text, re.M)
    return {name: (default, quick.strip()) for name, default, quick in rows}


def _shown(value: object) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def test_every_cli_option_comes_from_a_config_field() -> None:
    command = main.commands["loop"]
    options = {p.name for p in command.params} - {"quick", "as_json"}
    assert options == {f.name for f in cli_fields()}
    for param in command.params:
        if param.name in options:
            assert param.default is None, "defaults live in LoopConfig, not in click"
            assert param.help and param.help.startswith(
                next(f for f in cli_fields() if f.name == param.name).metadata["help"]
            )


def test_docs_table_matches_the_config() -> None:
    table = _docs_table()
    assert len(table) >= 15
    for name, (default, quick) in table.items():
        field = name.replace("-", "_")
        assert _shown(field_default(field)) == default, name
        assert _shown(QUICK.get(field, "")) == quick, name


def test_quick_overrides_only_what_quick_lists() -> None:
    quick, full = LoopConfig.quick_config(), LoopConfig()
    for f in cli_fields():
        if f.name not in QUICK:
            assert getattr(quick, f.name) == getattr(full, f.name), f.name
    assert LoopConfig.quick_config(model="x").model == "x"


def test_help_shows_defaults_from_the_config() -> None:
    out = CliRunner().invoke(main, ["loop", "--help"]).output
    assert f"[default: {LoopConfig().max_steps}]" in out
    assert f"[--quick: {QUICK['max_steps']}]" in out
