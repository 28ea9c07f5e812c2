"""Publishing an export to the HuggingFace Hub: everything up to the upload call.

No test talks to the Hub (nothing may leave this machine, and a local stand-in for the Hub's
commit/LFS protocol would test the stand-in, not the push). What is tested for real: the
validation of the export and of the repository id, the token lookup, the offline refusal, the
exact list of files and bytes that would go up, that `scenario-forge export --push-to-hub`
refuses BEFORE writing anything, and which calls `push_export` makes on its Hub client (a
recording client object stands in for `huggingface_hub.HfApi`, passed through the `api=`
parameter).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from forge_export.cli import main as forge_export_cli
from forge_export.errors import ForgeError
from forge_export.hub import plan_push, push_export


@pytest.fixture(scope="module")
def export(synthetic_export_of: Callable[..., Path]) -> Path:
    return synthetic_export_of(30, test_size=0.3, seed=1)


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))


def _manifest_files(export: Path) -> set[str]:
    return set(json.loads((export / "manifest.json").read_text())["files"]) | {"manifest.json"}


def test_dry_run_lists_exactly_what_would_go_up(export: Path) -> None:
    res = CliRunner().invoke(
        forge_export_cli, ["push", str(export), "me/safety", "--dry-run", "--json"]
    )
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert plan["private"] is True and plan["repo_type"] == "dataset" and plan["dry_run"]
    files = {f["path"]: f["bytes"] for f in plan["files"]}
    assert set(files) == _manifest_files(export)
    assert "README.md" in files and "sft/train.parquet" in files
    for path, size in files.items():
        assert (export / path).stat().st_size == size
    assert plan["total_bytes"] == sum(files.values())
    assert plan["fingerprint"] == json.loads((export / "manifest.json").read_text())["fingerprint"]

    public = CliRunner().invoke(
        forge_export_cli, ["push", str(export), "me/safety", "--dry-run", "--public"]
    )
    assert public.exit_code == 0 and "(public)" in public.output


def test_no_token_is_one_clear_line(export: Path) -> None:
    res = CliRunner().invoke(forge_export_cli, ["push", str(export), "me/safety"])
    assert res.exit_code == 1
    assert res.output.startswith("Error: no HuggingFace token: run `hf auth login`")
    assert "HF_TOKEN" in res.output and "Traceback" not in res.output


def test_offline_is_refused_before_any_request(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    res = CliRunner().invoke(forge_export_cli, ["push", str(export), "me/safety"])
    assert res.exit_code == 1
    assert "HF_HUB_OFFLINE=1 is set" in res.output


@pytest.mark.parametrize("repo", ["no-owner", "a/b/c", "me/bad name", "me/--x"])
def test_bad_repo_id(export: Path, repo: str) -> None:
    res = CliRunner().invoke(forge_export_cli, ["push", str(export), repo, "--dry-run"])
    assert res.exit_code == 1 and res.output.startswith(f"Error: repository id '{repo}'")


def test_broken_export_is_not_pushed(export: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(export, broken)
    with open(broken / "sft" / "train.parquet", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ForgeError, match=r"not pushing .*sft/train.parquet"):
        plan_push(broken, "me/safety")
    res = CliRunner().invoke(
        forge_export_cli, ["push", str(tmp_path / "nope"), "me/x", "--dry-run"]
    )
    assert res.exit_code == 1 and res.output.startswith("Error: not pushing")


class RecordingHub:
    """Stands in for huggingface_hub.HfApi: records the calls push_export makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def create_repo(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append(("create_repo", args, kwargs))
        return f"https://huggingface.co/datasets/{args[0]}"

    def upload_folder(self, **kwargs: Any) -> str:
        self.calls.append(("upload_folder", (), kwargs))
        return f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/abc"


def test_push_calls_private_dataset_repo_then_one_commit(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    hub = RecordingHub()
    (export.parent / "stray.txt").write_text("x")  # outside the folder: irrelevant
    plan = push_export(export, "me/safety", token="hf_test", api=hub)
    [(n1, a1, k1), (n2, _, k2)] = hub.calls
    assert (n1, a1, k1) == (
        "create_repo",
        ("me/safety",),
        {"repo_type": "dataset", "private": True, "exist_ok": True},
    )
    assert n2 == "upload_folder"
    assert k2["folder_path"] == str(export) and k2["repo_type"] == "dataset"
    assert set(k2["allow_patterns"]) == _manifest_files(export)
    assert plan.fingerprint[:12] in k2["commit_message"]
    assert plan.url == "https://huggingface.co/datasets/me/safety"

    hub2 = RecordingHub()
    push_export(export, "me/safety", private=False, token="hf_test", api=hub2, commit_message="r2")
    assert hub2.calls[0][2]["private"] is False and hub2.calls[1][2]["commit_message"] == "r2"


def test_scenario_forge_export_push_refuses_before_writing(tmp_path: Path) -> None:
    from scenario_forge.cli import main as sf

    runner = CliRunner()
    db = tmp_path / "forge.db"
    assert runner.invoke(sf, ["init", "--db", str(db)]).exit_code == 0
    assert (
        runner.invoke(
            sf, ["generate", "-t", "harmful_code", "--count", "4", "--db", str(db)]
        ).exit_code
        == 0
    )
    out = tmp_path / "out"
    res = runner.invoke(sf, ["export", str(out), "--db", str(db), "--push-to-hub", "me/safety"])
    assert res.exit_code == 1, res.output
    assert "Error: no HuggingFace token" in res.output
    assert not out.exists()  # nothing half-done: the token is checked before the export
    res = runner.invoke(sf, ["export", str(out), "--db", str(db), "--push-to-hub", "bad"])
    assert res.exit_code == 1 and "repository id 'bad'" in res.output and not out.exists()
    assert "--push-to-hub" in runner.invoke(sf, ["export", "--help"]).output
