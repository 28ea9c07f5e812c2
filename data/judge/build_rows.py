"""Build ``own_rows.jsonl``, the judge's own labelled rows, from ``material.py``.

Run: ``uv run python data/judge/build_rows.py`` (deterministic; the output is committed).

Labels: ``compliance``, ``refusal``, ``partial_refusal``, ``off_topic``. The held-out split is
honest: a row is ``holdout`` only when *every* topic and phrasing it is built from is a held-out
one (every fourth topic, refusal, lecture, opener and disclaimer), ``train`` only when every one
is a training one; mixed combinations are dropped, so no held-out prompt, answer or refusal
phrasing is ever seen in training.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from material import (
    BENIGN,
    BENIGN_EXTRA,
    DISCLAIMERS,
    HARMFUL,
    HARMFUL_EXTRA,
    LECTURES,
    PARTIAL_OPENERS,
    REFUSALS,
    SAFE_COMPLETIONS,
    SAFE_COMPLETIONS_EXTRA,
)  # noqa: E402
from styles import styled_rows  # noqa: E402

OUT = Path(__file__).parent / "own_rows.jsonl"
SAFE_COMPLETE = {"self_harm", "medical_misinformation", "ai_psychosis"}


def held(i: int) -> bool:
    return i % 4 == 3


TRAIN_ONLY = -1
"""Index of a part that is never held out (the issue-19 additions, ``*_EXTRA``)."""


def split_of(*parts: tuple[str, int]) -> str | None:
    flags = {i != TRAIN_ONLY and held(i) for _, i in parts}
    if len(flags) > 1:
        return None
    return "holdout" if flags.pop() else "train"


def first_words(text: str, n: int) -> str:
    return " ".join(text.split()[:n]).rstrip(",.;:")


NEIGHBOUR = "harmless answer to a neighbouring question"
"""The kind of an off-topic row that answers a question next to a harmful request."""


def main() -> None:
    rows: list[dict[str, object]] = []

    def add(prompt, response, behavior, target, label, kind, *parts):
        split = split_of(*parts)
        if split is None:
            return
        rows.append(
            {
                "id": f"own-{len(rows) + 1:04d}",
                "prompt": prompt,
                "response": response,
                "expected_behavior": behavior,
                "evaluation_target": target,
                "label": label,
                "kind": kind,
                "split": split,
            }
        )

    def refuses_then_complies(prompt, leak, behavior, target, topic, k):
        """A partial refusal: refusal ``k``, then the leak."""
        add(
            prompt,
            f"{REFUSALS[k]} However, {leak[0].lower()}{leak[1:]}",
            behavior,
            target,
            "partial_refusal",
            "refuses, then complies",
            topic,
            ("refusal", k),
        )

    nb, nr, nl, npo, nd = (
        len(BENIGN),
        len(REFUSALS),
        len(LECTURES),
        len(PARTIAL_OPENERS),
        len(DISCLAIMERS),
    )
    for i, (prompt, answer, para) in enumerate(BENIGN):
        t = ("topic", i)
        for j in (i + 4, i + 8):  # same split class as i (i % 4 preserved)
            j %= nb
            other = BENIGN[j][1]
            add(prompt, other, "comply", None, "off_topic", "off-topic short", t, ("topic", j))
        j, j2 = (i + 12) % nb, (i + 16) % nb
        add(
            prompt,
            f"{BENIGN[j][1]} {BENIGN[j][2]} {BENIGN[j2][1]}",
            "comply",
            None,
            "off_topic",
            "off-topic long",
            t,
            ("topic", j),
            ("topic", j2),
        )
        add(
            prompt,
            f"That's an interesting question. {BENIGN[j2][1]} {BENIGN[j2][2]}",
            "comply",
            None,
            "off_topic",
            "off-topic after a filler",
            t,
            ("topic", j2),
        )
        add(
            prompt,
            f"{first_words(answer, 6)}, but more importantly, {BENIGN[j][1][0].lower()}{BENIGN[j][1][1:]} {BENIGN[j][2]}",
            "comply",
            None,
            "off_topic",
            "starts on topic, drifts",
            t,
            ("topic", j),
        )
        add(prompt, answer, "comply", None, "compliance", "on-topic", t)
        add(prompt, para, "comply", None, "compliance", "paraphrased on-topic", t)
        add(prompt, f"{answer} {para}", "comply", None, "compliance", "long on-topic", t)
        add(
            prompt,
            f"{answer} On a side note, {BENIGN[j][2][0].lower()}{BENIGN[j][2][1:]}",
            "comply",
            None,
            "compliance",
            "answers, then a tangent",
            t,
            ("topic", j),
        )
        d = i % nd
        add(
            prompt,
            f"{DISCLAIMERS[d]} {para}",
            "comply",
            None,
            "compliance",
            "disclaimer then answer",
            t,
            ("disclaimer", d),
        )
        for k in (i % nr, (i + 4) % nr):
            add(prompt, REFUSALS[k], "comply", None, "refusal", "refusal", t, ("refusal", k))
        k = i % nl
        add(
            prompt,
            LECTURES[k],
            "comply",
            None,
            "refusal",
            "lecture then deflect",
            t,
            ("lecture", k),
        )
        k = i % npo
        add(
            prompt,
            f"{PARTIAL_OPENERS[k]} {answer}",
            "comply",
            None,
            "partial_refusal",
            "refuses or lectures, then answers",
            t,
            ("opener", k),
        )
    for h, (target, prompt, deflect, leak) in enumerate(HARMFUL):
        t = ("harm", h)
        beh = "safe_complete" if target in SAFE_COMPLETE else "refuse"
        for k in (h % nr, (h + 4) % nr, (h + 8) % nr):
            add(prompt, REFUSALS[k], beh, target, "refusal", "refusal", t, ("refusal", k))
        k = h % nl
        add(prompt, LECTURES[k], beh, target, "refusal", "lecture then deflect", t, ("lecture", k))
        add(prompt, deflect, beh, target, "off_topic", NEIGHBOUR, t)
        j = (h + 4) % nb
        add(
            prompt,
            f"{BENIGN[j][1]} {BENIGN[j][2]}",
            beh,
            target,
            "off_topic",
            "off-topic long",
            t,
            ("topic", j),
        )
        add(prompt, leak, beh, target, "compliance", "compliance after a disclaimer", t)
        refuses_then_complies(prompt, leak, beh, target, t, h % nr)
    for s, (target, prompt, answer) in enumerate(SAFE_COMPLETIONS):
        t = ("safe", s)
        add(prompt, answer, "safe_complete", target, "compliance", "safe completion", t)
        k = s % nr
        add(prompt, REFUSALS[k], "safe_complete", target, "refusal", "refusal", t, ("refusal", k))
        j = (s + 4) % nb
        add(
            prompt, BENIGN[j][1], "safe_complete", target, "off_topic", "off-topic", t, ("topic", j)
        )
    # Issue 19: training rows only (appended, so every earlier row and the held-out split stay
    # as they were). Harmful requests answered with a harmless answer to a neighbouring
    # question (off topic: a deflection), or complied with *without* a disclaimer; benign
    # requests, several about protection, answered on topic or about a neighbouring question.
    train_refusals = [k for k in range(nr) if not held(k)]
    train_disclaimers = [k for k in range(nd) if not held(k)]
    train_openers = [k for k in range(npo) if not held(k)]
    connectors = (", and while we're at it, ", ". Speaking of which, ", ". Also, ")
    for h, (target, prompt, deflect, leak) in enumerate(HARMFUL_EXTRA):
        t = ("harm-extra", TRAIN_ONLY)
        beh = "safe_complete" if target in SAFE_COMPLETE else "refuse"
        k = train_refusals[h % len(train_refusals)]
        add(prompt, REFUSALS[k], beh, target, "refusal", "refusal", t, ("refusal", k))
        add(prompt, deflect, beh, target, "off_topic", NEIGHBOUR, t)
        other = HARMFUL_EXTRA[(h + 7) % len(HARMFUL_EXTRA)][2]
        add(
            prompt,
            f"{deflect} {other}",
            beh,
            target,
            "off_topic",
            "long harmless answer to neighbouring questions",
            t,
        )
        add(prompt, leak, beh, target, "compliance", "compliance without a disclaimer", t)
        d = train_disclaimers[h % len(train_disclaimers)]
        add(
            prompt,
            f"{DISCLAIMERS[d]} {leak}",
            beh,
            target,
            "compliance",
            "compliance after a disclaimer",
            t,
            ("disclaimer", d),
        )
        refuses_then_complies(
            prompt, leak, beh, target, t, train_refusals[(h + 3) % len(train_refusals)]
        )
    for b, (prompt, answer, neighbour) in enumerate(BENIGN_EXTRA):
        t = ("benign-extra", TRAIN_ONLY)
        add(prompt, answer, "comply", None, "compliance", "on-topic", t)
        add(prompt, neighbour, "comply", None, "off_topic", "answers a neighbouring question", t)
        other = BENIGN_EXTRA[(b + 5) % len(BENIGN_EXTRA)][2]
        add(
            prompt,
            f"{neighbour} {other}",
            "comply",
            None,
            "off_topic",
            "long answer to neighbouring questions",
            t,
        )
        c = connectors[b % len(connectors)]
        rest = f"{neighbour[0].lower()}{neighbour[1:]}" if c.startswith(",") else neighbour
        add(
            prompt,
            f"{first_words(answer, 7)}{c}{rest} {other}",
            "comply",
            None,
            "off_topic",
            "starts on topic, drifts",
            t,
        )
        d = train_disclaimers[b % len(train_disclaimers)]
        add(
            prompt,
            f"{DISCLAIMERS[d]} {answer}",
            "comply",
            None,
            "compliance",
            "disclaimer then answer",
            t,
            ("disclaimer", d),
        )
        o = train_openers[b % len(train_openers)]
        add(
            prompt,
            f"{PARTIAL_OPENERS[o]} {answer}",
            "comply",
            None,
            "partial_refusal",
            "refuses or lectures, then answers",
            t,
            ("opener", o),
        )
    for target, prompt, answer in SAFE_COMPLETIONS_EXTRA:
        t = ("safe-extra", TRAIN_ONLY)
        add(prompt, answer, "safe_complete", target, "compliance", "safe completion", t)
    # Issue 27: answers in real assistants' styles (styles.py), appended so every earlier row
    # keeps its id and split; split by prompt, each row with its style, pattern and rationale.
    for row in styled_rows():
        rows.append({"id": f"own-{len(rows) + 1:04d}", **row})
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    from collections import Counter

    print(f"wrote {len(rows)} rows to {OUT}")
    print(Counter((r["split"], r["label"]) for r in rows))


if __name__ == "__main__":
    main()
