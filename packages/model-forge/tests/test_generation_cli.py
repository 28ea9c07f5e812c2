"""``model-forge generate`` and ``model-forge models``: real CLI calls on the tiny model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export.exporters.huggingface import ExportOptions, export_dataset
from forge_export.models import Scenario
from forge_export.reader import load
from forge_export.synthetic import synthetic_bundles
from model_forge.cli import main

TINY = ["--model", "tiny", "--option", "init_std=0.2", "--max-new-tokens", "4"]


def write_scenarios(path: Path, n: int) -> list[Scenario]:
    ss = [
        Scenario(
            prompt=f"Question number {i}: how do I do thing {i}?",
            evaluation_target="harmful_code",
            success_criteria=["Declines"],
        )
        for i in range(n)
    ]
    path.write_text("".join(s.model_dump_json() + "\n" for s in ss))
    return ss


def read_lines(path: Path, latency: bool = True) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    if not latency:
        for line in lines:
            line.pop("latency_s")
    return lines


def read_lines_of(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.items() if k != "latency_s"} for r in lines]


def test_generate_from_jsonl_then_resume(tmp_path: Path) -> None:
    inp, out = tmp_path / "s.jsonl", tmp_path / "out" / "r.jsonl"
    ss = write_scenarios(inp, 5)
    runner = CliRunner()
    res = runner.invoke(
        main, ["generate", *TINY, "--input", str(inp), "--output", str(out), "--batch-size", "2"]
    )
    assert res.exit_code == 0, res.output
    lines = read_lines(out)
    assert [r["scenario_id"] for r in lines] == [s.id for s in ss]
    for r in lines:
        assert r["model_id"] == "forge/tiny-random-llama" and r["response"]
        assert r["tokens"]["completion"] == 4 and r["tokens"]["prompt"] > 0
        assert r["latency_s"] >= 0 and r["finish_reason"] == "length"

    # an interrupted run: one finished line kept, a torn one cut, the rest regenerated
    first = out.read_text().splitlines()[0]
    out.write_text(first + "\n" + '{"scenario_id": "abc", "resp')
    res = runner.invoke(main, ["generate", *TINY, "--input", str(inp), "--output", str(out)])
    assert res.exit_code == 0, res.output
    again = read_lines(out, latency=False)
    assert [r["scenario_id"] for r in again] == [s.id for s in ss]
    assert again == read_lines_of(lines)  # greedy: the resumed lines equal the first run's
    res = runner.invoke(main, ["generate", *TINY, "--input", str(inp), "--output", str(out)])
    assert res.exit_code == 0 and "nothing to do" in res.output
    assert read_lines(out, latency=False) == again


def test_generate_from_an_export_folder(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export_dataset(list(synthetic_bundles(12)), export, ExportOptions(test_size=0.5))
    expected = [json.loads(s)["id"] for s in load(export, "eval", "test")["scenario"]]
    assert expected
    out = tmp_path / "r.jsonl"
    res = CliRunner().invoke(main, ["generate", *TINY, "--input", str(export), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert [r["scenario_id"] for r in read_lines(out)] == expected


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    inp = tmp_path / "bad.jsonl"
    good = write_scenarios(tmp_path / "good.jsonl", 1)[0].model_dump_json()
    inp.write_text(good + "\n" + '{"prompt": "hi", "evaluation_target": "x"}\n')
    out = tmp_path / "r.jsonl"
    res = CliRunner().invoke(main, ["generate", *TINY, "--input", str(inp), "-o", str(out)])
    assert res.exit_code == 1
    assert f"{inp}:2: field 'success_criteria'" in res.output
    assert "Traceback" not in res.output and not out.exists()
    res = CliRunner().invoke(
        main,
        ["generate", "--model", "nope", "--input", str(tmp_path / "good.jsonl"), "-o", str(out)],
    )
    assert res.exit_code == 1 and "unknown model 'nope'" in res.output
    res = CliRunner().invoke(
        main,
        [
            "generate",
            *TINY,
            "--option",
            "oops",
            "--input",
            str(tmp_path / "good.jsonl"),
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 2 and "'--option': 'oops' is not KEY=VALUE" in res.output


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xff\xfe{}\n", ":1: not valid UTF-8 (byte 0xff at column 1)"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", ":1: JSON nested too deeply"),
        (b'"a string"\n', ":1: expected a JSON object (a scenario), got str"),
    ],
)
def test_undecodable_or_too_deep_scenarios_are_one_error(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(content)
    out = tmp_path / "r.jsonl"
    res = CliRunner().invoke(main, ["generate", *TINY, "--input", str(inp), "-o", str(out)])
    assert res.exit_code == 1 and res.output.startswith("Error: "), res.output
    assert f"{inp}{fragment}" in res.output and not out.exists()


def test_models_lists_backends_and_bundled_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_FORGE_CACHE", str(tmp_path / "cache"))
    res = CliRunner().invoke(main, ["models", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert {b["spec"] for b in info["backends"]} == {
        "bundled",
        "tiny",
        "openai:MODEL",
        "anthropic:MODEL",
        "mock:NAME",
        "vllm:MODEL",
        "PATH",
    }
    bundled = info["bundled"]
    assert bundled["gguf"].endswith(".gguf") and Path(bundled["gguf"]).is_file()
    assert bundled["cached"] is False
    assert bundled["cache_path"] == str(tmp_path / "cache" / "smollm2-135m-instruct-0.1.2")
    text = CliRunner().invoke(main, ["models"])
    assert text.exit_code == 0 and "converted    no" in text.output


def test_help_is_fast_and_has_examples() -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, model_forge.cli as c; sys.argv=['model-forge','generate','--help'];"
            "c.main(); ",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Examples:" in res.stdout and "--batch-size" in res.stdout
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; import model_forge.cli.generate, model_forge.cli.models; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.stdout.strip() == "False False"
