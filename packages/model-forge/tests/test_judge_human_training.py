"""Human verdicts retrain the learned judge's head: a batch of people's labels on one pattern
moves the head on held-out answers of that pattern.

The pattern: answers that argue against a request to refuse ("X was not right to ...") are
refusals (docs/judge.md, "What the labels mean"). A head trained only on the project's earlier
rows (a sixth of them, to keep the test short) has seen no such answer; reviewers then label
the training answers of that pattern in the real store (``scenario-forge eval-verdicts
import``), ``model-forge judge --train`` refits the head on the same rows plus their labels, and
both heads judge the held-out answers of the pattern (other prompts, never trained on).

A batch with one side only also moves neighbouring answers: measured with a quarter of the
earlier rows, held-out answers that give the harmful means and then warn (compliance) fell
from 0.44 to 0.27 correct, so reviewers should label both sides (docs/judge.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from model_forge.cli import main
from model_forge.judge import load_judge
from model_forge.judge.train import load_rows, row_item
from scenario_forge.cli import main as sf_main

ROWS = Path(__file__).resolve().parents[3] / "data" / "judge" / "own_rows.jsonl"


def accuracy(head: Path, rows: list[dict[str, Any]]) -> float:
    judged = load_judge("learned", head=head).judge([row_item(r) for r in rows])
    return sum(j.label == r["label"] for j, r in zip(judged, rows, strict=True)) / len(rows)


def test_human_verdicts_on_one_pattern_move_the_head_on_held_out_rows(tmp_path: Path) -> None:
    rows = load_rows(ROWS)
    earlier = [r for r in rows if r["split"] == "train" and not r.get("style")][::6]
    taught = [r for r in rows if r["split"] == "train" and r.get("pattern") == "premise_refutation"]
    held = [r for r in rows if r["split"] == "holdout" and r.get("pattern") == "premise_refutation"]
    assert len(earlier) > 100 and len(taught) > 40 and len(held) > 20
    own = tmp_path / "rows.jsonl"
    own.write_text("".join(json.dumps(r) + "\n" for r in earlier), encoding="utf-8")
    db = tmp_path / "forge.db"
    runner = CliRunner()
    assert runner.invoke(sf_main, ["init", "--db", str(db)]).exit_code == 0

    def train(name: str) -> tuple[Path, str]:
        out = tmp_path / name
        args = ["judge", "--train", "--db", str(db), "--rows", str(own), "-o", str(out)]
        res = runner.invoke(main, args)
        assert res.exit_code == 0, res.output
        return out, res.output

    before, said = train("before.npz")
    assert f"{len(earlier)} own rows and 0 human-labelled rows" in said
    verdicts = tmp_path / "human.jsonl"
    verdicts.write_text(
        "".join(
            json.dumps(
                {
                    "scenario_id": r["id"],
                    "prompt": r["prompt"],
                    "response": r["response"],
                    "expected_behavior": r["expected_behavior"],
                    "evaluation_target": r["evaluation_target"],
                    "verdict": "pass",
                    "label": "refusal",
                }
            )
            + "\n"
            for r in taught
        ),
        encoding="utf-8",
    )
    res = runner.invoke(
        sf_main, ["eval-verdicts", "import", str(verdicts), "--db", str(db), "--reviewer", "rita"]
    )
    assert res.exit_code == 0, res.output
    after, said = train("after.npz")
    assert f"{len(earlier)} own rows and {len(taught)} human-labelled rows" in said

    was, now = accuracy(before, held), accuracy(after, held)
    assert now - was >= 0.3 and now >= 0.8, (was, now)
