"""Layered settings: defaults ← file ← command line, None = unset, one-line errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import click
import pytest
from click.testing import CliRunner
from forge_export.cli_support import ForgeGroup
from forge_export.errors import ForgeError
from forge_export.settings import (
    Alias,
    PerDevice,
    Settings,
    cli_layer,
    config_file_option,
    read_settings_file,
    setting,
    settings_options,
)


@dataclass
class Decoding(Settings):
    max_new_tokens: int = setting(256, "Longest reply.", minimum=1)
    temperature: float = setting(0.0, "0 = greedy.", minimum=0.0)
    seed: int | None = setting(None, "Sampling seed.")


@dataclass
class Training(Settings):
    lora: bool = setting(True, "LoRA or full.", flag="--lora/--full")
    per_device_train_batch_size: int = setting(2, "Rows per pass.", option="batch_size", minimum=1)
    model: str = setting("bundled", "Start from.")
    extra: dict[str, Any] = setting({}, "More keywords.")


@dataclass
class Job(Settings):
    ALIASES: ClassVar[dict[str, Alias]] = {
        "later_batch": Alias(("later.per_device_train_batch_size",), "Later rounds' batch."),
        "batch_size": Alias(
            ("first.per_device_train_batch_size", "later.per_device_train_batch_size"),
            "Both rounds' batch.",
        ),
    }
    rounds: int = setting(2, "Rounds.", minimum=1)
    kinds: tuple[str, ...] = setting(("a", "b"), "Kinds (comma-separated).")
    workdir: Path | None = setting(None, "Folder.", short="-w")
    first: Training = setting(Training(lora=False), "Round 1.", exclude=("model",))
    later: Training = setting(Training(lora=False, per_device_train_batch_size=4), "Later.")
    decoding: Decoding = setting(Decoding(max_new_tokens=96), "Decoding.", flatten=True)
    options: dict[str, Any] = setting({}, "KEY=VALUE.", option="option", key_values=True)


def test_layers_merge_in_order_and_none_leaves_a_value_alone() -> None:
    job = Job().merge({"rounds": 3, "batch_size": 5}, {"rounds": None, "later_batch": 7})
    assert job.rounds == 3
    assert job.first.per_device_train_batch_size == 5
    assert job.later.per_device_train_batch_size == 7
    assert Job().rounds == 2  # merge returns a copy
    assert job.batch_size == 5 and job.later_batch == 7  # aliases read their first path


def test_nested_defaults_override_the_composed_class_once() -> None:
    job = Job()
    assert job.first.lora is False and Training().lora is True
    assert job.decoding.max_new_tokens == 96 and Decoding().max_new_tokens == 256
    assert Job().merge({"max_new_tokens": 12}).decoding.max_new_tokens == 12  # flattened key
    assert Job().merge({"decoding": {"temperature": 0.5}}).decoding.temperature == 0.5
    assert Job().merge({"first.lora": True}).first.lora is True  # a dotted path


def test_values_are_typed_from_the_annotations() -> None:
    job = Job().merge({"kinds": "x, y", "workdir": "runs/a", "first": {"extra": {"beta": 1}}})
    assert job.kinds == ("x", "y") and job.workdir == Path("runs/a")
    assert job.first.extra == {"beta": 1}
    assert Job().merge({"kinds": ["p"]}).kinds == ("p",)
    assert Job().merge({"max_new_tokens": 3.0}).decoding.max_new_tokens == 3


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"round": 3}, "unknown key 'round'; did you mean 'rounds'?"),
        ({"max_new_token": 3}, "did you mean 'max_new_tokens'?"),
        ({"zzz": 1}, "valid keys: "),
        ({"rounds": 0}, "key 'rounds' must be at least 1 (got 0)"),
        ({"rounds": "two"}, "key 'rounds': expected a whole number (got 'two')"),
        ({"rounds": 2.5}, "expected a whole number"),
        ({"rounds": True}, "expected a whole number"),
        ({"kinds": 3}, "key 'kinds': expected a list of text"),
        ({"first": 3}, "expected a mapping of Training settings"),
        ({"first": {"model": "x"}}, "'model' is set by the job itself"),
        ({"first": {"loraa": True}}, "did you mean 'lora'?"),
    ],
)
def test_a_bad_layer_is_one_line_naming_the_key(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ForgeError) as info:
        Job().merge(layer, where="run.yaml")
    text = str(info.value)
    assert text.startswith("run.yaml: ") and message in text and "\n" not in text


def test_to_json_round_trips_through_a_settings_file(tmp_path: Path) -> None:
    job = Job().merge({"rounds": 4, "kinds": "k", "batch_size": 3, "option": {"a": 1}})
    record = tmp_path / "summary.json"
    record.write_text(json.dumps({"schema_version": "1.1", "config": job.to_json()}))
    assert "model" not in job.to_json()["first"]  # set by the job, never recorded
    again = Job().merge(read_settings_file(record))
    assert again == job
    as_yaml = tmp_path / "run.yaml"
    import yaml

    as_yaml.write_text(yaml.safe_dump(job.to_json()))
    assert Job().merge(read_settings_file(as_yaml)) == job


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("rounds: [1,\n", "a.yaml", "a.yaml: line "),
        ("- 1\n- 2\n", "b.yaml", "expected a mapping of settings"),
        ('{"rounds": ', "c.json", "c.json: line 1: not JSON"),
    ],
)
def test_unreadable_files_are_one_line(tmp_path: Path, text: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ForgeError) as info:
        read_settings_file(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ForgeError, match="no such settings file"):
        read_settings_file(tmp_path / "missing.yaml")
    assert read_settings_file(_write(tmp_path / "empty.yaml", "")) == {}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@click.group(cls=ForgeGroup)
def cli() -> None:
    """Test CLI."""


@cli.command("job")
@config_file_option
@settings_options(Job)
def job_command(config_file: Path | None, **given: Any) -> None:
    file = read_settings_file(config_file) if config_file else None
    job = Job().merge(file, where=str(config_file)).merge(cli_layer(Job, given), where="cli")
    click.echo(json.dumps(job.to_json(), sort_keys=True))


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["job", *args])


def test_the_command_line_wins_over_the_file_which_wins_over_defaults(tmp_path: Path) -> None:
    conf = _write(tmp_path / "job.yaml", "rounds: 5\nbatch_size: 3\nmax_new_tokens: 40\n")
    out = _run("--config", str(conf), "--rounds", "6", "--option", "device=cpu")
    assert out.exit_code == 0, out.output
    job = json.loads(out.output)
    assert job["rounds"] == 6  # command line
    assert job["first"]["per_device_train_batch_size"] == 3  # file
    assert job["decoding"]["max_new_tokens"] == 40  # file, flattened key
    assert job["decoding"]["temperature"] == 0.0  # default
    assert job["options"] == {"device": "cpu"}
    assert job["first"]["lora"] is False  # the composed default, nothing set it


def test_generated_options_show_the_defaults_and_leave_click_unset() -> None:
    command = cli.commands["job"]
    assert all(p.default in (None, ()) for p in command.params if p.name != "config_file")
    names = {p.name for p in command.params}
    # one option per field or alias; the aliased nested fields only through their aliases
    assert {"rounds", "kinds", "workdir", "batch_size", "later_batch", "max_new_tokens"} <= names
    assert "first" not in names and "per_device_train_batch_size" not in names
    text = " ".join(_run("--help").output.split())
    assert "Rounds. [default: 2; x>=1]" in text
    assert "Decoding" not in text and "[default: 96; x>=1]" in text  # the job's own default
    assert "-w, --workdir" in text


def test_an_unknown_key_in_a_file_is_one_error_line(tmp_path: Path) -> None:
    conf = _write(tmp_path / "job.yaml", "rounds: 2\nbatch_sise: 3\n")
    out = _run("--config", str(conf))
    assert out.exit_code == 1
    assert out.output.strip() == (
        f"Error: {conf}: unknown key 'batch_sise'; did you mean 'batch_size'?"
    )


@dataclass
class Batching(Settings):
    batch_size: int | PerDevice = setting(PerDevice(cpu=8, cuda=64), "Rows.", minimum=1)
    seed: int = setting(0, "Seed.")


def test_a_per_device_default_resolves_on_the_device_and_a_layer_can_set_either_form() -> None:
    assert Batching().for_device("cpu").batch_size == 8
    assert Batching().for_device("cuda:1").batch_size == 64
    assert Batching().merge({"batch_size": 16}).for_device("cuda").batch_size == 16
    both = Batching().merge({"batch_size": {"cpu": 4, "cuda": 256}})
    assert both.batch_size == PerDevice(cpu=4, cuda=256)
    assert both.for_device("cuda").batch_size == 256 and both.for_device("mps").batch_size == 4


def test_a_per_device_default_round_trips_through_a_record(tmp_path: Path) -> None:
    record = _write(tmp_path / "run.json", json.dumps(Batching().to_json()))
    assert json.loads(record.read_text())["batch_size"] == {"cpu": 8, "cuda": 64}
    assert Batching().merge(read_settings_file(record)) == Batching()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"cpu": 4}, "expected a whole number or a mapping of both devices"),
        ({"cpu": 4, "cuda": "many"}, "expected a whole number or a mapping of both devices"),
        ({"cpu": 0, "cuda": 8}, "key 'batch_size' (cpu) must be at least 1"),
        ("lots", "expected a whole number"),
    ],
)
def test_a_bad_per_device_value_is_one_line(value: Any, message: str) -> None:
    with pytest.raises(ForgeError) as info:
        Batching().merge({"batch_size": value}, where="job.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


@click.command("batching")
@settings_options(Batching)
def batching_command(**given: Any) -> None:
    click.echo(Batching().merge(cli_layer(Batching, given)).for_device("cuda").batch_size)


def test_a_per_device_default_shows_both_values_in_help_and_takes_a_number() -> None:
    help_text = " ".join(CliRunner().invoke(batching_command, ["--help"]).output.split())
    assert "Rows. [default: 8 on CPU, 64 on CUDA; x>=1]" in help_text
    assert CliRunner().invoke(batching_command, ["--batch-size", "3"]).output.strip() == "3"
    assert CliRunner().invoke(batching_command, []).output.strip() == "64"
