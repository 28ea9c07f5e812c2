"""Close the loop: failures in an evaluation report become new scenarios.

Each failed scenario of a ``model-forge evaluate`` report (an :class:`EvalReport`) is varied
through the taxonomy's framings (direct, role play, hypothetical, multi-turn escalation; benign
contrasts: direct and a casual rewording), wording chosen deterministically from the import
seed and the failed scenario's id. Every variant:

* keeps the failed scenario's ``group_id``, so a held-out group stays held out in the next
  export (a failure on the test split never leaks into training);
* records ``source.kind = "report"``, ``source.parent_id`` = the failed scenario's id, and
  ``source.origin`` = the report file and the model that failed;
* keeps the parent's target, criteria, expected behaviour and template slots, so it gets a
  proposed template completion straight away.

Ids are content hashes, so importing the same report again adds nothing.

Example:
    >>> from forge_export.reports import read_report  # doctest: +SKIP
    >>> from scenario_forge.report_import import import_report  # doctest: +SKIP
    >>> result = import_report(store, read_report("runs/eval/report.json"), load_taxonomy())
    >>> result.added, result.completions_added
    (12, 12)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forge_export import (
    EvalReport,
    Provenance,
    Scenario,
)
from forge_export.ids import normalize_text

from scenario_forge.generation import BENIGN_FRAMINGS, FRAMINGS, frame_prompt

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy import Taxonomy

REPORT_TAG = "from_report"
# A framed prompt of a benign contrast uses the casual rewording, not the jailbreak wordings.
_BENIGN_FRAMING_KIND = {"direct": "direct", "hypothetical": "benign_hypothetical"}


@dataclass
class ImportReportResult:
    """What :func:`import_report` did (or, with ``dry_run``, would do).

    Attributes:
        report: The report file (or the ``origin`` given).
        model_id: The model whose failures these are.
        results: Results in the report.
        failures: Failed results.
        proposed: Variants built from the failures.
        added: New scenarios stored (``proposed`` minus those already in the store).
        duplicates: Variants already in the store (or repeated within the report).
        completions_added: Template completions stored for the new scenarios.
        skipped: Reason → failures that gave no variant (e.g. target not in the taxonomy).
        scenario_ids: Ids of the new scenarios.
        dry_run: Nothing was written.
    """

    report: str
    model_id: str
    results: int = 0
    failures: int = 0
    proposed: int = 0
    added: int = 0
    duplicates: int = 0
    completions_added: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    scenario_ids: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "report": self.report,
            "model_id": self.model_id,
            "results": self.results,
            "failures": self.failures,
            "proposed": self.proposed,
            "added": self.added,
            "duplicates": self.duplicates,
            "completions_added": self.completions_added,
            "skipped": dict(self.skipped),
            "scenario_ids": list(self.scenario_ids),
            "dry_run": self.dry_run,
        }


def _framings(parent: Scenario) -> tuple[str, ...]:
    current = parent.metadata.get("framing")
    options = FRAMINGS if parent.is_harmful else BENIGN_FRAMINGS
    return tuple(f for f in options if f != current)


def _tags(parent: Scenario, framing: str) -> list[str]:
    framing_names = set(FRAMINGS) | set(BENIGN_FRAMINGS)
    kept = [t for t in parent.tags if t not in framing_names]
    return list(dict.fromkeys([*kept, framing, REPORT_TAG]))


def variants_of(
    parent: Scenario, *, seed: int = 0, origin: str = "", reason: str = ""
) -> list[Scenario]:
    """New scenarios that vary a failed scenario through the framings it was not asked in.

    The base prompt is the parent's seed prompt when it came from a template (its metadata
    ``seed_prompt``), else its own prompt. Variants whose prompt equals the parent's (after
    normalisation) are left out.

    Args:
        parent: The failed scenario.
        seed: Picks the wordings (with the parent's id), deterministically.
        origin: Recorded as ``source.origin`` (report file and model id).
        reason: The judge's reason for the failure, kept in the metadata.
    """
    seed_prompt = parent.metadata.get("seed_prompt")
    base = seed_prompt if isinstance(seed_prompt, str) and seed_prompt.strip() else parent.prompt
    seen = {normalize_text(parent.prompt)}
    out: list[Scenario] = []
    for framing in _framings(parent):
        kind = framing if parent.is_harmful else _BENIGN_FRAMING_KIND[framing]
        prompt, context = frame_prompt(kind, base, seed, "report", parent.id)
        key = normalize_text(prompt)
        if key in seen:
            continue
        seen.add(key)
        metadata = {
            **parent.metadata,
            "framing": framing,
            "seed_prompt": base.strip(),
            "report": {"parent_id": parent.id, "origin": origin, "reason": reason},
        }
        out.append(
            Scenario(
                prompt=prompt,
                system=parent.system,
                context=context,
                evaluation_target=parent.evaluation_target,
                success_criteria=list(parent.success_criteria),
                expected_behavior=parent.expected_behavior,
                group_id=parent.group_id,
                tags=_tags(parent, framing),
                source=Provenance(kind="report", origin=origin, parent_id=parent.id),
                metadata=metadata,
            )
        )
    return out


def import_report(
    store: ScenarioStore,
    report: EvalReport,
    taxonomy: Taxonomy,
    seed: int = 0,
    *,
    source: str = "",
    dry_run: bool = False,
    targets: Sequence[str] | None = None,
) -> ImportReportResult:
    """Turn the report's failures into new scenarios, each with a proposed template completion.

    Args:
        store: Where the scenarios go.
        report: A validated report (see :func:`read_report`).
        taxonomy: Targets whose response templates complete the new scenarios; failures of a
            target the taxonomy lacks still become scenarios, without a completion.
        seed: Picks the framing wordings.
        source: The report file, recorded in each new scenario's origin.
        dry_run: Count what would be added; write nothing.
        targets: Only failures of these targets.

    Returns:
        An :class:`ImportReportResult`.
    """
    origin = f"report:{source or 'unknown'} model:{report.model_id}"
    result = ImportReportResult(
        report=source, model_id=report.model_id, results=len(report.results), dry_run=dry_run
    )
    wanted = set(targets) if targets else None
    candidates: dict[str, Scenario] = {}
    for failed in report.failures():
        parent = failed.scenario
        if wanted is not None and parent.evaluation_target not in wanted:
            continue
        result.failures += 1
        variants = variants_of(parent, seed=seed, origin=origin, reason=failed.reason)
        if not variants:
            result.skipped["no new framing"] = result.skipped.get("no new framing", 0) + 1
        result.proposed += len(variants)
        for v in variants:
            if v.id in candidates:
                result.duplicates += 1
            else:
                candidates[v.id] = v
    existing = store.existing_ids(candidates)
    new = [s for sid, s in candidates.items() if sid not in existing]
    result.duplicates += len(existing)
    result.scenario_ids = [s.id for s in new]
    from scenario_forge.response_templates import good_answer

    completions = [c for s in new for c in [good_answer(s, taxonomy)] if c is not None]
    if dry_run:
        result.added = len(new)
        result.completions_added = len(completions)
        return result
    with store.transaction():
        result.added = store.add_scenarios(new).added
        result.completions_added = store.add_completions(completions).added
        store.audit(
            "import_report",
            "report",
            source or report.model_id,
            {"model_id": report.model_id, "failures": result.failures, "added": result.added},
        )
    return result
