"""Every fenced ``bash`` and ``python`` block of README.md and docs/*.md runs, so docs never rot.

One test per Markdown file. Its blocks run in document order in one fresh temporary folder
(the *session*): bash blocks with ``bash -e -o pipefail`` (exported variables carry over to the
next block), python blocks with ``exec`` in one namespace per file, with that folder as the
working directory. The environment is the test session's (HF offline, temporary HF_HOME) with
this workspace's console scripts first on PATH and no ``$SCENARIO_FORGE_DB``, so every command
uses a store in the session folder (nor ``$EDITOR``/``$VISUAL``/``$SCENARIO_FORGE_REVIEWER``).

Markers — an HTML comment on the lines just before a block, visible in the Markdown source:

* ``<!-- docs-test: skip (REASON) -->``: not run. Keep these few; each needs a reason.
* ``<!-- docs-test: replace `OLD` `NEW` (REASON) -->``: run the block with OLD replaced by NEW
  (e.g. the 15-minute main job by its ``--quick`` form). OLD must occur in the block.
* ``<!-- docs-test: save-as FILE -->``: write the block to FILE in the session folder instead
  of running it (a later block runs the file).

A bash line ending in ``; echo "exit status $?"`` shows its exit status on purpose: it may
fail. Any other failing command fails the test, naming the file, the block's line and output.

``docs/contract.md`` is run by ``tests/test_export_docs.py`` (its own ``# not run in tests``
first lines mark its skips), so it is not run twice here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DELEGATED = {"contract.md": "tests/test_export_docs.py"}
MAX_SKIPS = 11
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->", re.S)
EXIT_STATUS = re.compile(r'^(?P<cmd>.+?);\s*echo "exit status \$\?"\s*$')


@dataclass
class Block:
    """One fenced block and its markers."""

    doc: Path
    line: int
    lang: str
    code: str
    markers: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    def skip_reason(self) -> str | None:
        for m in self.markers:
            if m.startswith("skip"):
                return m
        return None

    def runnable_code(self) -> str:
        code = self.code
        for m in self.markers:
            if m.startswith("replace"):
                got = re.match(r"replace\s+`([^`]+)`\s+`([^`]*)`\s*\(.+\)$", m, re.S)
                assert got, f"{self.where}: write replace `OLD` `NEW` (reason): {m!r}"
                old, new = got.groups()
                assert old in code, f"{self.where}: stale marker, {old!r} is not in the block"
                code = code.replace(old, new)
        return code

    def save_as(self) -> str | None:
        for m in self.markers:
            if m.startswith("save-as"):
                return m.split()[1]
        return None


def docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        lang = m.group(1)
        if lang not in ("bash", "python", "sh", "shell"):
            continue
        before = text[: m.start()].rstrip()
        markers: list[str] = []
        # the comments directly above the fence (blank lines allowed between them)
        while before.endswith("-->"):
            start = before.rfind("<!--")
            found = MARKER.fullmatch(before[start:])
            if not found:
                break
            markers.insert(0, " ".join(found.group(1).split()))
            before = before[:start].rstrip()
        line = text[: m.start()].count("\n") + 1
        out.append(Block(doc, line, "bash" if lang != "python" else "python", m.group(2), markers))
    return out


def _bash_script(code: str) -> str:
    lines = []
    for line in code.splitlines():
        got = EXIT_STATUS.match(line)
        if got:
            line = f'set +e; {got.group("cmd")}; echo "exit status $?"; set -e'
        lines.append(line)
    return "\n".join(lines)


class Session:
    """The folder, environment and Python namespace shared by one file's blocks."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = folder / ".docs-test-env.sh"
        self.state.write_text("")
        env = dict(os.environ)
        env.pop("SCENARIO_FORGE_DB", None)
        env.pop("SCENARIO_FORGE_TAXONOMY", None)
        for name in ("EDITOR", "VISUAL", "SCENARIO_FORGE_REVIEWER"):  # the reader's own settings
            env.pop(name, None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["HF_HUB_OFFLINE"] = "1"
        env["HF_HOME"] = str(folder / ".hf")
        env["HF_DATASETS_CACHE"] = str(folder / ".hf" / "datasets")
        env["MPLBACKEND"] = "Agg"
        self.env = env
        self.namespace: dict[str, object] = {"__name__": "__docs__"}

    def run_bash(self, block: Block) -> None:
        script = (
            f"source {self.state}\nset -e -o pipefail\n"
            f"{_bash_script(block.runnable_code())}\n"
            f"export -p > {self.state}\n"
        )
        proc = subprocess.run(
            ["bash", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=400,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"{block.where}: bash block failed (exit {proc.returncode})\n"
                f"--- block ---\n{block.runnable_code()}\n--- stdout ---\n{proc.stdout[-3000:]}"
                f"\n--- stderr ---\n{proc.stderr[-3000:]}",
                pytrace=False,
            )

    def run_python(self, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
        for key in list(os.environ):
            if key not in self.env:
                monkeypatch.delenv(key)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(self.folder)
        code = compile(block.runnable_code(), block.where, "exec")
        try:
            exec(code, self.namespace)  # noqa: S102
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{block.where}: python block failed: {exc!r}", pytrace=True)


@pytest.mark.parametrize("doc", docs(), ids=lambda p: p.name)
def test_doc_blocks_run(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if doc.name in DELEGATED:
        runner = ROOT / DELEGATED[doc.name]
        assert doc.name in runner.read_text(), f"{runner} no longer runs {doc.name}"
        pytest.skip(f"{doc.name} is run by {DELEGATED[doc.name]}")
    todo = blocks(doc)
    if not todo:
        pytest.skip(f"{doc.name} has no bash/python blocks")
    session = Session(tmp_path)
    ran = 0
    for block in todo:
        if block.skip_reason():
            continue
        name = block.save_as()
        if name:
            (tmp_path / name).write_text(block.code, encoding="utf-8")
        elif block.lang == "bash":
            session.run_bash(block)
        else:
            session.run_python(block, monkeypatch)
        ran += 1
    if not ran:
        pytest.skip(f"{doc.name}: every block is marked skip (reasons in its markers)")


def test_markers_are_few_and_explained() -> None:
    skips = []
    for doc in docs():
        for block in blocks(doc):
            for m in block.markers:
                assert re.match(r"(skip|replace|save-as)\b", m), f"{block.where}: unknown {m!r}"
                if m.startswith(("skip", "replace")):
                    assert re.search(r"\(.+\)$", m), f"{block.where}: give a (reason): {m!r}"
            if block.skip_reason():
                skips.append(block.where)
    assert len(skips) <= MAX_SKIPS, skips


def test_exit_status_rule() -> None:
    script = _bash_script('false; echo "exit status $?"\necho after')
    proc = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "exit status 1\nafter\n"
    proc = subprocess.run(["bash", "-e", "-c", _bash_script("false\necho after")], text=True)
    assert proc.returncode == 1
