"""`model-forge loop --quick --probe-transforms ...`: transformed probes on the tiny model.

The default (no transforms) is covered by tests/test_loop.py; this run checks that the probe
scenarios of round 2 carry the transform chain, stay out of the test groups, and that their
failures become training scenarios like plain probes' failures do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import EvalReport
from forge_export.loop_summary import LoopSummary


def test_quick_loop_with_probe_transforms(tmp_path: Path) -> None:
    from model_forge.tiny_model import save_tiny
    from scenario_forge.store import ScenarioStore

    model = save_tiny(tmp_path / "tiny-model", init_std=0.2)
    workdir = tmp_path / "run"
    cli = Path(sys.executable).parent / "model-forge"
    cmd = [
        str(cli),
        "loop",
        "--quick",
        "--model",
        str(model),
        "--workdir",
        str(workdir),
        "--probe-transforms",
        "base64, crescendo:3",
        "--json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = LoopSummary.model_validate_json(proc.stdout)
    assert summary.config["probe_transforms"] == ["base64", "crescendo:3"]
    probe = summary.rounds[2].probe
    assert probe is not None and probe.scenarios > 0
    report = EvalReport.model_validate_json(Path(probe.report).read_text())
    test_groups = set(json.loads((workdir / "test-set.json").read_text())["groups"])
    for r in report.results:
        s = r.scenario
        assert s.metadata["transforms"] == ["base64", "crescendo:3"]
        assert "base64" in s.prompt and len(s.context) >= 4
        assert s.group_id not in test_groups
    benign = [r for r in report.results if not r.scenario.is_harmful]
    assert benign and all(r.scenario.expected_behavior == "comply" for r in benign)
    failed = {r.scenario.id for r in report.failures()}
    with ScenarioStore.open(workdir / "forge.db") as store:
        children = [s for s in store.iter_scenarios() if s.source.parent_id in failed]
    assert len(failed) == 0 or children


@pytest.mark.parametrize(
    ("value", "message"),
    [("nope", "unknown transform 'nope'"), ("crescendo:99", "crescendo:99")],
)
def test_bad_probe_transform_is_one_line(value: str, message: str, tmp_path: Path) -> None:
    from model_forge.cli import main

    result = CliRunner().invoke(
        main,
        ["loop", "--quick", "--workdir", str(tmp_path / "w"), "--probe-transforms", value],
    )
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "w").exists()
