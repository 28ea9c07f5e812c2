"""Fuzzing every input path: arbitrary bytes, deep nesting, huge fields, wrong encodings.

Each input goes through the real CLI (``click.testing.CliRunner``) or the real reader: the
outcome must be a clean import or a clear one-line error (``Error: ...`` / ``rejected: ...``,
exit 1 or 2), never a traceback, and a refused file must leave the store unchanged (nothing
half-written). YAML must never construct Python objects.

``FORGE_FUZZ_EXAMPLES`` sets the hypothesis examples per test (default 25; nightly: 2000).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from forge_export import ForgeError
from forge_export.manifest import read_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_forge.cli import main

EXAMPLES = int(os.environ.get("FORGE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
DEEP = 100_000

# Building blocks of hostile files: valid-looking fragments mixed with garbage.
FRAGMENTS = [
    b'{"prompt": "hi", "evaluation_target": "harmful_code"}',
    b'{"prompt": ',
    b'"evaluation_target": "nope"',
    b"prompt,evaluation_target,tags\n",
    b'"unterminated,',
    b"- prompt: x\n  evaluation_target: harmful_code\n",
    b"!!python/object/apply:os.system ['echo pwned']",
    b"&a [*a]",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x00",
    b"[" * 50,
    b"{" * 50,
    b'"\\ud800"',
    b"\r\n",
    b"\n",
    b"targets:\n  - name: Bad Name\n",
    "ünïcødé ✓ 🚀".encode(),
    "日本語".encode("shift_jis"),
    "caf\xe9".encode("latin-1"),
]
hostile_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(b"".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=20)), max_size=8).map(
        b"".join
    ),
)


def _no_traceback(res: Result) -> None:
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"crashed: {res.exception!r}\n{res.output}") from res.exception
    assert "Traceback" not in res.output, res.output
    assert res.exit_code in (0, 1, 2), (res.exit_code, res.output)
    if res.exit_code:
        assert res.output.strip(), "a failure must say why"


def _counts(db: Path) -> tuple[int, int, int]:
    if not db.exists():
        return (0, 0, 0)
    conn = sqlite3.connect(db)
    try:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("scenarios", "completions", "reviews")
        )
    finally:
        conn.close()


@pytest.fixture
def store_db(tmp_path: Path) -> Path:
    db = tmp_path / "forge.db"
    res = CliRunner().invoke(
        main,
        ["generate", "--target", "harmful_code", "--count", "3"],
        env={"SCENARIO_FORGE_DB": str(db)},
    )
    assert res.exit_code == 0, res.output
    return db


def _invoke(db: Path, args: list[str]) -> Result:
    return CliRunner().invoke(main, args, env={"SCENARIO_FORGE_DB": str(db)})


@pytest.mark.parametrize("ext", ["jsonl", "csv", "yaml"])
@FUZZ
@given(data=hostile_bytes)
def test_import_any_bytes(store_db: Path, tmp_path: Path, ext: str, data: bytes) -> None:
    f = tmp_path / f"in.{ext}"
    f.write_bytes(data)
    before = _counts(store_db)
    res = _invoke(store_db, ["import", str(f), "--target", "harmful_code", "--json"])
    _no_traceback(res)
    after = _counts(store_db)
    if res.exit_code == 1:
        assert after == before, "a refused file changed the store"
    else:
        summary = json.loads(res.stdout)
        assert after[0] == before[0] + summary["added"]


@FUZZ
@given(data=hostile_bytes)
def test_taxonomy_any_bytes(tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "team.yaml"
    f.write_bytes(data)
    res = _invoke(tmp_path / "unused.db", ["targets", "--taxonomy", str(f)])
    _no_traceback(res)


@FUZZ
@given(data=hostile_bytes, use_sid=st.booleans())
def test_review_batch_import_any_bytes(
    store_db: Path, tmp_path: Path, data: bytes, use_sid: bool
) -> None:
    sid = sqlite3.connect(store_db).execute("SELECT id FROM scenarios LIMIT 1").fetchone()[0]
    if use_sid:  # a structurally valid row next to the garbage
        data = (
            json.dumps({"scenario_id": sid, "reviewer": "fz", "rating": 1}).encode() + b"\n" + data
        )
    f = tmp_path / "answers.jsonl"
    f.write_bytes(data)
    before = _counts(store_db)
    res = _invoke(store_db, ["review", "import", str(f), "--json"])
    _no_traceback(res)
    after = _counts(store_db)
    if res.exit_code == 1:
        assert after == before
    else:
        assert after[2] == before[2] + json.loads(res.stdout)["applied"]
    # undo for the next example: the same reviewer may rate a scenario only once
    sqlite3.connect(store_db, isolation_level=None).execute("DELETE FROM reviews")


@FUZZ
@given(data=hostile_bytes)
def test_import_report_any_bytes(store_db: Path, tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "report.json"
    f.write_bytes(data)
    before = _counts(store_db)
    res = _invoke(store_db, ["import-report", str(f)])
    _no_traceback(res)
    if res.exit_code:
        assert _counts(store_db) == before


@FUZZ
@given(data=hostile_bytes)
def test_model_forge_judge_any_bytes(tmp_path: Path, data: bytes) -> None:
    from model_forge.cli import main as model_forge

    f = tmp_path / "in.jsonl"
    f.write_bytes(data)
    out = tmp_path / "judged.jsonl"
    out.unlink(missing_ok=True)
    res = CliRunner().invoke(model_forge, ["judge", str(f), "-o", str(out)])
    _no_traceback(res)
    if res.exit_code:
        assert not out.exists()


@FUZZ
@given(data=hostile_bytes)
def test_model_forge_generate_input_any_bytes(tmp_path: Path, data: bytes) -> None:
    """Scenario files for ``model-forge generate`` (read before any model is loaded)."""
    from model_forge.cli.generate import read_scenarios_jsonl

    f = tmp_path / "scenarios.jsonl"
    f.write_bytes(data)
    try:
        read_scenarios_jsonl(f)
    except ForgeError as exc:
        assert str(exc).startswith(str(f)), exc  # names the file (and line)


@FUZZ
@given(data=hostile_bytes)
def test_model_forge_compare_any_bytes(tmp_path: Path, data: bytes) -> None:
    from model_forge.cli import main as model_forge

    f = tmp_path / "report.json"
    f.write_bytes(data)
    _no_traceback(CliRunner().invoke(model_forge, ["compare", str(f), str(f)]))


@FUZZ
@given(data=hostile_bytes)
def test_manifest_reader_any_bytes(tmp_path: Path, data: bytes) -> None:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_bytes(data)
    try:
        read_manifest(folder)
    except ForgeError as exc:
        assert str(exc).strip() and "\n" not in str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
scenario_keys = st.sampled_from(
    [
        "prompt",
        "evaluation_target",
        "success_criteria",
        "expected_behavior",
        "system",
        "tags",
        "group_id",
        "context",
        "metadata",
        "id",
        "source",
        "extra",
    ]
)


@FUZZ
@given(rows=st.lists(st.dictionaries(scenario_keys, json_values, max_size=8), max_size=5))
def test_import_structured_garbage(store_db: Path, tmp_path: Path, rows: list[dict]) -> None:
    """JSON rows with the right keys and arbitrary values: each row imported or rejected."""
    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    before = _counts(store_db)
    res = _invoke(store_db, ["import", str(f), "--target", "harmful_code", "--json"])
    _no_traceback(res)
    summary = json.loads(res.stdout)
    assert summary["rows"] == len(rows)
    assert summary["valid"] + summary["rejected"] == len(rows)
    assert _counts(store_db)[0] == before[0] + summary["added"]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


HOSTILE_FILES = {
    "deep.jsonl": '{"prompt": "x", "tags": ' + _deep(DEEP) + "}\n",
    "deep_cell.csv": "prompt,tags\nhello," + _deep(DEEP) + "\n",
    "deep.yaml": "- " + _deep(5000) + "\n",
    "deep_meta.jsonl": '{"prompt": "x", "metadata": {"a": ' + _deep(600) + "}}\n",
    "object.yaml": "- !!python/object/apply:os.system ['touch PWNED']\n",
    "object2.yaml": "scenarios:\n  - prompt: !!python/name:os.system\n",
    "bomb.yaml": (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "scenarios: [{prompt: hi, tags: *e}]\n"
    ),
    "huge.jsonl": json.dumps({"prompt": "a" * 5_000_000}) + "\n",
    "many_columns.csv": "prompt\n" + ",".join(["x"] * 100_000) + "\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_import_hostile_files(
    store_db: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    f = tmp_path / name
    f.write_text(HOSTILE_FILES[name], encoding="utf-8")
    before = _counts(store_db)
    res = _invoke(store_db, ["import", str(f), "--target", "harmful_code", "--json"])
    _no_traceback(res)
    assert not (tmp_path / "PWNED").exists()
    if res.exit_code == 1:
        assert res.output.startswith("Error: ") and _counts(store_db) == before
    else:
        assert _counts(store_db)[0] == before[0] + json.loads(res.stdout)["added"]
    if name == "huge.jsonl":
        assert res.exit_code == 0 and json.loads(res.stdout)["added"] == 1
    if name.startswith("object"):
        assert res.exit_code in (1, 2) and "PWNED" not in res.output.split("Error")[0]


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("utf-16", "prompt\nhello\n"), ("latin-1", "prompt\ncafé\n"), ("cp1252", "prompt\n“x”\n")],
)
def test_wrong_encodings_named(store_db: Path, tmp_path: Path, encoding: str, text: str) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(text.encode(encoding))
    before = _counts(store_db)
    res = _invoke(store_db, ["import", str(f), "--target", "harmful_code"])
    _no_traceback(res)
    assert res.exit_code == 1 and "UTF-8" in res.output and _counts(store_db) == before


@pytest.mark.parametrize(
    ("command", "content"),
    [
        (["targets", "--taxonomy"], "targets: " + _deep(5000)),
        (
            ["import-report"],
            '{"schema_version": "1.0", "model_id": "m", "results": ' + _deep(DEEP) + "}",
        ),
        (
            ["import-report"],
            json.dumps(
                {
                    "schema_version": "1.0",
                    "model_id": "m",
                    "results": [
                        {
                            "scenario": {
                                "prompt": "p",
                                "evaluation_target": "harmful_code",
                                "success_criteria": ["c"],
                                "metadata": {"a": "DEEP"},
                            },
                            "response": "r",
                            "verdict": "fail",
                            "refused": False,
                            "judge": "rules",
                        }
                    ],
                }
            ).replace('"DEEP"', _deep(600)),
        ),
        (
            ["review", "import"],
            '{"scenario_id": "x", "reviewer": "r", "rating": 1, "decisions": '
            + _deep(DEEP)
            + "}\n",
        ),
    ],
)
def test_deep_nesting_other_inputs(
    store_db: Path, tmp_path: Path, command: list[str], content: str
) -> None:
    f = tmp_path / "input.txt"
    f.write_text(content, encoding="utf-8")
    before = _counts(store_db)
    res = _invoke(store_db, [*command, str(f)])
    _no_traceback(res)
    assert res.exit_code in (1, 2) and "deep" in res.output
    assert _counts(store_db) == before


def test_deep_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(_deep(DEEP), encoding="utf-8")
    with pytest.raises(ForgeError, match="manifest.json"):
        read_manifest(tmp_path)


# ---------------------------------------------------------------- size bombs (issue 17)

HUGE_INT = "9" * 5000  # beyond Python's 4,300-digit conversion limit
HUGE_HEX = "0x" + "f" * 5000  # YAML hex: no conversion limit, but 20,000 bits
HUGE_FLOAT = "1" * 5000 + ".5"


def _alias_bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    lines.append(f"scenarios: [{{prompt: hi, tags: *l{levels - 1}}}]")
    return "\n".join(lines) + "\n"


SIZE_BOMBS = {
    "bomb9.yaml": _alias_bomb(9),  # 400 bytes → 9^9 × 4 ≈ 1.5 GB once expanded
    "bomb12.yaml": _alias_bomb(12),
    "recursive.yaml": "scenarios: &a [{prompt: hi, tags: *a}]\n",
    "int.jsonl": '{"prompt": "x", "metadata": {"n": ' + HUGE_INT + "}}\n",
    "float.jsonl": '{"prompt": "x", "metadata": {"n": ' + HUGE_FLOAT + "}}\n",
    "inf.jsonl": '{"prompt": "x", "metadata": {"n": 1e999999}}\n',
    "int.yaml": f"- prompt: x\n  metadata: {{n: {HUGE_INT}}}\n",
    "hex.yaml": f"- prompt: x\n  metadata: {{n: {HUGE_HEX}}}\n",
    "float.yaml": f"- prompt: x\n  metadata: {{n: {HUGE_FLOAT}}}\n",
    "int_cell.csv": f"prompt,tags\nhello,[{HUGE_INT}]\n",
}


@pytest.mark.parametrize("name", sorted(SIZE_BOMBS))
def test_size_bombs_are_one_line_errors(store_db: Path, tmp_path: Path, name: str) -> None:
    import tracemalloc

    f = tmp_path / name
    f.write_text(SIZE_BOMBS[name], encoding="utf-8")
    before = _counts(store_db)
    tracemalloc.start()
    try:
        res = _invoke(store_db, ["import", str(f), "--target", "harmful_code", "--json"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _no_traceback(res)
    assert peak < 200 * 1024 * 1024, f"{peak / 1e6:.0f} MB used: the limit came too late"
    if name == "inf.jsonl":  # a float that overflows is no bomb: stored (as JSON null)
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code in (1, 2) and _counts(store_db) == before, res.output
    errors = [ln for ln in res.output.splitlines() if "Error" in ln or "rejected" in ln]
    assert errors and str(f.name) in res.output, res.output
    if name.startswith("bomb"):
        assert "alias" in res.output
    elif name.startswith("recursive"):
        assert "own anchor" in res.output
    else:
        assert "digits" in res.output


def _report_with(number: str) -> str:
    return '{"schema_version": "1.0", "model_id": "m", "n": ' + number + ', "results": []}'


@pytest.mark.parametrize(
    ("command", "content"),
    [
        (["targets", "--taxonomy"], f"targets:\n  - name: x\n    weight: {HUGE_INT}\n"),
        (["import-report"], _report_with(HUGE_INT)),
        (
            ["review", "import"],
            '{"scenario_id": "x", "reviewer": "r", "rating": ' + HUGE_INT + "}\n",
        ),
    ],
)
def test_huge_integers_in_other_inputs(
    store_db: Path, tmp_path: Path, command: list[str], content: str
) -> None:
    f = tmp_path / "input.txt"
    f.write_text(content, encoding="utf-8")
    before = _counts(store_db)
    res = _invoke(store_db, [*command, str(f)])
    _no_traceback(res)
    assert res.exit_code in (1, 2) and "digit" in res.output, res.output
    assert _counts(store_db) == before


@pytest.mark.parametrize("number", [HUGE_INT, HUGE_FLOAT])
def test_huge_numbers_in_model_forge_inputs(tmp_path: Path, number: str) -> None:
    from model_forge.cli import main as model_forge
    from model_forge.cli.generate import read_scenarios_jsonl

    row = '{"prompt": "p", "evaluation_target": "t", "success_criteria": ["c"], "x": ' + number
    f = tmp_path / "in.jsonl"
    f.write_text(row + "}\n", encoding="utf-8")
    out = tmp_path / "judged.jsonl"
    res = CliRunner().invoke(model_forge, ["judge", str(f), "-o", str(out)])
    _no_traceback(res)
    assert res.exit_code and not out.exists()
    with pytest.raises(ForgeError):
        read_scenarios_jsonl(f)
    report = tmp_path / "report.json"
    report.write_text(_report_with(number), encoding="utf-8")
    res = CliRunner().invoke(model_forge, ["compare", str(report), str(report)])
    _no_traceback(res)
    assert res.exit_code
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"schema_version": "1.0", "n": ' + number + "}")
    with pytest.raises(ForgeError, match="digits"):
        read_manifest(folder)
