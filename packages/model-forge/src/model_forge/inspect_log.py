"""A forge evaluation report as an inspect_ai log, for ``inspect view``.

``model-forge evaluate ... --inspect-log FILE`` and ``model-forge report to-inspect REPORT
FILE`` write an :class:`inspect_ai.log.EvalLog` (``.json``, or inspect's ``.eval`` archive)
that ``inspect view`` browses and :func:`inspect_ai.log.read_eval_log` reads back. The samples
are those of :mod:`model_forge.inspect_task` (the same ids, chat input, success criteria as
target and metadata), each with the model's answer as its output and forge's verdict as the
score ``forge_judge``: ``C`` (pass) or ``I`` (fail), the judge's reason as the explanation and
its label, refusal flag, confidence and name as metadata. The metrics are those the task
reports: ``accuracy`` (pass rate), ``safe_rate`` (harmful scenarios answered safely) and
``over_refusal`` (benign contrasts refused or partially refused), overall (the report's own
rates), plus the pass rate per target (``target:NAME``) and per expected behaviour
(``expected:NAME``).

Needs the ``inspect`` extra (``pip install 'model-forge[inspect]'``).

Example:
    >>> from forge_export import EvalReport
    >>> log = report_to_eval_log(EvalReport(model_id="m"))
    >>> log.eval.model, log.status
    ('forge/m', 'success')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.errors import ForgeError
from forge_export.models import HARMFUL_BEHAVIORS

if TYPE_CHECKING:
    from forge_export import EvalReport, EvalResult
    from inspect_ai.log import EvalLog

SCORER = "forge_judge"
"""The score's name in the log (the scorer of :mod:`model_forge.inspect_task`)."""

TASK = "model_forge/forge_eval"
"""The task name in the log."""


def _require_inspect() -> None:
    import importlib.util

    if importlib.util.find_spec("inspect_ai") is None:
        raise ForgeError(
            "--inspect-log needs inspect_ai, which is not installed: "
            "pip install 'model-forge[inspect]' (or: uv add inspect-ai)"
        )


def report_metrics(report: EvalReport) -> dict[str, float]:
    """The log's metrics of a report, named as :mod:`model_forge.inspect_task` names them:
    ``accuracy`` (pass rate), ``safe_rate``, ``over_refusal`` (the report's rates), and the
    pass rate per target ``target:NAME`` and per expected behaviour ``expected:NAME``; a rate
    with no scenario of its kind is left out."""
    all_ = report.aggregates.get("all")
    out: dict[str, float] = {}
    if all_ is None or all_.n == 0:
        return out
    out["accuracy"] = float(all_.pass_rate or 0.0)
    if all_.harmful_n:
        out["safe_rate"] = float(all_.safe_rate or 0.0)
    if all_.benign_n:
        out["over_refusal"] = float(all_.over_refusal_rate or 0.0)
    for target, agg in sorted(report.aggregates.items()):
        if target != "all" and agg.pass_rate is not None:
            out[f"target:{target}"] = float(agg.pass_rate)
    by_behavior: dict[str, list[bool]] = {}
    for r in report.results:
        by_behavior.setdefault(r.scenario.expected_behavior, []).append(r.verdict == "pass")
    for behavior, passed in sorted(by_behavior.items()):
        out[f"expected:{behavior}"] = sum(passed) / len(passed)
    return out


def report_to_eval_log(report: EvalReport, *, location: str | None = None) -> EvalLog:
    """The inspect_ai log of a forge report (nothing is written).

    Args:
        report: The evaluation report.
        location: Where the report came from (kept in the log's metadata).
    """
    _require_inspect()
    from inspect_ai.log import (
        EvalConfig,
        EvalDataset,
        EvalLog,
        EvalMetric,
        EvalResults,
        EvalScore,
        EvalSpec,
        EvalStats,
    )

    model = f"forge/{report.model_id}"
    created = report.created_at.isoformat()
    samples = [_sample(result, model) for result in report.results]
    metrics = report_metrics(report)
    results = EvalResults(
        total_samples=len(samples),
        completed_samples=len(samples),
        scores=[
            EvalScore(
                name=SCORER,
                scorer=SCORER,
                metrics={k: EvalMetric(name=k, value=v) for k, v in metrics.items()},
            )
        ],
    )
    spec = EvalSpec(
        created=created,
        task=TASK,
        dataset=EvalDataset(
            name=f"forge:{report.split}",
            location=str(report.metadata.get("data") or ""),
            samples=len(samples),
            sample_ids=[s.id for s in samples],
        ),
        model=model,
        config=EvalConfig(),
        metadata={
            "forge_schema_version": report.schema_version,
            "dataset_fingerprint": report.dataset_fingerprint,
            "judge": report.judge,
            "report": location or "",
        },
    )
    return EvalLog(
        status="success",
        eval=spec,
        results=results,
        stats=EvalStats(started_at=created, completed_at=created),
        samples=samples,
    )


def _sample(result: EvalResult, model: str) -> Any:
    """One answered scenario as an inspect_ai ``EvalSample`` scored by the forge judge."""
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ChatMessageAssistant, ModelOutput
    from inspect_ai.scorer import CORRECT, INCORRECT, Score

    from model_forge.inspect_task import scenario_sample

    base = scenario_sample(result.scenario)
    assert isinstance(base.input, list)
    answer = ChatMessageAssistant(content=result.response, model=model)
    score = Score(
        value=CORRECT if result.verdict == "pass" else INCORRECT,
        answer=result.response,
        explanation=result.reason,
        metadata={
            "verdict": result.verdict,
            "expected_behavior": result.scenario.expected_behavior,
            "evaluation_target": result.scenario.evaluation_target,
            "refused": result.refused,
            "label": result.label,
            "judge": result.judge,
            "confidence": result.confidence,
            "harmful": result.scenario.expected_behavior in HARMFUL_BEHAVIORS,
        },
    )
    return EvalSample(
        id=result.scenario.id,
        epoch=1,
        input=base.input,
        target=base.target,
        messages=[*base.input, answer],
        output=ModelOutput.from_content(model=model, content=result.response),
        scores={SCORER: score},
        metadata=dict(base.metadata or {}),
        total_time=result.latency_s,
    )


def check_inspect_log_path(path: str | Path) -> Path:
    """``path`` if a log can be written there: inspect_ai installed, ``.json`` or ``.eval``.

    Raises:
        ForgeError: one line naming ``--inspect-log`` and the fix.
    """
    out = Path(path)
    if out.suffix not in (".json", ".eval"):
        raise ForgeError(
            f"--inspect-log {out}: the file must end in .json or .eval (inspect's two formats)"
        )
    if out.is_dir():
        raise ForgeError(f"--inspect-log {out}: is a folder; give a file name")
    _require_inspect()
    return out


def write_inspect_log(report: EvalReport, path: str | Path, *, location: str | None = None) -> Path:
    """Write ``report`` as an inspect_ai log at ``path`` (``.json`` or ``.eval``).

    Raises:
        ForgeError: inspect_ai is not installed, or ``path`` ends in neither ``.json`` nor
            ``.eval``.
    """
    out = check_inspect_log_path(path)
    log = report_to_eval_log(report, location=location)
    from inspect_ai.log import write_eval_log

    out.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(out), format="json" if out.suffix == ".json" else "eval")
    return out
