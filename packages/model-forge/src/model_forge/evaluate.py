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
from forge_export.run_provenance import collect_provenance
from pydantic import ValidationError

from model_forge.eval_config import EvalOptions
from model_forge.generate_config import GenerateOptions

if TYPE_CHECKING:
    from forge_export.judge_spec import JudgeSpec, JudgeSpecs

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


def load_eval_scenarios(export: str | Path, split: str | None = None) -> list[Scenario]:
    """The scenarios of an export's ``eval`` config and ``split``, rebuilt from their JSON.

    ``split`` defaults to :class:`EvalOptions`' (``test``: the held-out groups).

    Raises:
        ForgeError: the export has no eval config, or the split has no rows.
        ContractError: a row's ``scenario`` column is not a valid scenario (row named).
    """
    import forge_export

    split = split or EvalOptions().split
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


def _resolve_backend(model: str | Backend, generate: GenerateOptions) -> Backend:
    if not isinstance(model, str):
        return model
    from model_forge.generation import load_backend
    from model_forge.generation.concurrency import backend_options

    return load_backend(model, **backend_options(model, generate))


def resolve_judge(
    judge: str | Judge, *, concurrency: int | None = None, batch_size: int | None = None
) -> Judge:
    """A loaded judge for a spec (through the registry: :mod:`model_forge.judge_plugins`) or
    the judge itself.

    ``concurrency``: requests in flight for an LLM or guard judge on a server backend.
    ``batch_size``: texts per batch of the judge (``--judge-batch-size``; ``None``: the judge's
    own per-device default).

    Raises:
        ForgeError: an unknown spec, naming it.
    """
    if not isinstance(judge, str):
        return judge
    from model_forge.generation.concurrency import judge_backend_options
    from model_forge.judge_plugins import load_judge_spec

    try:
        options = judge_backend_options(judge, concurrency)
        if batch_size is not None:
            options["batch_size"] = batch_size
        return load_judge_spec(judge, **options)
    except ForgeError as exc:
        raise ForgeError(f"--judge: {exc}") from exc


def _decoding(max_new_tokens: int | None, generate: GenerateOptions | None) -> GenerateOptions:
    """The evaluation's decoding: ``generate`` or :class:`EvalOptions`' (greedy), with
    ``max_new_tokens`` when given."""
    return (generate or EvalOptions().generate).merge({"max_new_tokens": max_new_tokens})


def run_scenarios(
    scenarios: Sequence[Scenario],
    backend: Backend,
    judge: Judge,
    *,
    max_new_tokens: int | None = None,
    generate: GenerateOptions | None = None,
    progress: Callable[[int], None] | None = None,
    judge_specs: JudgeSpecs | None = None,
) -> list[EvalResult]:
    """Generate one answer per scenario (:class:`EvalOptions`' decoding) and judge it.

    ``judge_specs`` (target name → :class:`~forge_export.judge_spec.JudgeSpec`) travels with
    each judged item; a target it lacks is looked up by the judge itself.
    """
    from model_forge.generation import GenerationRequest, SamplingParams
    from model_forge.judge import JudgeItem

    sampling = SamplingParams.from_options(_decoding(max_new_tokens, generate))
    requests = [GenerationRequest(s.id, s.messages(), sampling) for s in scenarios]
    generations = backend.generate(requests, progress=progress)
    items = JudgeItem.for_scenarios(scenarios, [g.text for g in generations], judge_specs)
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
            confidence=j.confidence,
        )
        for s, g, j in zip(scenarios, generations, judgements, strict=True)
    ]


