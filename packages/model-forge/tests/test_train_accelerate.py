"""Training across processes: `model-forge train` under a real `accelerate launch` (two CPU
processes, gloo) and the loop's `--launcher accelerate` round training, on the tiny model.

Each launch starts two Python processes that import torch and TRL: about 30 s on two cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import EvalReport
from forge_export.train_metrics import TrainMetrics
from model_forge.cli import main
from model_forge.launch import LOG_FILE, OPTIONS_FILE, ROWS_DIR, free_port

pytestmark = pytest.mark.slow

BATCH, STEPS, PROCESSES = 2, 2, 2


def _launch(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`accelerate launch` on this machine's CPUs, as docs/scale-out.md writes it."""
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", str(PROCESSES)]
    cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    cmd += ["--main_process_port", str(free_port()), "-m", "model_forge", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_train_under_accelerate_launch_is_one_run_of_two_processes(
    synthetic_export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs" / "sft"
    proc = _launch(
        ["train", str(synthetic_export), "--model", "tiny", "--max-steps", str(STEPS)]
        + ["--batch-size", str(BATCH), "--grad-accum", "1", "--max-length", "256"]
        + ["--save-steps", "0", "--output", str(out)]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = TrainMetrics.read(out)
    # both processes joined the run (the Trainer's world size) and split the data: each
    # optimizer step took BATCH rows from each process, so an epoch took half the steps
    assert metrics.world_size == PROCESSES
    assert metrics.global_step == STEPS  # one logical run: max_steps in all, not per process
    assert metrics.train_rows == 12
    epoch = STEPS * BATCH * PROCESSES / metrics.train_rows
    assert metrics.trainer_metrics["epoch"] == pytest.approx(epoch)
    # only the main process wrote and reported: one model folder, one metrics file, one summary
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("metrics.json")] == [
        Path("runs/sft/metrics.json")
    ]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["sft"]
    assert not (out / "checkpoints").exists() and not (out / ".merged-tmp").exists()
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert proc.stdout.count("Trained 2 steps") == 1, proc.stdout
    assert proc.stderr.count("loading tiny from") == 1
    assert "2 processes" in proc.stderr

    # the saved model loads and evaluates
    report_dir = tmp_path / "eval"
    result = CliRunner().invoke(
        main,
        ["evaluate", "--model", str(out), "--data", str(synthetic_export), "--split", "train"]
        + ["--limit", "4", "--max-new-tokens", "8", "--judge", "rules"]
        + ["--output", str(report_dir)],
    )
    assert result.exit_code == 0, result.output
    report = EvalReport.model_validate_json((report_dir / "report.json").read_text())
    assert len(report.results) == 4
    assert all(r.response is not None for r in report.results)


def test_a_loop_round_trains_through_accelerate_launch(
    synthetic_export: Path, tmp_path: Path
) -> None:
    """The loop's round training with `--launcher accelerate`: a later round's own rows (a
    subset of the export, as the loop makes from failures) reach the launched processes."""
    from model_forge.launch import train_launched
    from model_forge.loop_config import LoopConfig
    from model_forge.train import load_train_split

    options = LoopConfig.quick_config().round_options(2, "tiny")
    rows = load_train_split(synthetic_export, options.export_config()).select(range(8))
    out = tmp_path / "round-2" / "model"
    lines: list[str] = []
    metrics = train_launched(
        synthetic_export, out, options, dataset=rows, processes=PROCESSES, log=lines.append
    )
    assert metrics == TrainMetrics.read(out)
    assert metrics.world_size == PROCESSES and metrics.global_step == options.max_steps
    assert metrics.rows == 8  # the given rows, not the export's 12
    assert metrics.options["learning_rate"] == options.learning_rate
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    round_dir = out.parent
    assert (round_dir / OPTIONS_FILE).is_file() and (round_dir / ROWS_DIR).is_dir()
    log = (round_dir / LOG_FILE).read_text()
    assert "accelerate.commands.launch" in log.splitlines()[0]
    assert sum("Trained 2 steps" in line for line in lines) == 1
    # the model the loop evaluates next loads and generates
    from model_forge.generation import GenerationRequest, SamplingParams, load_backend

    request = GenerationRequest("x", [{"role": "user", "content": "hi"}], SamplingParams(4))
    [gen] = load_backend(str(out)).generate([request])
    assert gen.request_id == "x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-processes", "2"], "--num-processes needs --launcher accelerate"),
        (["--launcher", "accelerate", "--num-processes", "0"], "--num-processes"),
        (["--launcher", "mpi"], "--launcher"),
        (["--launcher", "accelerate", "--accelerate-config", "none.yaml"], "none.yaml"),
    ],
)
def test_bad_launcher_settings_are_one_line_errors(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["loop", "--quick", "--workdir", str(tmp_path / "w"), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "w").exists()


def test_a_missing_accelerate_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "accelerate" else real(name)
    )
    result = CliRunner().invoke(
        main, ["loop", "--quick", "--workdir", str(tmp_path / "w"), "--launcher", "accelerate"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --launcher accelerate needs the accelerate package (pip install accelerate); "
        "or train in-process (--launcher in-process)"
    ]


def test_the_launcher_is_recorded_with_the_run(tmp_path: Path) -> None:
    from model_forge.loop_config import LoopConfig

    config = LoopConfig.resolve(
        command_line={"launcher": "accelerate", "num_processes": 4}, quick=True
    )
    saved = json.loads(json.dumps(config.to_public_json()))
    assert saved["launcher"] == "accelerate" and saved["num_processes"] == 4
    assert LoopConfig().merge(saved).num_processes == 4


ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("name", "kind"), [("fsdp.yaml", "FSDP"), ("deepspeed-zero2.yaml", "DEEPSPEED")]
)
def test_the_documented_accelerate_configs_are_read_by_accelerate(name: str, kind: str) -> None:
    """docs/accelerate/*.yaml need GPUs to run; here accelerate reads them (an unknown key
    fails) and takes the loop's launch command with them (launcher, process count)."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from model_forge.launch import accelerate_command

    path = ROOT / "docs" / "accelerate" / name
    config = load_config_from_file(str(path))
    assert config.distributed_type.name == kind
    cmd = accelerate_command(["train", "export/"], processes=4, port=29600, config_file=path)
    assert "--multi_gpu" not in cmd and cmd[cmd.index("--config_file") + 1] == str(path)
    args, _, _ = _validate_launch_command(
        launch_command_parser().parse_args(cmd[cmd.index("--config_file") :])
    )
    assert args.num_processes == 4 and args.module and args.training_script == "model_forge"
    assert (args.use_fsdp, args.use_deepspeed) == (kind == "FSDP", kind == "DEEPSPEED")
