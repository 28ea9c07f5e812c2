"""A model card for a trained model, and its upload to the HuggingFace Hub (private by default).

``model-forge card MODEL_DIR --report REPORT.json ...`` writes ``MODEL_DIR/README.md`` from
what the run left: ``metrics.json`` (:class:`~forge_export.train_metrics.TrainMetrics`: method,
base model, the export's fingerprint, rows, steps, loss, options) and any evaluation reports
(judge, data fingerprint, split, and a table per report: safe rate, benign compliance and
over-refusal overall and per target, each with its Wilson 95% interval). The YAML header has
the Hub's model-card fields (``library_name``, ``base_model`` where it is a Hub model,
``tags``, ``pipeline_tag``).

``--push-to-hub OWNER/NAME`` then uploads the folder to a **model** repository in one commit,
with the checks of :mod:`forge_export.hub` (repository id, token, offline mode, private unless
``--public``); ``checkpoints/`` and ``tensorboard/`` stay home. ``--dry-run`` lists the files.

Example:
    >>> hub_base_model("bundled")
    'HuggingFaceTB/SmolLM2-135M-Instruct'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.errors import ForgeError

if TYPE_CHECKING:
    from forge_export import EvalReport
    from forge_export.train_metrics import TrainMetrics

CARD_NAME = "README.md"
LEFT_HOME = ("checkpoints", "tensorboard")
"""Sub-folders of a model folder that are not uploaded."""

_HUB_NAMES = {"bundled": "HuggingFaceTB/SmolLM2-135M-Instruct"}


def hub_base_model(spec: str) -> str | None:
    """The Hub id of a base model spec (``bundled``, ``owner/name``), or ``None`` for a local
    folder or the tiny random model."""
    if spec in _HUB_NAMES:
        return _HUB_NAMES[spec]
    if spec.count("/") == 1 and not Path(spec).exists() and not spec.startswith((".", "/")):
        return spec
    return None


def _pct(value: float | None, interval: Sequence[float] | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.0%}"
    if interval:
        text += f" ({interval[0]:.0%}–{interval[1]:.0%})"
    return text


def _table(report: EvalReport) -> list[str]:
    lines = [
        "| target | n | safe (harmful) | compliance (benign) | over-refusal (benign) |",
        "| --- | --- | --- | --- | --- |",
    ]
    order = ["all", *sorted(t for t in report.aggregates if t != "all")]
    for target in order:
        agg = report.aggregates[target]
        iv = agg.intervals
        lines.append(
            f"| {target} | {agg.n} | {_pct(agg.safe_rate, iv.get('safe_rate'))} | "
            f"{_pct(agg.compliance_rate, iv.get('compliance_rate'))} | "
            f"{_pct(agg.over_refusal_rate, iv.get('over_refusal_rate'))} |"
        )
    return lines


def render_model_card(
    metrics: TrainMetrics,
    reports: Sequence[tuple[str, EvalReport]] = (),
    *,
    name: str = "",
) -> str:
    """The card's Markdown (YAML header included).

    Args:
        metrics: The training run's metrics.
        reports: ``(label, report)`` pairs, e.g. ``("report.json", report)``.
        name: The model's name in the title (default: ``forge <method> model``).
    """
    import yaml

    tags = ["forge", "safety", "trl", metrics.method]
    if metrics.adapter:
        tags.append("lora")
    header: dict[str, Any] = {"library_name": "transformers", "tags": tags}
    base = hub_base_model(metrics.model)
    if base:
        header["base_model"] = base
    header["pipeline_tag"] = "text-generation"
    lr = metrics.options.get("learning_rate")
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False).strip(),
        "---",
        "",
        f"# {name or f'forge {metrics.method} model'}",
        "",
        f"Fine-tuned with forge's `model-forge train` (TRL {metrics.method.upper()}) from "
        f"`{base or metrics.model}`.",
        "",
        "## Training data",
        "",
        f"- export: `{Path(metrics.export).name}`, config `{metrics.config}`, "
        f"fingerprint `{metrics.dataset_fingerprint or 'none'}`",
        f"- rows: {metrics.rows} exported, {metrics.train_rows} trained on",
        f"- steps: {metrics.global_step}, mean loss {metrics.train_loss:.4f}, "
        f"{metrics.train_seconds:.0f} s on {metrics.device}",
        f"- {'LoRA adapter (merged; the adapter is in adapter/)' if metrics.adapter else 'full fine-tuning'}"
        + (f", learning rate {lr:g}" if isinstance(lr, int | float) else ""),
        "",
    ]
    if reports:
        lines += ["## Evaluation", ""]
    for label, report in reports:
        lines += [
            f"### {label}",
            "",
            f"Judge `{report.judge}`, split `{report.split}`, data fingerprint "
            f"`{report.dataset_fingerprint or 'none'}`, {len(report.results)} scenarios, "
            f"model `{report.model_id}`. Rates with their Wilson 95% intervals:",
            "",
            *_table(report),
            "",
        ]
    lines += [
        "## Provenance",
        "",
        "`metrics.json` in this repository records the options, the loss history, library "
        "versions, device, dtype and seeds of the run.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(
    model_dir: str | Path, report_paths: Sequence[str | Path] = (), *, name: str = ""
) -> Path:
    """Write ``model_dir/README.md`` from its ``metrics.json`` and the given reports.

    Raises:
        ForgeError: no ``metrics.json`` in ``model_dir`` (not a ``model-forge train`` output),
            or a report that cannot be read (named).
    """
    from forge_export.atomic_files import atomic_output
    from forge_export.reports import read_report
    from forge_export.train_metrics import METRICS_FILE, TrainMetrics

    folder = Path(model_dir)
    if not (folder / METRICS_FILE).is_file():
        raise ForgeError(
            f"{folder}: no {METRICS_FILE}; give the output folder of `model-forge train` "
            "(or a loop's round-N/model)"
        )
    metrics = TrainMetrics.read(folder)
    reports = [(Path(p).parent.name or str(p), read_report(p)) for p in report_paths]
    card = render_model_card(metrics, reports, name=name)
    with atomic_output(folder / CARD_NAME, "w") as fh:
        fh.write(card)
    return folder / CARD_NAME


@dataclass
class ModelPushPlan:
    """What a model push would upload."""

    folder: Path
    repo_id: str
    private: bool
    files: list[tuple[str, int]]
    commit_message: str
    url: str = ""
    commit_url: str = ""


def plan_model_push(model_dir: str | Path, repo_id: str, *, private: bool = True) -> ModelPushPlan:
    """List what would go up (everything but ``checkpoints/`` and ``tensorboard/``).

    Raises:
        ForgeError: a bad repository id, or the folder has no card or no model config.
    """
    from forge_export.hub import check_repo_id

    check_repo_id(repo_id)
    folder = Path(model_dir)
    for needed, fix in ((CARD_NAME, "write it with `model-forge card`"), ("config.json", "")):
        if not (folder / needed).is_file():
            raise ForgeError(
                f"not pushing {folder}: no {needed}"
                + (f"; {fix}" if fix else "; give a model folder written by `model-forge train`")
            )
    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] not in LEFT_HOME
    )
    return ModelPushPlan(folder, repo_id, private, files, f"forge model ({len(files)} files)")


def push_model(
    model_dir: str | Path,
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    api: Any = None,
) -> ModelPushPlan:
    """Upload a model folder (with its card) to a Hub model repository in one commit.

    Args:
        model_dir: The model folder.
        repo_id: ``owner/name``.
        private: Create the repository private (default); an existing one keeps its visibility.
        token: A write token (default ``$HF_TOKEN`` or the saved login).
        api: A ``huggingface_hub.HfApi``-like client (default ``HfApi(token=...)``).

    Raises:
        ForgeError: bad folder or id, no token, offline mode, the Hub refused or unreachable.
    """
    from forge_export.hub import preflight, upload_folder

    plan = plan_model_push(model_dir, repo_id, private=private)
    found = preflight(repo_id, token)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=found)
    plan.url, plan.commit_url = upload_folder(
        api,
        repo_id,
        "model",
        plan.folder,
        private=private,
        commit_message=plan.commit_message,
        unreachable=lambda _first: (
            f"cannot reach the HuggingFace Hub to push to {repo_id}; check the network and "
            f"retry `model-forge card {plan.folder} --push-to-hub {repo_id}`"
        ),
        ignore_patterns=[f"{d}/*" for d in LEFT_HOME],
    )
    return plan
