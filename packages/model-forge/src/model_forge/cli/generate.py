"""``model-forge generate``: run a model on scenarios and write one JSON line per reply.

Resumable: scenario ids already in the output file are skipped, and lines are flushed after
every batch, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click
from forge_export.errors import ForgeError
from forge_export.models import Scenario
from forge_export.settings import cli_layer, config_file_option, settings_options

from model_forge.generate_config import GenerateRun
from model_forge.logs import get_logger, progress_bar


def read_scenarios_jsonl(path: Path) -> list[Scenario]:
    """Scenarios from a JSONL file: one ``Scenario`` per line (or ``{"scenario": {...}}``).

    Raises:
        ContractError: naming the file, the line and the field of the first bad line.
    """
    from forge_export.errors import ContractError, describe_validation_error
    from forge_export.jsonl import read_json_lines
    from pydantic import ValidationError

    scenarios = []
    for line in read_json_lines(path, what="a JSON object (a scenario)"):
        if line.data is None:
            raise ContractError(str(line.error), where=line.where)
        data: Any = line.data
        if isinstance(data.get("scenario"), dict | str):
            data = data["scenario"]
        try:
            if isinstance(data, str):
                scenarios.append(Scenario.model_validate_json(data))
            else:
                scenarios.append(Scenario.model_validate(data))
        except ValidationError as exc:
            raise describe_validation_error(exc, line.where) from exc
    return scenarios


def read_scenarios(path: Path, split: str) -> list[Scenario]:
    """Scenarios of an export folder (its ``eval`` config, ``split``) or of a JSONL file."""
    if path.is_dir():
        from forge_export.reader import load

        ds = load(path, "eval", split)
        return [Scenario.model_validate_json(row) for row in ds["scenario"]]
    if not path.is_file():
        raise ForgeError(f"{path}: no such file or folder (give an export folder or a JSONL file)")
    return read_scenarios_jsonl(path)


def done_ids(output: Path) -> set[str]:
    """Scenario ids already written to ``output``; a torn last line is cut off."""
    if not output.exists():
        return set()
    ids: set[str] = set()
    good_bytes = 0
    with output.open("rb") as fh:
        for raw in fh:
            try:
                record = json.loads(raw)
                ids.add(str(record["scenario_id"]))
            except (ValueError, KeyError, TypeError, RecursionError):
                if raw.endswith(b"\n"):
                    raise ForgeError(
                        f"{output}: line {len(ids) + 1} is not a result line; "
                        "give another --output or remove that line"
                    ) from None
                break  # an interrupted write: drop the partial line
            good_bytes += len(raw)
    if good_bytes < output.stat().st_size:
        with output.open("r+b") as fh:
            fh.truncate(good_bytes)
    elif good_bytes and not output.read_bytes().endswith(b"\n"):
        with output.open("ab") as fh:
            fh.write(b"\n")
    return ids


@click.command("generate")
@config_file_option
@settings_options(GenerateRun)
def generate_command(config_file: Path | None, **given: Any) -> None:
    """Run a model on scenarios; write one JSON line per scenario to OUTPUT.

    Each line: scenario_id, response, model_id, tokens {prompt, completion}, latency_s,
    finish_reason. Re-running with the same --output skips the scenarios already done.

    \b
    Examples:
      model-forge generate --model bundled --input export/ --output replies.jsonl
      model-forge generate --model tiny --input scenarios.jsonl -o out.jsonl --batch-size 4
      OPENAI_BASE_URL=http://localhost:8000/v1 model-forge generate \\
          --model openai:Qwen2.5-7B-Instruct --input export/ -o out.jsonl --option max_concurrency=16
    """
    from model_forge.generation import SamplingParams, load_backend
    from model_forge.generator import coerce_options

    run = _settings(config_file, given)
    assert run.input is not None and run.output is not None
    input_path, output, model = run.input, run.output, run.model
    from model_forge.model_spec import resolve_model

    resolve_model(model)  # an unknown model: one line before any file is read
    scenarios = read_scenarios(input_path, run.split)
    seen = done_ids(output)
    todo: list[Scenario] = []
    for s in scenarios:
        if s.id not in seen:
            seen.add(s.id)  # also drops duplicate scenarios within the input
            todo.append(s)
    skipped = len(scenarios) - len(todo)
    if not todo:
        get_logger("generate").info(
            "nothing to do: all %d scenarios are in %s", len(scenarios), output
        )
        return
    from model_forge.generation.concurrency import backend_options as job_backend_options

    backend_options = job_backend_options(model, run.generate, coerce_options(run.backend_options))
    backend = load_backend(model, **backend_options)
    batch_size = _batch_size(backend, run.generate.batch_size)
    sampling = SamplingParams.from_options(run.generate)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tokens = _generate_into(output, todo, backend, sampling, batch_size)
    elapsed = time.perf_counter() - started
    get_logger("generate").info(
        f"wrote {len(todo)} replies to {output} ({skipped} already there), "
        f"{tokens} tokens in {elapsed:.1f} s ({tokens / max(elapsed, 1e-9):.1f} tokens/s)"
    )


def _settings(config_file: Path | None, given: dict[str, Any]) -> GenerateRun:
    """The run's settings (defaults, the --config file, the command line); input and output
    are checked.

    Raises:
        ForgeError: no input or output, or the input does not exist.
    """
    from forge_export.settings import read_settings_file

    file = read_settings_file(config_file) if config_file else None
    run = GenerateRun().merge(file, where=str(config_file))
    run = run.merge(cli_layer(GenerateRun, given), where="command line")
    for name in ("input", "output"):
        if run.get(name) is None:
            raise ForgeError(f"give --{name} (or '{name}:' in the --config file)")
    assert run.input is not None
    if not run.input.exists():
        raise ForgeError(
            f"{run.input}: no such file or folder (give an export folder or a JSONL file)"
        )
    return run


def _batch_size(backend: Any, setting: Any) -> int:
    """Requests per written chunk: the backend's batch (a local model resolved it for its
    device), else the setting on the backend's device."""
    from forge_export.settings import on_device

    own = getattr(backend, "batch_size", None)
    return int(own if isinstance(own, int) else on_device(setting, getattr(backend, "device", "")))


def _generate_into(
    output: Path, todo: list[Scenario], backend: Any, sampling: Any, batch_size: int
) -> int:
    """Answer ``todo`` and append one JSON line per answer to ``output``; the tokens written.

    One batch at a time (an OpenAI-compatible server gets max_concurrency requests at once),
    flushed and fsynced after each, so an interruption loses at most one batch.
    """
    from model_forge.generation import GenerationRequest

    chunk = max(batch_size, int(getattr(backend, "max_concurrency", 0) or 0))
    tokens = 0
    with (
        output.open("a", encoding="utf-8") as fh,
        progress_bar(len(todo), f"generating ({backend.model_id})", "generate") as bar,
    ):
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            requests = [GenerationRequest(s.id, s.messages(), sampling) for s in part]
            for gen in backend.generate(requests, progress=bar.update):
                record = {
                    "scenario_id": gen.request_id,
                    "response": gen.text,
                    "model_id": gen.model_id,
                    "tokens": {"prompt": gen.prompt_tokens, "completion": gen.completion_tokens},
                    "latency_s": round(gen.latency_s, 4),
                    "finish_reason": gen.finish_reason,
                }
                if gen.error:
                    record["error"] = gen.error
                tokens += gen.completion_tokens
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return tokens
