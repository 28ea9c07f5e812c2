"""`TrainOptions` is the one place a training default lives: the CLI and the docs table follow it."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from forge_export.settings import PerDevice
from model_forge.cli import main
from model_forge.train_config import TrainOptions, option_default

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"resume", "overwrite", "gradient_checkpointing"}  # plain switches, off by default
NOT_OPTIONS = {"export", "output", "rows", "as_json", "config_file"}


def _docs_table() -> dict[str, str]:
    text = (ROOT / "docs" / "model-forge.md").read_text(encoding="utf-8")
    text = text[text.index("## `model-forge train`") : text.index("## `model-forge evaluate`")]
    rows = re.findall(r"^\| `--([a-z-]+)(?:/--[a-z-]+)?` \| .*? \| (.*) \|$", text, re.M)
    return {name.replace("-", "_"): default for name, default in rows}


def _options() -> dict[str, object]:
    return {p.name: p for p in main.commands["train"].params if p.name not in NOT_OPTIONS}


def test_every_option_is_a_field_left_unset_by_click() -> None:
    options = _options()
    fields = TrainOptions().to_json()
    assert set(fields) - {"extra"} == {
        {
            "batch_size": "per_device_train_batch_size",
            "grad_accum": "gradient_accumulation_steps",
        }.get(name, {"epochs": "num_train_epochs"}.get(name, name))
        for name in options
    }
    for name, param in options.items():
        assert param.default is None, f"{name}: defaults live in TrainOptions, not in click"  # type: ignore[attr-defined]


def test_docs_table_matches_the_options() -> None:
    table = _docs_table()
    assert set(table) == set(_options()) - FLAGS
    for option, cell in table.items():
        default = option_default(option)
        if default is None:
            assert not cell.startswith("`"), f"{option}: no fixed default, say what decides it"
        elif isinstance(default, bool):
            assert cell == ("`--lora`" if default else "`--full`"), option
        elif isinstance(default, PerDevice):
            assert cell.startswith(f"`{default.cpu}` on a CPU, `{default.cuda}` on CUDA"), option
        else:
            first = re.match(r"`([^`]*)`", cell)
            assert first is not None and first.group(1) == str(default), option


def test_help_shows_the_dataclass_defaults() -> None:
    out = " ".join(CliRunner().invoke(main, ["train", "--help"]).output.split())
    options = TrainOptions()
    assert f"[default: {options.gradient_accumulation_steps}; x>=1]" in out
    assert f"[default: {options.model}]" in out
    assert "[default: --lora]" in out
