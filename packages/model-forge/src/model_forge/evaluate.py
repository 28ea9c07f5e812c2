"""Evaluate a model on an export's ``eval`` config: generate, judge, report.

Every row of the ``eval`` config carries the full scenario as JSON; the scenario is rebuilt
from it (so the report embeds exactly what was asked), its messages go to the model through the
generation API, and the judge decides each verdict. The result is an :class:`EvalReport` (the
contract type scenario-forge imports), plus a self-contained ``report.html`` and a PNG chart.

Example:
    >>> from model_forge.evaluate import evaluate  # doctest: +SKIP
    >>> run = evaluate("tiny", "export/", output="runs/eval-tiny")
    >>> run.report.aggregates["all"].pass_rate, run.paths["json"].name
    (0.1, 'report.json')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.atomic_files import atomic_output
from forge_export.errors import ForgeError, describe_validation_error
from forge_export.models import EvalReport, EvalResult, Scenario
from forge_export.reports import export_fingerprint
from pydantic import ValidationError

if TYPE_CHECKING:
    from model_forge.generation import Backend
    from model_forge.judge import Judge

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REPORT_PNG = "report.png"


@dataclass
class EvaluationRun:
    """What :func:`evaluate` produced.

    Attributes:
        report: The judged results and their aggregates.
        paths: ``json``, ``html`` and ``png`` paths when an output folder was given.
    """

    report: EvalReport
    paths: dict[str, Path] = field(default_factory=dict)


def load_eval_scenarios(export: str | Path, split: str = "test") -> list[Scenario]:
    """The scenarios of an export's ``eval`` config and ``split``, rebuilt from their JSON.

    Raises:
        ForgeError: the export has no eval config, or the split has no rows.
        ContractError: a row's ``scenario`` column is not a valid scenario (row named).
    """
    import forge_export

    root = Path(export)
    if not root.is_dir():
        raise ForgeError(f"{root}: no such export folder; create one with 'scenario-forge export'")
    if not (root / "eval").is_dir():
        raise ForgeError(f"{root}: the export has no 'eval' config; re-export with --config eval")
    ds = forge_export.load(root, "eval", split)
    if len(ds) == 0:
        raise ForgeError(
            f"{root / 'eval'}: the {split} split has 0 rows; export more scenarios or a larger "
            "--test-size"
        )
    where = root / "eval" / f"{split}.parquet"
    scenarios: list[Scenario] = []
    for i, raw in enumerate(ds["scenario"]):
        try:
            scenarios.append(Scenario.model_validate_json(raw))
        except ValidationError as exc:
            raise describe_validation_error(exc, f"{where}: row {i}: column 'scenario'") from exc
    return scenarios


def _resolve_backend(model: str | Backend, batch_size: int) -> Backend:
    if not isinstance(model, str):
        return model
    from model_forge.generation import load_backend

    return load_backend(model, batch_size=batch_size)


def resolve_judge(judge: str | Judge) -> Judge:
    """A loaded judge for a spec (``rules``, an LLM judge spec) or the judge itself.

    Raises:
        ForgeError: an unknown spec, naming it.
    """
    if not isinstance(judge, str):
        return judge
    from model_forge.judge import load_judge

    try:
        return load_judge(judge)
    except ValueError as exc:
        raise ForgeError(f"--judge {judge!r}: {exc}") from exc


def run_scenarios(
    scenarios: Sequence[Scenario],
    backend: Backend,
    judge: Judge,
    *,
    max_new_tokens: int = 128,
    progress: Callable[[int], None] | None = None,
) -> list[EvalResult]:
    """Generate one greedy answer per scenario and judge it."""
    from model_forge.generation import GenerationRequest, SamplingParams
    from model_forge.judge import JudgeItem

    sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0)
    requests = [GenerationRequest(s.id, s.messages(), sampling) for s in scenarios]
    generations = backend.generate(requests, progress=progress)
    items = [
        JudgeItem.from_scenario(s, g.text) for s, g in zip(scenarios, generations, strict=True)
    ]
    judgements = judge.judge(items)
    return [
        EvalResult(
            scenario=s,
            response=g.text,
            verdict=j.verdict,
            refused=j.refused,
            judge=j.judge,
            reason=j.reason,
            latency_s=g.latency_s,
            label=j.label,
        )
        for s, g, j in zip(scenarios, generations, judgements, strict=True)
    ]


def evaluate_scenarios(
    scenarios: Sequence[Scenario],
    backend: Backend,
    judge: Judge,
    *,
    max_new_tokens: int = 128,
    progress: Callable[[int], None] | None = None,
    data: str | Path | None = None,
    split: str = "test",
    metadata: dict[str, Any] | None = None,
) -> EvalReport:
    """Answer ``scenarios`` with ``backend``, judge them, and return the :class:`EvalReport`.

    Args:
        scenarios: What to ask.
        backend: The model.
        judge: The judge.
        max_new_tokens: Most tokens per answer (greedy decoding).
        progress: Called with ``n`` as ``n`` more answers are generated.
        data: The export the scenarios came from (its fingerprint is recorded), if any.
        split: Recorded as the report's split (``probe`` for scenarios of no export).
        metadata: Extra metadata for the report.
    """
    results = run_scenarios(
        scenarios, backend, judge, max_new_tokens=max_new_tokens, progress=progress
    )
    return EvalReport(
        model_id=backend.model_id,
        dataset_fingerprint=export_fingerprint(data) if data is not None else "",
        split=split,
        judge=judge.name,
        results=results,
        metadata={
            "revision": str(getattr(backend, "revision", "") or ""),
            "data": str(Path(data).resolve()) if data is not None else "",
            "max_new_tokens": max_new_tokens,
            "decoding": "greedy",
            **(metadata or {}),
        },
    )


def evaluate(
    model: str | Backend,
    data: str | Path | None,
    *,
    wild_set: str | Path | None = None,
    split: str = "test",
    judge: str | Judge = "default",
    output: str | Path | None = None,
    batch_size: int = 8,
    max_new_tokens: int = 128,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[int], None] | None = None,
) -> EvaluationRun:
    """Run ``model`` on the ``eval`` config of the export ``data`` and judge every answer.

    Args:
        model: A :func:`model_forge.generation.load_backend` spec or a loaded backend.
        data: The export folder (``None`` with ``wild_set``).
        wild_set: Instead of an export: a wild set (``builtin`` or a folder with
            ``harmful.jsonl`` / ``benign.jsonl``, :mod:`scenario_forge.wild_sets`).
        split: Which split of ``eval`` to run (``test`` holds the held-out groups).
        judge: ``default`` (the learned judge), ``learned``, ``rules``, an LLM judge spec, or
            a loaded judge.
        output: Folder for ``report.json``, ``report.html`` and ``report.png`` (created).
        batch_size: Generation batch size for local models.
        max_new_tokens: Most tokens per answer (greedy decoding).
        limit: Evaluate only the first ``limit`` scenarios.
        progress: Called with ``n`` as ``n`` more answers are generated.
        on_loaded: Called with the number of scenarios once they are read.

    Returns:
        An :class:`EvaluationRun`.

    Raises:
        ForgeError: a missing or empty eval split, a bad model or judge spec.
    """
    if (data is None) == (wild_set is None):
        raise ForgeError("give either an export folder (--data) or a wild set (--wild-set)")
    if wild_set is not None:
        from scenario_forge.api import load_wild_set

        scenarios = load_wild_set(wild_set).scenarios
        split = "wild"
    else:
        assert data is not None
        scenarios = load_eval_scenarios(data, split)
    if limit is not None:
        scenarios = scenarios[:limit]
    if on_loaded:
        on_loaded(len(scenarios))
    judge_obj = resolve_judge(judge)
    backend = _resolve_backend(model, batch_size)
    report = evaluate_scenarios(
        scenarios,
        backend,
        judge_obj,
        max_new_tokens=max_new_tokens,
        progress=progress,
        data=data,
        split=split,
        metadata={
            "model": model if isinstance(model, str) else backend.model_id,
            **({"wild_set": str(wild_set)} if wild_set is not None else {}),
        },
    )
    paths = write_report(report, output) if output is not None else {}
    return EvaluationRun(report=report, paths=paths)


def write_report(report: EvalReport, output: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.png`` and ``report.html`` into ``output``.

    Each file is written to a temporary name and renamed, so a crash leaves no half file.
    """
    from model_forge.report_html import render_chart, render_html

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / REPORT_JSON, "png": out / REPORT_PNG, "html": out / REPORT_HTML}
    _atomic_write(paths["json"], report.model_dump_json(indent=2).encode("utf-8"))
    png = render_chart(report)
    _atomic_write(paths["png"], png)
    _atomic_write(paths["html"], render_html(report, png).encode("utf-8"))
    return paths


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_output(path, "wb") as fh:
        fh.write(data)
