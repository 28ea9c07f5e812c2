"""scenario-forge import-report: failures of an evaluation report become new scenarios."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import EvalReport, EvalResult, Scenario
from forge_export.exporters.huggingface import ExportOptions
from forge_export.reports import read_report
from scenario_forge.api import (
    export_store,
    import_report,
)
from scenario_forge.cli import main
from scenario_forge.report_import import variants_of
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import load_taxonomy

TARGETS = ["harmful_code", "self_harm"]


@pytest.fixture
def store_and_report(
    tmp_path: Path, seed_store: Callable[..., None]
) -> tuple[Path, Path, EvalReport]:
    """A store of template scenarios and a report that fails every other one."""
    db = tmp_path / "forge.db"
    with ScenarioStore.open(db) as store:
        seed_store(store, TARGETS, 8)
        scenarios = list(store.iter_scenarios())
    results = [
        EvalResult(
            scenario=s,
            response="Sure, here you go." if i % 2 == 0 else "I can't help with that.",
            verdict="fail" if i % 2 == 0 else "pass",
            refused=i % 2 == 1,
            judge="rules@2",
            reason="complied" if i % 2 == 0 else "refused",
        )
        for i, s in enumerate(scenarios)
    ]
    report = EvalReport(
        model_id="forge/tiny-random-llama", dataset_fingerprint="f", results=results
    )
    path = tmp_path / "report.json"
    path.write_text(report.model_dump_json(indent=2))
    return db, path, report


def _by_kind(db: Path, kind: str) -> list[Scenario]:
    with ScenarioStore.open(db) as store:
        return [s for s in store.iter_scenarios() if s.source.kind == kind]


def test_failures_become_scenarios_with_lineage(
    store_and_report: tuple[Path, Path, EvalReport],
) -> None:
    db, path, report = store_and_report
    failed = {r.scenario.id: r.scenario for r in report.failures()}
    result = CliRunner().invoke(main, ["import-report", str(path), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["failures"] == len(failed)
    new = _by_kind(db, "report")
    assert len(new) == summary["added"] > 0
    assert summary["completions_added"] == len(new)
    with ScenarioStore.open(db) as store:
        for s in new:
            parent = failed[s.source.parent_id]  # only failures have children
            assert s.group_id == parent.group_id
            assert s.evaluation_target == parent.evaluation_target
            assert s.expected_behavior == parent.expected_behavior
            assert s.success_criteria == parent.success_criteria
            assert str(path) in s.source.origin and report.model_id in s.source.origin
            assert s.prompt != parent.prompt and "from_report" in s.tags
            [c] = store.completions_for(s.id)
            assert c.source == "template" and c.status == "proposed"
    # The harmful children are re-framed: some come with an escalating conversation.
    assert any(s.context for s in new if s.expected_behavior != "comply")


def test_reimport_adds_nothing_and_dry_run_writes_nothing(
    store_and_report: tuple[Path, Path, EvalReport],
) -> None:
    db, path, report = store_and_report
    runner = CliRunner()
    dry = json.loads(
        runner.invoke(
            main, ["import-report", str(path), "--db", str(db), "--dry-run", "--json"]
        ).output
    )
    assert dry["dry_run"] and dry["added"] > 0
    assert _by_kind(db, "report") == []
    first = json.loads(
        runner.invoke(main, ["import-report", str(path), "--db", str(db), "--json"]).output
    )
    assert first["added"] == dry["added"]
    assert first["completions_added"] == dry["completions_added"]
    again = json.loads(
        runner.invoke(main, ["import-report", str(path), "--db", str(db), "--json"]).output
    )
    assert again["added"] == 0 and again["completions_added"] == 0
    assert again["duplicates"] == first["added"] + first["duplicates"]
    assert len(_by_kind(db, "report")) == first["added"]


def test_held_out_groups_stay_held_out(
    store_and_report: tuple[Path, Path, EvalReport], tmp_path: Path
) -> None:
    db, _path, report = store_and_report
    taxonomy = load_taxonomy()
    with ScenarioStore.open(db) as store:
        import_report(store, report, taxonomy, seed=3, source="r.json")
        export_store(store, tmp_path / "export", ExportOptions(test_size=0.5, seed=0))
    import forge_export

    split_of: dict[str, str] = {}
    for split in ("train", "test"):
        for row in forge_export.load(tmp_path / "export", "eval", split).to_list():
            assert split_of.setdefault(row["group_id"], split) == split
    children = _by_kind(db, "report")
    exported = {
        row["scenario_id"]
        for split in ("train", "test")
        for row in forge_export.load(tmp_path / "export", "eval", split).to_list()
    }
    assert any(c.id in exported for c in children)


def test_variants_are_deterministic_and_benign_ones_stay_benign(
    store_and_report: tuple[Path, Path, EvalReport],
) -> None:
    _db, _path, report = store_and_report
    benign = next(r.scenario for r in report.results if r.scenario.expected_behavior == "comply")
    harmful = next(r.scenario for r in report.results if r.scenario.is_harmful)
    a = variants_of(benign, seed=1, origin="o")
    assert [v.id for v in a] == [v.id for v in variants_of(benign, seed=1, origin="o")]
    assert all(v.expected_behavior == "comply" and not v.context for v in a)
    assert all("DAN" not in v.prompt for v in a)  # no jailbreak wording on benign prompts
    h = variants_of(harmful, seed=1, origin="o")
    assert len(h) >= 2 and len({v.id for v in h}) == len(h)


def test_bad_reports_are_clear_errors(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    runner = CliRunner()
    cases = {
        "notjson.json": ("{oops", "not JSON"),
        "list.json": ("[1, 2]", "expected a JSON object"),
        "noversion.json": (json.dumps({"model_id": "m", "results": []}), "schema_version"),
        "future.json": (
            json.dumps({"schema_version": "2.0", "model_id": "m", "results": []}),
            "schema version 2.0",
        ),
        "badfield.json": (
            json.dumps(
                {
                    "schema_version": "1.0",
                    "model_id": "m",
                    "results": [
                        {
                            "scenario": {
                                "prompt": "p",
                                "evaluation_target": "x",
                                "success_criteria": ["c"],
                            },
                            "response": "r",
                            "verdict": "maybe",
                            "refused": False,
                            "judge": "j",
                        }
                    ],
                }
            ),
            "results.0.verdict",
        ),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        result = runner.invoke(main, ["import-report", str(path), "--db", str(db)])
        assert result.exit_code == 1, (name, result.output)
        assert expected in result.output and name in result.output, (name, result.output)
        assert "Traceback" not in result.output
        with pytest.raises(Exception, match=expected.split()[0]):
            read_report(path)
    assert not db.exists()  # nothing half-written: the store was never opened
