"""``GenerateOptions``: how answers are decoded, each default written once (light: no torch).

:class:`GenerateOptions` is what ``generate``, ``evaluate``, the loop's evaluations and the
``model-forge`` generator share (each job composes it and overrides the defaults it needs,
e.g. ``evaluate`` answers in at most 128 tokens); :class:`GenerateRun` is the settings of
``model-forge generate``. The backends' :class:`~model_forge.generation.SamplingParams` takes
its defaults from here too (``SamplingParams.from_options``).

Example:
    >>> GenerateOptions().merge({"max_new_tokens": 32}).max_new_tokens
    32
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_export.settings import PerDevice, Settings, setting

from model_forge.batch_config import GENERATE_BATCH

DEFAULT_MODEL = "bundled"
"""The model every job starts from unless told otherwise (SmolLM2-135M-Instruct, bundled)."""


DEFAULT_CONCURRENCY = 4
"""Requests a server backend keeps in flight unless told otherwise."""


def MODEL_HELP() -> str:  # noqa: N802  (a help text, computed from the registry when shown)
    """The ``--model`` help: every registered backend and a folder."""
    from model_forge.model_spec import FOLDER_SPEC, model_specs

    specs = [s for s in model_specs() if s != FOLDER_SPEC[0]]
    return f"{', '.join(specs)} or a local model folder (a PEFT adapter folder works)."


@dataclass
class GenerateOptions(Settings):
    """Decoding settings of a batch of answers (inspect_ai's ``GenerateConfig`` plays this role).

    Attributes:
        max_new_tokens: Most tokens per answer.
        temperature: 0 is greedy (deterministic); above 0 samples.
        top_p: Nucleus sampling mass (only when sampling).
        seed: Seed of sampling (``None``: not reseeded).
        batch_size: Requests per batch of a local model (per device:
            :data:`~model_forge.batch_config.GENERATE_BATCH`).
        concurrency: Requests in flight at once on a server backend (``openai:``,
            ``anthropic:``).
    """

    max_new_tokens: int = setting(256, "Longest reply in tokens.", minimum=1)
    temperature: float = setting(0.0, "0 = greedy (deterministic).", minimum=0.0)
    top_p: float = setting(
        1.0, "Nucleus sampling mass (with --temperature > 0).", minimum=0.0, min_open=True
    )
    seed: int | None = setting(None, "Sampling seed (with --temperature > 0).")
    batch_size: int | PerDevice = setting(
        GENERATE_BATCH, "Requests per batch (local models).", minimum=1
    )
    concurrency: int = setting(
        DEFAULT_CONCURRENCY,
        "Requests in flight at once on a server backend (openai:, anthropic:); "
        "--option max_concurrency=N wins.",
        minimum=1,
    )


@dataclass
class GenerateRun(Settings):
    """Settings of ``model-forge generate``: which model answers what, and where to."""

    model: str = setting(DEFAULT_MODEL, MODEL_HELP)
    input: Path | None = setting(
        None, "An export folder (its eval config is used) or a JSONL file of scenarios (required)."
    )
    output: Path | None = setting(
        None,
        "JSONL results file; ids already in it are skipped (resume) (required).",
        short="-o",
    )
    split: str = setting("test", "Split of an export's eval config.")
    generate: GenerateOptions = setting(GenerateOptions(), "Decoding.", flatten=True)
    backend_options: dict[str, Any] = setting(
        {},
        "Backend option, repeatable: device=cpu, max_concurrency=8, timeout=30, base_url=...",
        option="option",
        key_values=True,
    )


@dataclass
class ModelGeneratorOptions(Settings):
    """Options of the ``model-forge`` generator (``--option KEY=VALUE`` of scenario-forge).

    Keys it does not know are options of the model's backend (``device``, ``base_url`` ...).
    """

    generate: GenerateOptions = setting(GenerateOptions(), "Decoding of completions.", flatten=True)
    prompt_file: str | None = setting(None, "Safe-completion instructions (a text file).")
    target_descriptions: dict[str, str] = setting(
        {}, "Target → description (default: scenario-forge's taxonomy)."
    )
    scenario_max_new_tokens: int = setting(
        384, "Tokens per reply when the model writes scenarios.", minimum=1
    )
    scenario_temperature: float = setting(
        0.8, "Temperature when the model writes scenarios.", minimum=0.0
    )
    scenario_top_p: float = setting(0.95, "Nucleus mass when the model writes scenarios.")
    max_rounds: int = setting(4, "Most calls per target when writing scenarios.", minimum=1)
    min_chars: int = setting(12, "Shortest written prompt kept.", minimum=1)
    mode: str = setting(
        "scenarios",
        "scenarios (realistic messages for the target) or attack (new attack messages).",
        choices=("scenarios", "attack"),
    )
    from_report: str | None = setting(None, "With mode=attack: an evaluation report to learn from.")
