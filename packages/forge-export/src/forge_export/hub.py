"""Publish an export to the HuggingFace Hub as a dataset repository (private by default).

The export folder is uploaded as it is: the dataset card (``README.md``, whose YAML header lists
every config and split, so ``datasets.load_dataset("owner/name", "sft")`` works), ``manifest.json``
and the parquet files the manifest lists. Nothing else in the folder is uploaded.

Before anything is sent the export is validated (every problem refuses the push), the repository
id is checked, a token is looked up (``token=``, else ``$HF_TOKEN`` or the token saved by
``hf auth login``) and offline mode (``HF_HUB_OFFLINE=1``) is refused with a clear message.
The upload itself is ``huggingface_hub.HfApi.create_repo(..., repo_type="dataset",
private=..., exist_ok=True)`` then ``upload_folder(..., allow_patterns=<those files>)``: one
commit. An existing repository keeps its visibility (the Hub does not change it on upload).

Example:
    >>> plan = plan_push("out", "my-org/safety-sft", private=True)   # doctest: +SKIP
    >>> [f.path for f in plan.files][:2]                              # doctest: +SKIP
    ['README.md', 'eval/test.parquet']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_export.errors import ForgeError
from forge_export.manifest import MANIFEST_NAME, read_manifest

NO_TOKEN = (
    "no HuggingFace token: run `hf auth login` (or `huggingface-cli login`), or set HF_TOKEN "
    "to a token with write access (https://huggingface.co/settings/tokens)"
)


@dataclass(frozen=True)
class PlannedFile:
    """One file that would be uploaded."""

    path: str
    bytes: int


@dataclass
class PushPlan:
    """What a push would upload, and where.

    Attributes:
        folder: The export folder.
        repo_id: ``owner/name`` of the dataset repository.
        private: Visibility used if the repository is created.
        files: Every file that goes up (card, manifest, parquet), sorted by path.
        fingerprint: The export's data fingerprint (from the manifest).
        commit_message: The commit message.
        url: Filled in after the upload: the repository URL.
        commit_url: Filled in after the upload: the commit URL.
    """

    folder: Path
    repo_id: str
    private: bool
    files: list[PlannedFile]
    fingerprint: str
    commit_message: str
    url: str | None = None
    commit_url: str | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Bytes to upload."""
        return sum(f.bytes for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "folder": str(self.folder),
            "repo_id": self.repo_id,
            "repo_type": "dataset",
            "private": self.private,
            "files": [{"path": f.path, "bytes": f.bytes} for f in self.files],
            "total_bytes": self.total_bytes,
            "not_uploaded": self.skipped,
            "fingerprint": self.fingerprint,
            "commit_message": self.commit_message,
            "url": self.url,
            "commit_url": self.commit_url,
        }


def check_repo_id(repo_id: str) -> str:
    """Check a dataset repository id (``owner/name``) and return it.

    Raises:
        ForgeError: the id is not ``owner/name`` with letters, digits, ``-``, ``_``, ``.``.
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils._validators import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ForgeError(f"repository id {repo_id!r}: {exc}".splitlines()[0]) from None
    if repo_id.count("/") != 1:
        raise ForgeError(
            f"repository id {repo_id!r}: give OWNER/NAME (your user or organisation name, "
            "then the dataset name), e.g. my-org/safety-sft"
        )
    return repo_id


def plan_push(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = True,
    commit_message: str | None = None,
) -> PushPlan:
    """Validate the export and list what a push would upload. Sends nothing.

    Args:
        folder: The export folder.
        repo_id: ``owner/name`` of the dataset repository.
        private: Create the repository private (default) or public.
        commit_message: Commit message; default names the fingerprint and counts.

    Returns:
        The plan.

    Raises:
        ForgeError: bad repository id, or the export has problems (the first is named).
    """
    from forge_export.reader import validate_export

    check_repo_id(repo_id)
    path = Path(folder)
    problems = validate_export(path)
    if problems:
        more = f" (and {len(problems) - 1} more; run forge-export validate)" if problems[1:] else ""
        raise ForgeError(f"not pushing {path}: {problems[0]}{more}")
    manifest = read_manifest(path)
    names = sorted({*manifest.files, MANIFEST_NAME})
    files = [PlannedFile(name, (path / name).stat().st_size) for name in names]
    listed = set(names)
    skipped = sorted(
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and str(p.relative_to(path)) not in listed
    )
    rows = sum(n for splits in manifest.counts.values() for n in splits.values())
    message = commit_message or (
        f"forge export {manifest.fingerprint[:12]} ({rows} rows, schema {manifest.schema_version})"
    )
    return PushPlan(path, repo_id, private, files, manifest.fingerprint, message, skipped=skipped)


def resolve_token(token: str | None = None) -> str:
    """The token to push with: ``token``, else ``$HF_TOKEN`` or the saved login.

    Raises:
        ForgeError: there is none.
    """
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise ForgeError(NO_TOKEN)
    return found


def check_online() -> None:
    """Refuse offline mode before any request is made.

    Raises:
        ForgeError: ``HF_HUB_OFFLINE`` is set.
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise ForgeError("HF_HUB_OFFLINE=1 is set, so nothing can be pushed; unset it and retry")


