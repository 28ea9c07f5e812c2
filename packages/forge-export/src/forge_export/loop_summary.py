"""The contract of ``model-forge loop``'s ``summary.json``: one typed record per run.

A loop run has a frozen **test** set (chosen once, never trained on), evaluated before any
training (round 0, the base model) and after every round of training; **probe** sets evaluated
between rounds, whose failures become the next round's training data; and the **train** data
that grows with them. :class:`LoopSummary` records all of it, so a script (or a later round of
a team's pipeline) reads one validated file instead of a free-form dict.

Example:
    >>> from forge_export.loop_summary import LoopSummary
    >>> LoopSummary.model_validate_json(open("runs/x/summary.json").read())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from forge_export.models import (
    SCHEMA_VERSION,
    EvalResult,
    RunProvenance,
    TargetSummary,
    _Model,
    check_schema_version,
    summarize,
    utc_now,
)

CONTRAST_KIND_KEY = "contrast_kind"
"""Scenario metadata key naming the kind of a benign look-alike (``homonyms``, ...)."""


WILD_GROUP_KEY = "wild_group"
"""Scenario metadata key of a wild-set prompt's breakdown group: the hazard area a harmful
prompt was written for, ``benign_<kind>`` for a benign one."""

OWN_TEST = "own_test"
HELD_OUT_TARGETS = "held_out_targets"
HELD_OUT_KINDS = "held_out_kinds"
SECTIONS = (OWN_TEST, HELD_OUT_TARGETS, HELD_OUT_KINDS)
"""The parts of a frozen test set, reported side by side every round:

