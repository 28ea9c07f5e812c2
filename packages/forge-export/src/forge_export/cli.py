"""The ``forge-export`` command line: validate, inspect and describe exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from forge_export import __version__
from forge_export.cli_support import ForgeGroup
from forge_export.errors import ForgeError

DEFAULT_SCHEMA_DIR = Path("docs/schema")


@click.group(cls=ForgeGroup)
@click.version_option(__version__, prog_name="forge-export")
def main() -> None:
    """Check and describe forge dataset exports (the HuggingFace folder format).

    \b
    Examples:
      forge-export validate out/         # contract + manifest + file hashes
      forge-export inspect out/ --json   # counts per config, split, target, source
      forge-export schema docs/schema/   # JSON Schema of every contract model
      forge-export push out/ my-org/safety-sft --dry-run   # publish on the Hub
      forge-export plugins               # every registered plug-in, by kind
    """


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems} as JSON.")
def validate(path: Path, as_json: bool) -> None:
    """Check an export and list EVERY problem: manifest, file hashes, parquet, each row.

    Each problem is one line naming the file, row and field. Exit status 1 if any.

    \b
    Example:
      forge-export validate out/
    """
    from forge_export.manifest import read_manifest
    from forge_export.reader import validate_export

    try:
        files = 2 * len(read_manifest(path).counts)
    except ForgeError:
        files = 0  # validate_export reports the manifest problem itself
    with click.progressbar(
        length=files, label="checking", file=sys.stderr, hidden=files == 0 or as_json
    ) as bar:
        problems = validate_export(path, progress=bar.update)
    if as_json:
        click.echo(json.dumps({"ok": not problems, "problems": problems}, indent=2))
    else:
        for line in problems:
            click.echo(line, err=True)
        if not problems:
            click.echo(f"{path}: ok")
    if problems:
        if not as_json:
            click.echo(f"{len(problems)} problem(s) found", err=True)
        raise SystemExit(1)


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"{summary['path']}  schema {summary['schema_version']}  "
        f"fingerprint {summary['fingerprint'][:16]}",
        "",
        f"{'config':<20}{'train':>10}{'test':>10}",
    ]
    for config, splits in summary["counts"].items():
        lines.append(f"{config:<20}{splits.get('train', 0):>10}{splits.get('test', 0):>10}")
    stats = summary["stats"]
    for title, key in (
        ("target", "scenarios_per_target"),
        ("completion source", "completions_per_source"),
    ):
        lines += ["", f"{title:<20}{'train':>10}{'test':>10}"]
        for name, splits in stats.get(key, {}).items():
            lines.append(f"{name:<20}{splits.get('train', 0):>10}{splits.get('test', 0):>10}")
    lines += [
        "",
        "scenarios: {seen} seen, {exp} exported, {dup} duplicates dropped, {flt} filtered out".format(
            seen=stats.get("scenarios_seen", "?"),
            exp=stats.get("scenarios_exported", "?"),
            dup=stats.get("duplicates_dropped", "?"),
            flt=stats.get("filtered_out", "?"),
        ),
    ]
    return lines


@main.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def inspect_cmd(path: Path, as_json: bool) -> None:
    """Show the counts of an export per config/split, target and completion source.

    Reads the (checked) manifest only; run `validate` to check the rows too.

    \b
    Examples:
      forge-export inspect out/
      forge-export inspect out/ --json | jq .counts.sft
    """
    from forge_export.reader import manifest_summary

    summary = manifest_summary(path)
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_summary_lines(summary)))


@main.command()
@click.argument(
    "outdir", required=False, default=str(DEFAULT_SCHEMA_DIR), type=click.Path(path_type=Path)
)
def schema(outdir: Path) -> None:
    """Write the JSON Schema of every contract model (and the export columns) to OUTDIR.

    OUTDIR defaults to docs/schema/. One <Model>.schema.json per model, plus
    export-columns.json with the parquet columns of every config.

    \b
    Examples:
      forge-export schema                # into docs/schema/
      forge-export schema /tmp/schema
    """
    from forge_export.schema_docs import write_schemas

    written = write_schemas(outdir)
    click.echo(f"wrote {len(written)} schema files to {outdir}")


@main.command("to-inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--split",
    type=click.Choice(["train", "test"]),
    default="test",
    show_default=True,
    help="Split of the eval config to convert.",
)
def to_inspect(path: Path, out: Path, split: str) -> None:
    """Write the eval config as JSONL for inspect_ai's json_dataset (id, input, target, metadata).

    inspect_ai's hf_dataset(PATH, split, name="eval") reads the export as is; this command is
    for json_dataset and for tools that want one JSON object per line.

    \b
    Example:
      forge-export to-inspect out/ eval.jsonl --split test
      # then: inspect_ai.dataset.json_dataset("eval.jsonl")
    """
    from forge_export.reader import load

    ds = load(path, "eval", split)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in ds.select_columns(["id", "input", "target", "metadata"]):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(out)
    click.echo(f"wrote {len(ds)} samples to {out}")


@main.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.argument("repo")
@click.option(
    "--private/--public",
    default=True,
    show_default=True,
    help="Visibility of the repository if it is created (an existing one keeps its own).",
)
@click.option("--token", default=None, help="Write token (default: $HF_TOKEN or `hf auth login`).")
@click.option("--message", default=None, help="Commit message (default names the fingerprint).")
@click.option(
    "--dry-run", is_flag=True, help="Validate and list what would be uploaded; send nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and URLs) as JSON.")
def push(
    path: Path,
    repo: str,
    private: bool,
    token: str | None,
    message: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upload the export PATH to the HuggingFace dataset repository REPO (owner/name).

    The export is validated first; the dataset card, manifest.json and the parquet files it
    lists go up in one commit, so `datasets.load_dataset("REPO", "sft")` works. Private by
    default. Needs a write token: `hf auth login` or HF_TOKEN.

    \b
    Examples:
      forge-export push out/ my-org/safety-sft --dry-run
      forge-export push out/ my-org/safety-sft            # private
      forge-export push out/ my-org/safety-sft --public --message "round 2"
    """
    from forge_export.hub import plan_push, push_export

    if dry_run:
        plan = plan_push(path, repo, private=private, commit_message=message)
    else:
        plan = push_export(path, repo, private=private, token=token, commit_message=message)
    if as_json:
        click.echo(json.dumps(plan.to_dict() | {"dry_run": dry_run}, indent=2))
        return
    visibility = "private" if plan.private else "public"
    verb = "Would upload" if dry_run else "Uploaded"
    click.echo(
        f"{verb} {len(plan.files)} files ({plan.total_bytes} bytes) to dataset {plan.repo_id} "
        f"({visibility}):"
    )
    for f in plan.files:
        click.echo(f"  {f.path}  {f.bytes}")
    if plan.skipped:
        click.echo(f"not uploaded (not in the manifest): {', '.join(plan.skipped)}")
    if plan.url:
        click.echo(f"{plan.url}\n{plan.commit_url}")


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print {kind: {name: target}} as JSON.")
def plugins_cmd(as_json: bool) -> None:
    """List every registered plug-in by kind (the registry's entry points).

    A plug-in is one module plus one entry-point line in its package's pyproject.toml;
    docs/architecture.md names the group of each kind.

    \b
    Example:
      forge-export plugins
    """
    from forge_export import registry

    found: dict[str, dict[str, str]] = {}
    for kind in registry.KINDS:
        entries = {name: registry.entry(kind, name) for name in registry.names(kind)}
        found[kind] = {name: ep.value for name, ep in entries.items() if ep is not None}
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for kind, targets in found.items():
        info = registry.KINDS[kind]
        click.echo(f"{kind}: {info.what} [entry points: {info.group}]")
        for name, target in targets.items():
            click.echo(f"  {name:<16} {target}")
