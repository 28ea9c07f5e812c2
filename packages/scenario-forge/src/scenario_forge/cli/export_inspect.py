"""``scenario-forge export-inspect``: the store's scenarios as inspect_ai JSONL samples."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from forge_export.models import EXPECTED_BEHAVIORS

from scenario_forge.cli._common import (
    db_option,
    echo_json,
    json_option,
    open_store,
    target_option,
)


@click.command("export-inspect")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@target_option("Only scenarios of this target (repeatable).")
@click.option(
    "--expected-behavior",
    "behaviors",
    multiple=True,
    type=click.Choice(EXPECTED_BEHAVIORS),
    help="Only scenarios with this expected behaviour (repeatable).",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@db_option
@json_option
def export_inspect_cmd(
    out: Path,
    targets: tuple[str, ...],
    behaviors: tuple[str, ...],
    overwrite: bool,
    db: Path,
    as_json: bool,
) -> None:
    """Write scenarios to OUT as inspect_ai samples, one JSON object per line.

    Each line has id, input (chat messages), target (the success criteria, one per line)
    and metadata (evaluation_target, expected_behavior, group_id, success_criteria, tags):
    the same fields as the export's eval config and `forge-export to-inspect`. Read it with
    inspect_ai.dataset.json_dataset(OUT); `scenario-forge import OUT --format inspect`
    reads it back with the same scenario ids. All scenarios, no train/test split (use
    `export` + `forge-export to-inspect` for a held-out split).

    \b
    Examples:
      scenario-forge export-inspect samples.jsonl
      scenario-forge export-inspect self-harm.jsonl --target self_harm --expected-behavior comply
    """
    from scenario_forge.formats.inspect_jsonl import scenario_sample

    if out.exists() and not overwrite:
        raise click.ClickException(f"{out} exists; pass --overwrite to replace it")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    n = 0
    try:
        with (
            open_store(db, create=False) as store,
            store.snapshot(),  # one state of the store, whatever others import meanwhile
            open(tmp, "w", encoding="utf-8") as fh,
        ):
            filters = {
                "target": list(targets) or None,
                "expected_behavior": list(behaviors) or None,
            }
            total = store.count_scenarios(**filters)
            with click.progressbar(length=total, label="Writing", file=sys.stderr) as bar:
                for scenario in store.iter_scenarios(**filters):
                    fh.write(json.dumps(scenario_sample(scenario), ensure_ascii=False) + "\n")
                    n += 1
                    bar.update(1)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    if as_json:
        echo_json({"path": str(out), "samples": n})
    else:
        click.echo(f"wrote {n} inspect_ai samples to {out}")
