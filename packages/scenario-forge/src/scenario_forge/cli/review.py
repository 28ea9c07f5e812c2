"""``scenario-forge review``: rate scenarios, write ideal responses, judge completions.

Without a subcommand it runs the interactive flow; ``export-queue`` and ``import`` are the
batch mode.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from forge_export.cli_support import ForgeGroup

from scenario_forge.cli._common import SOURCE_KINDS, db_option, echo_json, json_option, open_store

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_SOME_REJECTED = 2
EXIT_INTERRUPTED = 130


def _reviewer(value: str | None) -> str:
    from scenario_forge.review.decisions import AnswerError, check_reviewer
    from scenario_forge.store import default_actor

    try:
        return check_reviewer(value if value is not None else default_actor())
    except AnswerError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[-1], param_hint="--reviewer") from exc


reviewer_option = click.option(
    "--reviewer",
    default=None,
    metavar="NAME",
    help="Who is reviewing (default: $SCENARIO_FORGE_REVIEWER, else your OS user name).",
)
overlap_option = click.option(
    "--overlap",
    type=click.IntRange(1, 50),
    default=1,
    show_default=True,
    help="Hand each scenario to up to N different reviewers (for agreement statistics).",
)
target_filter = click.option(
    "--target",
    "-t",
    "targets",
    multiple=True,
    metavar="TARGET",
    help="Only scenarios of this evaluation target (repeatable).",
)


def _run_session(ctx: click.Context, session: Any, saved: Callable[[], str]) -> Any:
    """``session.run()``; Ctrl-C prints what was saved (``saved()``) and exits 130."""
    try:
        return session.run()
    except KeyboardInterrupt:
        click.echo("")
        click.echo(f"Interrupted: {saved()}", err=True)
        ctx.exit(EXIT_INTERRUPTED)


@click.group(
    "review",
    cls=ForgeGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@target_filter
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCE_KINDS),
    help="Only scenarios of this provenance kind (repeatable).",
)
@click.option("--unreviewed", is_flag=True, help="Only scenarios nobody has rated yet.")
@reviewer_option
@click.option(
    "--lease-minutes",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="A scenario on screen stays yours this long after your last keystroke; then it "
    "goes back to the queue.",
)
@overlap_option
@click.option(
    "--no-editor",
    is_flag=True,
    help="Type responses at the prompt even when $VISUAL/$EDITOR is set.",
)
@db_option
@json_option
@click.pass_context
def review_cmd(
    ctx: click.Context,
    targets: tuple[str, ...],
    sources: tuple[str, ...],
    unreviewed: bool,
    reviewer: str | None,
    lease_minutes: float,
    overlap: int,
    no_editor: bool,
    db: Path,
    as_json: bool,
) -> None:
    """Review scenarios one by one in the terminal (default), or in batches.

    For each scenario you see its target, expected behaviour, criteria, earlier turns, prompt
    and completions, and answer with a single letter or number then Enter:

    \b
      0-3  rating (0 unusable, 1 poor, 2 good, 3 excellent); text after it is a note
      s    skip      u  undo your last answer      q  quit      ?  help

    A rating of 2 or 3 then asks, for each completion: a accept, e edit, r reject, Enter
    leave; if you accept or edit none, you write the ideal response (in $VISUAL/$EDITOR when
    set, else at the prompt, ending with a line holding a single "."). Every answer is saved
    at once; quit or Ctrl-C lose only the scenario on screen. Scenarios are claimed with a
    lease, so several reviewers can work on one store at the same time; run it again to
    resume.

    \b
    Exit status: 0 done or quit, 130 interrupted (Ctrl-C).

    \b
    Examples:
      scenario-forge review --target harmful_code
      scenario-forge review --reviewer ana --overlap 2 --unreviewed
      scenario-forge review export-queue ana.jsonl --reviewer ana --limit 50
      scenario-forge review import ana.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    from scenario_forge.review.claims import QueueFilter, ReviewQueue
    from scenario_forge.review.flow import ReviewSession, Terminal
    from scenario_forge.store import ScenarioStore

    name = _reviewer(reviewer)
    filt = QueueFilter(
        targets=tuple(dict.fromkeys(targets)),
        sources=tuple(dict.fromkeys(sources)),
        unreviewed=unreviewed,
        overlap=overlap,
    )
    with ScenarioStore.open(db, create=False, actor=name) as store:
        queue = ReviewQueue(store, name, filt, lease_minutes)
        session = ReviewSession(store, queue, Terminal(use_editor=not no_editor))
        result = _run_session(
            ctx,
            session,
            lambda: (
                f"{session.result.answered} answers saved; the scenario on screen was not saved."
            ),
        )
    if as_json:
        echo_json(result.to_dict())
        return
    per = ", ".join(f"{t} {n}" for t, n in sorted(result.per_target.items()) if n)
    click.echo(
        f"Done: {result.answered} answered, {result.skipped} skipped, {result.undone} undone "
        f"(reviewer {name}){': ' + per if per else ''}."
    )


