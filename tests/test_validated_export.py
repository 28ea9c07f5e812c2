"""``scenario-forge export --only-validated`` on a store reviewed through the review code.

The store mixes human ideal responses, template completions accepted by a reviewer,
unreviewed proposed completions and rejected model completions; the export must hold exactly
the human-validated ones (on scenarios rated >= 2), with the rejected ones as the negative
side of ``preference`` and ``kto``.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from forge_export import Completion, Scenario
from forge_export.reader import load
from scenario_forge.cli import main
from scenario_forge.review.decisions import Answer, apply_answer
from scenario_forge.store import ScenarioStore


def _scenario(store: ScenarioStore, name: str) -> tuple[str, dict[str, str]]:
    s = Scenario(
        prompt=f"Validated export prompt {name}",
        evaluation_target="demo_code",
        success_criteria=["c"],
    )
    store.add_scenarios([s])
    comps = {
        src: Completion(scenario_id=s.id, text=f"{src} reply {name}", source=src, origin=src)
        for src in ("template", "model")
    }
    store.add_completions(comps.values())
    return s.id, {("T" if k == "template" else "M") + name: c.id for k, c in comps.items()}


def _human_id(store: ScenarioStore, sid: str, reviewer: str) -> str:
    (c,) = [c for c in store.completions_for(sid) if c.source == "human" and c.origin == reviewer]
    return c.id


def test_only_validated_export_has_exactly_the_validated_rows(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    store = ScenarioStore.open(db)
    ids: dict[str, str] = {}
    sid = {}
    for name in "123456":
        sid[name], comps = _scenario(store, name)
        ids.update(comps)
    # S1: ana 3, writes H1, accepts T1, rejects M1
    apply_answer(
        store,
        Answer(
            sid["1"],
            "ana",
            3,
            ideal_response="H1 text",
            decisions={ids["T1"]: "accept", ids["M1"]: "reject"},
        ),
    )
    # S2: ana 2 (no decision), bob 3 writes H2 and rejects M2; T2 stays proposed
    apply_answer(store, Answer(sid["2"], "ana", 2))
    apply_answer(
        store, Answer(sid["2"], "bob", 3, ideal_response="H2 text", decisions={ids["M2"]: "reject"})
    )
    # S3: rated 1 -> below --min-rating 2, even with an accepted template
    apply_answer(store, Answer(sid["3"], "ana", 1, decisions={ids["T3"]: "accept"}))
    # S4: unreviewed
    # S5: rated 2 but nothing validated
    apply_answer(store, Answer(sid["5"], "ana", 2))
    # S6: ana accepts T6 and writes H6, bob rejects T6: a rejection wins
    apply_answer(
        store, Answer(sid["6"], "ana", 3, ideal_response="H6 text", decisions={ids["T6"]: "accept"})
    )
    apply_answer(store, Answer(sid["6"], "bob", 2, decisions={ids["T6"]: "reject"}))
    for name, who in (("1", "ana"), ("2", "bob"), ("6", "ana")):
        ids["H" + name] = _human_id(store, sid[name], who)
    store.close()

    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        ["export", str(out), "--only-validated", "--test-size", "0", "--json"],
        env={"SCENARIO_FORGE_DB": str(db)},
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{") :])
    kept = {ids[k] for k in ("H1", "T1", "H2", "H6")}
    rejected = {ids[k] for k in ("M1", "M2", "T6")}
    pairs = {
        (ids["H1"], ids["M1"]),
        (ids["T1"], ids["M1"]),
        (ids["H2"], ids["M2"]),
        (ids["H6"], ids["T6"]),
    }
    counts = {c: summary["counts"][c]["train"] for c in summary["counts"]}
    # eval: S1, S2, S5, S6 (S3 is rated below 2, S4 unrated)
    assert counts == {"sft": 4, "prompt_completion": 4, "preference": 4, "kto": 7, "eval": 4}
    assert all(summary["counts"][c]["test"] == 0 for c in counts)

    sft = load(out, "sft", "train")
    assert set(sft["completion_id"]) == kept
    assert {r["completion_id"]: r["reviewers"] for r in sft} == {
        ids["H1"]: 1,
        ids["T1"]: 1,
        ids["H2"]: 2,
        ids["H6"]: 2,
    }
    assert {r["completion_id"]: r["rating"] for r in sft}[ids["H2"]] == 2.5
    assert set(load(out, "prompt_completion", "train")["completion_id"]) == kept
    kto = load(out, "kto", "train")
    assert {r["completion_id"] for r in kto if r["label"]} == kept
    assert {r["completion_id"] for r in kto if not r["label"]} == rejected
    pref = load(out, "preference", "train")
    assert {(r["chosen_completion_id"], r["rejected_completion_id"]) for r in pref} == pairs
    assert set(load(out, "eval", "train")["id"]) == {sid[k] for k in "1256"}

    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| only_validated | True |" in card
    assert "| min_rating | 2.0 |" in card
    assert "Reviewers per scenario" in card and "count of distinct reviewers" in card
