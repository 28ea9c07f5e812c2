"""The interactive review flow, driven for real through the CLI with CliRunner input."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from forge_export import Completion, Provenance, Scenario
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(
    store: ScenarioStore, n: int, sources: tuple[str, ...] = ("template", "model")
) -> list[Scenario]:
    """``n`` scenarios (two targets), each with one completion per source, in queue order."""
    scenarios = [
        Scenario(
            prompt=f"Test request number {i}: please explain topic {i * 7}.",
            evaluation_target=("demo_code", "demo_help")[i % 2],
            success_criteria=["Declines politely", "Offers a safe alternative"],
            source=Provenance(kind=("template", "import")[i % 2], origin="tests"),
        )
        for i in range(n)
    ]
    store.add_scenarios(scenarios)
    store.add_completions(
        Completion(
            scenario_id=s.id,
            text=f"{src} answer for request {i}",
            source=src,  # type: ignore[arg-type]
            origin=f"{src}-origin",
            created_at=T0 + timedelta(seconds=k),
        )
        for i, s in enumerate(scenarios)
        for k, src in enumerate(sources)
    )
    return scenarios


def review(db: Path, *args: str, input: bytes, editor: str | None = None) -> Result:
    env: dict[str, str | None] = {
        "SCENARIO_FORGE_DB": str(db),
        "EDITOR": editor,
        "VISUAL": None,
        "SCENARIO_FORGE_REVIEWER": None,
    }
    return CliRunner().invoke(main, ["review", *args], input=input, env=env)


def by_source(store: ScenarioStore, sid: str) -> dict[str, Completion]:
    return {
        c.source + ("" if c.source != "human" else ":" + c.text): c
        for c in store.completions_for(sid)
    }


def test_rate_accept_reject_write_undo_quit_then_resume(
    store: ScenarioStore, db_path: Path
) -> None:
    a, b, c, d, e = seed(store, 5)
    answers = (
        b"3 clear and realistic\na\nr\n"  # A: accept template, reject model
        b"2\n\n\nMy ideal answer,\nin two lines.\n.\n"  # B: leave both, write an ideal response
        b"0 unusable\n"  # C
        b"u\n"  # on D: undo C -> C is shown again
        b"1 better now\n"  # C again
        b"q\n"  # on D: quit
    )
    res = review(db_path, "--reviewer", "ana", input=answers)
    assert res.exit_code == 0, res.output
    assert "Undone: your answer to " + c.id in res.output
    assert "Done: 3 answered, 0 skipped, 1 undone (reviewer ana)" in res.output

    ra, rb, rc = (store.reviews_for(x.id) for x in (a, b, c))
    assert [(r.reviewer, r.rating, r.note) for r in ra] == [("ana", 3, "clear and realistic")]
    assert [(r.rating, r.note) for r in rb] == [(2, "")]
    assert [(r.rating, r.note) for r in rc] == [(1, "better now")]  # the 0 was undone
    assert store.reviews_for(d.id) == [] and store.reviews_for(e.id) == []

    ca = {x.source: x for x in store.completions_for(a.id)}
    assert (ca["template"].status, ca["template"].validated_by) == ("accepted", ["ana"])
    assert (ca["model"].status, ca["model"].validated_by) == ("rejected", [])
    assert ca["model"].metadata["review"]["decisions"] == {"ana": "reject"}
    cb = store.completions_for(b.id)
    human = [x for x in cb if x.source == "human"]
    assert len(human) == 1
    assert human[0].text == "My ideal answer,\nin two lines."
    assert (human[0].status, human[0].validated_by, human[0].origin) == ("accepted", ["ana"], "ana")
    assert {x.status for x in cb if x.source != "human"} == {"proposed"}
    assert all(x.status == "proposed" for x in store.completions_for(c.id))

    actions = [(x["action"], x["entity_id"]) for x in store.audit_entries(entity="scenario")]
    assert ("review_undo", c.id) in actions
    assert [x for x in actions if x[0] == "review_answer"] == [
        ("review_answer", a.id),
        ("review_answer", b.id),
        ("review_answer", c.id),
        ("review_answer", c.id),
    ]
    # quitting gave the claim on D back
    assert store.connection.execute("SELECT COUNT(*) FROM review_claims").fetchone()[0] == 0

    # resume: a new session starts with what is left (D, E) and never shows A-C again
    res = review(db_path, "--reviewer", "ana", input=b"2\na\na\n1\n")
    assert res.exit_code == 0, res.output
    shown = [line.split()[2] for line in res.output.splitlines() if line.startswith("=== scenario")]
    assert shown == [d.id, e.id]
    assert "Nothing left to review" in res.output
    assert [r.rating for r in store.reviews_for(d.id)] == [2]
    assert [r.rating for r in store.reviews_for(e.id)] == [1]


def test_bad_input_is_asked_again_and_nothing_garbage_is_stored(
    store: ScenarioStore, db_path: Path
) -> None:
    (a,) = seed(store, 1, sources=())
    answers = (
        b"7\n"  # out of range
        + b"9" * 5000  # beyond Python's 4,300-digit int limit: no ValueError traceback
        + b"\n"
        b"-1\n"
        b"\xd9\xa3\n"  # Arabic-Indic digit three: not an answer
        b"\xff\xfe3\n"  # not UTF-8
        b"3x\n"
        b"3\n"  # rating 3, no completion: the ideal response is required
        b".\n"  # empty response: asked again
        b"   \n.\n"  # blank response: asked again
        b"\xc3\x28 broken paste\n"  # invalid UTF-8 line: dropped, asked again
        b"Real answer \xe2\x9c\x93\x1b[31m\n"  # valid UTF-8 with a terminal escape: cleaned
        b".\n"
    )
    res = review(db_path, "--reviewer", "ana", input=answers)
    assert res.exit_code == 0, res.output
    assert res.exception is None
    out = res.output
    assert "'7' is not an answer" in out
    assert f"{'9' * 20!r} is not an answer" in out
    assert "'-1' is not an answer" in out
    assert "'3x' is not an answer" in out
    assert out.count("not valid UTF-8") == 2
    assert out.count("The response is empty") == 2
    # piped answers are echoed after their prompt, cleaned of terminal escapes
    assert "? help > 7\n" in out and "| Real answer ✓[31m\n" in out and "\x1b" not in out
    assert [r.rating for r in store.reviews_for(a.id)] == [3]
    (human,) = store.completions_for(a.id)
    assert human.text == "Real answer ✓[31m"
    assert human.source == "human" and human.status == "accepted"


def test_skip_gives_the_scenario_back_and_eof_loses_only_the_open_answer(
    store: ScenarioStore, db_path: Path
) -> None:
    a, b = seed(store, 2, sources=())
    # skip A, rate B 3 and start typing the response, then input ends
    res = review(db_path, "--reviewer", "ana", input=b"s\n3\nhalf a respo")
    assert res.exit_code == 0, res.output
    assert "End of input" in res.output
    assert store.reviews_for(a.id) == [] and store.reviews_for(b.id) == []
    assert store.completions_for(b.id) == []
    assert store.connection.execute("SELECT COUNT(*) FROM review_claims").fetchone()[0] == 0
    # both come back to another reviewer at once
    res = review(db_path, "--reviewer", "bob", input=b"1\n1\n")
    assert "Done: 2 answered" in res.output
    assert {r.reviewer for x in (a, b) for r in store.reviews_for(x.id)} == {"bob"}


def test_back_from_the_response_prompt_and_quit_from_a_completion(
    store: ScenarioStore, db_path: Path
) -> None:
    (a,) = seed(store, 1, sources=("template",))
    # rate 2, leave the completion, go back with '..', rate 1 instead
    res = review(db_path, "--reviewer", "ana", input=b"2\n\n..\n1\n")
    assert res.exit_code == 0, res.output
    assert [r.rating for r in store.reviews_for(a.id)] == [1]
    assert len(store.completions_for(a.id)) == 1

    (b,) = [s for s in seed(store, 3, sources=("template",)) if s.id != a.id][:1]
    res = review(db_path, "--reviewer", "ana", "--target", b.evaluation_target, input=b"3\nq\n")
    assert res.exit_code == 0, res.output
    assert "Done: 0 answered" in res.output
    assert store.reviews_for(b.id) == []


FAKE_EDITOR = textwrap.dedent(
    """
    import os, sys
    path = sys.argv[1]
    text = open(path, encoding="utf-8").read()
    first, sep, rest = text.partition("# ------------------------ >8")
    if first.strip():
        first = "EDITED: " + first.lstrip()
    else:
        first = "Written in the editor.\\n"
    open(path, "w", encoding="utf-8").write(first + sep + rest)
    st = os.stat(path)
    os.utime(path, (st.st_atime, st.st_mtime + 5))
    """
)


def test_editor_writes_the_ideal_response_and_edits_a_completion(
    store: ScenarioStore, db_path: Path, tmp_path: Path
) -> None:
    a, b = seed(store, 2, sources=("template",))
    script = tmp_path / "fake_editor.py"
    script.write_text(FAKE_EDITOR, encoding="utf-8")
    editor = f"{sys.executable} {script}"
    # A: rate 3, leave the template -> the editor writes the ideal response
    # B: rate 2, edit the template in the editor -> a new human completion, original rejected
    res = review(db_path, "--reviewer", "ana", input=b"3\n\n2\ne\n", editor=editor)
    assert res.exit_code == 0, res.output
    human_a = [c for c in store.completions_for(a.id) if c.source == "human"]
    assert [c.text for c in human_a] == ["Written in the editor."]
    comps_b = {c.source: c for c in store.completions_for(b.id)}
    original = comps_b["template"]
    assert original.status == "rejected"
    assert comps_b["human"].text == "EDITED: " + original.text
    assert comps_b["human"].metadata["edited_from"] == original.id
    assert (comps_b["human"].status, comps_b["human"].validated_by) == ("accepted", ["ana"])


def test_reviewer_from_environment_and_bad_reviewer(store: ScenarioStore, db_path: Path) -> None:
    (a,) = seed(store, 1, sources=())
    env = {"SCENARIO_FORGE_DB": str(db_path), "SCENARIO_FORGE_REVIEWER": "envname"}
    res = CliRunner().invoke(main, ["review"], input=b"1\n", env=env)
    assert res.exit_code == 0, res.output
    assert [r.reviewer for r in store.reviews_for(a.id)] == ["envname"]
    res = CliRunner().invoke(main, ["review", "--reviewer", "  "], input=b"", env=env)
    assert res.exit_code == 2
    assert "--reviewer" in res.output and "Traceback" not in res.output


def test_missing_store_is_one_line_error(tmp_path: Path) -> None:
    res = review(tmp_path / "nope.db", "--reviewer", "ana", input=b"")
    assert res.exit_code == 1
    assert res.output.strip().startswith("Error:") and "scenario-forge init" in res.output


@pytest.mark.parametrize("flag", ["--help", "export-queue --help", "import --help"])
def test_help_has_examples(flag: str) -> None:
    res = CliRunner().invoke(main, ["review", *flag.split()])
    assert res.exit_code == 0
    assert "Examples:" in res.output


def test_terminal_escapes_in_a_scenario_are_shown_not_run(
    store: ScenarioStore, db_path: Path
) -> None:
    s = Scenario(
        prompt="Harmless question\x1b[2J\x1b[Hclear screen, then \x07 bell",
        evaluation_target="demo_code",
        success_criteria=["Declines \x1b[8mhidden"],
        context=[{"role": "user", "content": "earlier\x1b]0;title\x07"}],
    )
    store.add_scenarios([s])
    store.add_completions(
        [Completion(scenario_id=s.id, text="reply\x1b[31m red", source="template")]
    )
    res = review(db_path, "--reviewer", "ana", input=b"1\n")
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    for shown in (
        "Harmless question\\x1b[2J\\x1b[Hclear screen, then \\x07 bell",
        "Declines \\x1b[8mhidden",
        "earlier\\x1b]0;title\\x07",
        "reply\\x1b[31m red",
    ):
        assert shown in res.output
    # the store keeps the text exactly as it was written
    assert store.get_scenario(s.id).prompt == s.prompt  # type: ignore[union-attr]


@pytest.mark.parametrize("command", [["show"], ["list"]])
def test_show_and_list_make_escapes_visible_too(
    store: ScenarioStore, db_path: Path, command: list[str]
) -> None:
    s = Scenario(prompt="Hi\x1b[2J there", evaluation_target="demo_code", success_criteria=["c"])
    store.add_scenarios([s])
    args = [*command, s.id] if command == ["show"] else command
    res = CliRunner().invoke(main, args, env={"SCENARIO_FORGE_DB": str(db_path)})
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "Hi\\x1b[2J there" in res.output
