"""An export reads one snapshot of the store: an import committed meanwhile by another
process is not in it, not even partly (issue 17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from forge_export import Completion, Scenario
from forge_export.exporters.huggingface import ExportOptions
from forge_export.manifest import read_manifest
from forge_export.reader import validate_export
from scenario_forge.api import export_store
from scenario_forge.store import ScenarioStore

BEFORE, DURING = 1500, 1000

IMPORTER = r"""
import sys
from forge_export import Completion, Scenario
from scenario_forge.store import ScenarioStore
store = ScenarioStore.open(sys.argv[1], create=False, actor="importer")
scenarios = [Scenario(prompt=f"imported while exporting {i}", evaluation_target="demo",
                      success_criteria=["c"]) for i in range(int(sys.argv[2]))]
print(store.add_scenarios(scenarios).added, flush=True)
store.add_completions([Completion(scenario_id=s.id, text="late answer", source="human")
                       for s in scenarios])
store.close()
"""


def _scenarios(n: int) -> list[Scenario]:
    return [
        Scenario(
            prompt=f"stored before the export {i}", evaluation_target="demo", success_criteria=["c"]
        )
        for i in range(n)
    ]


def test_export_is_one_snapshot_while_another_process_imports(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    with ScenarioStore.open(db) as store:
        scenarios = _scenarios(BEFORE)
        store.add_scenarios(scenarios)
        store.add_completions(
            [Completion(scenario_id=s.id, text="an answer", source="human") for s in scenarios]
        )
    imported: list[str] = []

    def progress(_n: int) -> None:
        if imported:
            return
        # the export has read 1000 of 1500 scenarios: now another process imports 1000 more
        # (with completions) and commits, before the export reads its next page
        proc = subprocess.run(
            [sys.executable, "-c", IMPORTER, str(db), str(DURING)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        imported.append(proc.stdout.strip())

    out = tmp_path / "ds"
    with ScenarioStore.open(db, create=False) as store:
        summary = export_store(
            store, out, ExportOptions(test_size=0, configs=["sft", "eval"]), progress=progress
        )
        assert imported == [str(DURING)]
        assert store.count_scenarios() == BEFORE + DURING  # the snapshot ended with the export
    assert summary.scenarios_seen == BEFORE
    assert summary.counts["eval"]["train"] == BEFORE
    assert summary.counts["sft"]["train"] == BEFORE
    assert validate_export(out) == []
    assert read_manifest(out).stats["scenarios_seen"] == BEFORE


def test_no_write_inside_a_snapshot(tmp_path: Path) -> None:
    with ScenarioStore.open(tmp_path / "forge.db") as store, store.snapshot():
        try:
            store.add_scenarios(_scenarios(1))
        except Exception as exc:
            assert "read snapshot" in str(exc)
        else:
            raise AssertionError("a write inside a snapshot was accepted")
        assert store.count_scenarios() == 0
