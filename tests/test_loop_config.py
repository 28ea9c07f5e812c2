"""`LoopConfig` is the one place a loop default lives: the CLI and the docs table follow it."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from model_forge.cli import main
from model_forge.loop_config import OPTION_ORDER, QUICK, LoopConfig, field_default

ROOT = Path(__file__).resolve().parents[1]
NOT_SETTINGS = {"quick", "as_json", "config_file", "resume", "overwrite"}


def _docs_table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "model-forge.md").read_text(encoding="utf-8")
    text = text[text.index("## The main job") : text.index("## `model-forge train`")]
    rows = re.findall(r"^\| `--([a-z-]+)` \| `([^`]*)` \|\s*`?([^`|]*?)`?\s*\|$", text, re.M)
    return {name: (default, quick.strip()) for name, default, quick in rows}


def _shown(value: object) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def test_every_cli_option_comes_from_a_field_or_alias() -> None:
    command = main.commands["loop"]
    options = {p.name for p in command.params} - NOT_SETTINGS
    assert options == set(OPTION_ORDER)
    fields = set(LoopConfig().to_json())
    for param in command.params:
        if param.name not in options:
            continue
        assert param.default is None, "defaults live in LoopConfig, not in click"
        alias = LoopConfig.ALIASES.get(param.name)
        assert alias is not None or param.name in fields, param.name
        assert param.help  # type: ignore[attr-defined]


def test_aliases_name_the_composed_train_and_eval_settings() -> None:
    config = LoopConfig()
    assert config.later_steps == config.later_rounds.max_steps
    assert config.max_new_tokens == config.evaluation.generate.max_new_tokens
    both = config.merge({"batch_size": 5})
    assert both.first_round.per_device_train_batch_size == 5
    assert both.later_rounds.per_device_train_batch_size == 5
    # shared training settings are written once: the later rounds inherit round 1's
    assert config.later_rounds.lora_r == config.first_round.lora_r
    assert config.first_round.lora is False and config.first_round.save_steps == 0


def test_docs_table_matches_the_config() -> None:
    table = _docs_table()
    assert len(table) >= 15
    for name, (default, quick) in table.items():
        field = name.replace("-", "_")
        assert _shown(field_default(field)) == default, name
        assert _shown(QUICK.get(field, "")) == quick, name


def test_quick_overrides_only_what_quick_lists() -> None:
    quick, full = LoopConfig.quick_config(), LoopConfig()
    for name in OPTION_ORDER:
        if name not in QUICK:
            assert getattr(quick, name) == getattr(full, name), name
        else:
            assert getattr(quick, name) == QUICK[name], name
    assert LoopConfig.quick_config(model="x").model == "x"


def test_help_shows_defaults_from_the_config() -> None:
    out = " ".join(CliRunner().invoke(main, ["loop", "--help"]).output.split())
    assert f"[default: {LoopConfig().max_steps}; x>=1]" in out
    assert f"[--quick: {QUICK['max_steps']}]" in out
