"""Batch review (export-queue / import) and reviewer statistics, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner, Result
from forge_export import Completion, Scenario
from scenario_forge.cli import main
from scenario_forge.review.agreement import krippendorff_alpha
from scenario_forge.review.decisions import Answer, apply_answer
from scenario_forge.store import ScenarioStore


def seed(store: ScenarioStore, n: int) -> list[Scenario]:
    scenarios = [
        Scenario(
            prompt=f"Batch prompt {i}",
            evaluation_target=("demo_code", "demo_help")[i % 2],
            success_criteria=["c"],
        )
        for i in range(n)
    ]
    store.add_scenarios(scenarios)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"{src} reply {i}", source=src, origin=src)  # type: ignore[arg-type]
        for i, s in enumerate(scenarios)
        for src in ("template", "model")
    )
    return scenarios


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"SCENARIO_FORGE_DB": str(db)})


def test_export_queue_then_import_answers(
    store: ScenarioStore, db_path: Path, tmp_path: Path
) -> None:
    seed(store, 6)
    q_ana, q_bob = tmp_path / "ana.jsonl", tmp_path / "bob.jsonl"
    res = run(db_path, "review", "export-queue", str(q_ana), "--reviewer", "ana", "--limit", "4")
    assert res.exit_code == 0, res.output
    res = run(db_path, "review", "export-queue", str(q_bob), "--reviewer", "bob", "--limit", "4")
    assert res.exit_code == 0, res.output
    rows_a = [json.loads(x) for x in q_ana.read_text(encoding="utf-8").splitlines()]
    rows_b = [json.loads(x) for x in q_bob.read_text(encoding="utf-8").splitlines()]
    assert len(rows_a) == 4 and len(rows_b) == 2  # only 6 scenarios: bob gets the rest
    assert {r["scenario_id"] for r in rows_a}.isdisjoint(r["scenario_id"] for r in rows_b)
    assert all(len(r["completions"]) == 2 and r["rating"] is None for r in rows_a)

    # ana fills in three rows and leaves one unanswered
    r0, r1, r2, r3 = rows_a
    r0.update(rating=3, ideal_response="Ana's ideal answer.", note="great")
    r1.update(
        rating=2,
        decisions={r1["completions"][0]["id"]: "accept", r1["completions"][1]["id"]: "reject"},
    )
    r2.update(rating=0)
    q_ana.write_text("".join(json.dumps(r) + "\n" for r in rows_a), encoding="utf-8")
    res = run(db_path, "review", "import", str(q_ana), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["applied"], out["unanswered"], out["rejected"]) == (3, 1, 0)
    assert (out["responses_written"], out["decisions"]) == (1, 2)

    assert [(r.reviewer, r.rating, r.note) for r in store.reviews_for(r0["scenario_id"])] == [
        ("ana", 3, "great")
    ]
    human = [c for c in store.completions_for(r0["scenario_id"]) if c.source == "human"]
    assert [(c.text, c.validated_by) for c in human] == [("Ana's ideal answer.", ["ana"])]
    by_src = {c.source: c for c in store.completions_for(r1["scenario_id"])}
    assert by_src["template"].status == "accepted" and by_src["model"].status == "rejected"
    assert store.reviews_for(r3["scenario_id"]) == []
    # answered rows released their claims; the unanswered one is still ana's
    claims = {
        r[0]
        for r in store.connection.execute(
            "SELECT scenario_id FROM review_claims WHERE reviewer = 'ana'"
        )
    }
    assert claims == {r3["scenario_id"]}
    # exporting again re-exports the unfinished row first
    res = run(db_path, "review", "export-queue", str(q_ana), "--reviewer", "ana", "--limit", "1")
    assert json.loads(q_ana.read_text(encoding="utf-8"))["scenario_id"] == r3["scenario_id"]


def test_import_reports_every_bad_row_and_keeps_the_good(
    store: ScenarioStore, db_path: Path, tmp_path: Path
) -> None:
    s = seed(store, 4)
    other = seed(store, 5)[4]
    comp = store.completions_for(s[0].id)[0].id
    foreign = store.completions_for(other.id)[0].id
    lines = [
        json.dumps(
            {"scenario_id": s[0].id, "reviewer": "ana", "rating": 2, "decisions": {comp: "accept"}}
        ),
        "{not json",
        json.dumps({"scenario_id": s[1].id, "reviewer": "ana", "rating": 7}),
        json.dumps({"scenario_id": "ffffffffffffffffffff", "reviewer": "ana", "rating": 1}),
        json.dumps({"scenario_id": s[1].id, "reviewer": "ana", "rating": 1, "ideal_response": "x"}),
        json.dumps(
            {
                "scenario_id": s[1].id,
                "reviewer": "ana",
                "rating": 2,
                "decisions": {foreign: "accept"},
            }
        ),
        json.dumps(
            {"scenario_id": s[1].id, "reviewer": "ana", "rating": 2, "decisions": {comp: "maybe"}}
        ),
        json.dumps({"scenario_id": s[2].id, "reviewer": "ana", "ratting": 2}),
        json.dumps({"scenario_id": s[0].id, "reviewer": "ana", "rating": 3}),  # same pair again
        "",
        json.dumps({"scenario_id": s[3].id, "reviewer": "bob", "rating": 1, "note": "meh"}),
        json.dumps([1, 2]),
    ]
    path = tmp_path / "answers.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"note": "\xff"}\n')
    res = run(db_path, "review", "import", str(path))
    assert res.exit_code == 2, res.output
    err = res.stderr if hasattr(res, "stderr") else res.output
    for line_no, what in [
        (2, "not valid JSON"),
        (3, "field 'rating': 7 is not 0, 1, 2 or 3"),
        (4, "field 'scenario_id': no scenario"),
        (5, "field 'ideal_response': kept only for ratings 2-3"),
        (6, "is not a completion of scenario"),
        (7, "'maybe' is not accept or reject"),
        (8, "field 'ratting': unknown field"),
        (9, "already answered scenario"),
        (12, "expected a JSON object"),
        (13, "not valid UTF-8"),
    ]:
        assert f"{path}:{line_no}:" in err and what in err, (line_no, what, err)
    assert "Stored 2 answers" in res.output
    assert [r.rating for r in store.reviews_for(s[0].id)] == [2]
    assert [r.note for r in store.reviews_for(s[3].id)] == ["meh"]
    assert store.reviews_for(s[1].id) == [] and store.reviews_for(s[2].id) == []
    # the same file again: the two good rows are now "already reviewed", nothing doubles
    res = run(db_path, "review", "import", str(path), "--json")
    assert res.exit_code == 2
    assert json.loads(res.output)["applied"] == 0
    assert store.connection.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 2


def test_import_unreadable_file_is_one_line_error(db_path: Path, tmp_path: Path) -> None:
    ScenarioStore.open(db_path).close()
    res = run(db_path, "review", "import", str(tmp_path / "missing.jsonl"))
    assert res.exit_code == 1 and res.output.startswith("Error:")
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\x00\x01\x02")
    res = run(db_path, "review", "import", str(binary))
    assert res.exit_code == 1 and "binary" in res.output


def test_dry_run_writes_nothing(store: ScenarioStore, db_path: Path, tmp_path: Path) -> None:
    (s,) = seed(store, 1)
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"scenario_id": s.id, "reviewer": "ana", "rating": 3, "ideal_response": "y"})
        + "\n"
    )
    res = run(db_path, "review", "import", str(path), "--dry-run")
    assert res.exit_code == 0 and "Would store 1 answers" in res.output
    assert store.reviews_for(s.id) == [] and len(store.completions_for(s.id)) == 2


def test_stats_reviewers_and_agreement(store: ScenarioStore, db_path: Path) -> None:
    scen = seed(store, 6)
    table = {  # scenario index -> reviewer -> rating
        0: {"ana": 3, "bob": 3},
        1: {"ana": 2, "bob": 1},
        2: {"ana": 0, "bob": 0, "cy": 1},
        3: {"ana": 3, "cy": 2},
        4: {"bob": 2},
    }
    for i, ratings in table.items():
        for reviewer, rating in ratings.items():
            apply_answer(store, Answer(scen[i].id, reviewer, rating))
    comps = store.completions_for(scen[0].id)
    apply_answer(store, Answer(scen[5].id, "ana", 3, ideal_response="written"))
    from scenario_forge.review.decisions import set_decision

    with store.transaction():
        set_decision(store, comps[0].id, "bob", "accept")
        set_decision(store, comps[1].id, "bob", "reject")

    res = run(db_path, "stats", "--json")
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["reviewers"]["ana"]["reviews"] == 5
    assert st["reviewers"]["ana"]["written"] == 1
    assert st["reviewers"]["bob"]["reviews"] == 4
    assert (st["reviewers"]["bob"]["accepted"], st["reviewers"]["bob"]["rejected"]) == (1, 1)
    ag = st["agreement"]
    assert ag["scenarios_with_overlap"] == 4 and ag["ratings_compared"] == 9
    # pairs: (3,3) same, (2,1), (0,0) same, (0,1), (0,1), (3,2) -> 2 of 6
    assert ag["exact_pair_agreement"] == pytest.approx(2 / 6, abs=1e-4)
    # the same alpha from the package's other input form (reviewers x scenarios matrix)
    names = ["ana", "bob", "cy"]
    matrix = np.array([[table[i].get(n, np.nan) for i in range(4)] for n in names], dtype=float)
    expected = krippendorff.alpha(
        reliability_data=matrix, level_of_measurement="ordinal", value_domain=[0, 1, 2, 3]
    )
    assert ag["krippendorff_alpha_ordinal"] == pytest.approx(expected, abs=1e-4)
    text = run(db_path, "stats").output
    assert "Krippendorff's alpha (ordinal)" in text and "reviewer" in text


def test_alpha_bounds() -> None:
    assert krippendorff_alpha([[2, 2], [0, 0], [3, 3]]) == pytest.approx(1.0)
    assert krippendorff_alpha([[2, 2], [2, 2]]) is None  # no variation
    assert krippendorff_alpha([[1]]) is None  # nothing to compare
    assert krippendorff_alpha([[0, 3], [3, 0], [1, 2], [2, 1]]) < 0
