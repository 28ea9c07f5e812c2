"""The interactive review flow: one scenario at a time, single-letter answers, undo.

Input is read line by line from the terminal (or a pipe) as bytes and decoded as UTF-8; a
line that is not UTF-8 is refused and asked again, so nothing undecodable reaches the store.
Every answered scenario is committed at once (:func:`~scenario_forge.review.decisions.apply_answer`);
quitting, Ctrl-C or a closed terminal lose at most the answer on screen, and the claim on it is
given back (or, if the process is killed, expires).
"""

from __future__ import annotations

import os
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import click
from forge_export import Completion, Scenario

from scenario_forge.review.decisions import (
    Answer,
    AppliedAnswer,
    apply_answer,
    clean_text,
    undo_answer,
)
from scenario_forge.terminal import visible

if TYPE_CHECKING:
    from scenario_forge.review.claims import ReviewQueue
    from scenario_forge.store import ScenarioStore

SCISSORS = "# ------------------------ >8 ------------------------"
RATINGS = {0: "unusable", 1: "poor", 2: "good", 3: "excellent"}

HELP = """\
Type a letter or number, then Enter:
  0-3  rate the scenario: 0 unusable, 1 poor, 2 good, 3 excellent. Text after the number
       is kept as a note, e.g. "1 the prompt is ambiguous".
  s    skip this scenario (it goes back to the queue; you will not see it again this session)
  u    undo your last answer (its rating, response and decisions) and show it again
  q    quit (the scenario on screen is not saved; everything answered before is)
  ?    this help
After a rating of 2 or 3, for each completion: a accept, e edit, r reject, Enter leave as is.
If you accept or edit none, you are asked for the ideal response: end it with a line holding
a single ".", or type ".." alone to go back to the rating."""


class _Back(Exception):
    """The reviewer asked to go back to the rating prompt."""


class _Quit(Exception):
    """The reviewer asked to quit from a sub-prompt."""


class Terminal:
    """Line-based prompts over the binary stdin, strict UTF-8, optional ``$EDITOR``.

    Args:
        use_editor: Open ``$VISUAL``/``$EDITOR`` (when set) for responses.
        stdin: The byte stream to read (default: the process's stdin).
    """

    def __init__(self, *, use_editor: bool = True, stdin: BinaryIO | None = None) -> None:
        self.stdin: BinaryIO = stdin if stdin is not None else sys.stdin.buffer
        try:  # piped answers are echoed, so a scripted session reads like a typed one
            self.echo_input = not self.stdin.isatty()
        except (AttributeError, ValueError):
            self.echo_input = True
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        self.editor = editor if use_editor and editor else None

    def say(self, text: str = "", *, nl: bool = True) -> None:
        """Print to stdout."""
        click.echo(text, nl=nl)

    def _read(self, prompt: str) -> str | None:
        if prompt:
            click.echo(prompt, nl=False)
        data = self.stdin.readline()
        if not data:
            if prompt and self.echo_input:
                click.echo()
            raise EOFError
        if prompt and self.echo_input:
            click.echo(clean_text(data.decode("utf-8", "replace").rstrip("\r\n")))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.say("That input is not valid UTF-8 text; please type it again.")
            return None
        return text.rstrip("\r\n")

    def line(self, prompt: str) -> str:
        """One line of valid UTF-8 (asked again until it is)."""
        while True:
            text = self._read(prompt)
            if text is not None:
                return text

    def command(self, prompt: str, help_text: str) -> tuple[str, str, str]:
        """The next non-empty line as ``(text, key, rest)``; ``?``/``h``/``help`` print
        ``help_text`` and ask again. ``key`` is the first word, lower-cased."""
        while True:
            text = self.line(prompt).strip()
            if not text:
                continue
            key, _, rest = text.partition(" ")
            key = key.lower()
            if key in ("?", "h", "help"):
                self.say(help_text)
                continue
            return text, key, rest

    def multiline(self, intro: str) -> str:
        """Lines until one holding a single ``.``; ``..`` alone raises :class:`_Back`."""
        self.say(intro)
        lines: list[str] = []
        while True:
            text = self._read("| ")
            if text is None:
                continue
            if text.strip() == ".":
                return "\n".join(lines)
            if text.strip() == "..":
                raise _Back
            lines.append(text)

    def edit(self, text: str, instructions: list[str]) -> str:
        """Open the editor on ``text``; returns what is above the scissors line ('' if unsaved).

        Raises:
            click.ClickException: the editor could not be run.
        """
        body = (text + "\n" if text else "\n") + "\n" + SCISSORS + "\n"
        body += "\n".join(f"# {line}" for line in instructions) + "\n"
        try:
            result = click.edit(body, editor=self.editor, extension=".md", require_save=True)
        except UnicodeDecodeError:
            self.say("The editor saved text that is not valid UTF-8; please try again.")
            return ""
        if result is None:
            return ""
        kept: list[str] = []
        for line in result.split("\n"):
            if line.rstrip() == SCISSORS:
                break
            kept.append(line)
        return "\n".join(kept)