@review_cmd.command("export-queue")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@reviewer_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="At most this many scenarios.",
)
@target_filter
@click.option(
    "--lease-minutes",
    type=click.FloatRange(min=0.01),
    default=24 * 60.0,
    show_default=True,
    help="How long the exported scenarios stay reserved for you.",
)
@overlap_option
@db_option
@json_option
def export_queue_cmd(
    out: Path,
    reviewer: str | None,
    limit: int,
    targets: tuple[str, ...],
    lease_minutes: float,
    overlap: int,
    db: Path,
    as_json: bool,
) -> None:
    """Reserve up to --limit scenarios for a reviewer and write them to OUT (JSONL), each
    with its proposed completions and empty answer fields to fill in: rating (0-3), note,
    ideal_response (ratings 2-3), decisions ({"<completion id>": "accept" | "reject"}).
    Then give the file to `scenario-forge review import`. Scenarios you reserved earlier
    and have not answered come first.

    \b
    Examples:
      scenario-forge review export-queue ana.jsonl --reviewer ana --limit 50
      scenario-forge review export-queue q.jsonl --target self_harm --overlap 2
    """
    from scenario_forge.review.batch import export_queue
    from scenario_forge.review.claims import QueueFilter

    name = _reviewer(reviewer)
    filt = QueueFilter(targets=tuple(dict.fromkeys(targets)), overlap=overlap)
    with open_store(db, create=False) as store:
        n = export_queue(store, out, name, limit=limit, filt=filt, lease_minutes=lease_minutes)
    if as_json:
        echo_json({"path": str(out), "rows": n, "reviewer": name})
        return
    click.echo(f"Wrote {n} scenarios for {name} to {out}.")


@review_cmd.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; store nothing.")
@db_option
@json_option
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, dry_run: bool, db: Path, as_json: bool) -> None:
    """Store review answers from FILE, one JSON object per line:

    \b
      {"scenario_id": "...", "reviewer": "ana", "rating": 3, "note": "optional",
       "ideal_response": "optional, ratings 2-3",
       "decisions": {"<completion id>": "accept", "<other id>": "reject"}}

    A filled-in export-queue file works as is; rows whose rating is still null are left
    unanswered. Every bad row is reported with its line and field; the good rows are stored
    together in one transaction.

    \b
    Exit status:
      0  every answered row stored
      1  nothing stored: the file is missing, unreadable or binary
      2  some rows were refused (listed on stderr); the good ones were stored

    \b
    Examples:
      scenario-forge review import ana.jsonl
      scenario-forge review import ana.jsonl --dry-run --json
    """
    from scenario_forge.review.batch import import_answers

    with open_store(db, create=False) as store:
        result = import_answers(store, file, dry_run=dry_run)
    if as_json:
        echo_json(result.to_dict())
    else:
        for err in result.errors:
            click.echo(f"refused: {err.message}", err=True)
        verb = "Would store" if dry_run else "Stored"
        click.echo(
            f"{verb} {result.applied} answers from {file} ({result.rows} rows: "
            f"{result.unanswered} unanswered, {len(result.errors)} refused; "
            f"{result.created} responses written, {result.decisions} decisions)."
        )
    if result.errors:
        sys.stderr.flush()
        ctx.exit(EXIT_SOME_REJECTED)


