"""Training opens no network connection: TRL's telemetry is off and the hub offline (issue 17).

``model-forge train`` runs in a fresh process without the test session's offline switches
(no ``HF_HUB_OFFLINE``, no ``HF_HUB_DISABLE_TELEMETRY``, no ``CI``, under which TRL would skip
its telemetry anyway), with a socket guard that records and refuses every name lookup and
connection to anything but the loopback interface.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from forge_export import Completion, Scenario
from forge_export.exporters.huggingface import ExportOptions, ScenarioBundle, export_dataset

GUARDED = r"""
import json, socket, sys, threading
attempts = []
LOCAL = {"localhost", "127.0.0.1", "::1", "", None}

def _host(address):
    return address[0] if isinstance(address, tuple) else None

def _refuse(what):
    attempts.append(str(what))
    raise OSError(f"network blocked by the test: {what}")

real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
real_getaddrinfo = socket.getaddrinfo

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOCAL:
        _refuse(address)
    return real_connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOCAL:
        _refuse(address)
    return real_connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    h = host.decode() if isinstance(host, bytes) else host
    if h not in LOCAL:
        _refuse(h)
    return real_getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo = getaddrinfo

from model_forge.cli import main
code = 0
try:
    main(sys.argv[1:], standalone_mode=False)
except BaseException as exc:  # report, then fail below
    print("FAILED", type(exc).__name__, exc, flush=True)
    code = 1
for t in threading.enumerate():  # telemetry is sent from a background thread
    if t is not threading.main_thread() and t.name != "tqdm_monitor":
        t.join(timeout=30)
print("ATTEMPTS " + json.dumps(attempts), flush=True)
sys.exit(code)
"""


def _export(out: Path) -> None:
    bundles = []
    for i in range(6):
        s = Scenario(
            prompt=f"Question number {i}?", evaluation_target="demo", success_criteria=["answers"]
        )
        c = Completion(scenario_id=s.id, text=f"Answer {i}.", source="human")
        bundles.append(ScenarioBundle(s, [c]))
    export_dataset(bundles, out, ExportOptions(test_size=0))


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "HF_HUB_OFFLINE",
            "TRANSFORMERS_OFFLINE",
            "HF_DATASETS_OFFLINE",
            "HF_HUB_DISABLE_TELEMETRY",
            "CI",
            "DO_NOT_TRACK",
        )
    }
    env["HF_HOME"] = str(tmp_path / "hf")
    return env


def _guarded(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-c", GUARDED, *args], capture_output=True, text=True, env=env,
        timeout=600,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ATTEMPTS ")]
    assert lines, proc.stdout + proc.stderr
    assert json.loads(lines[-1][len("ATTEMPTS ") :]) == []
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_train_makes_no_network_attempt(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _export(export)
    args = ["train", str(export), "--output", str(tmp_path / "run"), "--model", "tiny",
            "--max-steps", "1"]  # fmt: skip
    _guarded(args, _clean_env(tmp_path))
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_generate_and_evaluate_make_no_network_attempt(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _export(export)
    env = _clean_env(tmp_path)
    scenarios = tmp_path / "s.jsonl"
    scenarios.write_text(
        json.dumps({"prompt": "hi", "evaluation_target": "demo", "success_criteria": ["c"]}) + "\n"
    )
    out = tmp_path / "replies.jsonl"
    _guarded(["generate", "--model", "tiny", "--input", str(scenarios), "-o", str(out),
              "--max-new-tokens", "2"], env)  # fmt: skip
    assert out.read_text().count("\n") == 1
    _guarded(["evaluate", "--model", "tiny", "--data", str(export), "--split", "train",
              "--limit", "2", "--max-new-tokens", "2", "--output", str(tmp_path / "eval")],
             env)  # fmt: skip
    assert (tmp_path / "eval" / "report.json").is_file()
