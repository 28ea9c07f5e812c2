"""The one ``KEY=VALUE`` parser of the three CLIs and its one coercion rule."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from forge_export.cli_support import (
    ForgeGroup,
    coerce_option_value,
    option_bool,
    parse_key_values,
)
from forge_export.errors import ForgeError


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("4", 4),
        ("-2", -2),
        (" 0.7 ", 0.7),
        ("1e-3", 0.001),
        ("true", True),
        ("FALSE", False),
        ("cpu", "cpu"),
        ("", ""),
        ("nan", "nan"),
        ("1e400", "1e400"),
        ("[1, 2]", "[1, 2]"),
        ("null", "null"),
        ("http://localhost:8000/v1", "http://localhost:8000/v1"),
        ("9" * 5000, "9" * 5000),
    ],
)
def test_one_coercion_rule(raw: str, typed: object) -> None:
    value = coerce_option_value(raw)
    assert value == typed and type(value) is type(typed)


def test_pairs_become_a_dict_and_the_last_value_wins() -> None:
    got = parse_key_values(["a=1", " b = x=y ", "a=2", "c="])
    assert got == {"a": 2, "b": "x=y", "c": ""}


@pytest.mark.parametrize("item", ["novalue", "=4", " =x"])
def test_a_bad_item_is_one_line_naming_the_option_and_the_item(item: str) -> None:
    @click.group(cls=ForgeGroup)
    def cli() -> None:
        pass

    @cli.command()
    @click.option("--judge-option", "items", multiple=True)
    def run(items: tuple[str, ...]) -> None:
        click.echo(parse_key_values(items, option="--judge-option", example="timeout=30"))

    res = CliRunner().invoke(cli, ["run", "--judge-option", "ok=1", "--judge-option", item])
    assert res.exit_code == 2
    assert f"'--judge-option': {item!r} is not KEY=VALUE (e.g. --judge-option timeout=30)" in (
        res.output
    )
    assert "Traceback" not in res.output


def test_yes_no_options() -> None:
    assert option_bool("False", name="x") is False
    assert option_bool("1", name="x") is True
    assert option_bool(True, name="x") is True
    with pytest.raises(ForgeError, match=r"option prune_finished='maybe': expected true or false"):
        option_bool("maybe", name="prune_finished")
    with pytest.raises(ForgeError, match="expected true or false"):
        option_bool(2, name="x")
