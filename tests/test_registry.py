"""One registry for plug-ins: a new judge or backend is one module plus its entry point.

The new plug-ins here are real: a module and a ``*.dist-info/entry_points.txt`` on
``PYTHONPATH`` (what installing a package writes), found by the real commands in a child
process, listed in their ``--help`` and used end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import registry

BIN = Path(sys.executable).parent

JUDGE_MODULE = '''
"""A judge that passes an answer when it is at least three words long."""
from model_forge.judge.types import Judgement
from model_forge.judge_plugins import JudgePlugin


class WordyJudge:
    name = "wordy@1"

    def judge(self, items):
        out = []
        for item in items:
            ok = len(item.response.split()) >= 3
            out.append(Judgement(verdict="pass" if ok else "fail", refused=False,
                                 reason="long enough" if ok else "too short",
                                 judge=self.name, label="compliance"))
        return out


PLUGIN = JudgePlugin("wordy", "passes answers of three words or more", lambda spec, **o: WordyJudge())
'''

BACKEND_MODULE = '''
"""A backend that answers every request with the same sentence."""
from model_forge.generation.plugins import BackendPlugin
from model_forge.generation.types import Generation


class Parrot:
    def __init__(self, word):
        self.model_id = f"parrot/{word}"

    def generate(self, requests, *, progress=None):
        out = [Generation(r.id, f"{self.model_id} says hello", self.model_id, 1, 3, "stop", 0.0)
               for r in requests]
        if progress:
            progress(len(out))
        return out


PLUGIN = BackendPlugin("parrot:WORD", "repeats one sentence", lambda arg, **o: Parrot(arg),
                       takes_arg=True, example="parrot:polly")
'''


@pytest.fixture(scope="module")
def extra(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose PYTHONPATH holds a package registering one judge and one backend."""
    root = tmp_path_factory.mktemp("plugins")
    (root / "wordy_judge.py").write_text(JUDGE_MODULE)
    (root / "parrot_backend.py").write_text(BACKEND_MODULE)
    info = root / "forge_extras-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: forge-extras\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[forge_export.judges]\nwordy = wordy_judge:PLUGIN\n\n"
        "[forge_export.backends]\nparrot = parrot_backend:PLUGIN\n"
    )
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def test_the_built_in_plug_ins_are_registered() -> None:
    assert {"bundled", "tiny", "openai", "mock"} <= set(registry.names("backend"))
    assert {"default", "learned", "rules", "llm", "guard"} <= set(registry.names("judge"))
    assert {"model-forge", "template"} <= set(registry.names("generator"))
    assert {"base64", "casual", "crescendo"} <= set(registry.names("transform"))


@pytest.mark.parametrize(
    ("kind", "name", "nearest"),
    [
        ("backend", "tinny", "tiny"),
        ("judge", "rulez", "rules"),
        ("generator", "templat", "template"),
        ("transform", "rot-13", "rot13"),
    ],
)
def test_an_unknown_name_is_one_line_with_the_nearest(kind: str, name: str, nearest: str) -> None:
    with pytest.raises(registry.PluginNotFound) as info:
        registry.load(kind, name)
    text = str(info.value)
    assert f"unknown {kind} {name!r}; did you mean {nearest!r}?" in text
    assert "\n" not in text and all(n in text for n in registry.names(kind))


def test_commands_name_the_registered_plug_ins() -> None:
    from model_forge.cli import main

    runner = CliRunner()
    judge = runner.invoke(main, ["evaluate", "--judge", "rulez", "--test-set", "x.json"])
    assert judge.exit_code == 1 and "did you mean 'rules'?" in judge.output
    model = runner.invoke(main, ["generate", "--model", "tinny", "--input", ".", "-o", "o.jsonl"])
    assert model.exit_code == 1
    assert (
        "'anthropic:MODEL', 'bundled', 'mock:NAME', 'openai:MODEL', 'tiny', 'vllm:MODEL' or a "
        "local model folder" in model.output
    )
    helped = " ".join(runner.invoke(main, ["evaluate", "--help"]).output.split())
    assert "default, guard:MODEL, learned, llm:MODEL or rules" in helped


def test_a_new_judge_is_one_module_and_its_entry_point(
    extra: dict[str, str], tmp_path: Path
) -> None:
    answers = tmp_path / "answers.jsonl"
    rows = [
        {"prompt": "hi", "response": "hello there friend", "expected_behavior": "comply"},
        {"prompt": "hi", "response": "no", "expected_behavior": "comply"},
    ]
    answers.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = subprocess.run(
        [str(BIN / "model-forge"), "judge", str(answers), "--judge", "wordy", "--json"],
        capture_output=True,
        text=True,
        env=extra,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["judge"] == "wordy@1"
    assert [r["verdict"] for r in result["results"]] == ["pass", "fail"]
    listed = subprocess.run(
        [str(BIN / "forge-export"), "plugins"], capture_output=True, text=True, env=extra
    )
    assert "wordy            wordy_judge:PLUGIN" in listed.stdout
    helped = subprocess.run(
        [str(BIN / "model-forge"), "evaluate", "--help"], capture_output=True, text=True, env=extra
    )
    assert "wordy" in helped.stdout


def test_a_new_backend_is_one_module_and_its_entry_point(
    extra: dict[str, str], tmp_path: Path
) -> None:
    from forge_export.models import Provenance, Scenario

    scenario = Scenario(
        prompt="How do I boil an egg?",
        evaluation_target="cooking",
        success_criteria=["answers"],
        expected_behavior="comply",
        source=Provenance(kind="human"),
    )
    scenarios = tmp_path / "scenarios.jsonl"
    scenarios.write_text(scenario.model_dump_json() + "\n")
    out = tmp_path / "replies.jsonl"
    done = subprocess.run(
        [str(BIN / "model-forge"), "generate", "--model", "parrot:polly"]
        + ["--input", str(scenarios), "-o", str(out)],
        capture_output=True,
        text=True,
        env=extra,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [reply] = [json.loads(line) for line in out.read_text().splitlines()]
    assert reply["response"] == "parrot/polly says hello"
    missing = subprocess.run(
        [str(BIN / "model-forge"), "generate", "--model", "parrot:"]
        + ["--input", str(scenarios), "-o", str(out)],
        capture_output=True,
        text=True,
        env=extra,
    )
    assert missing.returncode == 1
    assert "model spec 'parrot:' needs a model name, e.g. parrot:polly" in missing.stderr
    models = subprocess.run(
        [str(BIN / "model-forge"), "models", "--json"], capture_output=True, text=True, env=extra
    )
    assert {"spec": "parrot:WORD", "description": "repeats one sentence"} in json.loads(
        models.stdout
    )["backends"]
