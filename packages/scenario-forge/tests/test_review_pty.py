"""The real ``scenario-forge review`` process in a pseudo-terminal, driven with pexpect."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pexpect
import pytest
from forge_export import Completion, Scenario
from scenario_forge.store import ScenarioStore

RATE = "Rate 0-3"
COMPLETION = r"Completion \[\d\]"
RESPONSE = "write the ideal response"


def _exe() -> str:
    exe = Path(sys.executable).with_name("scenario-forge")
    return str(exe) if exe.exists() else (shutil.which("scenario-forge") or "scenario-forge")


def _spawn(db: Path, reviewer: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if k not in ("EDITOR", "VISUAL")}
    env.update({"SCENARIO_FORGE_DB": str(db), "TERM": "dumb", "COLUMNS": "200"})
    return pexpect.spawn(
        _exe(),
        ["review", "--reviewer", reviewer],
        env=env,
        timeout=30,
        encoding="utf-8",
        codec_errors="surrogateescape",
        # A library imported earlier in the test process may leave SIGINT ignored, and an
        # ignored signal stays ignored across exec: the child would never see Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _shown(child: pexpect.spawn) -> str:
    child.expect(r"=== scenario ([0-9a-f]{20}) ===")
    return str(child.match.group(1))


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_pty_session_rate_write_accept_reject_undo_quit_resume(
    store: ScenarioStore, db_path: Path
) -> None:
    scenarios = [
        Scenario(prompt=f"PTY prompt {i}", evaluation_target="demo_code", success_criteria=["c"])
        for i in range(4)
    ]
    store.add_scenarios(scenarios)
    store.add_completions(
        Completion(scenario_id=s.id, text=f"{src} reply {i}", source=src, origin=src)  # type: ignore[arg-type]
        for i, s in enumerate(scenarios)
        for src in ("template", "model")
    )

    child = _spawn(db_path, "pat")
    first = _shown(child)
    child.expect(RATE)
    child.sendline("3")  # rate 3, leave both completions, write the ideal response
    child.expect(COMPLETION)
    child.sendline("")
    child.expect(COMPLETION)
    child.sendline("")
    child.expect(RESPONSE)
    child.sendline("Ideal from the terminal.")
    child.send("\udcff\udcfe\n")  # raw bytes ff fe: a non-UTF-8 paste, refused
    child.expect("not valid UTF-8")
    child.sendline(".")
    child.expect("Saved: rating 3")

    second = _shown(child)
    child.expect(RATE)
    child.sendline("7")  # bad rating: asked again
    child.expect("is not an answer")
    child.expect(RATE)
    child.sendline("2 fine")  # accept the template, reject the model reply
    child.expect(COMPLETION)
    child.sendline("a")
    child.expect(COMPLETION)
    child.sendline("r")
    child.expect("Saved: rating 2")

    third = _shown(child)
    child.expect(RATE)
    child.sendline("0")
    child.expect("Saved: rating 0")
    _shown(child)
    child.expect(RATE)
    child.sendline("u")  # undo the 0
    child.expect("Undone")
    assert _shown(child) == third
    child.expect(RATE)
    child.sendline("q")
    child.expect("Done: 2 answered, 0 skipped, 1 undone")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    # resume: the undone scenario is free again and comes first; answer it, then Ctrl-C
    child = _spawn(db_path, "pat")
    assert _shown(child) == third
    child.expect(RATE)
    child.sendline("1")
    child.expect("Saved: rating 1")
    fourth = _shown(child)
    child.expect(RATE)
    child.sendline("3")
    child.expect(COMPLETION)
    child.sendline("")
    child.expect(COMPLETION)
    child.sendline("")
    child.expect(RESPONSE)
    child.sendline("half typed")
    child.sendintr()  # Ctrl-C: only this answer is lost
    child.expect("Interrupted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130

    def reviews(sid: str) -> list[tuple[str, int]]:
        return [(r.reviewer, r.rating) for r in store.reviews_for(sid)]

    assert reviews(first) == [("pat", 3)]
    assert reviews(second) == [("pat", 2)]
    assert reviews(third) == [("pat", 1)]
    assert reviews(fourth) == []
    c1 = {c.source: c for c in store.completions_for(first)}
    assert c1["human"].text == "Ideal from the terminal."
    assert (c1["human"].status, c1["human"].validated_by) == ("accepted", ["pat"])
    assert c1["template"].status == c1["model"].status == "proposed"
    c2 = {c.source: c for c in store.completions_for(second)}
    assert (c2["template"].status, c2["template"].validated_by) == ("accepted", ["pat"])
    assert c2["model"].status == "rejected" and "human" not in c2
    assert [c.source for c in store.completions_for(fourth)] == ["template", "model"]
    assert store.connection.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3
    assert store.connection.execute("SELECT COUNT(*) FROM review_claims").fetchone()[0] == 0
