"""Reading and validating exports, and the forge-export CLI, on good and broken exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from forge_export import ContractError, SchemaVersionError, load
from forge_export.cli import main
from forge_export.manifest import fingerprint, read_manifest, sha256_file, write_manifest
from forge_export.reader import validate_export
from forge_export.schema_docs import schema_files

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def export(synthetic_export: Path) -> Path:
    return synthetic_export


def _rehash(out: Path) -> None:
    """Make the manifest agree with the files again (a consistent but wrong export)."""
    m = read_manifest(out)
    for rel, entry in m.files.items():
        entry.sha256 = sha256_file(out / rel)
        entry.bytes = (out / rel).stat().st_size
    m.fingerprint = fingerprint(m.files)
    write_manifest(out, m)


def _edit_rows(out: Path, config: str, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    """Rewrite ``config``'s train file with ``edit`` applied to its rows (same schema, no rehash)."""
    f = out / config / "train.parquet"
    table = pq.read_table(f)
    rows = table.to_pylist()
    edit(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), f)


def _validate_cli(out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(out)])
    return result.exit_code, result.output


def _assert_broken(out: Path, file_part: str, field: str) -> None:
    problems = validate_export(out)
    assert problems, "validate found nothing"
    assert any(file_part in p and f"'{field}'" in p for p in problems), problems
    assert all("\n" not in p for p in problems)
    code, output = _validate_cli(out)
    assert code == 1 and file_part in output and "Traceback" not in output


def test_good_export_validates_loads_and_inspects(export: Path) -> None:
    assert validate_export(export) == []
    code, output = _validate_cli(export)
    assert code == 0 and "ok" in output
    ds = load(export, "sft", "train")
    assert len(ds) == 12 and ds[0]["messages"][-1]["role"] == "assistant"
    result = CliRunner().invoke(main, ["inspect", str(export), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["sft"] == {"train": 12, "test": 0}
    assert data["stats"]["scenarios_per_target"]["harmful_code"]["train"] == 4
    assert data["stats"]["completions_per_source"]["template"]["train"] == 12
    text = CliRunner().invoke(main, ["inspect", str(export)]).output
    assert "harmful_code" in text and "sft" in text


def test_unknown_schema_major_version(export: Path) -> None:
    path = export / "manifest.json"
    data = json.loads(path.read_text())
    data["schema_version"] = "2.0"
    path.write_text(json.dumps(data))
    _assert_broken(export, "manifest.json", "schema_version")
    with pytest.raises(SchemaVersionError, match="schema version 2.0"):
        load(export, "sft", "train")


def test_missing_manifest(export: Path) -> None:
    (export / "manifest.json").unlink()
    problems = validate_export(export)
    assert len(problems) == 1 and "manifest.json: missing" in problems[0]
    with pytest.raises(ContractError, match="manifest.json"):
        load(export, "sft", "train")


def test_corrupted_parquet(export: Path) -> None:
    f = export / "kto" / "train.parquet"
    f.write_bytes(f.read_bytes()[:100] + b"garbage")
    _rehash(export)  # so only the parquet itself is wrong
    problems = validate_export(export)
    assert any("kto/train.parquet" in p and "not a readable parquet" in p for p in problems)
    code, output = _validate_cli(export)
    assert code == 1 and "kto/train.parquet" in output
    with pytest.raises(ContractError, match="kto/train.parquet.*not a readable parquet"):
        load(export, "kto", "train")


def test_tampered_hash(export: Path) -> None:
    def edit(rows: list[dict[str, Any]]) -> None:
        rows[0]["messages"][-1]["content"] = "Sure, here is how."

    _edit_rows(export, "sft", edit)
    _assert_broken(export, "sft/train.parquet", "sha256")
    with pytest.raises(ContractError, match="sft/train.parquet: field 'sha256'"):
        load(export, "sft", "train")
    assert load(export, "eval", "train") is not None  # other files still load


@pytest.mark.parametrize("how", ["empty", "null", "dropped"])
def test_eval_row_missing_success_criteria(export: Path, how: str) -> None:
    f = export / "eval" / "train.parquet"
    table = pq.read_table(f)
    if how == "dropped":
        table = table.drop_columns(["success_criteria"])
        pq.write_table(table, f)
    else:
        rows = table.to_pylist()
        rows[3]["success_criteria"] = [] if how == "empty" else None
        schema = table.schema.set(
            table.schema.get_field_index("success_criteria"),
            pa.field("success_criteria", pa.list_(pa.string())),
        )
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), f)
    _rehash(export)
    _assert_broken(export, "eval/train.parquet", "success_criteria")
    problems = validate_export(export)
    if how == "dropped":  # one line for the column, not one per row
        assert sum("success_criteria" in p for p in problems) == 1, problems
    else:
        assert any("row 3" in p for p in problems)
    with pytest.raises(ContractError, match="eval/train.parquet.*'success_criteria'"):
        load(export, "eval", "train")


