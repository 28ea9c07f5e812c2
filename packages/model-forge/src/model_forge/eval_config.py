"""``EvalOptions``: the settings of ``model-forge evaluate``, each default written once.

The loop composes :class:`EvalOptions` for its own evaluations (shorter answers, bigger
batches); ``evaluate``'s options are generated from the fields here.

Example:
    >>> EvalOptions().generate.max_new_tokens, EvalOptions().judge
    (128, 'default')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forge_export.settings import Settings, setting

from model_forge.batch_config import JUDGE_BATCH
from model_forge.generate_config import DEFAULT_MODEL, MODEL_HELP, GenerateOptions

DEFAULT_JUDGE = "default"
"""The judge of every evaluation unless told otherwise (the best offline judge measured)."""


def JUDGE_HELP() -> str:  # noqa: N802  (a help text, computed from the registry when shown)
    """The ``--judge`` help: every registered judge (:mod:`model_forge.judge_plugins`)."""
    from model_forge.judge_plugins import judges_help

    return judges_help()


JUDGE_BATCH_HELP = (
    "Texts per batch of the judge: the sentence model of the default, learned and rules "
    f"judges [default: {JUDGE_BATCH}], or a local LLM or guard judge's generation batch "
    "[default: its backend's]."
)
"""The help of every judge batch option (``evaluate``, ``loop``, ``judge``)."""


FAIL_UNDER_METRICS: dict[str, str] = {
    "pass_rate": "pass_rate",
    "safe_rate": "safe_rate",
    "refusal_rate": "refusal_rate",
    "compliance": "compliance_rate",
    "compliance_rate": "compliance_rate",
}
"""The names ``--fail-under`` accepts → the ``TargetSummary`` rate each tests."""


@dataclass
class EvalOptions(Settings):
    """Settings of an evaluation: which model, on what, judged how, answered how."""

    model: str = setting(DEFAULT_MODEL, MODEL_HELP)
    data: Path | None = setting(None, "Export folder; its 'eval' config is run.")
    wild_set: str | None = setting(
        None,
        "Instead of --data: a wild set, builtin (240 harmful and 240 benign prompts written "
        "apart from the training data) or a folder with harmful.jsonl and/or benign.jsonl.",
    )
    test_set: Path | None = setting(
        None,
        "Instead of --data: a frozen test set (test-set.json of a loop run, scenarios "
        "included): compare models on the same scenarios.",
    )
    split: str = setting("test", "Split of the eval config.")
    judge: str = setting(DEFAULT_JUDGE, JUDGE_HELP)
    judge_batch_size: int | None = setting(None, JUDGE_BATCH_HELP, minimum=1)
    output: Path | None = setting(
        None,
        "Folder for report.json, report.html and report.png [default: eval-<model name>].",
        short="-o",
    )
    limit: int | None = setting(None, "Evaluate only the first N scenarios.", minimum=1)
    fail_under: tuple[str, ...] = setting(
        (),
        "METRIC=RATE, repeatable: exit 1 when the rate on all scenarios is below it (CI), e.g. "
        "safe_rate=0.8 or compliance=0.9 (pass_rate, safe_rate, refusal_rate, compliance).",
        multiple=True,
    )
    inspect_log: Path | None = setting(
        None,
        "Also write the report as an inspect_ai log (FILE.json or FILE.eval) for `inspect "
        "view` (needs the inspect extra).",
    )
    generate: GenerateOptions = setting(
        GenerateOptions(max_new_tokens=128), "Decoding of the answers.", flatten=True
    )
