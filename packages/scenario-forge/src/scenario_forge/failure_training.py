"""Failures become training data: where a model's mistakes turn into its next lesson.

Each failed probe scenario of an evaluation (an :class:`~forge_export.EvalResult` with verdict
``fail``) is stored as a **training** scenario in a **new group** — never its parent's group,
so it cannot land in the test split, and a frozen test group can never receive it — with:

* a good answer (SFT row): a human's ideal response when the store has one for that prompt,
  else the scenario's written answer or its target's response template;
* the model's own failing answer as a ``rejected`` completion (source ``model``, origin
  ``<model>@round-<r>``): with the good answer it forms a preference pair (``preference``
  config) and a KTO negative (``kto``). For a benign over-refusal the rejected side is the
  refusal and the chosen side the helpful answer;
* for harmful failures, the prompt in the framings it was not asked in (same new group, good
  answer each), so the lesson is not tied to one wording.

A failure whose prompt the store already holds (say, a scenario of a test group) is never
moved: its good answer and rejected answer are attached to it in its own group, and nothing
else is derived from it, so a test scenario's failure can never reach training.

Lineage: ``source.kind = "report"``, ``source.parent_id`` = the failed scenario's id,
``metadata["failure"]`` = round, model, judge and reason.

Example:
    >>> from scenario_forge.failure_training import store_failures  # doctest: +SKIP
    >>> result = store_failures(store, report.failures(), taxonomy, round_=1, model_id="m")
    >>> result.train_scenarios, result.preference_pairs
    (24, 8)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forge_export import Completion, EvalResult, Provenance, Scenario

from scenario_forge.report_import import variants_of

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy import Taxonomy

FAILURE_TAG = "from_failure"


@dataclass
class FailureTraining:
    """What :func:`store_failures` stored.

    Attributes:
        failures: Failed results handed in.
        harmful_failures: Of those, harmful scenarios.
        benign_failures: Of those, benign scenarios.
        train_scenarios: New training scenarios (failures and their variants).
        sft_completions: Good answers stored.
        preference_pairs: Failing answers stored as ``rejected`` completions.
        skipped: Failures that gave no training data, by reason.
        kept_in_group: Failures whose prompt the store already held: it stays in its group
            (maybe a test group) with its pair, and no variant is derived from it.
        scenario_ids: Ids of the new training scenarios.
    """

    failures: int = 0
    harmful_failures: int = 0
    benign_failures: int = 0
    train_scenarios: int = 0
    sft_completions: int = 0
    preference_pairs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    kept_in_group: int = 0
    scenario_ids: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        """Count one failure that gave no training data."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def failure_group(parent: Scenario, round_: int) -> str:
    """The new group of a failure's training scenarios (stable for parent and round)."""
    digest = hashlib.sha256(f"{parent.id}|{round_}".encode()).hexdigest()[:24]
    return f"failure-{digest}"


def _human_answer(store: ScenarioStore, scenario_id: str) -> Completion | None:
    for c in store.completions_for(scenario_id):
        if c.human_validated:
            return c
    return None


def _retarget(c: Completion, scenario: Scenario) -> Completion:
    return Completion(
        scenario_id=scenario.id,
        text=c.text,
        source=c.source,
        origin=c.origin,
        status=c.status,
        validated_by=list(c.validated_by),
        metadata=dict(c.metadata),
    )


def _training_scenario(
    parent: Scenario, failed: EvalResult, round_: int, model_id: str, where: str
) -> Scenario:
    """The training scenario of one failure: the parent's prompt in a failure group of its own,
    with the failure (round, model, judge, reason) in its metadata."""
    note: dict[str, Any] = {
        "round": round_,
        "model": model_id,
        "judge": failed.judge,
        "reason": failed.reason,
        "parent_group": parent.group_id,
    }
    return Scenario(
        prompt=parent.prompt,
        system=parent.system,
        context=list(parent.context),
        evaluation_target=parent.evaluation_target,
        success_criteria=list(parent.success_criteria),
        expected_behavior=parent.expected_behavior,
        group_id=failure_group(parent, round_),
        tags=list(dict.fromkeys([*parent.tags, FAILURE_TAG])),
        source=Provenance(kind="report", origin=f"{where} model:{model_id}", parent_id=parent.id),
        metadata={**parent.metadata, "failure": note},
    )


