"""The contract of ``model-forge train``'s ``metrics.json``: one typed record per training run.

``model_forge.train.train`` builds a :class:`TrainMetrics`, writes it as ``DIR/metrics.json``
and returns it (``TrainResult.metrics``); the loop and scripts read it back with
:meth:`TrainMetrics.read` instead of indexing a free-form dict.

Example:
    >>> from forge_export.train_metrics import TrainMetrics
    >>> TrainMetrics.read("runs/sft/metrics.json").global_step  # doctest: +SKIP
    40
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator

from forge_export.errors import ContractError, describe_validation_error
from forge_export.models import SCHEMA_VERSION, RunProvenance, _Model, check_schema_version

METRICS_FILE = "metrics.json"
"""The file name of a training run's metrics, at the top of its output folder."""


class LossPoint(_Model):
    """One logged training loss."""

    step: int
    loss: float


class TrainMetrics(_Model):
    """What one training run did.

    Attributes:
        schema_version: Contract version (a different major version is refused).
        method: ``sft``, ``dpo`` or ``kto``.
        config: The export config trained on.
        model: The model spec as given (``bundled``, ``tiny``, a folder).
        base_model: The folder the run started from.
        export: The export folder (absolute).
        dataset_fingerprint: The export manifest's fingerprint (empty without a manifest).
        rows: Rows given to training before benign rows were repeated (the export's train
            split, or the caller's dataset made from it, as the loop's later rounds pass).
        train_rows: Rows trained on (after repeating benign rows).
        global_step: Optimizer steps done (by all processes together).
        world_size: Processes that trained the model together (``accelerate launch``,
            ``torchrun``); each optimizer step saw ``batch size x grad accum x world_size``
            rows. 1 for a run in one process (and in records written before it was kept).
        resumed_from: The checkpoint resumed from, if any.
        train_loss: The Trainer's mean training loss.
        train_seconds: Wall time of ``Trainer.train``.
        loss_history: The logged losses, by step.
        trainer_metrics: The Trainer's own metrics dict.
        options: The training options, with the learning rate used and the extra TRL keywords.
        device: The device the Trainer used.
        bf16: Whether bf16 mixed precision was on.
        adapter: The LoRA adapter folder (``None`` for full fine-tuning).
        provenance: Code, library versions, device, dtype, seed and data of the run.
    """

    schema_version: str = SCHEMA_VERSION
    method: str
    config: str
    model: str
    base_model: str
    export: str
    dataset_fingerprint: str = ""
    rows: int
    train_rows: int
    global_step: int
    world_size: int = 1
    resumed_from: str | None = None
    train_loss: float
    train_seconds: float
    loss_history: list[LossPoint] = []
    trainer_metrics: dict[str, Any] = {}
    options: dict[str, Any] = {}
    device: str
    bf16: bool
    adapter: str | None = None
    provenance: RunProvenance | None = None

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, v: str) -> str:
        check_schema_version(v, "TrainMetrics")
        return v

    def write(self, folder: str | Path) -> Path:
        """Write ``folder/metrics.json`` (indented JSON) and return its path."""
        path = Path(folder) / METRICS_FILE
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> TrainMetrics:
        """Read a ``metrics.json`` (or the one in folder ``path``).

        Raises:
            ContractError: not JSON, or a field that breaks the contract (named).
        """
        p = Path(path)
        if p.is_dir():
            p = p / METRICS_FILE
        try:
            return cls.model_validate_json(p.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise describe_validation_error(exc, str(p)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"cannot read the training metrics ({exc})", where=str(p)) from exc
