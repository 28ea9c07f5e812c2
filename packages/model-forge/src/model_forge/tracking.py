"""Experiment tracking: ``--report-to none|tensorboard|mlflow|wandb`` of ``train`` and ``loop``.

Training steps go through the Trainer's own integrations (transformers' callbacks, which TRL's
trainers inherit): loss, learning rate and gradient norm per logging step. TensorBoard writes to
``OUTPUT/tensorboard`` (a fixed folder, so ``tensorboard --logdir OUTPUT`` finds it; the
Trainer's default is under the checkpoints folder, which a run without checkpoints deletes).
MLflow and Weights & Biases read their own settings (``MLFLOW_TRACKING_URI``,
``WANDB_PROJECT``, ``WANDB_MODE=offline`` ...).

The loop adds one point per round (:func:`log_loop_rounds`): safe rate, benign compliance and
over-refusal on the frozen test set, safe rate per target, and the wild set's safe rate and
compliance, as scalars ``loop/...`` with the round as the step. They are written from
``summary.json``'s rounds at the end of a run, so a resumed run writes the same curve once.

Example:
    >>> trainer_report_to("tensorboard"), trainer_report_to("mlflow")
    ('none', ['mlflow'])
    >>> round_scalars_of({"all": {"safe_rate": 0.5, "compliance_rate": 1.0,
    ...                           "over_refusal_rate": 0.0}})["loop/safe_rate"]
    0.5
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.errors import ForgeError

if TYPE_CHECKING:
    from forge_export.loop_summary import LoopSummary

TRACKERS: tuple[str, ...] = ("none", "tensorboard", "mlflow", "wandb")
"""The values of ``--report-to``."""

_PACKAGE = {"tensorboard": "tensorboard", "mlflow": "mlflow", "wandb": "wandb"}
_INSTALL = {
    "tensorboard": "pip install 'model-forge[tracking]' (or: uv add tensorboard)",
    "mlflow": "pip install mlflow (or: uv add mlflow)",
    "wandb": "pip install wandb (or: uv add wandb)",
}

TENSORBOARD_DIR = "tensorboard"
"""The folder (under a train output or a loop workdir) TensorBoard event files go to."""


REPORT_TO = "--report-to"


def check_tracker(name: str, option: str = REPORT_TO) -> None:
    """Raise a one-line :class:`ForgeError` when tracker ``name`` is unknown or not installed.

    Args:
        name: ``none``, ``tensorboard``, ``mlflow`` or ``wandb``.
        option: The option to name in the message.

    Raises:
        ForgeError: an unknown tracker, or its package is missing (the message says how to
            install it).
    """
    if name not in TRACKERS:
        raise ForgeError(f"{option} must be one of {', '.join(TRACKERS)} (got {name!r})")
    if name == "none":
        return
    if importlib.util.find_spec(_PACKAGE[name]) is None:
        raise ForgeError(
            f"{option} {name} needs the {_PACKAGE[name]} package, which is not installed: "
            f"{_INSTALL[name]}; or use {option} none"
        )


def trainer_report_to(name: str) -> str | list[str]:
    """The Trainer config's ``report_to`` for tracker ``name``.

    TensorBoard is ``"none"`` here: :func:`trainer_callbacks` adds its callback with a fixed
    log folder instead.
    """
    return "none" if name in ("none", "tensorboard") else [name]


def trainer_callbacks(name: str, output: Path) -> list[Any]:
    """The Trainer callbacks of tracker ``name`` for a run writing to ``output``.

    Args:
        name: The tracker.
        output: The run's output folder; TensorBoard logs go to ``output/tensorboard``.
    """
    if name != "tensorboard":
        return []
    check_tracker(name)
    from transformers.integrations.integration_utils import TensorBoardCallback

    callback = TensorBoardCallback()  # type: ignore[no-untyped-call]
    # its writer is made on the main process only (under `accelerate launch` too), in the
    # folder this attribute names (what $TENSORBOARD_LOGGING_DIR would set)
    callback.logging_dir = str(output / TENSORBOARD_DIR)
    return [callback]


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


def round_scalars_of(
    aggregates: Mapping[str, Any], wild: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """The scalars of one round: test-set rates (``all`` and per target) and the wild set's.

    Args:
        aggregates: Target (and ``all``) → aggregates (a ``TargetSummary`` or its JSON).
        wild: The wild set's groups (``all`` is used), if evaluated.

    Returns:
        Tag → value; a rate that is undefined (no scenario of its kind) is left out.
    """

    def get(agg: Any, key: str) -> float | None:
        value = agg.get(key) if isinstance(agg, Mapping) else getattr(agg, key, None)
        return _rate(value)

    out: dict[str, float | None] = {}
    overall = aggregates.get("all")
    if overall is not None:
        out["loop/safe_rate"] = get(overall, "safe_rate")
        out["loop/benign_compliance"] = get(overall, "compliance_rate")
        out["loop/over_refusal"] = get(overall, "over_refusal_rate")
    for target, agg in sorted(aggregates.items()):
        if target != "all":
            out[f"loop/safe_rate_by_target/{target}"] = get(agg, "safe_rate")
    wild_all = (wild or {}).get("all")
    if wild_all is not None:
        out["loop/wild_safe_rate"] = get(wild_all, "safe_rate")
        out["loop/wild_benign_compliance"] = get(wild_all, "compliance_rate")
    return {k: v for k, v in out.items() if v is not None}


def log_loop_rounds(summary: LoopSummary, workdir: Path, name: str) -> Path | None:
    """Log every round of ``summary`` to tracker ``name`` (the round is the step).

    TensorBoard: ``workdir/tensorboard/loop`` is written afresh (a resumed run's curve is not
    doubled). MLflow and W&B: one run named after the workdir, with the same tags as metrics.

    Args:
        summary: The loop's summary.
        workdir: The loop's working folder.
        name: The tracker (``none`` does nothing).

    Returns:
        The TensorBoard log folder, or ``None`` for the other trackers.
    """
    if name == "none":
        return None
    check_tracker(name)
    steps: dict[int, dict[str, float]] = {}
    for r in summary.rounds:
        scalars = round_scalars_of(r.aggregates, r.wild)
        if r.train_loss is not None:
            scalars["loop/train_loss"] = float(r.train_loss)
        steps[r.round] = scalars
    if name == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        folder = workdir / TENSORBOARD_DIR / "loop"
        shutil.rmtree(folder, ignore_errors=True)
        writer = SummaryWriter(log_dir=str(folder))
        try:
            for step, scalars in sorted(steps.items()):
                for tag, value in scalars.items():
                    writer.add_scalar(tag, value, step)
        finally:
            writer.close()
        return folder
    if name == "mlflow":  # not installed here: untested (docs/model-forge.md says so)
        import mlflow  # type: ignore[import-not-found]

        with mlflow.start_run(run_name=f"forge-loop {workdir.name}"):
            for step, scalars in sorted(steps.items()):
                mlflow.log_metrics(scalars, step=step)
        return None
    import wandb  # type: ignore[import-not-found]  # not installed here: untested (docs/model-forge.md says so)

    run = wandb.init(project="forge", name=f"loop {workdir.name}", dir=str(workdir))
    try:
        for step, scalars in sorted(steps.items()):
            run.log(scalars, step=step)
    finally:
        run.finish()
    return None