def test_every_problem_is_listed(export: Path) -> None:
    def edit(rows: list[dict[str, Any]]) -> None:
        rows[0]["prompt"] = []
        rows[1]["expected_behavior"] = "ignore"
        rows[2]["completion"] = [{"role": "robot", "content": "x"}]
        rows[2]["evaluation_target"] = "Not A Slug"  # a second problem in the same row

    _edit_rows(export, "prompt_completion", edit)
    problems = validate_export(export)
    joined = "\n".join(problems)
    assert "field 'sha256'" in joined
    assert "row 0: field 'prompt': empty messages" in joined
    assert "row 1: field 'expected_behavior'" in joined
    assert "row 2: field 'completion[0].role'" in joined
    assert "row 2: field 'evaluation_target'" in joined
    _rehash(export)
    with pytest.raises(ContractError, match="row 0: field 'prompt'"):
        load(export, "prompt_completion", "train")


def test_load_refuses_unknown_config_and_split(export: Path, tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="unknown config"):
        load(export, "nope", "train")
    with pytest.raises(ContractError, match="unknown split"):
        load(export, "sft", "validation")
    with pytest.raises(ContractError, match="no such export folder"):
        load(tmp_path / "missing", "sft", "train")
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "missing")])
    assert result.exit_code == 1 and result.output.startswith("Error: ")


def test_to_inspect_writes_inspect_samples(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.jsonl"
    result = CliRunner().invoke(main, ["to-inspect", str(export), str(out), "--split", "train"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 12
    first = lines[0]
    assert set(first) == {"id", "input", "target", "metadata"}
    assert first["input"][-1]["role"] == "user"
    assert first["target"].split("\n") == first["metadata"]["success_criteria"]


def test_schema_command_writes_every_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert "Scenario.schema.json" in names and "export-columns.json" in names
    scenario = json.loads((tmp_path / "s" / "Scenario.schema.json").read_text())
    assert "success_criteria" in scenario["required"]


def test_committed_docs_schema_matches_the_command() -> None:
    committed = REPO / "docs" / "schema"
    expected = schema_files()
    assert sorted(p.name for p in committed.iterdir()) == sorted(expected)
    for name, text in expected.items():
        assert (committed / name).read_text() == text, (
            f"docs/schema/{name} is stale: run `uv run forge-export schema`"
        )


def test_every_command_has_help_with_an_example() -> None:
    for cmd in ("validate", "inspect", "schema", "to-inspect"):
        result = CliRunner().invoke(main, [cmd, "--help"])
        assert result.exit_code == 0 and "forge-export " + cmd in result.output


def _drop_column(out: Path, config: str, name: str, version: str) -> None:
    """Write ``config``'s train file without ``name`` and mark the export ``version``."""
    f = out / config / "train.parquet"
    pq.write_table(pq.read_table(f).drop_columns([name]), f)
    m = read_manifest(out)
    m.schema_version = version
    write_manifest(out, m)
    _rehash(out)


def test_an_export_older_than_settled_by_loads_with_it_null(export: Path) -> None:
    _drop_column(export, "sft", "settled_by", "1.2")  # as a 1.2 forge wrote it
    assert validate_export(export) == []
    ds = load(export, "sft", "train")
    assert len(ds) == 12 and set(ds["settled_by"]) == {None}
    assert ds.column_names[-1] == "settled_by"  # the contract's column order


def test_a_current_export_without_settled_by_is_broken(export: Path) -> None:
    _drop_column(export, "sft", "settled_by", read_manifest(export).schema_version)
    _assert_broken(export, "sft/train.parquet", "settled_by")
    with pytest.raises(ContractError, match="'settled_by': column missing"):
        load(export, "sft", "train")


def test_settled_by_without_a_rating_is_broken(export: Path) -> None:
    def edit(rows: list[dict[str, Any]]) -> None:
        rows[0]["rating"], rows[0]["settled_by"] = None, "lee"
        rows[1]["settled_by"] = ""

    _edit_rows(export, "kto", edit)
    _rehash(export)
    problems = validate_export(export)
    assert any("row 0: field 'settled_by': set, but rating is null" in p for p in problems)
    assert any("row 1: field 'settled_by'" in p for p in problems), problems
