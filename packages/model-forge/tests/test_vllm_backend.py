"""The vLLM backend (``vllm:MODEL``) where vLLM is not installed and there is no GPU.

vLLM is not a dependency (it pins its own torch) and this machine has no GPU, so these tests
run the backend's own parts for real: the one-line refusals (no vLLM; no GPU, with a stand-in
``vllm`` package that fails if anything imports it), the folder check, the option typing, and
the mapping of forge's requests to vLLM's sampling keywords and of vLLM's results (objects of
``vllm.RequestOutput``'s shape) to :class:`Generation`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner
from forge_export import registry
from forge_export.errors import ForgeError
from forge_export.models import Scenario
from model_forge.cli import main
from model_forge.generate_config import GenerateOptions
from model_forge.generation import SamplingParams, load_backend
from model_forge.generation.concurrency import backend_options, is_concurrent
from model_forge.generation.vllm_backend import (
    engine_kwargs,
    model_folder,
    require_cuda,
    sampling_kwargs,
    to_generation,
)
from model_forge.model_spec import resolve_model

VLLM_INSTALLED = importlib.util.find_spec("vllm") is not None
needs_no_vllm = pytest.mark.skipif(VLLM_INSTALLED, reason="vLLM is installed here")
needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")


def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_vllm_is_a_registered_backend_that_takes_a_model() -> None:
    assert registry.load("backend", "vllm").spec == "vllm:MODEL"
    assert resolve_model("vllm:runs/m").kind == "vllm"
    with pytest.raises(ForgeError, match="'vllm:' needs a model name"):
        resolve_model("vllm:")
    # an in-process engine, not a server: it takes no --concurrency
    assert not is_concurrent("vllm:runs/m")
    assert "max_concurrency" not in backend_options("vllm:runs/m", GenerateOptions())


@needs_no_vllm
def test_without_vllm_the_backend_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ForgeError) as info:
        load_backend(f"vllm:{model_dir(tmp_path)}")
    text = str(info.value)
    assert "needs vLLM, which is not installed" in text and "uv pip install vllm" in text
    assert "\n" not in text


@needs_no_vllm
def test_generate_with_vllm_missing_is_one_error_line(tmp_path: Path) -> None:
    inp = tmp_path / "s.jsonl"
    scenario = Scenario(prompt="hi", evaluation_target="harmful_code", success_criteria=["x"])
    inp.write_text(scenario.model_dump_json() + "\n")
    out = CliRunner().invoke(
        main,
        ["generate", "--model", f"vllm:{model_dir(tmp_path)}", "--input", str(inp)]
        + ["-o", str(tmp_path / "r.jsonl")],
    )
    assert out.exit_code == 1
    assert out.output.count("\n") == 1 and out.output.startswith("Error: ")
    assert "uv pip install vllm" in out.output


@needs_no_gpu
def test_without_a_gpu_the_backend_is_one_line_and_imports_nothing_of_vllm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a stand-in vllm package: found by the install check, fails the test if imported
    stand_in = tmp_path / "site" / "vllm"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("raise RuntimeError('vllm was imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    with pytest.raises(ForgeError) as info:
        load_backend(f"vllm:{model_dir(tmp_path)}")
    text = str(info.value)
    assert "needs an NVIDIA GPU" in text and "torch.cuda.is_available() is false" in text
    assert "\n" not in text
    with pytest.raises(ForgeError, match="needs an NVIDIA GPU"):
        require_cuda()


def test_the_model_is_a_local_folder_never_a_hub_name(tmp_path: Path) -> None:
    folder = model_dir(tmp_path)
    assert model_folder(str(folder)) == folder
    with pytest.raises(ForgeError, match="no such model folder.*never downloads"):
        model_folder("HuggingFaceTB/SmolLM2-135M-Instruct")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    with pytest.raises(ForgeError, match="LoRA adapter folder; give the merged model"):
        model_folder(str(adapter))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ForgeError, match="not a model folder"):
        model_folder(str(tmp_path / "empty"))


def test_engine_options_are_typed_and_unknown_ones_named() -> None:
    given = {"gpu_memory_utilization": "0.5", "max_model_len": "2048", "enforce_eager": "true"}
    assert engine_kwargs({**given, "batch_size": 64, "model_id": "m"}) == {
        "gpu_memory_utilization": 0.5,
        "max_model_len": 2048,
        "enforce_eager": True,
    }
    with pytest.raises(ForgeError, match=r"unknown option\(s\) for vllm: gpu_mem .*known: "):
        engine_kwargs({"gpu_mem": 0.5})
    with pytest.raises(ForgeError, match="vllm option max_model_len='long': expected int"):
        engine_kwargs({"max_model_len": "long"})


def test_forge_decoding_maps_onto_vllm_sampling() -> None:
    greedy = SamplingParams(max_new_tokens=32, top_p=0.5)
    assert sampling_kwargs(greedy, [7]) == {
        "max_tokens": 32,
        "temperature": 0.0,
        "top_p": 1.0,  # greedy ignores nucleus mass, as the transformers backend does
        "seed": None,
        "stop_token_ids": [7],
    }
    sampled = SamplingParams(max_new_tokens=8, temperature=0.7, top_p=0.9, seed=3)
    assert sampling_kwargs(sampled, []) == {
        "max_tokens": 8,
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 3,
        "stop_token_ids": [],
    }


def _output(text: str, tokens: int, reason: str | None) -> SimpleNamespace:
    """An object of ``vllm.RequestOutput``'s shape (the fields the backend reads)."""
    completion = SimpleNamespace(text=text, token_ids=list(range(tokens)), finish_reason=reason)
    return SimpleNamespace(prompt_token_ids=[1, 2, 3], outputs=[completion])


def test_vllm_results_map_onto_generations() -> None:
    done = to_generation("r1", _output("  Sure.\n", 4, "stop"), "m", 0.5)
    assert (done.request_id, done.text, done.model_id) == ("r1", "Sure.", "m")
    assert (done.prompt_tokens, done.completion_tokens, done.finish_reason) == (3, 4, "stop")
    assert done.error is None and done.latency_s == 0.5
    assert to_generation("r2", _output("a b", 8, "length"), "m", 0.5).finish_reason == "length"
    aborted = to_generation("r3", _output("", 0, "abort"), "m", 0.5)
    assert aborted.finish_reason == "error" and aborted.error == "vLLM finished with 'abort'"
