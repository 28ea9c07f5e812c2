"""`TrainOptions` is the one place a training default lives: the CLI and the docs table follow it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from click.testing import CliRunner
from model_forge.cli import main
from model_forge.cli.train import OPTION_FIELDS
from model_forge.train_config import TrainOptions, option_default

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"resume", "overwrite"}  # plain switches, off by default; not in the table


def _docs_table() -> dict[str, str]:
    text = (ROOT / "docs" / "model-forge.md").read_text(encoding="utf-8")
    text = text[text.index("## `model-forge train`") : text.index("## `model-forge evaluate`")]
    rows = re.findall(r"^\| `--([a-z-]+)(?:/--[a-z-]+)?` \| .*? \| (.*) \|$", text, re.M)
    return {name.replace("-", "_"): default for name, default in rows}


def test_every_option_is_a_field_and_takes_its_default_from_it() -> None:
    command = main.commands["train"]
    params = {p.name: p for p in command.params}
    options = set(params) - {"export", "output", "as_json"}
    assert options == set(OPTION_FIELDS)
    names = {f.name for f in fields(TrainOptions)}
    for option, field_name in OPTION_FIELDS.items():
        assert field_name in names, option
        assert params[option].default == option_default(field_name), option


def test_docs_table_matches_the_options() -> None:
    table = _docs_table()
    assert set(table) == set(OPTION_FIELDS) - FLAGS
    for option, cell in table.items():
        default = option_default(OPTION_FIELDS[option])
        if default is None:
            assert not cell.startswith("`"), f"{option}: no fixed default, say what decides it"
        elif isinstance(default, bool):
            assert cell == ("`--lora`" if default else "`--full`"), option
        else:
            first = re.match(r"`([^`]*)`", cell)
            assert first is not None and first.group(1) == str(default), option


def test_help_shows_the_dataclass_defaults() -> None:
    out = " ".join(CliRunner().invoke(main, ["train", "--help"]).output.split())
    options = TrainOptions()
    assert f"[default: {options.gradient_accumulation_steps}; x>=1]" in out
    assert f"[default: {options.model}]" in out