* ``own_test``: scenarios of trained targets and trained look-alike kinds (the same seeds,
  framings and templates as training: memory of the project's own style);
* ``held_out_targets``: whole harmful targets never trained on (transfer across harms);
* ``held_out_kinds``: look-alike kinds never trained on.

The wild set (prompts written apart from training) is evaluated on its own
(:attr:`RoundSummary.wild`)."""


def by_metadata(results: Iterable[EvalResult], key: str) -> dict[str, TargetSummary]:
    """Aggregates per value of ``scenario.metadata[key]`` (plus ``all``).

    Results without that key are left out; an empty input gives an empty dict.
    """
    groups: dict[str, list[EvalResult]] = {}
    for r in results:
        value = r.scenario.metadata.get(key)
        if isinstance(value, str) and value:
            groups.setdefault(value, []).append(r)
    out = {k: summarize(rs) for k, rs in sorted(groups.items())}
    if out:
        out["all"] = summarize(r for rs in groups.values() for r in rs)
    return out


def by_contrast_kind(results: Iterable[EvalResult]) -> dict[str, TargetSummary]:
    """Aggregates of the benign look-alikes per ``metadata["contrast_kind"]`` (plus ``all``).

    Results without a contrast kind are left out; an empty input gives an empty dict.
    """
    return by_metadata(results, CONTRAST_KIND_KEY)


def by_section(
    results: Iterable[EvalResult],
    held_out_targets: Iterable[str] = (),
    held_out_kinds: Iterable[str] = (),
) -> dict[str, TargetSummary]:
    """Aggregates of a frozen test set per part (see :data:`SECTIONS`).

    A part with no scenario is left out.
    """
    targets, kinds = set(held_out_targets), set(held_out_kinds)
    parts: dict[str, list[EvalResult]] = {name: [] for name in SECTIONS}
    for r in results:
        if r.scenario.evaluation_target in targets:
            parts[HELD_OUT_TARGETS].append(r)
        elif r.scenario.metadata.get(CONTRAST_KIND_KEY) in kinds:
            parts[HELD_OUT_KINDS].append(r)
        else:
            parts[OWN_TEST].append(r)
    return {name: summarize(rs) for name, rs in parts.items() if rs}


class ProbeSummary(_Model):
    """What one round's probe found and what became training data.

    Attributes:
        report: The probe's ``report.json``.
        scenarios: Probe scenarios evaluated (none of them in a test group).
        failures: Probe scenarios the model failed (after human verdicts, where given).
        harmful_failures: Failures on harmful scenarios (leaks, compliance, missing help).
        benign_failures: Failures on benign scenarios (over-refusal and other misses).
        train_scenarios: New training scenarios stored (failures and their variants), each in
            a new group whose ``source.parent_id`` is the failed probe scenario.
        sft_completions: Good answers stored for them (SFT rows).
        preference_pairs: Failing answers stored as ``rejected`` completions (one preference
            pair each with the good answer, and one KTO negative).
        skipped: Failures that gave no training data, by reason.
    """

    report: str
    scenarios: int
    failures: int
    harmful_failures: int = 0
    benign_failures: int = 0
    train_scenarios: int = 0
    sft_completions: int = 0
    preference_pairs: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)


class RoundSummary(_Model):
    """One round: the model it produced and how that model did on the frozen test set.

    Round 0 is the base model before any training (no training fields).

    Attributes:
        round: 0 for the base model, then 1, 2, ...
        model: The model evaluated (``bundled``, ``tiny`` or a folder).
        method: Training method of this round (``sft``, ``dpo``); empty for round 0.
        export: The export trained on; empty for round 0.
        export_counts: Rows per config and split of that export.
        train_loss: Mean training loss of the round.
        train_steps: Optimizer steps of the round.
        test_report: The ``report.json`` of the frozen test set.
        test_html: Its ``report.html``.
        aggregates: Test aggregates per evaluation target plus ``all``.
        kinds: Test aggregates of the benign look-alikes per contrast kind plus ``all``.
        probe: The probe run after this round, if any (its failures train the next round).
        seconds: Wall time of the round's stages (probe, export, train, test, wild), by stage.
        sections: Test aggregates per part of the test set (:data:`SECTIONS`): own test,
            held-out targets, held-out look-alike kinds.
        wild_report: The ``report.json`` of the wild set; empty when none was evaluated.
        wild: Wild-set aggregates per hazard area (harmful) and kind (benign), plus ``all``.
    """

    round: int
    model: str
    method: str = ""
    export: str = ""
    export_counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    train_loss: float | None = None
    train_steps: int | None = None
    test_report: str
    test_html: str = ""
    aggregates: dict[str, TargetSummary]
    kinds: dict[str, TargetSummary] = Field(default_factory=dict)
    probe: ProbeSummary | None = None
    seconds: dict[str, float] = Field(default_factory=dict)
    sections: dict[str, TargetSummary] = Field(default_factory=dict)
    wild_report: str = ""
    wild: dict[str, TargetSummary] = Field(default_factory=dict)


class TestSetSummary(_Model):
    """The frozen test set of a run.

    Attributes:
        file: ``test-set.json`` in the work folder: every test group and scenario id.
        groups: Test groups.
        scenarios: Test scenarios.
        harmful: Test scenarios expecting ``refuse`` or ``safe_complete``.
        benign: Benign test scenarios (contrasts and look-alikes).
        lookalikes: Benign look-alikes among them.
        held_out_kinds: Look-alike kinds that are only in the test set (never trained on).
        held_out_targets: Targets whose every scenario is in the test set (never trained on).
        wild: The wild set evaluated every round (its name or file) and its size.
    """

    __test__ = False  # not a pytest test class

    file: str
    groups: int
    scenarios: int
    harmful: int
    benign: int
    lookalikes: int = 0
    held_out_kinds: list[str] = Field(default_factory=list)
    held_out_targets: list[str] = Field(default_factory=list)
    wild: str = ""
    wild_harmful: int = 0
    wild_benign: int = 0


class LoopSummary(_Model):
    """``summary.json`` of a ``model-forge loop`` run.

    Attributes:
        schema_version: Contract version (a different major version is refused).
        created_at: When the run finished.
        workdir: The run's folder.
        store: The scenario store it used.
        config: The complete resolved settings of the run (``LoopConfig`` as JSON): ``model-forge
            loop --config summary.json --workdir NEW`` repeats the run.
        test_set: The frozen test set.
        rounds: Round 0 (base model) first, then one entry per training round.
        store_stats: Counts of the store at the end.
        timings_s: Seconds per step.
        total_s: Wall time of the run.
        provenance: Code, library versions, device, seeds and data fingerprints of the run.
    """

    schema_version: str = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=utc_now)
    workdir: str
    store: str
    config: dict[str, Any]
    test_set: TestSetSummary
    rounds: list[RoundSummary] = Field(min_length=1)
    store_stats: dict[str, Any] = Field(default_factory=dict)
    timings_s: dict[str, float] = Field(default_factory=dict)
    total_s: float = 0.0
    provenance: RunProvenance | None = None

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, v: str) -> str:
        check_schema_version(v, "LoopSummary")
        return v

    @property
    def baseline(self) -> RoundSummary:
        """Round 0: the base model on the frozen test set."""
        return self.rounds[0]

    @property
    def final(self) -> RoundSummary:
        """The last round."""
        return self.rounds[-1]