def _rejected_answer(failed: EvalResult, train: Scenario, round_: int, model_id: str) -> Completion:
    """The model's failing answer, stored as the rejected side of the preference pairs."""
    return Completion(
        scenario_id=train.id,
        text=failed.response,
        source="model",
        origin=f"{model_id}@round-{round_}",
        status="rejected",
        metadata={"round": round_, "judge": failed.judge, "reason": failed.reason},
    )


def store_failures(
    store: ScenarioStore,
    failures: Sequence[EvalResult],
    taxonomy: Taxonomy,
    *,
    round_: int,
    model_id: str,
    good_answers: Mapping[str, Completion | None] | None = None,
    seed: int = 0,
    variants: bool = True,
    origin: str = "",
) -> FailureTraining:
    """Store failed results as training scenarios with SFT answers and preference pairs.

    Args:
        store: Where the training data goes.
        failures: Results with verdict ``fail`` (others are ignored).
        taxonomy: Response templates for the good answers of harmful scenarios.
        round_: The round whose model failed (recorded, and part of the new group id).
        model_id: The model that failed (recorded in the rejected completion's origin).
        good_answers: Scenario id → good answer, when the caller has one (probes carry
            theirs); otherwise the scenario's written answer or its template is used.
        seed: Picks the wordings of the variants.
        variants: Also store harmful failures in the framings they were not asked in.
        origin: Free text recorded in ``source.origin`` (e.g. the probe report's path).

    Returns:
        A :class:`FailureTraining`.
    """
    from scenario_forge.response_templates import good_answer

    result = FailureTraining()
    scenarios: dict[str, Scenario] = {}
    completions: list[Completion] = []
    where = origin or f"round {round_} probe"
    wanted = [f for f in failures if f.verdict == "fail"]
    in_store = store.existing_ids([f.scenario.id for f in wanted])
    for failed in wanted:
        parent = failed.scenario
        result.failures += 1
        if parent.is_harmful:
            result.harmful_failures += 1
        else:
            result.benign_failures += 1
        human = _human_answer(store, parent.id)
        good = human or (good_answers or {}).get(parent.id) or good_answer(parent, taxonomy)
        if good is None:
            result.skip("no good answer (no human, written or template answer)")
            continue
        train = _training_scenario(parent, failed, round_, model_id, where)
        stored_already = parent.id in in_store
        if stored_already:
            # The same prompt is in the store, in its own group (possibly a test group): it is
            # never moved and nothing is derived from it; its pair stays with it, in that
            # group's split.
            result.kept_in_group += 1
        family = [train]
        if variants and parent.is_harmful and not stored_already:
            family += variants_of(
                train, seed=seed, origin=train.source.origin, reason=failed.reason
            )
        taken = store.existing_ids([s.id for s in family[1:]])
        for s in family:
            if s.id in scenarios or s.id in taken:
                continue
            answer = good if s is train else good_answer(s, taxonomy)
            if answer is None:
                continue
            if not (s is train and stored_already):
                scenarios[s.id] = s
            completions.append(_retarget(answer, s))
            result.sft_completions += 1
        if failed.response.strip():
            completions.append(_rejected_answer(failed, train, round_, model_id))
            result.preference_pairs += 1
        else:
            result.skip("empty answer (no rejected side; SFT row only)")
    _write(store, list(scenarios.values()), completions, round_, model_id, result)
    return result


def _write(
    store: ScenarioStore,
    scenarios: list[Scenario],
    completions: list[Completion],
    round_: int,
    model_id: str,
    result: FailureTraining,
) -> None:
    """Store the training scenarios and their answers in one audited transaction."""
    with store.transaction():
        added = store.add_scenarios(scenarios)
        store.add_completions(completions)
        store.audit(
            "failures_to_training",
            "round",
            str(round_),
            {"model_id": model_id, "failures": result.failures, "added": added.added},
        )
    result.train_scenarios = added.added
    result.scenario_ids = [s.id for s in scenarios]
