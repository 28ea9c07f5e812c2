"""The settings of ``model-forge loop``, each default written once.

:class:`LoopConfig` is the single source: ``model-forge loop``'s click options are generated
from its fields and aliases (name, type, default and help all come from here), ``--quick``
overrides live in :data:`QUICK`, and the docs' table of defaults is checked against it by a
test. The training of the rounds is two :class:`~model_forge.train_config.TrainOptions`
(``first_round``, ``later_rounds``) and the evaluations one
:class:`~model_forge.eval_config.EvalOptions`, composed, not re-declared: the loop overrides
only the defaults it measured differently (:data:`FIRST_ROUND`, :data:`LATER_ROUNDS`,
:data:`EVALUATION`). The flat names the loop has always had (``max_steps``, ``later_steps``,
``batch_size``, ``max_new_tokens`` ...) are :attr:`LoopConfig.ALIASES` of those nested fields:
options, keys of a ``--config`` file, and attributes (``config.later_steps``).

Example:
    >>> from model_forge.loop_config import LoopConfig
    >>> LoopConfig().rounds
    2
    >>> LoopConfig().merge({"later_steps": 8}).later_rounds.max_steps
    8
    >>> LoopConfig.quick_config().model
    'tiny'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from forge_export.cli_support import STORE_LOCATION
from forge_export.errors import ForgeError
from forge_export.settings import Alias, Settings, setting

from model_forge.batch_config import LOOP_EVAL_BATCH
from model_forge.eval_config import JUDGE_BATCH_HELP, JUDGE_HELP, EvalOptions
from model_forge.generate_config import DEFAULT_MODEL, GenerateOptions
from model_forge.train_config import TrainOptions

DPO_LEARNING_RATE_FACTOR = 0.1
"""A later round trained with dpo uses this share of ``later_learning_rate`` (DPO's updates
are far larger per step than SFT's at the same rate)."""

FIRST_ROUND = TrainOptions(
    lora=False,
    max_steps=48,
    learning_rate=1e-4,
    benign_repeat=3,
    save_steps=0,  # a round is never resumed: no checkpoints (~3x the model each)
)
"""The loop's round-1 training: ``TrainOptions`` with the loop's measured defaults."""

LATER_ROUNDS = FIRST_ROUND.merge({"max_steps": 24, "learning_rate": 2.5e-5})
"""Rounds 2+: round 1's options with fewer steps and a smaller learning rate."""

EVALUATION = EvalOptions(generate=GenerateOptions(max_new_tokens=64, batch_size=LOOP_EVAL_BATCH))
"""The loop's evaluations: shorter answers than ``evaluate``'s, bigger batches."""

LAUNCHERS = ("in-process", "accelerate")
"""How a round's training runs: in the loop's process, or under ``accelerate launch``."""

CPU_PROCESSES = 2
"""Processes of ``--launcher accelerate`` on a machine without a GPU, when not given."""


def check_accelerate() -> None:
    """Raise a one-line :class:`ForgeError` when the ``accelerate`` package is missing."""
    import importlib.util

    if importlib.util.find_spec("accelerate") is None:
        raise ForgeError(
            "--launcher accelerate needs the accelerate package (pip install accelerate); "
            "or train in-process (--launcher in-process)"
        )


_SET_BY_LOOP = ("model", "seed", "resume", "overwrite", "dataset_config", "save_steps")
_EVAL_SET_BY_LOOP = ("model", "data", "wild_set", "test_set", "split", "output", "limit")
_EVAL_SET_BY_LOOP += ("fail_under", "inspect_log")

_BOTH = ("first_round", "later_rounds")


def _both(name: str) -> tuple[str, ...]:
    return tuple(f"{r}.{name}" for r in _BOTH)


@dataclass
class LoopConfig(Settings):
    """Settings of :func:`model_forge.loop.run_loop`; the defaults are the measured main job.

    Every field's (and alias's) help string is its documentation (``model-forge loop --help``
    shows it).
    """

    ALIASES: ClassVar[dict[str, Alias]] = {
        "method": Alias(("first_round.method",), "Training method of round 1 (sft).", cli=False),
        "later_method": Alias(
            ("later_rounds.method",),
            "Training method of rounds 2+: sft (grown data, failure rows weighted) or dpo "
            "(preference pairs: good answer vs the model's own failing one).",
        ),
        "lora": Alias(
            _both("lora"),
            "Train LoRA adapters instead of all weights (full fine-tuning of the bundled model "
            "reached 58% safe after round 1 where LoRA r=16 reached 34%, in the same steps).",
        ),
        "lora_r": Alias(_both("lora_r"), "LoRA rank (alpha = 2 x rank), with --lora."),
        "max_steps": Alias(("first_round.max_steps",), "Optimizer steps of round 1."),
        "later_steps": Alias(
            ("later_rounds.max_steps",),
            "Optimizer steps of each later round (16 measured: the same safe rate, 2.5 benign "
            "points fewer over three seeds).",
        ),
        "batch_size": Alias(
            _both("per_device_train_batch_size"), "Training rows per forward pass."
        ),
        "grad_accum": Alias(
            _both("gradient_accumulation_steps"),
            "Forward passes per optimizer step (rows per step = batch x accum).",
        ),
        "learning_rate": Alias(
            ("first_round.learning_rate",),
            "Peak learning rate of round 1 (1e-4 measured for full fine-tuning of the bundled "
            "model; with --lora use about 1e-3).",
        ),
        "later_learning_rate": Alias(
            ("later_rounds.learning_rate",),
            "Peak learning rate of later rounds (sft; 5e-5 cost 6 more benign points for the "
            "same safe rate); dpo uses a tenth of it.",
        ),
        "benign_repeat": Alias(
            ("first_round.benign_repeat",), "Each benign row appears this often in training."
        ),
        "later_benign_repeat": Alias(
            ("later_rounds.benign_repeat",),
            "Each benign row appears this often in later rounds (sft).",
        ),
        "max_length": Alias(_both("max_length"), "Training tokens per row."),
        "report_to": Alias(
            _both("report_to"),
            "Experiment tracking: none, tensorboard (WORKDIR/tensorboard/loop and each round's "
            "model/tensorboard), mlflow or wandb; training steps, then one point per round "
            "(safe rate, benign compliance, over-refusal, safe rate per target).",
        ),
        "extra": Alias(_both("extra"), "Further TRL config keywords.", cli=False),
        "max_new_tokens": Alias(
            ("evaluation.generate.max_new_tokens",), "Tokens per evaluated answer (greedy)."
        ),
        "eval_batch_size": Alias(
            ("evaluation.generate.batch_size",),
            "Generation batch size of evaluations and probes (local models).",
        ),
        "judge_batch_size": Alias(("evaluation.judge_batch_size",), JUDGE_BATCH_HELP),
        "judge": Alias(
            ("evaluation.judge",), lambda: "Judge of test and probe answers. " + JUDGE_HELP()
        ),
        "concurrency": Alias(
            ("evaluation.generate.concurrency",),
            "Requests in flight at once when the evaluated model or the LLM judge is a server "
            "backend (openai:, anthropic:).",
        ),
    }

    workdir: Path | None = setting(
        None, "Where everything is written [default: ./forge-runs/<UTC time>]."
    )
    store: str | None = setting(
        None,
        "Scenario store to use (a file or a postgresql:// URL), created if absent "
        "[default: WORKDIR/forge.db]. A store keeps the frozen test set of its first run.",
        click_type=STORE_LOCATION,
    )
    model: str = setting(DEFAULT_MODEL, "bundled, tiny or a local model folder to start from.")
    rounds: int = setting(
        2,
        "Training rounds. Round 1 trains on the seed data; each later round first probes the "
        "model with fresh scenarios and trains on its failures.",
        minimum=1,
    )
    count_per_target: int = setting(
        24,
        "Template scenarios per target at the start (--benign-share of them benign).",
        minimum=1,
    )
    benign_share: float = setting(
        0.5,
        "Share of each target's template scenarios that are benign contrasts (look-alike "
        "questions in the target's own area, with written answers).",
        minimum=0.0,
    )
    lookalikes: bool = setting(
        True, "Add the built-in benign look-alikes (test, training and probe shares)."
    )
    held_out_kinds: tuple[str, ...] = setting(
        ("historical_events", "discrimination"),
        "Look-alike kinds kept for the test set only (comma-separated; never trained on).",
    )
    held_out_targets: tuple[str, ...] = setting(
        ("sex_related_crimes", "defamation", "elections"),
        "Targets whose every scenario is kept for the test set (comma-separated; never trained "
        "on or probed): measures transfer to harms the model never saw.",
    )
    test_set: Path | None = setting(
        None,
        "A frozen test set file (test-set.json of an earlier run): evaluate every round on "
        "exactly its scenarios [default: the store's pinned set, chosen on its first run].",
    )
    wild_set: str = setting(
        "builtin",
        "Prompts written apart from the training data, evaluated after every round and never "
        "stored: builtin (240 harmful, 240 benign), a folder with harmful.jsonl and/or "
        "benign.jsonl (docs/model-forge.md), or none.",
    )
    wild_limit: int = setting(
        0, "Evaluate only the first N harmful and N benign wild prompts (0: all).", minimum=0
    )
    lookalike_test_share: float = setting(
        0.25, "Share of every other look-alike kind in the frozen test set.", minimum=0.0
    )
    lookalike_probe_share: float = setting(
        0.4, "Share of the remaining look-alikes kept back for probes.", minimum=0.0
    )
    generator: str | None = setting(
        None,
        "Also add model completions from this registered generator (e.g. model-forge); "
        "ones the rule judge fails are stored as rejected.",
    )
    seed: int = setting(0, "Seed of generation, test set, probes and training.")
    test_size: float = setting(
        0.25, "Share of template scenario groups in the frozen test set.", minimum=0.0
    )
    probe_harmful: int = setting(
        8,
        "Harmful probe scenarios per target and round (fresh framings of train seeds).",
        minimum=0,
    )
    probe_benign: int = setting(
        6, "Benign contrast probe scenarios per target and round.", minimum=0
    )
    probe_transforms: tuple[str, ...] = setting(
        (),
        "Attack transforms applied in order to every probe scenario (comma-separated, e.g. "
        "base64,crescendo:4; see docs/transforms.md); empty: plain probes.",
    )
    train_transforms: tuple[str, ...] = setting(
        ("casual",),
        "Wording variants added to every training scenario, harmful and benign alike, one per "
        "transform, with the original's good answer (comma-separated, e.g. casual; see "
        "docs/transforms.md); --train-transforms '' for none.",
    )
    probe_lookalikes: int = setting(
        24, "Look-alike probe scenarios per round (from the probe share).", minimum=0
    )
    failure_repeat: int = setting(
        3, "Each row made from a probe failure appears this often in later rounds.", minimum=1
    )
    later_harmful: str = setting(
        "failures",
        "Harmful rows of later rounds (sft): failures (only the rows made from probe "
        "failures; round 1's template rows are not trained again: at 16 steps 82% safe at -3 "
        "benign points in the measured run, against 76% at -9) or all (the whole grown split).",
        choices=("failures", "all"),
    )
    launcher: str = setting(
        "in-process",
        "How each round's training runs: in-process (in this process) or accelerate "
        "(`model-forge train` as a subprocess under accelerate launch, in --num-processes "
        "processes: several GPUs, or CPU processes with gloo; docs/scale-out.md). Evaluation "
        "and the other stages stay in this process.",
        choices=LAUNCHERS,
    )
    num_processes: int | None = setting(
        None,
        "Processes that train each round together with --launcher accelerate; every "
        "optimizer step then sees batch size x grad accum x processes rows [default: one per "
        f"GPU; {CPU_PROCESSES} without a GPU; with --accelerate-config, the file's].",
        minimum=1,
    )
    accelerate_config: Path | None = setting(
        None,
        "An accelerate config file for --launcher accelerate (from `accelerate config`; FSDP "
        "and DeepSpeed examples in docs/accelerate/).",
    )
    quick: bool = setting(False, "Smoke-run settings (see QUICK).", cli=False)
    first_round: TrainOptions = setting(
        FIRST_ROUND, "Training of round 1 (TrainOptions).", exclude=_SET_BY_LOOP
    )
    later_rounds: TrainOptions = setting(
        LATER_ROUNDS, "Training of rounds 2+ (TrainOptions).", exclude=_SET_BY_LOOP
    )
    evaluation: EvalOptions = setting(
        EVALUATION, "Evaluations of every round (EvalOptions).", exclude=_EVAL_SET_BY_LOOP
    )

    @classmethod
    def quick_config(cls, **overrides: Any) -> LoopConfig:
        """The ``--quick`` settings (:data:`QUICK`): tiny model, few scenarios, few steps."""
        return cls().merge(QUICK, overrides)

    @classmethod
    def resolve(
        cls,
        *,
        file: dict[str, Any] | None = None,
        command_line: dict[str, Any] | None = None,
        file_name: str = "settings file",
        quick: bool = False,
    ) -> LoopConfig:
        """defaults ← :data:`QUICK` (when ``--quick`` or ``quick: true``) ← file ← command line."""
        base = cls()
        if quick or bool((file or {}).get("quick")):
            base = base.merge(QUICK)
        return base.merge(file, where=file_name).merge(command_line, where="command line")

    def round_options(self, r: int, model: str) -> TrainOptions:
        """The training options of round ``r`` (from 1), starting from ``model``."""
        later = r > 1
        base = self.later_rounds if later else self.first_round
        lr = base.learning_rate
        if base.method == "dpo" and lr is not None:
            lr = lr * DPO_LEARNING_RATE_FACTOR
        return base.merge(
            {
                "model": model,
                "seed": self.seed + r,
                "learning_rate": lr,
                "benign_repeat": base.benign_repeat if base.method == "sft" else 1,
                "save_steps": 0,
                "overwrite": True,
            }
        )

    def to_public_json(self) -> dict[str, Any]:
        """:meth:`to_json` with every credential masked, as ``run.yaml`` and ``summary.json`` keep it.

        A ``postgresql://`` store keeps its user but shows its password as ``***`` (so
        ``--resume`` asks for ``--store`` again); an OpenAI-compatible URL loses its user-info.
        """
        from forge_export.redact import redact

        def public(value: Any) -> Any:
            if isinstance(value, str):
                return redact(value) if "://" in value else value
            if isinstance(value, list):
                return [public(v) for v in value]
            if isinstance(value, dict):
                return {k: public(v) for k, v in value.items()}
            return value

        return {k: public(v) for k, v in self.to_json().items()}

    def check(self) -> None:
        """Raise :class:`ForgeError` naming a bad setting and the fix."""
        self.check_ranges()
        if not 0.0 <= self.benign_share <= 1.0:
            raise ForgeError(f"--benign-share must be from 0 to 1 (got {self.benign_share})")
        if not 0.0 < self.test_size < 1.0:
            raise ForgeError(f"--test-size must be between 0 and 1 (got {self.test_size})")
        for name in ("method", "later_method"):
            if self.get(self.ALIASES[name].paths[0]) not in ("sft", "dpo"):
                raise ForgeError(f"--{name.replace('_', '-')} must be sft or dpo")
        if self.first_round.method != "sft":
            raise ForgeError("round 1 trains with sft (there are no failures to pair yet)")
        from model_forge.judge_plugins import check_judge_spec

        check_judge_spec(self.evaluation.judge)
        from model_forge.tracking import check_tracker

        check_tracker(self.first_round.report_to)
        check_tracker(self.later_rounds.report_to)
        self._check_launcher()
        if self.probe_transforms or self.train_transforms:
            from scenario_forge.api import load_chain

            # an unknown name or a bad argument: one clear error before anything runs
            load_chain([*self.probe_transforms, *self.train_transforms])

    def _check_launcher(self) -> None:
        """The launcher settings: accelerate installed, options that need it, the file."""
        if self.launcher != "accelerate":
            given = [
                f"--{name.replace('_', '-')}"
                for name in ("num_processes", "accelerate_config")
                if getattr(self, name) is not None
            ]
            if given:
                verb = "need" if len(given) > 1 else "needs"
                raise ForgeError(f"{' and '.join(given)} {verb} --launcher accelerate")
            return
        check_accelerate()
        if self.accelerate_config is not None and not Path(self.accelerate_config).is_file():
            raise ForgeError(f"--accelerate-config {self.accelerate_config}: no such file")


QUICK: dict[str, Any] = {
    "model": "tiny",
    "count_per_target": 8,
    "max_steps": 4,
    "later_steps": 2,
    "batch_size": 4,
    "grad_accum": 1,
    "max_length": 128,
    "max_new_tokens": 16,
    "test_size": 0.4,
    "probe_harmful": 2,
    "probe_benign": 1,
    "probe_lookalikes": 6,
    "wild_limit": 8,
    "quick": True,
}
"""What ``--quick`` changes (everything else keeps its default)."""

OPTION_ORDER: tuple[str, ...] = (
    "workdir",
    "store",
    "model",
    "rounds",
    "count_per_target",
    "benign_share",
    "lookalikes",
    "held_out_kinds",
    "held_out_targets",
    "test_set",
    "wild_set",
    "wild_limit",
    "generator",
    "seed",
    "test_size",
    "probe_harmful",
    "probe_benign",
    "probe_transforms",
    "train_transforms",
    "probe_lookalikes",
    "later_method",
    "lora",
    "lora_r",
    "max_steps",
    "later_steps",
    "batch_size",
    "grad_accum",
    "learning_rate",
    "later_learning_rate",
    "benign_repeat",
    "failure_repeat",
    "later_benign_repeat",
    "later_harmful",
    "max_length",
    "max_new_tokens",
    "eval_batch_size",
    "judge",
    "judge_batch_size",
    "concurrency",
    "report_to",
    "launcher",
    "num_processes",
    "accelerate_config",
    "lookalike_test_share",
    "lookalike_probe_share",
)
"""The options of ``model-forge loop``, in ``--help`` order (every field and alias with ``cli``)."""


def field_default(name: str) -> Any:
    """The default of one field or alias."""
    return LoopConfig.default_of(name)
