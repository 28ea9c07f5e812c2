"""Judge saved answers again with another judge, without generating anything.

A judge improves (a new rule version, a retrained head, an LLM judge) after a run is done;
answering again costs what the run cost. :func:`rejudge_report` keeps every answer of an
:class:`~forge_export.models.EvalReport` and only asks ``judge`` for new verdicts;
:func:`rejudge_run` does it for every report of a loop run (the frozen test set and the wild
set of each round) and rebuilds the run's per-round summary, so two runs judged at different
times can be read side by side under one judge.

Example:
    >>> from model_forge.rejudge import rejudge_report  # doctest: +SKIP
    >>> new = rejudge_report(read_report("runs/eval/report.json"), load_judge("rules"))
    >>> new.judge, new.metadata["rejudged_from"]
    ('rules@6', 'learned@4')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from forge_export.errors import ForgeError
from forge_export.loop_summary import (
    WILD_GROUP_KEY,
    LoopSummary,
    by_contrast_kind,
    by_metadata,
    by_section,
)
from forge_export.models import EvalReport, EvalResult

if TYPE_CHECKING:
    from forge_export.judge_spec import JudgeSpecs

    from model_forge.judge import Judge


def rejudge_report(
    report: EvalReport, judge: Judge, judge_specs: JudgeSpecs | None = None
) -> EvalReport:
    """``report`` with every answer judged again by ``judge`` (answers and scenarios kept).

    The new report's ``judge`` is the new judge's name; its metadata records the judge the
    answers had before (``rejudged_from``). Aggregates are recomputed from the new verdicts.
    ``judge_specs`` (target name → spec) travels with each item as in
    :func:`~model_forge.evaluate.evaluate` [default: the taxonomy's].
    """
    from model_forge.evaluate import taxonomy_judge_specs
    from model_forge.judge import JudgeItem

    specs = taxonomy_judge_specs() if judge_specs is None else judge_specs
    items = JudgeItem.for_scenarios(
        [r.scenario for r in report.results], [r.response for r in report.results], specs
    )
    judgements = judge.judge(items)
    results = [
        EvalResult(
            scenario=r.scenario,
            response=r.response,
            verdict=j.verdict,
            refused=j.refused,
            judge=j.judge,
            reason=j.reason,
            latency_s=r.latency_s,
            label=j.label,
            confidence=j.confidence,
        )
        for r, j in zip(report.results, judgements, strict=True)
    ]
    metadata = {
        **report.metadata,
        "rejudged_from": report.metadata.get("rejudged_from") or report.judge,
    }
    return EvalReport(
        model_id=report.model_id,
        dataset_fingerprint=report.dataset_fingerprint,
        split=report.split,
        judge=judge.name,
        results=results,
        metadata=metadata,
        provenance=report.provenance,
    )


def rejudge_run(
    summary: LoopSummary,
    judge: Judge,
    output: Path,
    say: Callable[[str], None] = lambda _: None,
) -> LoopSummary:
    """Every round's test and wild reports of a loop run judged again, written under ``output``.

    ``output/round-N/eval-test/report.json`` (and ``eval-wild``) hold the new reports; the
    returned summary points at them and has its aggregates, look-alike kinds, test-set parts
    and wild-set hazards rebuilt from the new verdicts (training fields, probes and timings are
    those of the run: nothing was trained or probed again).

    Raises:
        ForgeError: a round's report is missing (names the file).
    """
    from forge_export.reports import read_report

    from model_forge.evaluate import taxonomy_judge_specs, write_report

    specs = taxonomy_judge_specs()
    rounds = []
    for r in summary.rounds:
        update: dict[str, object] = {}
        for kind, field in (("test", "test_report"), ("wild", "wild_report")):
            source = getattr(r, field)
            if not source:
                continue
            if not Path(source).is_file():
                raise ForgeError(
                    f"round {r.round}: {source}: no such report (was the run folder moved? "
                    "rejudge reads the reports named in summary.json)"
                )
            new = rejudge_report(read_report(source), judge, specs)
            paths = write_report(new, output / f"round-{r.round}" / f"eval-{kind}")
            say(
                f"round {r.round} {kind}: {len(new.results)} answers judged again -> {paths['json']}"
            )
            update[field] = str(paths["json"])
            if kind == "test":
                update["test_html"] = str(paths.get("html", ""))
                update["aggregates"] = dict(new.aggregates)
                update["kinds"] = by_contrast_kind(new.results)
                update["sections"] = by_section(
                    new.results, summary.test_set.held_out_targets, summary.test_set.held_out_kinds
                )
            else:
                update["wild"] = by_metadata(new.results, WILD_GROUP_KEY)
        rounds.append(r.model_copy(update=update))
    return summary.model_copy(update={"rounds": rounds})
