"""The CLI commands: init, list, show, stats, help texts; subprocess start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from forge_export import Review
from scenario_forge.cli import main
from scenario_forge.store import ScenarioStore

from .conftest import Cli


def test_every_command_has_help_with_examples(cli: Cli) -> None:
    for name in main.commands:
        res = cli(name, "--help")
        assert res.exit_code == 0, name
        assert "Example" in res.stdout, f"{name} --help has no examples"


def test_init_creates_and_is_idempotent(cli: Cli) -> None:
    res = cli("init")
    assert res.exit_code == 0 and "Created store" in res.stdout and cli.db.exists()
    res = cli("init", "--json")
    info = json.loads(res.stdout)
    assert info["created"] is False and info["schema_version"] >= 1


def test_read_commands_need_a_store(cli: Cli) -> None:
    for args in (("list",), ("stats",), ("show", "abc")):
        res = cli(*args)
        assert res.exit_code == 1 and "scenario-forge init" in res.stderr
    assert not cli.db.exists()


def test_list_show_stats(cli: Cli) -> None:
    assert cli("generate", "-t", "demo_code", "-n", "8").exit_code == 0
    assert cli("complete").exit_code == 0
    listed = json.loads(cli("list", "--limit", "0", "--json").stdout)
    assert len(listed) == 8
    benign = json.loads(cli("list", "--expected-behavior", "comply", "--json").stdout)
    assert len(benign) == 2 and all(s["expected_behavior"] == "comply" for s in benign)
    assert json.loads(cli("list", "--source", "import", "--json").stdout) == []
    text = cli("list", "--limit", "3").stdout
    assert "(3 of 8; --limit 0 shows all)" in text

    sid = listed[0]["id"]
    with ScenarioStore.open(cli.db) as store:
        store.add_review(Review(scenario_id=sid, reviewer="ana", rating=3, note="clear"))
    shown = cli("show", sid[:8])
    assert shown.exit_code == 0, shown.output
    assert sid in shown.stdout and "template  proposed" in shown.stdout
    assert "ana: 3 — clear" in shown.stdout and "rating 3.00" in shown.stdout
    data = json.loads(cli("show", sid, "--json").stdout)
    assert data["scenario"]["id"] == sid and len(data["completions"]) == 1
    assert data["rating"] == 3
    missing = cli("show", "0000000000000000000f")
    assert missing.exit_code == 1 and "no scenario id starts with" in missing.stderr

    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["scenarios"] == 8 and stats["by_target"] == {"demo_code": 8}
    assert stats["by_expected_behavior"] == {"comply": 2, "refuse": 6}
    assert stats["completions_by_status"] == {"proposed": 8}
    assert stats["scenarios_by_rating"] == {"3": 1, "unreviewed": 7}
    human = cli("stats").stdout
    assert "8 scenarios, 8 completions, 1 reviews" in human and "demo_code" in human


def test_help_is_fast_and_light(tmp_path: Path) -> None:
    code = (
        "import sys; from scenario_forge.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'pyarrow', 'trl') "
        "if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "HEAVY []" in out.stdout


@pytest.mark.parametrize("cmd", ["list", "stats"])
def test_console_script_runs(tmp_path: Path, cmd: str) -> None:
    db = tmp_path / "forge.db"
    exe = Path(sys.executable).parent / "scenario-forge"
    subprocess.run([str(exe), "init", "--db", str(db)], check=True, capture_output=True)
    out = subprocess.run(
        [str(exe), cmd, "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
