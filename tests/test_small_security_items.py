"""The smaller items of issue 29, one test each: a damaged model folder is one line, NaN and
Infinity in imported JSON are refused, the overwrite hint names ``--overwrite``, and
``serve --port 0`` prints the port it got. (Account names: ``test_web_login.py``; the target
filter: ``test_web_errors.py``; the redacted URL's colon: ``test_store_url_redaction.py``.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from forge_export.errors import ForgeError
from model_forge.cli import main as model_main
from model_forge.generation import load_backend
from model_forge.tiny_model import save_tiny
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore

BIN = Path(sys.executable).parent


def _one_error(res: Result, *words: str) -> str:
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output, res.output[-2000:]
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, res.output[-2000:]
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


def _random_weights(folder: Path) -> None:
    weights = folder / "model.safetensors"
    weights.write_bytes(os.urandom(weights.stat().st_size))


def _negative_hidden_size(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["hidden_size"] = -5
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("damage", "says"),
    [(_random_weights, "header"), (_negative_hidden_size, "hidden size (-5)")],
)
def test_a_damaged_model_folder_is_one_line(tmp_path: Path, damage: object, says: str) -> None:
    folder = tmp_path / "model"
    save_tiny(folder)
    damage(folder)  # type: ignore[operator]
    with pytest.raises(ForgeError) as info:
        load_backend(str(folder))
    line = str(info.value)
    assert "\n" not in line and str(folder) in line and says in line, line
    assert "save_pretrained" in line
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "hi", "response": "ok", "expected_behavior": "comply"}))
    res = CliRunner().invoke(model_main, ["judge", str(src), "--judge", str(folder)])
    _one_error(res, str(folder), says)


@pytest.mark.parametrize(
    ("name", "content", "where", "token", "stored"),
    [
        ("nan.jsonl", '{"prompt": "a", "metadata": {"score": NaN}}\n', "nan.jsonl:1", "NaN", 0),
        (
            "inf.jsonl",
            '{"prompt": "b"}\n{"prompt": "a", "metadata": {"s": -Infinity}}\n',
            "inf.jsonl:2",
            "-Infinity",
            1,  # the good first row
        ),
        ("inf.yaml", "- prompt: a\n  metadata:\n    score: .inf\n", "inf.yaml:3", ".inf", 0),
        ("tags.csv", 'prompt,tags\na,"[""x"", NaN]"\n', "tags.csv:2", "NaN", 0),
    ],
)
def test_nan_and_infinity_in_imported_json_are_refused(
    tmp_path: Path, name: str, content: str, where: str, token: str, stored: int
) -> None:
    db = tmp_path / "forge.db"
    f = tmp_path / name
    f.write_text(content)
    res = CliRunner().invoke(main, ["import", str(f), "--target", "harmful_code", "--db", str(db)])
    assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    assert where in res.output and token in res.output and "null" in res.output, res.output
    with ScenarioStore.open(db) as store:
        assert store.count_scenarios() == stored
        assert all(s.metadata == {} for s in store.iter_scenarios())  # no null in its place


def test_a_report_with_nan_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"schema_version": "1.1", "model_id": "m", "results": [], "score": NaN}')
    res = CliRunner().invoke(main, ["import-report", str(report), "--db", str(tmp_path / "f.db")])
    _one_error(res, "report.json", "NaN")


def test_the_overwrite_hint_names_the_option(tmp_path: Path) -> None:
    db, out = tmp_path / "forge.db", tmp_path / "out"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["generate", "-t", "harmful_code", "--count", "2", "--db", str(db)]
        ).exit_code
        == 0
    )
    assert runner.invoke(main, ["export", str(out), "--db", str(db)]).exit_code == 0
    line = _one_error(runner.invoke(main, ["export", str(out), "--db", str(db)]), "--overwrite")
    assert "pass overwrite" not in line
    assert runner.invoke(main, ["export", str(out), "--overwrite", "--db", str(db)]).exit_code == 0


def test_serve_on_port_0_prints_the_port_it_got(tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    proc = subprocess.Popen(
        [str(BIN / "scenario-forge"), "serve", "--port", "0", "--db", str(db)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # printed once the socket is bound
        got = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert got and int(got.group(1)) != 0, line
        with urllib.request.urlopen(f"http://127.0.0.1:{got.group(1)}/login") as page:
            assert page.status == 200 and b"Sign in" in page.read()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
