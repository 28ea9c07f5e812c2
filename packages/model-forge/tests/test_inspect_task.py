"""The inspect_ai task on a real tiny export, with inspect_ai's mock model, offline.

The eval runs in a child process through inspect_ai's own ``eval()`` (what ``inspect eval``
calls), once by file path and once by the registry name the entry point provides. The test then
reads the JSON logs from disk and checks status, per-sample scores and metrics: inspect can
finish without raising (and ``inspect eval`` exit 0) on a failed run, so only the log counts.

Why not the ``inspect eval`` command line with ``--model mockllm/model``: inspect_ai's mock model
fills in token usage with tiktoken's ``o200k_base`` encoding, which tiktoken downloads on first
use; offline that fails. Given outputs that carry their usage, the mock model needs nothing
from the network, and those can only be passed through the Python API. The command line itself
is run too, on inspect_ai's ``hf/`` provider with a tiny random model saved to a local folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")

ROOT = Path(__file__).resolve().parents[3]
TASK_FILE = (
    "packages/model-forge/src/model_forge/inspect_task.py"  # relative to ROOT, as documented
)
REFUSAL = "I'm sorry, but I can't help with that."

RUNNER = r"""
import json, sys
from inspect_ai import eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

task, data, log_dir = sys.argv[1:4]

def answer(messages, tools, tool_choice, config):
    out = ModelOutput.from_content(model="mockllm", content=REFUSAL)
    n = sum(len(m.text.split()) for m in messages)
    out.usage = ModelUsage(input_tokens=n, output_tokens=9, total_tokens=n + 9)
    return out

model = get_model("mockllm/model", custom_outputs=answer)
[log] = eval(task, task_args={"data": data, "judge": "rules"}, model=model, log_dir=log_dir,
             log_format="json", display="none")
print(json.dumps({"status": log.status, "location": log.location}))
""".replace("REFUSAL", repr(REFUSAL))


@pytest.fixture(scope="module")
def export(template_export: Callable[..., Path]) -> Path:
    return template_export(["harmful_code", "self_harm"], 16, test_size=0.5, export_seed=3)


def _run(task: str, export: Path, log_dir: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, task, str(export), str(log_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "INSPECT_LOG_LEVEL": "warning"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # READ the log written to disk: the run's status and scores are only trustworthy there.
    logs = list(log_dir.glob("*.json"))
    assert len(logs) == 1, logs
    return json.loads(logs[0].read_text(encoding="utf-8")) | {"_reported": result}


@pytest.mark.parametrize("how", ["file", "registry"])
def test_mock_model_eval_log(how: str, export: Path, tmp_path: Path) -> None:
    import forge_export
    from model_forge.judge import judge_response

    task = TASK_FILE if how == "file" else "model_forge/forge_eval"
    log = _run(task, export, tmp_path / "logs")

    assert log["status"] == "success", log.get("error")
    assert log["_reported"]["status"] == "success"
    assert log["eval"]["task_args"]["data"] == str(export)

    test_rows = forge_export.load(export, "eval", "test")
    expected = {row["id"]: row for row in test_rows}
    samples = log["samples"]
    assert {s["id"] for s in samples} == set(expected)
    assert log["results"]["total_samples"] == len(expected) == log["results"]["completed_samples"]

    passed = refused_benign = benign = harmful = harmful_passed = 0
    for sample in samples:
        row = expected[sample["id"]]
        score = sample["scores"]["forge_judge"]
        assert score["answer"] == REFUSAL
        # the same judgement the judge gives on its own
        own = judge_response(
            row["prompt"],
            REFUSAL,
            row["expected_behavior"],
            row["evaluation_target"],
            row["success_criteria"],
        )
        assert score["value"] == ("C" if own.passed else "I")
        assert score["explanation"] == own.reason
        assert score["metadata"]["refused"] is True
        assert score["metadata"]["judge"] == "rules@6"
        behaviour = row["expected_behavior"]
        if behaviour == "refuse":
            assert score["value"] == "C", score  # a plain refusal is the right answer
        if behaviour == "comply":
            assert score["value"] == "I", score  # refusing a benign question is the failure
            benign += 1
            refused_benign += 1
        else:
            harmful += 1
            harmful_passed += score["value"] == "C"
        passed += score["value"] == "C"
    assert benign > 0 and harmful > 0

    metrics = {
        name: m["value"] for s in log["results"]["scores"] for name, m in s["metrics"].items()
    }
    assert metrics["accuracy"] == pytest.approx(passed / len(samples))
    assert metrics["safe_rate"] == pytest.approx(harmful_passed / harmful)
    assert metrics["over_refusal"] == pytest.approx(refused_benign / benign) == 1.0
    assert metrics["expected:comply"] == 0.0
    assert {"target:harmful_code", "target:self_harm"} <= set(metrics)


def test_dataset_errors_name_the_problem(export: Path, tmp_path: Path) -> None:
    from forge_export.errors import ForgeError
    from model_forge.inspect_task import forge_dataset

    ds = forge_dataset(str(export), "test", targets="self_harm")
    assert len(ds) > 0
    assert {s.metadata["evaluation_target"] for s in ds} == {"self_harm"}  # type: ignore[index]
    first = ds[0]
    assert first.input[-1].role == "user"  # type: ignore[union-attr]
    with pytest.raises(ForgeError, match="no scenarios for targets"):
        forge_dataset(str(export), "test", targets="privacy_violation")
    with pytest.raises(ForgeError, match="split='dev'"):
        forge_dataset(str(export), "dev")
    with pytest.raises(ForgeError):
        forge_dataset(str(tmp_path / "missing"), "test")


def test_inspect_eval_command_line_on_a_local_model_folder(export: Path, tmp_path: Path) -> None:
    """``inspect eval TASK_FILE -T data=EXPORT --model hf/FOLDER``: the documented command, offline."""
    import forge_export
    from model_forge.tiny_model import save_tiny

    model_dir = save_tiny(tmp_path / "tiny-model")
    inspect = Path(sys.executable).with_name("inspect")
    log_dir = tmp_path / "logs"
    proc = subprocess.run(
        [
            str(inspect) if inspect.exists() else "inspect",
            "eval",
            TASK_FILE,
            "-T",
            f"data={export}",
            "-T",
            "judge=rules",
            "--model",
            f"hf/{model_dir}",
            "--max-tokens",
            "8",
            "--log-dir",
            str(log_dir),
            "--log-format",
            "json",
            "--display",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "INSPECT_LOG_LEVEL": "warning", "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [log_file] = log_dir.glob("*.json")
    log = json.loads(log_file.read_text(encoding="utf-8"))
    assert log["status"] == "success", log.get("error")
    expected = {row["id"] for row in forge_export.load(export, "eval", "test")}
    assert {s["id"] for s in log["samples"]} == expected
    for sample in log["samples"]:  # every answer of the local model was judged by forge's judge
        score = sample["scores"]["forge_judge"]
        assert score["value"] in ("C", "I") and score["metadata"]["judge"] == "rules@6"
        assert score["explanation"]
    metrics = {m for s in log["results"]["scores"] for m in s["metrics"]}
    assert {"accuracy", "safe_rate", "over_refusal", "target:self_harm"} <= metrics
