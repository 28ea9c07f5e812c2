"""``model-forge card``: write a trained model's card, and optionally push it to the Hub."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("card")
@click.argument("model_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An evaluation report.json of this model (repeatable): its judge and table go in.",
)
@click.option("--name", default="", help="The model's name in the card's title.")
@click.option(
    "--push-to-hub",
    "repo_id",
    default=None,
    metavar="OWNER/NAME",
    help="Then upload the folder (not checkpoints/, tensorboard/) to this model repository.",
)
@click.option("--public", is_flag=True, help="Create the repository public (default private).")
@click.option("--dry-run", is_flag=True, help="With --push-to-hub: list the files, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --push-to-hub: print the plan as JSON.")
def card_command(
    model_dir: Path,
    reports: tuple[Path, ...],
    name: str,
    repo_id: str | None,
    public: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Write MODEL_DIR/README.md, the model card of a `model-forge train` output.

    The card records the training data (export, config, fingerprint, rows), the run (method,
    steps, loss) and, per --report, the judge and the table of safe rate, benign compliance
    and over-refusal with their intervals.

    \b
    Examples:
      model-forge card runs/sft --report runs/eval-sft/report.json
      model-forge card runs/sft --report runs/eval-sft/report.json --push-to-hub me/sft --dry-run
    """
    from model_forge.model_card import plan_model_push, push_model, write_model_card

    if (dry_run or public or as_json) and repo_id is None:
        raise click.UsageError("--dry-run, --public and --json go with --push-to-hub OWNER/NAME")
    card = write_model_card(model_dir, reports, name=name)
    click.echo(f"card: {card}")
    if repo_id is None:
        return
    private = not public
    if dry_run:
        plan = plan_model_push(model_dir, repo_id, private=private)
    else:
        plan = push_model(model_dir, repo_id, private=private)
    if as_json:
        payload = {
            "repo_id": plan.repo_id,
            "repo_type": "model",
            "private": plan.private,
            "dry_run": dry_run,
            "files": [{"path": p, "bytes": b} for p, b in plan.files],
            "url": plan.url,
            "commit_url": plan.commit_url,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    where = "private" if plan.private else "public"
    verb = "would upload" if dry_run else "uploaded"
    click.echo(f"{verb} {len(plan.files)} files to {plan.repo_id} ({where})")
    if plan.commit_url:
        click.echo(plan.commit_url)