@review_cmd.command("verdicts")
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reviewer_option
@click.option("--failures-only", is_flag=True, help="Only answers the judge failed.")
@click.option(
    "--all",
    "include_reviewed",
    is_flag=True,
    help="Also answers you have already judged (a new verdict replaces yours).",
)
@click.option(
    "--lowest-confidence-first",
    "by_confidence",
    is_flag=True,
    help="Serve the answers whose verdict the judge is least sure of first (answers without "
    "a judge confidence last).",
)
@click.option("--target", default="", metavar="TARGET", help="Only answers of this target.")
@click.option(
    "--label",
    type=click.Choice(["compliance", "refusal", "partial_refusal", "off_topic"]),
    default=None,
    help="Only answers the judge gave this label.",
)
@click.option(
    "--low-confidence",
    is_flag=True,
    help="Only answers whose judge confidence is under 0.8 (the reports' low-confidence bar).",
)
@click.option("--unverified", is_flag=True, help="Only answers nobody has given a verdict on yet.")
@click.option(
    "--verified-by",
    default="",
    metavar="NAME",
    help="Only answers whose verdict in force is NAME's (with --all, to review them again).",
)
@db_option
@json_option
@click.pass_context
def verdicts_cmd(
    ctx: click.Context,
    report: Path,
    reviewer: str | None,
    failures_only: bool,
    include_reviewed: bool,
    by_confidence: bool,
    target: str,
    label: str | None,
    low_confidence: bool,
    unverified: bool,
    verified_by: str,
    db: Path,
    as_json: bool,
) -> None:
    """Confirm or overrule the judge's verdicts on REPORT's answers, one at a time.

    For each answer you see the scenario, prompt, response and the judge's verdict, label and
    reason, and type a letter then Enter:

    \b
      c  confirm the judge        p  overrule: pass        f  overrule: fail
      after p or f: optionally what the answer did (compliance, refusal, partial,
      off_topic) and a note, e.g. "f off_topic talks about posture instead"
      s  skip      u  undo your last verdict      q  quit      ?  help

    Each verdict is stored at once with your name and the time (the store's eval_verdicts,
    as `scenario-forge eval-verdicts import` does); human verdicts take precedence over the
    judge in reports and in the failures the loop imports. Answers you have already judged
    are not shown again, so run it again to resume. With --lowest-confidence-first the
    answers come in order of the judge's confidence, least sure first.

    \b
    Exit status: 0 done or quit, 130 interrupted (Ctrl-C).

    \b
    Examples:
      scenario-forge review verdicts eval-out/report.json --reviewer ana
      scenario-forge review verdicts eval-out/report.json --failures-only
      scenario-forge review verdicts eval-out/report.json --lowest-confidence-first
      scenario-forge review verdicts eval-out/report.json --unverified --low-confidence \\
        --target harmful_code --label compliance
    """
    from forge_export.reports import read_report

    from scenario_forge.review.flow import Terminal
    from scenario_forge.review.verdict_filters import VerdictFilter
    from scenario_forge.review.verdicts import VerdictReview
    from scenario_forge.store import ScenarioStore

    name = _reviewer(reviewer)
    evaluation = read_report(report)
    with ScenarioStore.open(db, actor=name) as store:
        session = VerdictReview(
            store,
            evaluation,
            name,
            Terminal(use_editor=False),
            failures_only=failures_only,
            include_reviewed=include_reviewed,
            lowest_confidence_first=by_confidence,
            only=VerdictFilter(
                unverified=unverified,
                label=label or "",
                target=target,
                low_confidence=low_confidence,
                reviewer=verified_by,
            ),
        )
        result = _run_session(
            ctx,
            session,
            lambda: (
                f"{session.result.confirmed + session.result.overruled} verdicts saved; the "
                "answer on screen was not saved."
            ),
        )
    _print_verdict_result(result, name, as_json)


def _print_verdict_result(result: Any, name: str, as_json: bool) -> None:
    """The verdict session's counts, as a line or JSON."""
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(
        f"Done: {result.confirmed} confirmed, {result.overruled} overruled, {result.skipped} "
        f"skipped, {result.undone} undone (reviewer {name})."
    )


def _add_adjudication_commands() -> None:
    from scenario_forge.cli.adjudicate import disagreements_cmd, settle_cmd

    review_cmd.add_command(disagreements_cmd)
    review_cmd.add_command(settle_cmd)


_add_adjudication_commands()