Outcome = Answer | Literal["skip", "undo", "quit"]


@dataclass
class SessionResult:
    """What one review session did."""

    reviewer: str
    answered: int = 0
    skipped: int = 0
    undone: int = 0
    stopped: str = "done"
    per_target: dict[str, int] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def _indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text, prefix, lambda _line: True)


def render_scenario(scenario: Scenario, completions: list[Completion]) -> str:
    """The scenario as the reviewer sees it (control characters made visible)."""
    s = scenario
    out = [
        f"=== scenario {s.id} ===",
        f"Target:    {s.evaluation_target}    Expected behaviour: {s.expected_behavior}",
        f"Source:    {s.source.kind}{' (' + s.source.origin + ')' if s.source.origin else ''}",
        "Success criteria:",
        *(f"  - {c}" for c in s.success_criteria),
    ]
    if s.system:
        out += ["System:", _indent(s.system)]
    if s.context:
        out.append("Earlier turns:")
        for t in s.context:
            out += [f"  {t.role}:", _indent(t.content, "      ")]
    out += ["Prompt:", _indent(s.prompt)]
    if completions:
        out.append("Completions:")
        for i, c in enumerate(completions, 1):
            who = f" by {', '.join(c.validated_by)}" if c.validated_by else ""
            out.append(f"  [{i}] {c.source} · {c.origin or '-'} · {c.status}{who}")
            out.append(_indent(c.text, "      "))
    else:
        out.append("Completions: none yet")
    return visible("\n".join(out))