def evaluate_scenarios(
    scenarios: Sequence[Scenario],
    backend: Backend,
    judge: Judge,
    *,
    max_new_tokens: int | None = None,
    generate: GenerateOptions | None = None,
    progress: Callable[[int], None] | None = None,
    data: str | Path | None = None,
    split: str | None = None,
    metadata: dict[str, Any] | None = None,
    fingerprint: str | None = None,
    seeds: dict[str, int] | None = None,
    judge_specs: JudgeSpecs | None = None,
) -> EvalReport:
    """Answer ``scenarios`` with ``backend``, judge them, and return the :class:`EvalReport`.

    Args:
        scenarios: What to ask.
        backend: The model.
        judge: The judge.
        max_new_tokens: Most tokens per answer [default: ``generate``'s].
        generate: Decoding [default: :class:`EvalOptions`' (greedy)].
        progress: Called with ``n`` as ``n`` more answers are generated.
        data: The export the scenarios came from (its fingerprint is recorded), if any.
        split: Recorded as the report's split [default: :class:`EvalOptions`'].
        metadata: Extra metadata for the report.
        fingerprint: The data's fingerprint when it is not an export (a test set's, a wild
            set's).
        seeds: Seeds to record in the report's provenance.
        judge_specs: Target name → what the judge checks for it (see :func:`run_scenarios`).
    """
    import time

    started = time.perf_counter()
    decoding = _decoding(max_new_tokens, generate)
    results = run_scenarios(
        scenarios, backend, judge, generate=decoding, progress=progress, judge_specs=judge_specs
    )
    seconds = round(time.perf_counter() - started, 2)
    printed = fingerprint if fingerprint is not None else ""
    if data is not None and fingerprint is None:
        printed = export_fingerprint(data)
    model = getattr(backend, "model", None)
    split = split or EvalOptions().split
    return EvalReport(
        model_id=backend.model_id,
        dataset_fingerprint=printed,
        split=split,
        judge=judge.name,
        results=results,
        metadata={
            "revision": str(getattr(backend, "revision", "") or ""),
            "data": str(Path(data).resolve()) if data is not None else "",
            "max_new_tokens": decoding.max_new_tokens,
            "decoding": "greedy" if decoding.temperature <= 0 else f"sampled {decoding.to_json()}",
            **(metadata or {}),
        },
        provenance=collect_provenance(
            device=str(getattr(backend, "device", "") or ""),
            dtype=str(getattr(model, "dtype", "") or "").removeprefix("torch."),
            seeds=seeds or {},
            datasets={split: printed} if printed else {},
            stage_seconds={"generate and judge": seconds},
        ),
    )


def evaluate(
    model: str | Backend | None = None,
    data: str | Path | None = None,
    *,
    wild_set: str | Path | None = None,
    test_set: str | Path | None = None,
    split: str | None = None,
    judge: str | Judge | None = None,
    output: str | Path | None = None,
    batch_size: int | None = None,
    max_new_tokens: int | None = None,
    limit: int | None = None,
    options: EvalOptions | None = None,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[int], None] | None = None,
    judge_specs: JudgeSpecs | None = None,
) -> EvaluationRun:
    """Run ``model`` on the ``eval`` config of the export ``data`` and judge every answer.

    Args:
        model: A :func:`model_forge.generation.load_backend` spec or a loaded backend.
        data: The export folder (``None`` with ``wild_set`` or ``test_set``).
        wild_set: Instead of an export: a wild set (``builtin`` or a folder with
            ``harmful.jsonl`` / ``benign.jsonl``, :mod:`scenario_forge.wild_sets`).
        test_set: Instead of an export: a frozen test set file (``test-set.json`` of a loop
            run, which holds its scenarios).
        split: Which split of ``eval`` to run (``test`` holds the held-out groups).
        judge: ``default`` (the learned judge), ``learned``, ``rules``, an LLM judge spec, or
            a loaded judge.
        output: Folder for ``report.json``, ``report.html`` and ``report.png`` (created).
        batch_size: Generation batch size for local models.
        max_new_tokens: Most tokens per answer (greedy decoding).
        limit: Evaluate only the first ``limit`` scenarios.
        options: The settings the arguments above override (an argument left ``None`` is
            unset: ``options``, or :class:`EvalOptions` (), decides).
        progress: Called with ``n`` as ``n`` more answers are generated.
        on_loaded: Called with the number of scenarios once they are read.
        judge_specs: Target name → what the judge checks for it, handed over with each item
            [default: :func:`taxonomy_judge_specs`].

    Returns:
        An :class:`EvaluationRun`.

    Raises:
        ForgeError: a missing or empty eval split, a bad model or judge spec, not exactly one
            of an export, a wild set and a test set.
    """
    backend_given = model if model is not None and not isinstance(model, str) else None
    judge_given = judge if judge is not None and not isinstance(judge, str) else None
    opts = _settings(
        options,
        model=model if isinstance(model, str) else None,
        data=data,
        wild_set=str(wild_set) if wild_set is not None else None,
        test_set=test_set,
        split=split,
        judge=judge if isinstance(judge, str) else None,
        output=output,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        limit=limit,
    )
    scenarios, fingerprint, split_name = _read_scenarios(opts, judge_given is None, on_loaded)
    judge_obj = judge_given or _judge_of(opts)
    backend = backend_given or _resolve_backend(opts.model, opts.generate)
    opts = opts.for_device(str(getattr(backend, "device", "") or "cpu"))  # what ran is recorded
    report = evaluate_scenarios(
        scenarios,
        backend,
        judge_obj,
        generate=opts.generate,
        progress=progress,
        data=opts.data,
        split=split_name,
        fingerprint=fingerprint,
        metadata=_run_metadata(opts, None if backend_given is None else backend.model_id),
        judge_specs=taxonomy_judge_specs() if judge_specs is None else judge_specs,
    )
    paths = write_report(report, opts.output) if opts.output is not None else {}
    return EvaluationRun(report=report, paths=paths)


