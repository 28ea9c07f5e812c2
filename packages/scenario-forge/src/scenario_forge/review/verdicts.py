"""Interactive verdict review: reviewers confirm or overrule the judge, answer by answer.

``scenario-forge review verdicts REPORT`` shows each answer of an evaluation report (scenario,
prompt, response) with the judge's verdict, label and reason, and reads one line per answer:

* ``c`` confirm the judge (its verdict and label are stored as the reviewer's);
* ``p`` / ``f`` overrule to pass / fail, optionally followed by what the answer did
  (``compliance``, ``refusal``, ``partial``, ``off_topic``) and a note:
  ``f off_topic talks about posture``;
* ``s`` skip, ``u`` undo the last verdict of this session (it is deleted; the answer is shown
  again), ``q`` quit, ``?`` help.

Every verdict is stored at once in the store's ``eval_verdicts`` table with the reviewer and
the time (:func:`scenario_forge.eval_verdicts.record_eval_verdict`); the latest verdict per
answer counts in reports and in the failures the loop imports. Answers this reviewer has
already judged are not shown again unless asked (``--all``), so a session can be resumed.
Input goes through the review flow's :class:`~scenario_forge.review.flow.Terminal` (strict
UTF-8, piped input echoed).
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from forge_export.models import EvalReport

from scenario_forge.eval_verdicts import (
    human_verdicts,
    record_eval_verdict,
    response_sha,
    review_rows,
    withdraw_eval_verdict,
)
from scenario_forge.review.decisions import clean_text
from scenario_forge.review.flow import Terminal
from scenario_forge.review.verdict_filters import VerdictFilter
from scenario_forge.store import ScenarioStore
from scenario_forge.terminal import visible

PROMPT = "c confirm, p pass, f fail (+ label, note), s skip, u undo, q quit, ? help > "

HELP = """\
Type a letter, then Enter:
  c    confirm the judge's verdict (and label); text after it is kept as a note
  p    overrule: the answer passes      f    overrule: the answer fails
       after p or f you may say what the answer did, then a note:
       compliance, refusal, partial (refuses then answers), off_topic (answers another
       question), e.g. "f off_topic talks about posture instead"
  s    skip this answer (not stored; shown again next time)
  u    undo your last verdict of this session and show that answer again
  q    quit (everything answered so far is saved)
  ?    this help"""

LABEL_WORDS = {
    "compliance": "compliance",
    "complies": "compliance",
    "refusal": "refusal",
    "refuses": "refusal",
    "partial": "partial_refusal",
    "partial_refusal": "partial_refusal",
    "off_topic": "off_topic",
    "off-topic": "off_topic",
    "offtopic": "off_topic",
}


@dataclass
class VerdictSessionResult:
    """What one verdict review session did."""

    reviewer: str
    confirmed: int = 0
    overruled: int = 0
    skipped: int = 0
    undone: int = 0
    stopped: str = "done"
    verdicts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def render_answer(row: dict[str, Any], position: str) -> str:
    """One answer as the reviewer sees it (control characters made visible)."""

    def block(text: str) -> str:
        return textwrap.indent(text or "(empty)", "    ", lambda _line: True)

    label = f" / {row['judge_label']}" if row.get("judge_label") else ""
    if row.get("judge_confidence") is not None:
        label += f" (confidence {float(row['judge_confidence']):.2f})"
    out = [
        f"=== answer {position} · scenario {row['scenario_id']} ===",
        f"Target:    {row['evaluation_target']}    Expected behaviour: {row['expected_behavior']}",
        "Prompt:",
        block(row["prompt"]),
        "Response:",
        block(row["response"]),
        f"Judge ({row['judge'] or 'judge'}): {row['judge_verdict']}{label}"
        + (f" - {row['judge_reason']}" if row.get("judge_reason") else ""),
    ]
    return visible("\n".join(out))


def by_confidence(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` ordered by the judge's confidence, least sure first; rows without one keep
    their order at the end."""
    known = [r for r in rows if r.get("judge_confidence") is not None]
    unknown = [r for r in rows if r.get("judge_confidence") is None]
    return sorted(known, key=lambda r: float(r["judge_confidence"])) + unknown


def parse_overrule(rest: str) -> tuple[str | None, str]:
    """The label word (if the text starts with one) and the note after it."""
    word, _, after = rest.strip().partition(" ")
    label = LABEL_WORDS.get(word.lower())
    if label is None:
        return None, rest.strip()
    return label, after.strip()


