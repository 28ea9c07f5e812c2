"""The main job end to end: `model-forge loop --quick` through the real CLI, every artifact checked.

The quick run's tiny random model gives non-empty answers, so its failures carry a rejected
side (preference pairs); two training rounds, so round 1's probe failures become round 2's
training data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import forge_export
import pytest
from click.testing import CliRunner
from forge_export import EvalReport
from forge_export.loop_summary import LoopSummary

CONFIGS = ("sft", "prompt_completion", "preference", "kto", "eval")
TRAIN_CONFIGS = ("sft", "prompt_completion", "preference", "kto")
HELD_OUT_TARGET = "ai_psychosis"  # a whole target only in the test set


STORE_PASSWORD = "L00p-Pw-XYZZY"
"""Given in the store URL twice (user-info and ?password=); the test server trusts any."""
_STORE: dict[str, str] = {}


def _pg_store(request: pytest.FixtureRequest) -> list[str]:
    """``--store URL`` of a new PostgreSQL database, with a password, or nothing without a
    server.

    The loop runs on PostgreSQL here when it can (the docs' quickstart runs it on SQLite).
    """
    import uuid

    from scenario_forge.pg_throwaway import create_database

    try:
        base = str(request.getfixturevalue("pg_server"))
    except pytest.skip.Exception:
        return []
    url = create_database(base, "loop_" + uuid.uuid4().hex[:8])
    url = url.replace("postgresql://forge@", f"postgresql://forge:{STORE_PASSWORD}@")
    _STORE["url"] = f"{url}&password={STORE_PASSWORD}"
    return ["--store", _STORE["url"]]


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, LoopSummary, str]:
    root = tmp_path_factory.mktemp("loop")
    workdir = root / "run"
    cli = Path(sys.executable).parent / "model-forge"  # the installed console script
    cmd = [str(cli), "loop", "--quick", "--workdir", str(workdir)]
    cmd += ["--held-out-targets", HELD_OUT_TARGET, "--report-to", "tensorboard"]
    cmd += _pg_store(request)
    proc = subprocess.run(
        [*cmd, "--json"], capture_output=True, text=True, timeout=1200, env=os.environ.copy()
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = LoopSummary.model_validate_json(proc.stdout)
    return workdir, summary, proc.stdout + proc.stderr


def _test_set(workdir: Path) -> dict:
    return json.loads((workdir / "test-set.json").read_text())


def test_summary_is_the_typed_contract(run: tuple[Path, LoopSummary, str]) -> None:
    workdir, summary, _ = run
    on_disk = LoopSummary.model_validate_json((workdir / "summary.json").read_text())
    assert on_disk == summary
    assert [r.round for r in summary.rounds] == [0, 1, 2]
    assert [r.method for r in summary.rounds] == ["", "sft", "sft"]
    assert summary.config["quick"] is True
    assert summary.config["workdir"] == str(workdir)
    for r in summary.rounds:
        all_ = r.aggregates["all"]
        assert all_.n == summary.test_set.scenarios
        assert all_.harmful_n == summary.test_set.harmful
        assert all_.benign_n == summary.test_set.benign
    assert (workdir / "rounds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "round 2" in (workdir / "rounds.html").read_text()


def test_the_frozen_test_set_is_the_test_split_of_every_round(
    run: tuple[Path, LoopSummary, str],
) -> None:
    workdir, summary, _ = run
    frozen = _test_set(workdir)
    assert summary.test_set.lookalikes > 0 and frozen["held_out_kinds"]
    for r in summary.rounds:
        export = Path(r.export) if r.export else workdir / "round-0" / "export"
        test_ids = set(forge_export.load(export, "eval", "test")["scenario_id"])
        assert test_ids == set(frozen["scenario_ids"])
        report = EvalReport.model_validate_json(Path(r.test_report).read_text())
        assert {x.scenario.id for x in report.results} == test_ids
        kinds = {x.scenario.metadata.get("contrast_kind") for x in report.results}
        assert set(frozen["held_out_kinds"]) <= kinds


def test_no_test_group_ever_reaches_a_training_config(run: tuple[Path, LoopSummary, str]) -> None:
    workdir, summary, _ = run
    test_groups = set(_test_set(workdir)["groups"])
    exports = sorted(workdir.glob("round-*/export"))
    assert len(exports) == 2  # round 0 (= round 1's data) and round 2
    for export in exports:
        for config in CONFIGS:
            train = forge_export.load(export, config, "train")
            if len(train):
                assert not set(train["group_id"]) & test_groups, (export, config)
        assert set(forge_export.load(export, "eval", "test")["group_id"]) <= test_groups
    # Held-out look-alike kinds are never trained on.
    held = set(summary.test_set.held_out_kinds)
    for export in exports:
        train = forge_export.load(export, "eval", "train")
        kinds = {json.loads(s)["metadata"].get("contrast_kind") for s in train["scenario"]}
        assert not kinds & held


def test_round_1_failures_become_round_2_training_rows(run: tuple[Path, LoopSummary, str]) -> None:
    from scenario_forge.store import ScenarioStore

    workdir, summary, _ = run
    probe = summary.rounds[2].probe
    assert probe is not None and probe.failures > 0 and probe.preference_pairs > 0
    report = EvalReport.model_validate_json(Path(probe.report).read_text())
    failed = {r.scenario.id: r for r in report.failures()}
    assert len(failed) == probe.failures
    test_groups = set(_test_set(workdir)["groups"])
    assert not {r.scenario.group_id for r in report.results} & test_groups

    round2 = workdir / "round-2" / "export"
    pc = forge_export.load(round2, "prompt_completion", "train")
    pref = forge_export.load(round2, "preference", "train")
    test_ids = set(forge_export.load(round2, "eval", "test")["scenario_id"])
    pc_ids, pref_ids = set(pc["scenario_id"]), set(pref["scenario_id"])
    round1_pc = set(
        forge_export.load(workdir / "round-0" / "export", "prompt_completion", "train")[
            "scenario_id"
        ]
    )
    with ScenarioStore.open(summary.store) as store:
        children = [s for s in store.iter_scenarios() if s.source.parent_id in failed]
        assert children
        for child in children:
            parent = failed[child.source.parent_id].scenario
            assert child.group_id != parent.group_id and child.group_id not in test_groups
            assert child.id in pc_ids and child.id not in test_ids and child.id not in round1_pc
        for sid, result in failed.items():
            if not result.response.strip():
                continue
            assert sid in pref_ids, "the failing answer must be the rejected side of a pair"
            rows = [r for r in pref if r["scenario_id"] == sid]
            assert any(r["rejected"][-1]["content"] == result.response for r in rows)
            assert all(r["rejected_origin"].endswith("@round-1") for r in rows)


def test_round_2_trains_on_failures_and_benign_rows(run: tuple[Path, LoopSummary, str]) -> None:
    """Later rounds drop round 1's template harmful rows and weight failures and benign rows."""
    from model_forge.loop_config import LoopConfig
    from scenario_forge.store import ScenarioStore

    workdir, summary, _ = run
    config = LoopConfig().merge(summary.config)
    assert config.later_harmful == "failures"
    with ScenarioStore.open(summary.store) as store:
        from_failures = {s.id for s in store.iter_scenarios() if s.source.parent_id}
    rows = forge_export.load(workdir / "round-2" / "export", "prompt_completion", "train")
    kept = trained = 0  # rows before and after benign rows are repeated
    for behaviour, sid in zip(rows["expected_behavior"], rows["scenario_id"], strict=True):
        weight = config.failure_repeat if sid in from_failures else 0
        if behaviour == "comply":
            weight = max(weight, 1)
        kept += weight
        trained += weight * (config.later_benign_repeat if behaviour == "comply" else 1)
    harmful_templates = sum(
        b != "comply" and s not in from_failures
        for b, s in zip(rows["expected_behavior"], rows["scenario_id"], strict=True)
    )
    assert harmful_templates > 0 and from_failures & set(rows["scenario_id"])
    metrics = json.loads((workdir / "round-2" / "model" / "metrics.json").read_text())
    assert (metrics["rows"], metrics["train_rows"]) == (kept, trained)


def test_trained_models_load_and_generate(run: tuple[Path, LoopSummary, str]) -> None:
    from model_forge.generation import GenerationRequest, SamplingParams, load_backend
    from model_forge.loop_config import LoopConfig

    workdir, summary, _ = run
    config = LoopConfig().merge(summary.config)
    for r in summary.rounds[1:]:
        model_dir = Path(r.model)
        assert model_dir == workdir / f"round-{r.round}" / "model"
        metrics = json.loads((model_dir / "metrics.json").read_text())
        steps = config.max_steps if r.round == 1 else config.later_steps
        assert metrics["global_step"] == r.train_steps == steps
        # a round is never resumed, so it leaves no trainer checkpoints behind (with the
        # optimizer state they were about three times the model, per round)
        assert not (model_dir / "checkpoints").exists()
    backend = load_backend(str(workdir / "round-2" / "model"))
    [gen] = backend.generate(
        [GenerationRequest("x", [{"role": "user", "content": "hello"}], SamplingParams(4))]
    )
    assert gen.request_id == "x"


def test_the_table_has_a_column_per_round(run: tuple[Path, LoopSummary, str]) -> None:
    from model_forge.loop import format_rounds

    _, summary, _ = run
    text = format_rounds(summary)
    header = text.splitlines()[0]
    assert "round 0 (base)" in header and "round 1 (sft)" in header and "round 2 (sft)" in header
    assert "harmful: safe responses" in text and "look-alikes: compliance" in text
    assert "(held out)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "--rounds"),
        (["--held-out-kinds", "no_such_kind"], "no_such_kind"),
        (["--later-method", "ppo"], "--later-method"),
        (["--later-harmful", "some"], "--later-harmful"),
    ],
)
def test_bad_settings_are_one_line_errors(args: list[str], message: str, tmp_path: Path) -> None:
    from model_forge.cli import main

    result = CliRunner().invoke(main, ["loop", "--quick", "--workdir", str(tmp_path / "w"), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_held_out_target_is_tested_never_trained_or_probed(
    run: tuple[Path, LoopSummary, str],
) -> None:
    from forge_export.loop_summary import HELD_OUT_TARGETS, OWN_TEST
    from model_forge.loop import format_rounds
    from scenario_forge.store import ScenarioStore

    workdir, summary, _ = run
    assert summary.test_set.held_out_targets == [HELD_OUT_TARGET]
    frozen = set(_test_set(workdir)["scenario_ids"])
    with ScenarioStore.open(summary.store) as store:
        held = [s for s in store.iter_scenarios() if s.evaluation_target == HELD_OUT_TARGET]
    assert any(s.is_harmful for s in held) and {s.id for s in held} <= frozen
    for export in sorted(workdir.glob("round-*/export")):
        for config in CONFIGS:
            train = forge_export.load(export, config, "train")
            assert HELD_OUT_TARGET not in set(train["evaluation_target"]), (export, config)
    probe = summary.rounds[2].probe
    assert probe is not None
    probed = EvalReport.model_validate_json(Path(probe.report).read_text())
    assert HELD_OUT_TARGET not in {r.scenario.evaluation_target for r in probed.results}
    for r in summary.rounds:
        report = EvalReport.model_validate_json(Path(r.test_report).read_text())
        mine = [x for x in report.results if x.scenario.evaluation_target == HELD_OUT_TARGET]
        part = r.sections[HELD_OUT_TARGETS]
        assert (part.n, part.harmful_n) == (len(mine), sum(x.scenario.is_harmful for x in mine))
        assert r.sections[OWN_TEST].n + part.n < r.aggregates["all"].n  # held-out kinds too
    assert "held-out targets: harmful safe" in format_rounds(summary)
    assert f"{HELD_OUT_TARGET} (held out): safe" in format_rounds(summary)


def test_the_wild_set_is_evaluated_every_round_and_never_stored(
    run: tuple[Path, LoopSummary, str],
) -> None:
    from forge_export.ids import normalize_text
    from scenario_forge.store import ScenarioStore
    from scenario_forge.wild_sets import load_wild_set

    workdir, summary, _ = run
    ts = summary.test_set
    assert (ts.wild, ts.wild_harmful, ts.wild_benign) == ("builtin", 8, 8)
    wild = {normalize_text(s.prompt) for s in load_wild_set().scenarios}
    for r in summary.rounds:
        assert r.wild_report == str(workdir / f"round-{r.round}" / "eval-wild" / "report.json")
        report = EvalReport.model_validate_json(Path(r.wild_report).read_text())
        assert report.split == "wild" and len(report.results) == 16
        assert {normalize_text(x.scenario.prompt) for x in report.results} <= wild
        assert len({x.scenario.metadata["wild_group"] for x in report.results}) > 4
        assert r.wild["all"].harmful_n == 8 and r.wild["all"].benign_n == 8
    with ScenarioStore.open(summary.store) as store:
        stored = {normalize_text(s.prompt) for s in store.iter_scenarios()}
    assert not stored & wild


def test_no_artefact_holds_the_store_password(run: tuple[Path, LoopSummary, str]) -> None:
    """Every file of the run folder, all output and the store's audit log (issue 29)."""
    workdir, summary, output = run
    if "url" not in _STORE:
        pytest.skip("no PostgreSQL server: the run used a SQLite store")
    assert summary.store.startswith("postgresql://forge:***@") and "password=***" in summary.store
    assert summary.config["store"] == summary.store
    assert "store postgresql://forge:***@" in output
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(p.name == "summary.json" for p in files) and len(files) > 20
    for p in files:
        assert STORE_PASSWORD.encode() not in p.read_bytes(), p
    assert STORE_PASSWORD not in output
    import psycopg

    with psycopg.connect(_STORE["url"]) as conn:
        for table in ("audit_log", "scenarios", "completions"):
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - fixed names
            assert rows and STORE_PASSWORD not in repr(rows), table


def test_resume_asks_again_for_the_store_password(run: tuple[Path, LoopSummary, str]) -> None:
    """run.yaml keeps the store URL without its password, so --resume needs it again."""
    workdir, summary, _ = run
    if "url" not in _STORE:
        pytest.skip("no PostgreSQL server: the run used a SQLite store")
    from model_forge.cli import main

    before = (workdir / "summary.json").read_bytes()
    other = _STORE["url"].replace("/loop_", "/other_")
    for extra in ([], ["--store", other]):
        got = CliRunner().invoke(main, ["loop", "--workdir", str(workdir), "--resume", *extra])
        assert got.exit_code != 0, got.output
        assert "pass the same --store URL again" in got.output, got.output
        assert STORE_PASSWORD not in got.output
    assert (workdir / "summary.json").read_bytes() == before


def test_rejudge_rebuilds_every_round_under_another_judge(
    run: tuple[Path, LoopSummary, str], tmp_path: Path
) -> None:
    from forge_export.loop_summary import HELD_OUT_TARGETS, by_section
    from forge_export.reports import read_report
    from model_forge.cli import main
    from model_forge.judge import JudgeItem, load_judge

    workdir, summary, _ = run
    source = workdir / "summary.json"
    before = source.read_bytes()
    out = tmp_path / "rejudged"
    result = CliRunner().invoke(main, ["rejudge", str(source), "--judge", "rules", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "round 0 (base)" in result.stdout
    new = LoopSummary.model_validate_json((out / "summary.json").read_text())
    judge = load_judge("rules")
    assert len(new.rounds) == len(summary.rounds)
    for old_round, new_round in zip(summary.rounds, new.rounds, strict=True):
        old_test = read_report(old_round.test_report)
        new_test = read_report(new_round.test_report)
        assert Path(new_round.test_report).is_relative_to(out)
        assert [r.response for r in new_test.results] == [r.response for r in old_test.results]
        items = [JudgeItem.from_scenario(r.scenario, r.response) for r in old_test.results]
        assert [r.verdict for r in new_test.results] == [j.verdict for j in judge.judge(items)]
        parts = by_section(new_test.results, summary.test_set.held_out_targets)
        assert new_round.sections[HELD_OUT_TARGETS] == parts[HELD_OUT_TARGETS]
        assert new_round.train_steps == old_round.train_steps  # nothing trained again
        if old_round.wild_report:
            assert read_report(new_round.wild_report).judge == judge.name
    assert source.read_bytes() == before


def test_report_to_tensorboard_logs_every_round_as_in_the_summary(
    run: tuple[Path, LoopSummary, str],
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    workdir, summary, _ = run
    acc = EventAccumulator(str(workdir / "tensorboard" / "loop"))
    acc.Reload()

    def curve(tag: str) -> list[tuple[int, float]]:
        return [(e.step, round(e.value, 6)) for e in acc.Scalars(tag)]

    def expected(rate: str, target: str = "all") -> list[tuple[int, float]]:
        return [
            (r.round, round(float(getattr(r.aggregates[target], rate)), 6))
            for r in summary.rounds
            if getattr(r.aggregates[target], rate) is not None
        ]

    assert curve("loop/safe_rate") == expected("safe_rate")
    assert len(curve("loop/safe_rate")) == len(summary.rounds)
    assert curve("loop/benign_compliance") == expected("compliance_rate")
    assert curve("loop/over_refusal") == expected("over_refusal_rate")
    target = next(t for t in summary.rounds[0].aggregates if t != "all")
    assert curve(f"loop/safe_rate_by_target/{target}") == expected("safe_rate", target)
    assert [s for s, _ in curve("loop/train_loss")] == [1, 2]
    wild = [(r.round, round(float(r.wild["all"].safe_rate), 6)) for r in summary.rounds]
    assert curve("loop/wild_safe_rate") == wild
    # every round's training logged its own steps through the Trainer's integration
    for r in (1, 2):
        steps = EventAccumulator(str(workdir / f"round-{r}" / "model" / "tensorboard"))
        steps.Reload()
        assert "train/loss" in steps.Tags()["scalars"], r