def _judge_of(opts: EvalOptions) -> Judge:
    """The judge an evaluation's settings name (``--judge``, ``--concurrency``,
    ``--judge-batch-size``)."""
    return resolve_judge(
        opts.judge, concurrency=opts.generate.concurrency, batch_size=opts.judge_batch_size
    )


def _read_scenarios(
    opts: EvalOptions, check_judge: bool, on_loaded: Callable[[int], None] | None
) -> tuple[list[Scenario], str | None, str]:
    """The scenarios to ask (at most ``opts.limit``), with :func:`_scenarios_of`'s fingerprint
    and split name; a judge spec (``check_judge``) is checked first, before any data is read."""
    if check_judge:
        from model_forge.judge_plugins import check_judge_spec

        check_judge_spec(opts.judge)  # an unknown judge: one line before any data is read
    scenarios, fingerprint, split_name = _scenarios_of(opts)
    if opts.limit is not None:
        scenarios = scenarios[: opts.limit]
    if on_loaded:
        on_loaded(len(scenarios))
    return scenarios, fingerprint, split_name


def _settings(options: EvalOptions | None, **given: Any) -> EvalOptions:
    """:func:`evaluate`'s settings: ``options`` (or the defaults) with the arguments given
    (``None``: unset) on top."""
    return (options or EvalOptions()).merge(given, where="evaluate()")


def _run_metadata(opts: EvalOptions, given_model_id: str | None) -> dict[str, Any]:
    """The report metadata of an :func:`evaluate` run: the model, the data, the settings."""
    return {
        "model": opts.model if given_model_id is None else given_model_id,
        **({"wild_set": str(opts.wild_set)} if opts.wild_set is not None else {}),
        **({"test_set": str(opts.test_set)} if opts.test_set is not None else {}),
        "settings": opts.to_json(),
    }


def taxonomy_judge_specs() -> dict[str, JudgeSpec]:
    """Target name → the ``judge:`` block of the taxonomy (built-in targets plus
    ``$SCENARIO_FORGE_TAXONOMY``): what :func:`evaluate` hands the judge by default.

    Raises:
        ForgeError: the override file is bad (one line naming it).
    """
    from scenario_forge.api import load_taxonomy

    return dict(load_taxonomy().judge_specs())


def _scenarios_of(opts: EvalOptions) -> tuple[list[Scenario], str | None, str]:
    """The scenarios to ask, their data's fingerprint (``None``: the export's) and split name.

    Raises:
        ForgeError: not exactly one of an export, a wild set and a test set, or bad data.
    """
    given = [x is not None for x in (opts.data, opts.wild_set, opts.test_set)]
    if sum(given) != 1:
        raise ForgeError(
            "give one of an export folder (--data), a wild set (--wild-set) or a frozen test "
            "set (--test-set)"
        )
    if opts.wild_set is not None:
        from scenario_forge.api import load_wild_set

        wild = load_wild_set(opts.wild_set)
        return wild.scenarios, f"wild:{wild.sha256}", "wild"
    if opts.test_set is not None:
        from scenario_forge.api import read_test_set

        frozen = read_test_set(opts.test_set, scenarios=True)
        return list(frozen.scenarios), f"test-set:{frozen.fingerprint()}", "test"
    assert opts.data is not None
    return load_eval_scenarios(opts.data, opts.split), None, opts.split


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
