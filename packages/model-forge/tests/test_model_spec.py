"""One model resolver: training, generation and the judge read a spec the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export.errors import ForgeError
from model_forge.cli import main
from model_forge.generation import load_backend
from model_forge.model_spec import local_model_folder, resolve_model
from model_forge.tiny_model import save_tiny

NOT_A_MODEL = "not a model folder (no config.json or adapter_config.json)"


def test_specs_resolve_to_their_kind(tmp_path: Path) -> None:
    save_tiny(tmp_path / "m")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "adapter_config.json").write_text("{}")
    assert resolve_model("bundled").kind == "bundled"
    assert resolve_model(" tiny ").kind == "tiny"
    assert resolve_model("openai:gpt-4o-mini").name == "gpt-4o-mini"
    assert resolve_model(str(tmp_path / "m")).kind == "folder"
    assert resolve_model(str(tmp_path / "a")).kind == "adapter"


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        (
            "nope",
            "unknown model 'nope': use 'anthropic:MODEL', 'bundled', 'mock:NAME', 'openai:MODEL', 'tiny', 'vllm:MODEL' or a local",
        ),
        ("", "unknown model ''"),
        ("openai:", "model spec 'openai:' needs a model name, e.g. openai:gpt-4o-mini"),
        ("EMPTY", NOT_A_MODEL),
    ],
)
def test_training_and_generation_give_the_same_line(spec: str, line: str, tmp_path: Path) -> None:
    spec = str(tmp_path) if spec == "EMPTY" else spec
    with pytest.raises(ForgeError) as trained:
        local_model_folder(spec, tmp_path / "work")
    with pytest.raises(ForgeError) as generated:
        load_backend(spec)
    assert line in str(trained.value) and str(trained.value) == str(generated.value)
    assert "\n" not in str(trained.value)


def test_a_server_model_cannot_be_trained(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="'openai:gpt-4o' cannot be fine-tuned here"):
        local_model_folder("openai:gpt-4o", tmp_path)


def test_the_tiny_base_is_written_once_for_training(tmp_path: Path) -> None:
    folder = local_model_folder("tiny", tmp_path)
    assert folder == (tmp_path / "tiny-base").resolve() and (folder / "config.json").is_file()
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert local_model_folder("tiny", tmp_path) == folder
    assert (folder / "config.json").stat().st_mtime_ns == stamp


def test_the_judge_cli_reports_the_resolver_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"prompt": "hi", "response": "hello", "expected_behavior": "comply"}) + "\n"
    )
    res = CliRunner().invoke(main, ["judge", str(src), "--judge", str(tmp_path)])
    assert res.exit_code != 0 and NOT_A_MODEL in res.output and "Traceback" not in res.output
