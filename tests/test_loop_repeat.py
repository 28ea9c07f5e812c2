"""Runs people can trust and repeat: a tiny loop repeated from its record, killed and resumed,
and run again on the same store, always on the same frozen test scenarios.

Every run goes through the installed ``model-forge`` console script. The settings are the quick
run made smaller (no look-alikes, no wild set, the lexical rule judge) so that four runs take a
few minutes on two CPU cores; what is checked does not depend on the size.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from forge_export.loop_summary import LoopSummary

SMALL = [
    "--quick",
    "--wild-set",
    "none",
    "--count-per-target",
    "4",
    "--no-lookalikes",
    "--judge",
    "rules:lexical",
]
CLI = str(Path(sys.executable).parent / "model-forge")


def _loop(*args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-q"] if quiet else []
    proc = subprocess.run(
        [CLI, *flags, "loop", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ.copy(),
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _summary(workdir: Path) -> LoopSummary:
    return LoopSummary.model_validate_json((workdir / "summary.json").read_text())


def _table(workdir: Path) -> str:
    from model_forge.loop import format_rounds

    return format_rounds(_summary(workdir))


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run: the reference every other run must match."""
    workdir = tmp_path_factory.mktemp("repeat") / "first"
    _loop(*SMALL, "--workdir", str(workdir))
    return workdir


def test_the_summary_records_the_resolved_settings_and_provenance(first: Path) -> None:
    from forge_export.reports import export_fingerprint
    from model_forge.loop_config import LoopConfig
    from model_forge.loop_state import RUN_FILE

    summary = _summary(first)
    config = summary.config
    assert config["workdir"] == str(first)
    assert LoopConfig().merge(config).to_json() == config  # complete: every field, resolved
    assert config["evaluation"]["judge"] == "rules:lexical" and config["quick"] is True
    import yaml

    assert yaml.safe_load((first / RUN_FILE).read_text()) == config
    p = summary.provenance
    assert p is not None
    for name in ("torch", "transformers", "trl", "datasets", "forge-export", "model-forge"):
        assert p.packages[name], name
    assert re.fullmatch(r"[0-9a-f]{40}", p.git_commit) and p.git_dirty in (True, False)
    assert p.python.count(".") == 2 and p.device == "cpu" and p.dtype == "float32"
    assert p.seeds["seed"] == 0 and p.seeds["round 2 training"] == 2
    assert p.datasets["round-0 export"] == export_fingerprint(first / "round-0" / "export")
    assert p.workdir == str(first.resolve())
    assert set(summary.rounds[0].seconds) == {"export", "test"}
    assert set(summary.rounds[1].seconds) == {"train", "test"}
    assert set(summary.rounds[2].seconds) == {"probe", "export", "train", "test"}
    assert all(s >= 0 for r in summary.rounds for s in r.seconds.values())
    report = json.loads(Path(summary.rounds[1].test_report).read_text())
    assert report["provenance"]["device"] == "cpu"
    assert report["aggregates"]["all"]["intervals"]["pass_rate"][0] >= 0.0
    metrics = json.loads((first / "round-1" / "model" / "metrics.json").read_text())
    assert metrics["provenance"]["seeds"] == {"seed": 1}


def test_the_quick_model_answers_so_probes_make_preference_pairs(first: Path) -> None:
    summary = _summary(first)
    probe = summary.rounds[2].probe
    assert probe is not None and probe.failures > 0 and probe.preference_pairs > 0
    report = json.loads(Path(summary.rounds[0].test_report).read_text())
    assert all(r["response"].strip() for r in report["results"])


def test_repeating_a_run_from_its_summary_gives_the_identical_table(
    first: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    quiet = _loop("--config", str(first / "summary.json"), "--workdir", str(again), quiet=True)
    assert _table(again) == _table(first)
    # -q: no progress lines or bars (a default run's are checked by the resume test below)
    assert "round" not in quiet.stderr and "train done" not in quiet.stderr, quiet.stderr[-2000:]
    assert "round 1" in quiet.stdout  # the result table still goes to stdout
    assert _summary(again).config == {**_summary(first).config, "workdir": str(again)}


def test_a_killed_loop_resumes_to_the_same_table(first: Path, tmp_path: Path) -> None:
    from model_forge.loop_state import RunState

    workdir = tmp_path / "killed"
    proc = subprocess.Popen(
        [CLI, "loop", "--config", str(first / "run.yaml"), "--workdir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "round 1 train done" in line:
            os.killpg(proc.pid, signal.SIGKILL)  # mid-round: round 1's test is under way
            break
    proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL
    state = RunState.load(workdir)
    assert state.is_done("round 1 train") and not state.is_done("round 2 test")
    assert not (workdir / "summary.json").exists()

    changed = _loop("--workdir", str(workdir), "--resume", "--rounds", "3", check=False)
    assert changed.returncode == 1
    assert "--resume continues the run as it was set up; rounds differs" in changed.stderr

    resumed = _loop("--workdir", str(workdir), "--resume")
    assert "round 1 train: done before, kept (resume)" in resumed.stderr
    assert "scenarios: done before, kept (resume)" in resumed.stderr
    assert _table(workdir) == _table(first)


def test_a_workdir_that_holds_a_run_is_refused(first: Path) -> None:
    before = (first / "summary.json").read_bytes()
    proc = _loop(*SMALL, "--workdir", str(first), check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not empty" in lines[0] and "--resume" in lines[0]
    assert "--overwrite" in lines[0]
    assert (first / "summary.json").read_bytes() == before


def test_evaluate_on_a_frozen_test_set_uses_its_scenarios(first: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from forge_export.reports import read_report
    from model_forge.cli import main

    summary = _summary(first)
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        main,
        ["evaluate", "--model", summary.rounds[1].model, "--judge", "rules:lexical"]
        + ["--max-new-tokens", "16", "--test-set", str(first / "test-set.json"), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    mine = read_report(out / "report.json")
    loops = read_report(summary.rounds[1].test_report)
    assert {r.scenario.id for r in mine.results} == {r.scenario.id for r in loops.results}
    assert mine.dataset_fingerprint == loops.dataset_fingerprint
    # the same model on the same scenarios answers the same: compare finds nothing to note
    compared = CliRunner().invoke(
        main, ["compare", summary.rounds[1].test_report, str(out / "report.json")]
    )
    assert compared.exit_code == 0, compared.output
    assert "0 changed" in compared.output


def test_a_given_test_set_is_the_run_s_test_set(first: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "given"
    frozen = first / "test-set.json"
    _loop(*SMALL, "--rounds", "1", "--test-set", str(frozen), "--workdir", str(workdir))
    mine = json.loads((workdir / "test-set.json").read_text())
    theirs = json.loads(frozen.read_text())
    assert mine["scenario_ids"] == theirs["scenario_ids"]


def test_reusing_a_store_changes_no_test_scenario(first: Path, tmp_path: Path) -> None:
    from scenario_forge.store import ScenarioStore

    store = first / "forge.db"
    with ScenarioStore.open(store) as s:
        derived = [x for x in s.iter_scenarios() if x.source.parent_id]
    assert derived, "the first run stored training scenarios made from its probe failures"
    workdir = tmp_path / "reuse"
    proc = _loop(*SMALL, "--rounds", "1", "--store", str(store), "--workdir", str(workdir))
    assert "pinned in the store by an earlier run" in proc.stderr
    mine = json.loads((workdir / "test-set.json").read_text())
    theirs = json.loads((first / "test-set.json").read_text())
    assert mine["scenario_ids"] == theirs["scenario_ids"]
    assert not {x.id for x in derived} & set(mine["scenario_ids"])
