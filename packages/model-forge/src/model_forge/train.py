"""Fine-tune a causal LM on a forge export with TRL: SFT, DPO or KTO, LoRA or full.

The trainers read the export's configs as they are (``forge_export.load(EXPORT, config,
"train")``); nothing is reshaped except that only the columns a trainer reads are kept.

Output folder layout::

    DIR/config.json, model.safetensors, tokenizer*   the trained model, merged (a plain
                                                     transformers folder; load_backend(DIR))
    DIR/adapter/                                     the LoRA adapter alone (LoRA runs only);
                                                     its base is recorded in adapter_config.json
    DIR/checkpoints/checkpoint-N/                    Trainer checkpoints, for ``resume=True``
                                                     (none with ``save_steps=0``)
    DIR/metrics.json                                 options, rows, steps, losses, timings

The code never places tensors on a device itself: the ``transformers.Trainer`` (through
accelerate) does, so the same call works on CPU, one GPU, or under ``accelerate launch``
(``python -m model_forge train``, ``docs/scale-out.md``). Launched in several processes, the
processes train one model together (``max_steps`` optimizer steps in all, each step on
``batch size x grad accum x processes`` rows) and only the main process writes: it clears
and prepares the output folder while the others wait, then saves the model, the merged model
and ``metrics.json`` (whose ``world_size`` records the processes) and logs progress.

Example:
    >>> from model_forge.train import TrainOptions, train  # doctest: +SKIP
    >>> train("export/", "runs/sft", TrainOptions(method="sft", model="tiny", max_steps=2))
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.errors import ForgeError
from forge_export.reports import export_fingerprint
from forge_export.run_provenance import collect_provenance
from forge_export.train_metrics import LossPoint, TrainMetrics

from model_forge.model_spec import load_local_model, local_model_folder
from model_forge.offline import offline
from model_forge.tracking import (
    TENSORBOARD_DIR,
    check_tracker,
    trainer_callbacks,
    trainer_report_to,
)
from model_forge.train_config import (
    LOGS_PER_RUN,
    LORA_TARGET_MODULES,
    TrainOptions,
)

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TRAINER_COLUMNS: dict[str, tuple[str, ...]] = {
    "sft": ("messages",),
    "prompt_completion": ("prompt", "completion"),
    "preference": ("prompt", "chosen", "rejected"),
    "kto": ("prompt", "completion", "label"),
}
"""The columns of each export config that the matching TRL trainer reads."""


@dataclass
class TrainResult:
    """What :func:`train` produced.

    Attributes:
        output: The output folder (the merged model lives at its top level).
        adapter: The LoRA adapter folder, or ``None`` for full fine-tuning.
        metrics: What ``metrics.json`` holds (the contract's
            :class:`~forge_export.train_metrics.TrainMetrics`).
        main_process: Whether this process wrote the outputs (``False`` in the other
            processes of a run under ``accelerate launch``, which report nothing).
    """

    output: Path
    adapter: Path | None
    metrics: TrainMetrics
    main_process: bool = True


# --------------------------------------------------------------------------------------------
# Model resolution


def resolve_base_model(spec: str, workdir: Path) -> Path:
    """The folder of the model to start from (:func:`model_forge.model_spec.local_model_folder`).

    Raises:
        ForgeError: a bad or untrainable model spec (the one-line errors of
            :func:`model_forge.model_spec.resolve_model`).
    """
    return local_model_folder(spec, workdir)


def _load_model(path: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a model folder in float32 (merging a PEFT adapter into its base) and its tokenizer.

    Raises:
        ForgeError: the folder cannot be loaded (:func:`model_forge.model_spec.load_local_model`).
    """
    import torch

    model, tokenizer, _ = load_local_model(path, torch.float32, merge=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


# --------------------------------------------------------------------------------------------
# Data


def load_train_split(export: str | Path, config: str) -> Dataset:
    """Read ``config``'s train split of an export, refusing a missing config or an empty split.

    Raises:
        ForgeError: the export has no such config, or its train split has no rows.
    """
    import forge_export

    root = Path(export)
    if not root.is_dir():
        raise ForgeError(f"{root}: no such export folder; create one with 'scenario-forge export'")
    if not (root / config).is_dir():
        raise ForgeError(
            f"{root}: the export has no '{config}' config; re-export with --config {config}"
        )
    ds = forge_export.load(root, config, "train")
    if len(ds) == 0:
        raise ForgeError(
            f"{root / config}: the train split has 0 rows; add completions (for preference/kto: "
            "rejected ones too) or export with a smaller --test-size"
        )
    return ds


def repeat_rows(ds: Dataset, column: str, chosen: Callable[[Any], bool], times: int) -> Dataset:
    """``ds`` with each row whose ``column`` value is ``chosen`` appearing ``times`` times."""
    from datasets import concatenate_datasets

    if times < 2:
        return ds
    rows = ds.filter(lambda b: [chosen(v) for v in b], batched=True, input_columns=column)
    if not len(rows):
        return ds
    return concatenate_datasets([ds, *([rows] * (times - 1))])


def prepare_dataset(ds: Dataset, config: str, benign_repeat: int = 1) -> Dataset:
    """Keep the trainer's columns of ``config``, repeating benign rows ``benign_repeat`` times.

    Raises:
        ForgeError: a column the trainer needs is missing.
    """
    columns = TRAINER_COLUMNS[config]
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise ForgeError(
            f"config '{config}' lacks column(s) {', '.join(missing)}; re-export the data "
            "with this version of forge-export"
        )
    if "expected_behavior" in ds.column_names:
        ds = repeat_rows(ds, "expected_behavior", lambda e: e == "comply", benign_repeat)
    return ds.select_columns(list(columns))


# --------------------------------------------------------------------------------------------
# Trainer


def training_device(options: TrainOptions) -> str:
    """``"cuda"`` when the Trainer will use a GPU (there is one and ``use_cpu`` is not among the
    extra TRL keywords), else ``"cpu"``: the device the per-device batch defaults are for."""
    import torch

    if options.extra.get("use_cpu") or not torch.cuda.is_available():
        return "cpu"
    return "cuda"


def _device_kwargs() -> dict[str, Any]:
    """Precision / device settings: never bf16 on CPU, CPU only when there is no CUDA."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "use_cpu": not cuda,
        "bf16": bool(cuda and torch.cuda.is_bf16_supported()),
        "fp16": False,
        "dataloader_pin_memory": cuda,
    }


def build_trl_config(options: TrainOptions, checkpoints: Path) -> Any:
    """The TRL config (``SFTConfig`` / ``DPOConfig`` / ``KTOConfig``) of a run (batch sizes
    for the device it trains on)."""
    options = options.for_device(training_device(options))
    common: dict[str, Any] = {
        "output_dir": str(checkpoints),
        "max_steps": options.max_steps if options.max_steps is not None else -1,
        "num_train_epochs": options.num_train_epochs,
        "learning_rate": options.effective_learning_rate(),
        "per_device_train_batch_size": options.per_device_train_batch_size,
        "gradient_accumulation_steps": options.gradient_accumulation_steps,
        "max_length": options.max_length,
        "seed": options.seed,
        "save_strategy": "steps" if options.save_steps else "no",
        "save_total_limit": 2,
        "logging_steps": options.logging_steps or _logging_steps(options),
        "activation_checkpointing": options.gradient_checkpointing,
        "report_to": trainer_report_to(options.report_to),
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0,
        "disable_tqdm": False,
        **_device_kwargs(),
    }
    if options.save_steps:
        common["save_steps"] = options.save_steps
    common.update(options.extra)
    if options.method == "sft":
        from trl.trainer.sft_config import SFTConfig

        return SFTConfig(**common)
    if options.method == "dpo":
        from trl.trainer.dpo_config import DPOConfig

        return DPOConfig(**common)
    from trl.trainer.kto_config import KTOConfig

    return KTOConfig(**common)


def _logging_steps(options: TrainOptions) -> int:
    """About :data:`LOGS_PER_RUN` loss logs over the run (every that many steps when the run's
    length is given in epochs)."""
    if options.max_steps is None:
        return LOGS_PER_RUN
    return max(1, options.max_steps // LOGS_PER_RUN)


def _trainer_class(method: str) -> Any:
    if method == "sft":
        from trl.trainer.sft_trainer import SFTTrainer

        return SFTTrainer
    if method == "dpo":
        from trl.trainer.dpo_trainer import DPOTrainer

        return DPOTrainer
    from trl.trainer.kto_trainer import KTOTrainer

    return KTOTrainer


def _lora_config(options: TrainOptions) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=options.lora_r,
        lora_alpha=options.effective_lora_alpha(),
        lora_dropout=options.lora_dropout,
        target_modules=list(LORA_TARGET_MODULES),
        task_type="CAUSAL_LM",
    )


def _last_checkpoint(checkpoints: Path) -> Path | None:
    if not checkpoints.is_dir():
        return None
    found = [p for p in checkpoints.glob("checkpoint-*") if p.is_dir() and p.name[11:].isdigit()]
    return max(found, key=lambda p: int(p.name[11:])) if found else None


def _check_options(options: TrainOptions) -> None:
    if options.max_steps is not None and options.max_steps < 1:
        raise ForgeError(f"--max-steps must be at least 1 (got {options.max_steps})")
    if options.per_device_train_batch_size < 1:
        raise ForgeError("--batch-size must be at least 1")
    if options.method == "kto" and options.per_device_train_batch_size < 2:
        raise ForgeError(
            "KTO needs --batch-size of at least 2 (its KL term compares rows within a batch)"
        )
    if options.benign_repeat < 1:
        raise ForgeError("--benign-repeat must be at least 1")
    if options.max_length < 8:
        raise ForgeError(f"--max-length must be at least 8 (got {options.max_length})")
    check_tracker(options.report_to)


def _check_output(out: Path, options: TrainOptions) -> None:
    has_model = (out / "config.json").is_file() or (out / "metrics.json").is_file()
    if has_model and not (options.overwrite or options.resume):
        raise ForgeError(
            f"{out}: already holds a trained model; pass --overwrite to replace it, "
            "--resume to continue its checkpoints, or choose another --output"
        )
    if options.resume and _last_checkpoint(out / "checkpoints") is None:
        raise ForgeError(f"{out / 'checkpoints'}: no checkpoint to resume from; drop --resume")


@offline  # telemetry off, hub offline: every model trained from is a local folder
def train(
    export: str | Path,
    output: str | Path,
    options: TrainOptions | None = None,
    *,
    dataset: Dataset | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train on an export and write the model, adapter, checkpoints and ``metrics.json``.

    Args:
        export: The export folder (``scenario-forge export``); its ``options.export_config()``
            config's ``train`` split is read unless ``dataset`` is given.
        output: The output folder (created).
        options: What to train and how; defaults to :class:`TrainOptions` ().
        dataset: Rows in the export config's shape, used instead of reading ``export``.
        log: Receives one-line progress messages (the Trainer shows its own progress bar).

    Returns:
        A :class:`TrainResult` (the merged model is at ``output``'s top level).

    Raises:
        ForgeError: bad options, a missing config, an empty train split, an occupied output.
    """
    # transformers 5 renamed gradient_checkpointing; TRL still reads the old name internally.
    # The filter holds for this call only, not for the caller's process.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*deprecated and will be removed in v6.*")
        options = options or TrainOptions()
        resolved = options.for_device(training_device(options))  # batches: batch_config
        return _train(export, output, resolved, dataset, log)


def _training_rows(
    export_path: Path, config: str, dataset: Dataset | None, options: TrainOptions
) -> tuple[int, Dataset]:
    """The exported rows (``dataset``, else the export's train split) and the rows trained on.

    Raises:
        ForgeError: no rows.
    """
    if dataset is None:
        dataset = load_train_split(export_path, config)
    elif len(dataset) == 0:
        raise ForgeError("the training dataset has 0 rows")
    return len(dataset), prepare_dataset(dataset, config, options.benign_repeat)


def _base_model(options: TrainOptions, out: Path, main: bool) -> Path:
    """Create ``out`` and resolve the model training starts from (``out`` is removed again
    when it was created here and the model cannot be resolved).

    Only the main process creates or removes the folder; the others run after it (they find
    the ``tiny`` model it wrote, or the bundled model it converted, and only read them).
    """
    created = main and not out.exists()
    if main:
        out.mkdir(parents=True, exist_ok=True)
    try:
        return resolve_base_model(options.model, out)
    except ForgeError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


PREVIOUS_RUN = ("metrics.json", "adapter", "checkpoints", TENSORBOARD_DIR, ".merged-tmp")
"""What ``--overwrite`` removes from the output folder before training (the merged model's
own files are replaced when the new one is saved)."""


def _clear_previous_run(out: Path, options: TrainOptions) -> None:
    """With ``overwrite`` (and not ``resume``): remove the replaced run's adapter, checkpoints,
    logs and metrics, so none of them outlives it (a stale ``adapter/`` next to a full model,
    a checkpoint that ``--resume`` would pick up later)."""
    if not options.overwrite or options.resume or not out.is_dir():
        return
    for name in PREVIOUS_RUN:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _quiet_replica() -> None:
    """In a process other than the main one: no progress bars (the main process shows them)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _silent(_message: str) -> None:
    return None


@dataclass
class _Prepared:
    """What every process of a run holds before training: its data and its start model."""

    rows: int
    train_ds: Dataset
    base_path: Path


def _prepare(
    args: Any, out: Path, export_path: Path, dataset: Dataset | None, options: TrainOptions
) -> _Prepared:
    """Clear a replaced run, read the rows and resolve the start model: the main process
    first, then the others (which find its dataset caches and model folders ready)."""
    main = bool(args.process_index == 0)
    with args.main_process_first(local=False, desc="preparing the output folder and the rows"):
        if main:
            _clear_previous_run(out, options)
        rows, train_ds = _training_rows(export_path, options.export_config(), dataset, options)
        base_path = _base_model(options, out, main)
    return _Prepared(rows, train_ds, base_path)


def _train(
    export: str | Path,
    output: str | Path,
    options: TrainOptions,
    dataset: Dataset | None,
    log: Callable[[str], None] | None,
) -> TrainResult:
    config = options.export_config()
    _check_options(options)
    out = Path(output)
    _check_output(out, options)
    export_path = Path(export)
    checkpoints = out / "checkpoints"
    args = build_trl_config(options, checkpoints)  # under accelerate launch: joins the group
    main = bool(args.process_index == 0)
    say = (log or _silent) if main else _silent
    if not main:
        _quiet_replica()
    ready = _prepare(args, out, export_path, dataset, options)
    say(f"loading {options.model} from {ready.base_path}")
    model, tokenizer = _load_model(ready.base_path)
    dtype = str(model.dtype).removeprefix("torch.")
    mode = f"LoRA r={options.lora_r}" if options.lora else "full"
    processes = f", {args.world_size} processes" if args.world_size > 1 else ""
    say(
        f"{options.method} ({mode}) on {config}: {len(ready.train_ds)} rows "
        f"({ready.rows} exported), lr {args.learning_rate}{processes}"
    )
    trainer = _trainer_class(options.method)(
        model=model,
        args=args,
        train_dataset=ready.train_ds,
        processing_class=tokenizer,
        peft_config=_lora_config(options) if options.lora else None,
        callbacks=trainer_callbacks(options.report_to, out),
    )
    resume_from = str(_last_checkpoint(checkpoints)) if options.resume else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    trainer.accelerator.wait_for_everyone()
    if main and not options.save_steps:  # the trainer makes its output folder to save nothing
        shutil.rmtree(checkpoints, ignore_errors=True)
    adapter = _save_outputs(trainer, tokenizer, out, ready.base_path, options)
    ran = _Ran(result, round(seconds, 2), resume_from, adapter, dtype)
    metrics = _metrics(options, export_path, out, ready, trainer, ran)
    if main:
        metrics.write(out)
    say(
        f"trained {trainer.state.global_step} steps in {seconds:.0f}s, loss {result.training_loss:.4f}"
    )
    return TrainResult(output=out, adapter=adapter, metrics=metrics, main_process=main)


@dataclass
class _Ran:
    """What ``Trainer.train`` returned and what the run saved."""

    result: Any
    seconds: float
    resumed_from: str | None
    adapter: Path | None
    dtype: str


def _metrics(
    options: TrainOptions,
    export_path: Path,
    out: Path,
    ready: _Prepared,
    trainer: Any,
    ran: _Ran,
) -> TrainMetrics:
    """The run's :class:`TrainMetrics` (the same in every process; the main one writes it)."""
    args = trainer.args
    return TrainMetrics(
        method=options.method,
        config=options.export_config(),
        model=options.model,
        base_model=str(ready.base_path),
        export=str(export_path.resolve()),
        dataset_fingerprint=export_fingerprint(export_path),
        rows=ready.rows,
        train_rows=len(ready.train_ds),
        global_step=trainer.state.global_step,
        world_size=args.world_size,
        resumed_from=ran.resumed_from,
        train_loss=ran.result.training_loss,
        train_seconds=ran.seconds,
        loss_history=[
            LossPoint(step=h["step"], loss=h["loss"])
            for h in trainer.state.log_history
            if "loss" in h
        ],
        trainer_metrics=ran.result.metrics,
        options=options.to_json()
        | {"learning_rate": args.learning_rate, "lora_alpha": options.effective_lora_alpha()},
        device=str(args.device),
        bf16=bool(args.bf16),
        adapter=str(ran.adapter) if ran.adapter else None,
        provenance=collect_provenance(
            device=str(args.device),
            dtype="bfloat16" if args.bf16 else ran.dtype,
            seeds={"seed": options.seed},
            datasets={"export": export_fingerprint(export_path)},
            workdir=out.resolve(),
            stage_seconds={"train": ran.seconds},
        ),
    )


def _save_outputs(
    trainer: Any, tokenizer: Any, out: Path, base_path: Path, options: TrainOptions
) -> Path | None:
    """Save the adapter (LoRA) and the full merged model at ``out``'s top level.

    The merged model is rebuilt from the saved adapter on the main process, so this also works
    when the Trainer ran distributed (the adapter save gathers the weights).
    """
    if not options.lora:
        trainer.save_model(str(out))
        if trainer.is_world_process_zero():
            tokenizer.save_pretrained(str(out))
        return None
    adapter = out / "adapter"
    trainer.save_model(str(adapter))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(adapter))
        _write_merged(adapter, base_path, tokenizer, out)
    trainer.accelerator.wait_for_everyone()
    return adapter


def _write_merged(adapter: Path, base_path: Path, tokenizer: Any, out: Path) -> None:
    """Merge ``adapter`` into a fresh copy of its base and write it at ``out``'s top level."""
    from peft import PeftModel

    base, _ = _load_model(base_path)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    tmp = out / ".merged-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    for item in tmp.iterdir():
        item.replace(out / item.name)
    tmp.rmdir()