def is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed connection (no network, DNS, proxy, timeout, TLS)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".")[0]
        if module.startswith(("httpx", "httpcore", "requests", "urllib3", "aiohttp")) or module in (
            "ssl",
            "socket",
        ):
            return True
        if cls.__name__ == "OfflineModeIsEnabled":
            return True
    return False


def preflight(repo_id: str, token: str | None = None) -> str:
    """Everything checkable before an export is written: repository id, token, online mode.

    Returns:
        The token.

    Raises:
        ForgeError: naming the problem and the fix.
    """
    check_repo_id(repo_id)
    found = resolve_token(token)
    check_online()
    return found


def push_export(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    commit_message: str | None = None,
    api: Any = None,
) -> PushPlan:
    """Upload an export to a HuggingFace dataset repository in one commit.

    Args:
        folder: The export folder (validated first).
        repo_id: ``owner/name``.
        private: Create the repository private (default). An existing repository keeps its
            visibility.
        token: A write token; default ``$HF_TOKEN`` or the saved login.
        commit_message: Commit message (default names the fingerprint and row count).
        api: A ``huggingface_hub.HfApi``-like client; default ``HfApi(token=token)``.

    Returns:
        The plan, with ``url`` and ``commit_url`` filled in.

    Raises:
        ForgeError: bad export or repository id, no token, offline mode, or the Hub refused.
    """
    plan = plan_push(folder, repo_id, private=private, commit_message=commit_message)
    found = preflight(repo_id, token)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=found)
    plan.url, plan.commit_url = upload_folder(
        api,
        repo_id,
        "dataset",
        plan.folder,
        private=private,
        commit_message=plan.commit_message,
        unreachable=lambda first: (
            f"cannot reach the HuggingFace Hub to push to {repo_id} ({first}); check the "
            f"network (or proxy) and retry with `forge-export push {plan.folder} {repo_id}`; "
            f"the export at {plan.folder} is complete and unchanged"
        ),
        allow_patterns=[f.path for f in plan.files],
    )
    return plan


def upload_folder(
    api: Any,
    repo_id: str,
    repo_type: str,
    folder: Path,
    *,
    private: bool,
    commit_message: str,
    unreachable: Callable[[str], str],
    **patterns: Any,
) -> tuple[str, str]:
    """Create ``repo_id`` (if needed) and upload ``folder`` in one commit: (repo URL, commit URL).

    ``patterns`` go to ``HfApi.upload_folder`` (``allow_patterns`` / ``ignore_patterns``).

    Raises:
        ForgeError: the Hub refused (its first line), or it cannot be reached
            (``unreachable(first line of the error)``).
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type=repo_type,
            commit_message=commit_message,
            **patterns,
        )
    except HfHubHTTPError as exc:
        first = str(exc).splitlines()[0]
        raise ForgeError(f"the Hub refused the push to {repo_id}: {first}") from None
    except Exception as exc:
        if not is_network_error(exc):
            raise
        first = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
        raise ForgeError(unreachable(first)) from None
    return str(url), str(getattr(commit, "commit_url", commit))