class ReviewSession:
    """Runs the interactive flow for one reviewer.

    Args:
        store: The store, opened with ``actor=reviewer``.
        queue: Hands out scenarios with a lease.
        term: Where prompts go and answers come from.
    """

    def __init__(self, store: ScenarioStore, queue: ReviewQueue, term: Terminal) -> None:
        self.store = store
        self.queue = queue
        self.term = term
        self.reviewer = queue.reviewer
        self.history: list[AppliedAnswer] = []
        self.skipped: list[str] = []
        self.held: set[str] = set()
        self.result = SessionResult(reviewer=self.reviewer)

    # ------------------------------------------------------------------ main loop

    def run(self) -> SessionResult:
        """Review until the queue is empty, the reviewer quits, or input ends.

        Raises:
            KeyboardInterrupt: after giving back the claims of this session.
        """
        say = self.term.say
        say(f"Reviewing as {self.reviewer}. Type ? for help.")
        pending: str | None = None
        try:
            while True:
                if pending is not None:
                    sid: str | None = pending
                    pending = None
                else:
                    sid = self.queue.claim_next(exclude=self.skipped)
                if sid is None:
                    say("Nothing left to review with these filters.")
                    break
                self.held.add(sid)
                outcome = self._one(sid)
                if outcome == "quit":
                    self.result.stopped = "quit"
                    break
                if outcome == "skip":
                    self.queue.release(sid)
                    self.held.discard(sid)
                    self.skipped.append(sid)
                    self.result.skipped += 1
                elif outcome == "undo":
                    pending = self._undo(sid)
                else:
                    assert isinstance(outcome, Answer)
                    self._save(outcome)
        except EOFError:
            say("")
            say("End of input: stopping (the scenario on screen was not saved).")
            self.result.stopped = "eof"
        finally:
            self.queue.release(sorted(self.held))
            self.held.clear()
        return self.result

    def _save(self, answer: Answer) -> None:
        if self.queue.expires_at(answer.scenario_id) is None:
            self.term.say("(Your lease on this scenario had expired; saving your answer anyway.)")
        applied = apply_answer(self.store, answer)
        self.held.discard(answer.scenario_id)
        self.history.append(applied)
        scenario = self.store.get_scenario(answer.scenario_id)
        target = scenario.evaluation_target if scenario else "?"
        self.result.answered += 1
        self.result.per_target[target] = self.result.per_target.get(target, 0) + 1
        self.result.answers.append(applied.to_dict())
        bits = [f"rating {applied.rating}"]
        if applied.created:
            bits.append(f"{len(applied.created)} response(s) written")
        for d in ("accept", "reject"):
            n = sum(v == d for v in applied.decided.values())
            if n:
                bits.append(f"{n} {d}ed")
        self.term.say(f"Saved: {', '.join(bits)}.")

    def _undo(self, current: str) -> str:
        if not self.history:
            self.term.say("Nothing to undo in this session.")
            return current
        last = self.history.pop()
        # one transaction: nobody can claim the scenario between the undo and her claim
        with self.store.transaction():
            undo_answer(self.store, last)
            self.queue.claim(last.scenario_id)
        self.held.add(last.scenario_id)
        self.result.answered -= 1
        self.result.undone += 1
        scenario = self.store.get_scenario(last.scenario_id)
        target = scenario.evaluation_target if scenario else "?"
        self.result.per_target[target] = self.result.per_target.get(target, 1) - 1
        self.result.answers = [a for a in self.result.answers if a["audit_id"] != last.audit_id]
        self.term.say(f"Undone: your answer to {last.scenario_id} (rating {last.rating}).")
        return last.scenario_id

    # ------------------------------------------------------------------ one scenario

    def _progress(self, scenario: Scenario) -> str:
        target = scenario.evaluation_target
        return (
            f"[{self.result.answered} reviewed this session · {self.queue.waiting()} waiting] "
            f"{target}: {self.result.per_target.get(target, 0)} reviewed · "
            f"{self.queue.waiting(target)} waiting"
        )

    def _one(self, sid: str) -> Outcome:
        scenario = self.store.get_scenario(sid)
        if scenario is None:  # deleted meanwhile
            return "skip"
        completions = self.store.completions_for(sid)
        self.term.say("")
        self.term.say(self._progress(scenario))
        self.term.say(render_scenario(scenario, completions))
        while True:
            text, key, rest = self.term.command(
                "Rate 0-3 (+ note), s skip, u undo, q quit, ? help > ", HELP
            )
            if key in ("s", "skip"):
                return "skip"
            if key in ("u", "undo"):
                return "undo"
            if key in ("q", "quit"):
                return "quit"
            if not (key.isdigit() and key.isascii() and len(key) <= 4) or int(key) not in RATINGS:
                self.term.say(
                    f"{text[:20]!r} is not an answer: type 0, 1, 2 or 3 (a rating), s, u, q or ?."
                )
                continue
            rating = int(key)
            self.queue.renew(sid)
            try:
                return self._details(scenario, completions, rating, clean_text(rest))
            except _Back:
                self.term.say("Back to the rating; nothing saved for this scenario yet.")
                continue
            except _Quit:
                return "quit"

    def _details(
        self, scenario: Scenario, completions: list[Completion], rating: int, note: str
    ) -> Answer:
        answer = Answer(scenario.id, self.reviewer, rating, note=note)
        if rating < 2:
            return answer
        asked = [c for c in completions if not (c.source == "human" and c.origin == self.reviewer)]
        for c in asked:
            label = f"[{completions.index(c) + 1}] {c.source} · {c.origin or '-'} ({c.status})"
            while True:
                key = self.term.line(
                    f"Completion {label}: a accept, e edit, r reject, Enter leave, q quit > "
                )
                key = key.strip().lower()
                if key in ("", "l", "leave"):
                    break
                if key in ("a", "accept"):
                    answer.decisions[c.id] = "accept"
                    break
                if key in ("r", "reject"):
                    answer.decisions[c.id] = "reject"
                    break
                if key in ("e", "edit"):
                    edited = self._response(
                        scenario, c.text, "Edit the response; end with a line holding a single '.'"
                    )
                    if edited == clean_text(c.text):
                        self.term.say("Unchanged: counted as accepted.")
                        answer.decisions[c.id] = "accept"
                    else:
                        answer.edits[c.id] = edited
                    break
                if key in ("q", "quit"):
                    raise _Quit
                self.term.say(f"{key[:20]!r}: type a, e, r, q or just Enter.")
            self.queue.renew(scenario.id)
        if not any(d == "accept" for d in answer.decisions.values()) and not answer.edits:
            answer.ideal_response = self._response(
                scenario,
                "",
                f"Rating {rating}: write the ideal response; end with a line holding a single "
                "'.' ('..' alone goes back to the rating)",
            )
        return answer

    def _response(self, scenario: Scenario, start: str, intro: str) -> str:
        """A non-empty response, from the editor or typed lines; asks again while empty."""
        instructions = [
            "Write the response above the scissors line; everything below it is ignored.",
            "Save and close the editor to continue; an empty response asks again.",
            "",
            f"Target: {scenario.evaluation_target} · expected: {scenario.expected_behavior}",
            "Criteria:",
            *(f"  - {c}" for c in scenario.success_criteria),
            "Prompt:",
            *(f"  {line}" for line in scenario.prompt.splitlines()),
        ]
        while True:
            if self.term.editor:
                try:
                    text = clean_text(self.term.edit(start, instructions))
                except click.ClickException as exc:
                    self.term.say(f"{exc.format_message()}; type the response here instead.")
                    self.term.editor = None
                    continue
                if text:
                    return text
                again = self.term.line(
                    "The response is empty. Enter opens the editor again, '..' goes back > "
                )
                if again.strip() == "..":
                    raise _Back
                continue
            text = clean_text(self.term.multiline(intro))
            if text:
                return text
            self.term.say("The response is empty: a rating of 2 or 3 needs one. Type it again.")
