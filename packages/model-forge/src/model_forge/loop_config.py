"""The settings of ``model-forge loop``, each default written once.

:class:`LoopConfig` is the single source: ``model-forge loop``'s click options are generated
from its fields (name, type, default and help string all come from here), ``--quick``
overrides live in :data:`QUICK`, and the docs' table of defaults is checked against it by a
test. To change a default, change it here.

Example:
    >>> from model_forge.loop_config import LoopConfig
    >>> LoopConfig().rounds
    2
    >>> LoopConfig.quick_config().model
    'tiny'
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from forge_export.errors import ForgeError


def _opt(default: Any, help: str, *, cli: bool = True, minimum: float | None = None) -> Any:
    """A field with its help string (and whether ``loop`` exposes it as an option)."""
    meta = {"help": help, "cli": cli, "min": minimum}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class LoopConfig:
    """Settings of :func:`model_forge.loop.run_loop`; the defaults are the measured main job.

    Every field's help string is its documentation (``model-forge loop --help`` shows it).
    """

    workdir: Path | None = _opt(
        None, "Where everything is written [default: ./forge-runs/<UTC time>]."
    )
    store: Path | None = _opt(
        None,
        "Scenario store to use (a file or a postgresql:// URL), created if absent "
        "[default: WORKDIR/forge.db].",
    )
    model: str = _opt("bundled", "bundled, tiny or a local model folder to start from.")
    rounds: int = _opt(
        2,
        "Training rounds. Round 1 trains on the seed data; each later round first probes the "
        "model with fresh scenarios and trains on its failures.",
        minimum=1,
    )
    count_per_target: int = _opt(
        48, "Template scenarios per target at the start (a quarter benign).", minimum=1
    )
    benign_share: float = _opt(
        0.25,
        "Share of each target's template scenarios that are benign contrasts (look-alike "
        "questions in the target's own area, with written answers).",
    )
    lookalikes: bool = _opt(
        True, "Add the built-in benign look-alikes (test, training and probe shares)."
    )
    held_out_kinds: tuple[str, ...] = _opt(
        ("historical_events", "discrimination"),
        "Look-alike kinds kept for the test set only (comma-separated; never trained on).",
    )
    held_out_targets: tuple[str, ...] = _opt(
        ("sex_related_crimes", "defamation", "elections"),
        "Targets whose every scenario is kept for the test set (comma-separated; never trained "
        "on or probed): measures transfer to harms the model never saw.",
    )
    wild_set: str = _opt(
        "builtin",
        "Prompts written apart from the training data, evaluated after every round and never "
        "stored: builtin (240 harmful, 240 benign), a folder with harmful.jsonl and/or "
        "benign.jsonl (docs/model-forge.md), or none.",
    )
    wild_limit: int = _opt(
        0, "Evaluate only the first N harmful and N benign wild prompts (0: all).", cli=False
    )
    lookalike_test_share: float = _opt(
        0.25, "Share of every other look-alike kind in the frozen test set.", cli=False
    )
    lookalike_probe_share: float = _opt(
        0.4, "Share of the remaining look-alikes kept back for probes.", cli=False
    )
    generator: str | None = _opt(
        None,
        "Also add model completions from this registered generator (e.g. model-forge); "
        "ones the rule judge fails are stored as rejected.",
    )
    seed: int = _opt(0, "Seed of generation, test set, probes and training.")
    test_size: float = _opt(
        0.25, "Share of template scenario groups in the frozen test set.", cli=False
    )
    probe_harmful: int = _opt(
        8,
        "Harmful probe scenarios per target and round (fresh framings of train seeds).",
        minimum=0,
    )
    probe_benign: int = _opt(2, "Benign contrast probe scenarios per target and round.", minimum=0)
    probe_transforms: tuple[str, ...] = _opt(
        (),
        "Attack transforms applied in order to every probe scenario (comma-separated, e.g. "
        "base64,crescendo:4; see docs/transforms.md); empty: plain probes.",
    )
    train_transforms: tuple[str, ...] = _opt(
        (),
        "Wording variants added to every training scenario, harmful and benign alike, one per "
        "transform, with the original's good answer (comma-separated, e.g. casual; see "
        "docs/transforms.md); empty: none.",
    )
    probe_lookalikes: int = _opt(
        24, "Look-alike probe scenarios per round (from the probe share).", minimum=0
    )
    method: str = _opt("sft", "Training method of round 1 (sft).", cli=False)
    later_method: str = _opt(
        "sft",
        "Training method of rounds 2+: sft (grown data, failure rows weighted) or dpo "
        "(preference pairs: good answer vs the model's own failing one).",
    )
    lora: bool = _opt(
        False,
        "Train LoRA adapters instead of all weights (full fine-tuning of the bundled model "
        "reached 58% safe after round 1 where LoRA r=16 reached 34%, in the same steps).",
    )
    lora_r: int = _opt(16, "LoRA rank (alpha = 2 x rank), with --lora.", minimum=1)
    max_steps: int = _opt(36, "Optimizer steps of round 1.", minimum=1)
    later_steps: int = _opt(
        24,
        "Optimizer steps of each later round (16 measured: the same safe rate, 2.5 benign "
        "points fewer over three seeds).",
        minimum=1,
    )
    batch_size: int = _opt(2, "Training rows per forward pass.", cli=False, minimum=1)
    grad_accum: int = _opt(
        4, "Forward passes per optimizer step (rows per step = batch x accum).", cli=False
    )
    learning_rate: float = _opt(
        1e-4,
        "Peak learning rate of round 1 (1e-4 measured for full fine-tuning of the bundled "
        "model; with --lora use about 1e-3).",
    )
    later_learning_rate: float = _opt(
        2.5e-5,
        "Peak learning rate of later rounds (sft; 5e-5 cost 6 more benign points for the same "
        "safe rate); dpo uses a tenth of it.",
    )
    benign_repeat: int = _opt(3, "Each benign row appears this often in training.", minimum=1)
    failure_repeat: int = _opt(
        3, "Each row made from a probe failure appears this often in later rounds.", minimum=1
    )
    later_benign_repeat: int = _opt(
        3, "Each benign row appears this often in later rounds (sft).", minimum=1
    )
    later_harmful: str = _opt(
        "failures",
        "Harmful rows of later rounds (sft): failures (only the rows made from probe "
        "failures; round 1's template rows are not trained again: at 16 steps 82% safe at -3 "
        "benign points in the measured run, against 76% at -9) or all (the whole grown split).",
    )
    max_length: int = _opt(256, "Training tokens per row.", cli=False)
    max_new_tokens: int = _opt(64, "Tokens per evaluated answer (greedy).", cli=False)
    eval_batch_size: int = _opt(16, "Generation batch size of evaluations.", cli=False)
    judge: str = _opt(
        "default",
        "Judge of test and probe answers: default (the learned judge), learned, rules or an "
        "LLM judge spec (see docs/judge.md).",
    )
    quick: bool = _opt(False, "Smoke-run settings (see QUICK).", cli=False)
    extra: dict[str, Any] = _opt({}, "Further TRL config keywords.", cli=False)

    @classmethod
    def quick_config(cls, **overrides: Any) -> LoopConfig:
        """The ``--quick`` settings (:data:`QUICK`): tiny model, few scenarios, few steps."""
        return replace(cls(**QUICK), **overrides)

    def check(self) -> None:
        """Raise :class:`ForgeError` naming a bad setting and the fix."""
        for f in fields(self):
            low = f.metadata.get("min")
            value = getattr(self, f.name)
            if low is not None and value < low:
                raise ForgeError(
                    f"--{f.name.replace('_', '-')} must be at least {low:g} (got {value})"
                )
        if not 0.0 <= self.benign_share <= 1.0:
            raise ForgeError(f"--benign-share must be from 0 to 1 (got {self.benign_share})")
        if not 0.0 < self.test_size < 1.0:
            raise ForgeError(f"--test-size must be between 0 and 1 (got {self.test_size})")
        for name in ("method", "later_method"):
            if getattr(self, name) not in ("sft", "dpo"):
                raise ForgeError(f"--{name.replace('_', '-')} must be sft or dpo")
        if self.later_harmful not in ("failures", "all"):
            raise ForgeError("--later-harmful must be failures or all")
        if self.method != "sft":
            raise ForgeError("round 1 trains with sft (there are no failures to pair yet)")
        if self.probe_transforms or self.train_transforms:
            from scenario_forge.api import load_chain

            # an unknown name or a bad argument: one clear error before anything runs
            load_chain([*self.probe_transforms, *self.train_transforms])

    def to_json(self) -> dict[str, Any]:
        """The settings as plain JSON (paths as text; the store's password masked)."""
        from forge_export.redact import redact_location

        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
        if out.get("store") is not None:
            out["store"] = redact_location(out["store"])  # summary.json holds no password
        return out


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


def cli_fields() -> list[Any]:
    """The :class:`LoopConfig` fields that ``model-forge loop`` exposes as options."""
    return [f for f in fields(LoopConfig) if f.metadata.get("cli", True)]


def field_default(name: str) -> Any:
    """The default of one field."""
    for f in fields(LoopConfig):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            return f.default_factory()  # type: ignore[misc]
    raise KeyError(name)
