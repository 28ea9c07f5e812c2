"""Train in several processes: ``model-forge train`` under ``accelerate launch``, as a subprocess.

The loop's ``--launcher accelerate`` runs each round's training stage through this module; the
rest of the loop (export, probes, evaluations) stays in its own process. A launched round
writes exactly what an in-process round writes (the model folder with ``metrics.json``), plus
the files that carry the round to the subprocess, next to the model folder::

    ROUND/train.yaml         the round's TrainOptions (``model-forge train --config`` reads it)
    ROUND/train-rows/        the rows of a later round (failure rows weighted), when the round
                             trains on rows made from the export rather than its train split
    ROUND/train-launch.log   everything the launched processes printed

The command is the documented one (``docs/scale-out.md``), so a round can be rerun by hand::

    python -m accelerate.commands.launch --multi_gpu --num_processes 2 --num_machines 1 \\
        --mixed_precision no --dynamo_backend no --main_process_port PORT \\
        -m model_forge train EXPORT --config ROUND/train.yaml --output ROUND/model

``--multi_gpu`` selects accelerate's torch-elastic launcher, which starts the processes; each
process then trains on CUDA when there is one and on the CPU (the gloo backend) when there is
none. (``accelerate launch --cpu`` starts a single process: accelerate leaves multi-CPU
launching to ``mpirun``.) With an accelerate config file (FSDP, DeepSpeed), the file chooses
the launcher and ``--num-processes`` overrides only its process count.

Example:
    >>> cmd = accelerate_command(["train", "export/"], processes=2, port=29600)
    >>> cmd[1:4], cmd[-4:]
    (['-m', 'accelerate.commands.launch', '--multi_gpu'], ['-m', 'model_forge', 'train', 'export/'])
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from forge_export.errors import ForgeError
from forge_export.train_metrics import TrainMetrics

from model_forge.loop_config import CPU_PROCESSES, check_accelerate

if TYPE_CHECKING:
    from datasets import Dataset

    from model_forge.train_config import TrainOptions

Log = Callable[[str], None]

OPTIONS_FILE = "train.yaml"
ROWS_DIR = "train-rows"
LOG_FILE = "train-launch.log"


def free_port() -> int:
    """A TCP port on this machine that nothing listens on now (for the main process)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def default_processes(config_file: Path | None) -> int | None:
    """The process count when ``--num-processes`` is not given: the config file's own
    (``None``), else one per CUDA device, else :data:`~model_forge.loop_config.CPU_PROCESSES`."""
    if config_file is not None:
        return None
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else CPU_PROCESSES


def accelerate_command(
    args: Sequence[str],
    *,
    processes: int | None,
    port: int,
    config_file: Path | None = None,
) -> list[str]:
    """The command line that runs ``model-forge ARGS`` under ``accelerate launch``.

    Args:
        args: The ``model-forge`` arguments (``["train", EXPORT, ...]``).
        processes: How many processes (``None``: the config file's count).
        port: The main process's port (:func:`free_port`).
        config_file: An accelerate config file (FSDP, DeepSpeed ...); without one the
            processes are started by accelerate's torch-elastic launcher on this machine.
    """
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if config_file is not None:
        cmd += ["--config_file", str(config_file)]
    else:
        if processes is not None and processes > 1:
            cmd.append("--multi_gpu")  # torch elastic; the Trainer falls back to CPU + gloo
        cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    if processes is not None:
        cmd += ["--num_processes", str(processes)]
    cmd += ["--main_process_port", str(port), "-m", "model_forge", *args]
    return cmd


def run_launched(command: list[str], log_file: Path, log: Log) -> None:
    """Run ``command``, pass each line it prints to ``log`` and keep all of them in
    ``log_file``.

    Raises:
        ForgeError: it failed: one line with the launched command's own ``Error:`` line (or
            its last line) and the log file to read.
    """
    env = os.environ | {"PYTHONUNBUFFERED": "1", "TQDM_DISABLE": "1"}  # lines, not bars
    tail: collections.deque[str] = collections.deque(maxlen=200)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as keep:
        keep.write(" ".join(command) + "\n")
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            keep.write(line)
            line = line.rstrip()
            if line:
                tail.append(line)
                log(line)
        code = proc.wait()
    if code != 0:
        errors = [ln for ln in tail if ln.startswith("Error: ")]
        reason = errors[-1].removeprefix("Error: ") if errors else (tail[-1] if tail else "")
        raise ForgeError(
            f"training under accelerate launch failed (exit {code}): {reason[:300]}; "
            f"its output is in {log_file}"
        )


def train_launched(
    export: Path,
    output: Path,
    options: TrainOptions,
    *,
    dataset: Dataset | None = None,
    processes: int | None = None,
    config_file: Path | None = None,
    log: Log | None = None,
) -> TrainMetrics:
    """:func:`model_forge.train.train` in ``processes`` processes under ``accelerate launch``.

    The options go to ``output.parent/train.yaml`` and ``dataset`` (if given) to
    ``output.parent/train-rows/``; the launched ``model-forge train`` writes the model,
    adapter and ``metrics.json`` at ``output`` as an in-process run does.

    Args:
        export: The export folder (recorded, and read unless ``dataset`` is given).
        output: The model folder.
        options: The run's options.
        dataset: Rows in the export config's shape to train on instead of the train split.
        processes: How many processes (``None``: :func:`default_processes`).
        config_file: An accelerate config file (FSDP, DeepSpeed ...).
        log: Receives the lines the processes print.

    Returns:
        The run's :class:`TrainMetrics` (read back from ``output``).

    Raises:
        ForgeError: accelerate is missing, a process count below 1, or the launched training
            failed (one line, naming the log file).
    """
    import yaml

    check_accelerate()
    if processes is not None and processes < 1:
        raise ForgeError(f"--num-processes must be at least 1 (got {processes})")
    say = log or (lambda _m: None)
    job = output.parent
    job.mkdir(parents=True, exist_ok=True)
    settings = job / OPTIONS_FILE
    settings.write_text(yaml.safe_dump(options.to_json(), sort_keys=False), encoding="utf-8")
    args = ["train", str(export), "--config", str(settings), "--output", str(output)]
    if dataset is not None:
        shutil.rmtree(job / ROWS_DIR, ignore_errors=True)  # an earlier, killed attempt's
        dataset.save_to_disk(str(job / ROWS_DIR))
        args += ["--rows", str(job / ROWS_DIR)]
    if logging.getLogger("model_forge").getEffectiveLevel() > logging.INFO:
        args = ["--quiet", *args]
    count = processes if processes is not None else default_processes(config_file)
    command = accelerate_command(args, processes=count, port=free_port(), config_file=config_file)
    shown = count if count is not None else "the config file's"
    say(f"accelerate launch, {shown} processes: {' '.join(command)}")
    run_launched(command, job / LOG_FILE, say)
    return TrainMetrics.read(output)
