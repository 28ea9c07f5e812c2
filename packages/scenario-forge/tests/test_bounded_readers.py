"""The taxonomy loader and import-report read with forge_export.bounded: size bombs are one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from scenario_forge.cli import main

ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
targets: [*h]
"""


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_taxonomy_alias_bomb_is_refused_before_it_grows(tmp_path: Path) -> None:
    bomb = tmp_path / "team.yaml"
    bomb.write_text(ALIAS_BOMB)
    code, out = _run(["targets", "--taxonomy", str(bomb)])
    assert code != 0 and "team.yaml" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_taxonomy_duplicate_key_and_huge_number_are_refused(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("targets: []\ntargets: []\n")
    code, out = _run(["targets", "--taxonomy", str(dup)])
    assert code != 0 and "dup.yaml" in out and "targets" in out and "Traceback" not in out
    big = tmp_path / "big.yaml"
    big.write_text("targets: []\nx: " + "9" * 5000 + "\n")
    code, out = _run(["targets", "--taxonomy", str(big)])
    assert code != 0 and "big.yaml" in out and "Traceback" not in out


def test_report_with_a_huge_number_or_duplicate_key_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    huge = tmp_path / "huge.json"
    huge.write_text('{"schema_version": "1.1", "model_id": "m", "x": ' + "9" * 5000 + "}")
    code, out = _run(["import-report", str(huge), "--db", str(db)])
    assert code != 0 and "huge.json" in out and "Traceback" not in out
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps({"schema_version": "1.1"})[:-1] + ', "schema_version": "1.1"}')
    code, out = _run(["import-report", str(dup), "--db", str(db)])
    assert code != 0 and "dup.json" in out and "Traceback" not in out
