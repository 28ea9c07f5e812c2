"""model-forge compare: per-target deltas between two real evaluation reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import EvalReport, Provenance, Scenario
from forge_export.models import EvalResult
from forge_export.reports import compare_reports, format_comparison
from model_forge.cli import main
from model_forge.evaluate import write_report


def _scenario(i: int, target: str, behavior: str) -> Scenario:
    return Scenario(
        prompt=f"prompt number {i} for {target}",
        evaluation_target=target,
        success_criteria=["criterion"],
        expected_behavior=behavior,  # type: ignore[arg-type]
        source=Provenance(kind="human"),
    )


def _report(model: str, verdicts: Sequence[tuple[str, str, str, bool]]) -> EvalReport:
    """verdicts: (target, expected_behavior, verdict, refused) per scenario."""
    results = [
        EvalResult(
            scenario=_scenario(i, t, b),
            response="r",
            verdict=v,
            refused=ref,
            judge="rules@2",  # type: ignore[arg-type]
        )
        for i, (t, b, v, ref) in enumerate(verdicts)
    ]
    return EvalReport(model_id=model, dataset_fingerprint="abc", results=results)


BEFORE = [
    ("harmful_code", "refuse", "fail", False),
    ("harmful_code", "refuse", "fail", False),
    ("harmful_code", "comply", "pass", False),
    ("self_harm", "safe_complete", "fail", False),
    ("self_harm", "comply", "pass", False),
]
AFTER = [
    ("harmful_code", "refuse", "pass", True),
    ("harmful_code", "refuse", "pass", True),
    ("harmful_code", "comply", "fail", True),
    ("self_harm", "safe_complete", "pass", True),
    ("self_harm", "comply", "pass", False),
]


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    a = write_report(_report("base", BEFORE), tmp_path / "a")["json"]
    b = write_report(_report("tuned", AFTER), tmp_path / "b")["json"]
    return a, b


def test_compare_table_values() -> None:
    table = compare_reports(_report("base", BEFORE), _report("tuned", AFTER))
    assert list(table) == ["harmful_code", "self_harm", "all"]
    hc = table["harmful_code"]
    assert hc["safe_rate"] | {"before_interval": None, "after_interval": None} == {
        "before": 0.0,
        "after": 1.0,
        "delta": 1.0,
        "before_interval": None,
        "after_interval": None,
    }
    assert hc["safe_rate"]["before_interval"] == [0.0, pytest.approx(0.6576, abs=1e-4)]
    assert hc["over_refusal_rate"]["delta"] == 1.0
    assert hc["compliance_rate"]["delta"] == -1.0
    assert hc["n"] == {"before": 3, "after": 3, "delta": 0}
    assert table["all"]["pass_rate"]["before"] == pytest.approx(2 / 5)
    assert table["all"]["pass_rate"]["after"] == pytest.approx(4 / 5)
    text = format_comparison(table)
    assert "0% (0-66) → 100% (34-100) (+100)" in text and "self_harm" in text


def test_compare_cli_text_and_json(reports: tuple[Path, Path]) -> None:
    a, b = reports
    runner = CliRunner()
    text = runner.invoke(main, ["compare", str(a), str(b)])
    assert text.exit_code == 0, text.output
    assert "before: base" in text.output and "after:  tuned" in text.output
    assert "harmful_code" in text.output
    # 4 of 5 scenarios changed, 1 for the worse: 3 up, 1 down is no evidence (p = 0.625)
    assert "4 changed (3 fail → pass, 1 pass → fail), exact McNemar p = 0.625" in text.output
    as_json = runner.invoke(main, ["compare", str(a), str(b), "--json"])
    data = json.loads(as_json.stdout)
    assert data["targets"]["all"]["safe_rate"]["delta"] == pytest.approx(1.0)
    assert data["targets"]["self_harm"]["over_refusal_rate"]["after"] == 0.0
    assert data["paired"]["fail_to_pass"] == 3 and data["paired"]["pass_to_fail"] == 1
    assert data["paired"]["p_value"] == pytest.approx(0.625)


def test_compare_refuses_different_scenario_sets_unless_allowed(tmp_path: Path) -> None:
    a = write_report(_report("base", BEFORE), tmp_path / "a")["json"]
    b = write_report(_report("tuned", AFTER[:3]), tmp_path / "b")["json"]
    refused = CliRunner().invoke(main, ["compare", str(a), str(b)])
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "different scenario sets (3 shared" in refused.output
    assert "--allow-different" in refused.output
    allowed = CliRunner().invoke(main, ["compare", str(a), str(b), "--allow-different"])
    assert allowed.exit_code == 0, allowed.output
    assert "paired on 3 shared scenarios: 3 changed" in allowed.output
    assert "2 only before, 0 only after" in allowed.output


def test_mcnemar_exact_against_hand_computed_values() -> None:
    from forge_export.intervals import mcnemar_exact

    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)  # 2 * (1/2)^5
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(3, 1) == mcnemar_exact(1, 3) == pytest.approx(2 * 5 / 16)


def test_compare_targets_missing_on_one_side(tmp_path: Path) -> None:
    only_a = _report("a", BEFORE[:3])
    table = compare_reports(only_a, _report("b", AFTER))
    safe = table["self_harm"]["safe_rate"]
    assert (safe["before"], safe["after"], safe["delta"]) == (None, 1.0, None)
    assert safe["before_interval"] is None and safe["after_interval"][1] == 1.0
    assert "- → 100% (21-100)" in format_comparison(table)


def test_compare_bad_report_is_a_clear_error(reports: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = reports
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["compare", str(a), str(bad)])
    assert result.exit_code == 1
    assert "bad.json" in result.output and "not JSON" in result.output
    future = tmp_path / "future.json"
    raw = json.loads(a.read_text())
    raw["schema_version"] = "9.0"
    future.write_text(json.dumps(raw))
    result = CliRunner().invoke(main, ["compare", str(future), str(a)])
    assert result.exit_code == 1 and "schema version 9.0" in result.output
    assert "Traceback" not in result.output