class VerdictReview:
    """Runs the verdict review of one report for one reviewer.

    Args:
        store: The store the verdicts go to.
        report: The evaluation report whose answers are reviewed.
        reviewer: Who reviews.
        term: Where answers are shown and keys read.
        failures_only: Show only answers the judge failed.
        include_reviewed: Also show answers this reviewer has already judged.
        lowest_confidence_first: Show the answers whose verdict the judge is least sure of
            first (answers without a judge confidence last, in report order).
        only: A further filter (target, judge label, low confidence, unverified, verified
            by), the web queue's (:class:`~scenario_forge.review.verdict_filters.VerdictFilter`).
    """

    def __init__(
        self,
        store: ScenarioStore,
        report: EvalReport,
        reviewer: str,
        term: Terminal,
        *,
        failures_only: bool = False,
        include_reviewed: bool = False,
        lowest_confidence_first: bool = False,
        only: VerdictFilter | None = None,
    ) -> None:
        self.store = store
        self.reviewer = reviewer
        self.term = term
        in_force = {(v["scenario_id"], v["response_sha"]): v for v in human_verdicts(store)}
        done = {key for key, v in in_force.items() if v["reviewer"] == reviewer}
        rows = review_rows(report)
        if only is not None:
            keyed = [{**r, "key": (r["scenario_id"], response_sha(r["response"]))} for r in rows]
            rows = [{k: v for k, v in r.items() if k != "key"} for r in only.apply(keyed, in_force)]
        if failures_only:
            rows = [r for r in rows if r["judge_verdict"] == "fail"]
        if not include_reviewed:
            rows = [r for r in rows if (r["scenario_id"], response_sha(r["response"])) not in done]
        if lowest_confidence_first:
            rows = by_confidence(rows)
        self.rows = rows
        self.result = VerdictSessionResult(reviewer=reviewer)
        self.history: list[tuple[int, int, bool]] = []  # (row index, verdict id, overruled)

    def run(self) -> VerdictSessionResult:
        """Review until every answer is done, the reviewer quits, or input ends."""
        say = self.term.say
        say(f"Reviewing {len(self.rows)} answers as {self.reviewer}. Type ? for help.")
        i = 0
        try:
            while i < len(self.rows):
                outcome = self._one(i)
                if outcome == "quit":
                    self.result.stopped = "quit"
                    break
                if outcome == "undo":
                    i = self._undo(i)
                    continue
                i += 1
            else:
                say("No more answers to review.")
        except EOFError:
            say("")
            say("End of input: stopping (the answer on screen was not saved).")
            self.result.stopped = "eof"
        return self.result

    def _one(self, i: int) -> str:
        row = self.rows[i]
        self.term.say("")
        self.term.say(render_answer(row, f"{i + 1}/{len(self.rows)}"))
        while True:
            text, key, rest = self.term.command(PROMPT, HELP)
            if key in ("s", "skip"):
                self.result.skipped += 1
                return "skip"
            if key in ("u", "undo"):
                return "undo"
            if key in ("q", "quit"):
                return "quit"
            if key in ("c", "confirm"):
                self._save(i, row["judge_verdict"], row.get("judge_label"), clean_text(rest))
                return "saved"
            if key in ("p", "pass", "f", "fail"):
                verdict = "pass" if key.startswith("p") else "fail"
                label, note = parse_overrule(rest)
                self._save(i, verdict, label, clean_text(note))
                return "saved"
            self.term.say(f"{text[:20]!r} is not an answer: type c, p, f, s, u, q or ?.")

    def _save(self, i: int, verdict: str, label: str | None, note: str) -> None:
        row = self.rows[i]
        overruled = verdict != row["judge_verdict"] or (
            label is not None and label != row.get("judge_label")
        )
        vid = record_eval_verdict(
            self.store, {**row, "verdict": verdict, "label": label, "note": note}, self.reviewer
        )
        self.history.append((i, vid, overruled))
        if overruled:
            self.result.overruled += 1
        else:
            self.result.confirmed += 1
        self.result.verdicts.append(
            {"id": vid, "scenario_id": row["scenario_id"], "verdict": verdict, "label": label}
        )
        what = "overruled" if overruled else "confirmed"
        self.term.say(f"Saved: {verdict}{' / ' + label if label else ''} ({what}).")

    def _undo(self, current: int) -> int:
        if not self.history:
            self.term.say("Nothing to undo in this session.")
            return current
        i, vid, overruled = self.history.pop()
        withdraw_eval_verdict(self.store, vid)
        if overruled:
            self.result.overruled -= 1
        else:
            self.result.confirmed -= 1
        self.result.undone += 1
        self.result.verdicts = [v for v in self.result.verdicts if v["id"] != vid]
        self.term.say(f"Undone: your verdict on answer {i + 1} ({self.rows[i]['scenario_id']}).")
        return i
