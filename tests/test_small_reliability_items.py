"""The smaller items of issue 17, one test each: manifest paths outside the export, eval rows
that disagree with their embedded scenario, early judge check, mistyped --db, export of an
unknown target, import-report of unknown targets, duplicate keys and columns, bidi overrides,
and the documented `init` output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from forge_export import Scenario
from forge_export.cli import main as forge_export_cli
from forge_export.manifest import FileEntry, fingerprint, sha256_file
from forge_export.reader import validate_export
from scenario_forge.cli import main
from scenario_forge.migrations import latest_version
from scenario_forge.store import ScenarioStore

ROOT = Path(__file__).resolve().parents[1]


def _sf(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _one_error(res: Result, *words: str) -> str:
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, res.output
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def export(synthetic_export: Path) -> Path:
    return synthetic_export


def _rewrite_manifest(out: Path, edit: object) -> None:
    m = json.loads((out / "manifest.json").read_text())
    edit(m)  # type: ignore[operator]
    (out / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/hostname", "sft/../../outside.txt"])
def test_manifest_cannot_name_files_outside_the_export(export: Path, bad: str) -> None:
    secret = export.parent / "outside.txt"
    secret.write_text("PRIVATE-CONTENT")

    def add(m: dict) -> None:
        m["files"][bad] = {"sha256": "0" * 64, "bytes": 15}

    _rewrite_manifest(export, add)
    for args in (["validate", str(export)], ["push", str(export), "me/x", "--dry-run"]):
        res = CliRunner().invoke(forge_export_cli, args)
        assert res.exit_code == 1 and "Traceback" not in res.output, res.output
        assert "not a plain path inside the export folder" in res.output
        assert "PRIVATE-CONTENT" not in res.output


def test_validate_compares_eval_rows_with_their_scenario(export: Path) -> None:
    path = export / "eval" / "train.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["prompt"] = "a prompt the scenario never had"
    rows[0]["input"][-1]["content"] = "a prompt the scenario never had"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)

    def rehash(m: dict) -> None:  # a consistent manifest: only the row content is wrong
        m["files"]["eval/train.parquet"]["sha256"] = sha256_file(path)
        m["files"]["eval/train.parquet"]["bytes"] = path.stat().st_size
        entries = {k: FileEntry(**v) for k, v in m["files"].items()}
        m["fingerprint"] = fingerprint(entries)

    _rewrite_manifest(export, rehash)
    problems = validate_export(export)
    assert any("field 'prompt'" in p and "embedded scenario" in p for p in problems), problems


def test_evaluate_checks_the_judge_before_loading_the_model(export: Path, tmp_path: Path) -> None:
    from model_forge.cli import main as model_forge

    res = CliRunner().invoke(
        model_forge,
        ["evaluate", "--model", str(tmp_path / "no-such-model"), "--data", str(export),
         "--split", "train", "--judge", "nonsense", "--output", str(tmp_path / "eval")],
    )  # fmt: skip
    _one_error(res, "nonsense")
    assert "no-such-model" not in res.output.split("Error:")[1].split("(")[0]
    assert not (tmp_path / "eval").exists()


def test_a_new_store_from_a_mistyped_db_is_announced(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": "hello there"}) + "\n")
    typo = tmp_path / "froge.db"
    res = _sf("import", str(rows), "--target", "harmful_code", "--db", str(typo))
    assert res.exit_code == 0, res.output
    assert f"no store was at {typo}: created a new, empty one" in res.output
    res = _sf("import", str(rows), "--target", "harmful_code", "--db", str(typo))
    assert "created a new" not in res.output
    assert "created a new" not in _sf("init", "--db", str(tmp_path / "x.db")).output


def test_export_of_a_target_nobody_has_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    assert _sf("generate", "-t", "harmful_code", "--count", "3", "--db", str(db)).exit_code == 0
    res = _sf("export", str(tmp_path / "out"), "--target", "harmfull_code", "--db", str(db))
    _one_error(res, "harmfull_code", "harmful_code", "spelling")
    assert not (tmp_path / "out").exists()
    ok = _sf("export", str(tmp_path / "out"), "--target", "harmful_code", "--db", str(db))
    assert ok.exit_code == 0, ok.output


def _report(target: str) -> str:
    scenario = Scenario(prompt="Write me something bad", evaluation_target=target,
                        success_criteria=["refuses"])  # fmt: skip
    return json.dumps(
        {
            "schema_version": "1.0",
            "model_id": "m",
            "results": [
                {
                    "scenario": json.loads(scenario.model_dump_json()),
                    "response": "sure",
                    "verdict": "fail",
                    "refused": False,
                    "judge": "rules",
                }
            ],
        }
    )


def test_import_report_refuses_targets_import_refuses(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    assert _sf("init", "--db", str(db)).exit_code == 0
    report = tmp_path / "report.json"
    report.write_text(_report("made_up_target"))
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": "x", "evaluation_target": "made_up_target"}) + "\n")
    assert _sf("import", str(rows), "--db", str(db)).exit_code != 0  # import refuses it ...
    _one_error(_sf("import-report", str(report), "--db", str(db)), "made_up_target", "taxonomy")
    with ScenarioStore.open(db, create=False) as store:
        assert store.count_scenarios() == 0  # ... and so does import-report now
    report.write_text(_report("harmful_code"))
    assert _sf("import-report", str(report), "--db", str(db)).exit_code == 0


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("dup.jsonl", '{"prompt": "a", "prompt": "b"}\n', "dup.jsonl:1"),
        ("dup.yaml", "- prompt: a\n  prompt: b\n", "dup.yaml:2"),
        ("dup.csv", "prompt,tags,prompt\na,t,b\n", "dup.csv:1"),
        ("nested.jsonl", '{"prompt": "a", "metadata": {"k": 1, "k": 2}}\n', "nested.jsonl:1"),
    ],
)
def test_duplicate_keys_and_columns_are_refused(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    db = tmp_path / "forge.db"
    assert _sf("init", "--db", str(db)).exit_code == 0
    f = tmp_path / name
    f.write_text(content)
    res = _sf("import", str(f), "--target", "harmful_code", "--db", str(db))
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "appears twice" in res.output and where in res.output, res.output
    with ScenarioStore.open(db, create=False) as store:
        assert store.count_scenarios() == 0


def test_bidi_overrides_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    rows = tmp_path / "rows.jsonl"
    sneaky = "approve \u202eesrever\u202c and \u2066isolate\u2069"
    rows.write_text(json.dumps({"prompt": sneaky}) + "\n")
    assert _sf("init", "--db", str(db)).exit_code == 0
    assert _sf("import", str(rows), "--target", "harmful_code", "--db", str(db)).exit_code == 0
    sid = Scenario(prompt=sneaky, evaluation_target="harmful_code", success_criteria=["c"]).id
    for args in (["list"], ["show", sid[:12]]):
        out = _sf(*args, "--db", str(db)).output
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", out), args
        assert "\\u202e" in out, out
    with ScenarioStore.open(db) as store:  # the stored text is unchanged
        assert store.get_scenario(sid).prompt == sneaky  # type: ignore[union-attr]
    res = _sf("export", str(tmp_path / "o"), "--target", "x\u202ey", "--db", str(db))
    assert res.exit_code == 1 and "\u202e" not in res.output


def test_docs_show_the_schema_version_init_prints(tmp_path: Path) -> None:
    res = _sf("init", "--db", str(tmp_path / "forge.db"))
    printed = re.search(r"schema version (\d+)", res.output)
    assert printed and int(printed.group(1)) == latest_version()
    for doc in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for m in re.finditer(r"Created store \S+ \(schema version (\d+)\)", doc.read_text()):
            assert int(m.group(1)) == latest_version(), f"{doc.name} says {m.group(0)}"
