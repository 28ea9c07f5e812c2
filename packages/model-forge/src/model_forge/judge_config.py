"""``JudgeOptions``: the settings of ``model-forge judge``, each default written once.

Example:
    >>> JudgeOptions().judges
    ('default', 'rules')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_export.cli_support import STORE_LOCATION
from forge_export.settings import Settings, setting

from model_forge.eval_config import DEFAULT_JUDGE, JUDGE_BATCH_HELP, JUDGE_HELP
from model_forge.generate_config import DEFAULT_CONCURRENCY


@dataclass
class JudgeOptions(Settings):
    """Which judge, with which options, judges a file (or is measured against humans)."""

    judge: str = setting(DEFAULT_JUDGE, JUDGE_HELP)
    judge_options: dict[str, Any] = setting(
        {},
        "Option for the LLM judge's backend (repeatable), e.g. base_url=http://localhost:8000/v1.",
        option="judge_option",
        key_values=True,
    )
    concurrency: int = setting(
        DEFAULT_CONCURRENCY,
        "Requests in flight at once for an LLM or guard judge on a server backend (openai:, "
        "anthropic:); --judge-option max_concurrency=N wins.",
        minimum=1,
    )
    batch_size: int | None = setting(None, JUDGE_BATCH_HELP, minimum=1)
    judges: tuple[str, ...] = setting(
        (DEFAULT_JUDGE, "rules"), "With --calibrate: comma-separated judge specs to measure."
    )
    db: str | None = setting(
        None,
        "Scenario store with the human verdicts, a file or a postgresql:// URL "
        "[default: $SCENARIO_FORGE_DB or ./forge.db].",
        click_type=STORE_LOCATION,
    )
    output: Path | None = setting(
        None,
        "Write the judged records here (JSONL: input fields + verdict, refused, reason, judge); "
        "with --train the new head (.npz).",
        short="-o",
    )
