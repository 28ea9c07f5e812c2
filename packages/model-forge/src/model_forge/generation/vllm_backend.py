"""The vLLM backend (``vllm:MODEL``): a local model folder served in-process by vLLM on a GPU.

vLLM (continuous batching, paged attention) is the fastest way to answer many requests with
an open model on an NVIDIA GPU. It is not one of model-forge's dependencies: vLLM pins its
own torch (vllm 0.33.0 needs torch 2.14.0 where the workspace lock has 2.15.0), so it cannot
be an extra of the locked workspace; install it with ``uv pip install vllm`` into the
environment that runs forge on a GPU machine (``docs/scale-out.md``). It is imported only when
a ``vllm:`` backend is built, and a machine without it, or without a GPU, gets one line that
says so.

``MODEL`` is a local model folder (a training output's top level holds the merged model) or
``bundled`` (the converted SmolLM2-135M-Instruct). Nothing is downloaded: a hub name is
refused, as everywhere in forge.

Options (``--option KEY=VALUE``): ``dtype`` (as the transformers backend: bfloat16 where the GPU
has it, else float32), ``gpu_memory_utilization``, ``max_model_len``,
``tensor_parallel_size``, ``enforce_eager``, ``seed``; ``model_id`` and ``revision`` name the
model in results. ``batch_size`` only sizes the chunks ``model-forge generate`` writes (vLLM
schedules its own batches).
An option left out is vLLM's own default.

Example:
    >>> sampling_kwargs(SamplingParams(max_new_tokens=64), [2])
    {'max_tokens': 64, 'temperature': 0.0, 'top_p': 1.0, 'seed': None, 'stop_token_ids': [2]}
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forge_export.cli_support import option_bool
from forge_export.errors import ForgeError
from forge_export.settings import on_device

from model_forge.generate_config import GenerateOptions
from model_forge.generation.plugins import BackendPlugin
from model_forge.generation.types import (
    Backend,
    Generation,
    GenerationRequest,
    ProgressCallback,
    SamplingParams,
)

_GENERATE = GenerateOptions()

INSTALL_HINT = "install it with `uv pip install vllm` (Linux, NVIDIA GPU; see docs/scale-out.md)"

_ENGINE_OPTIONS = {
    "dtype": str,
    "gpu_memory_utilization": float,
    "max_model_len": int,
    "tensor_parallel_size": int,
    "seed": int,
    "enforce_eager": bool,
}
"""The vLLM engine (``vllm.LLM``) keywords a user may set, with their types."""

_OWN_OPTIONS = {"model_id", "revision", "batch_size"}

_FINISH = {"stop": "stop", "length": "length"}
"""vLLM's ``finish_reason`` → forge's (anything else, e.g. ``abort``, is an error)."""


def require_vllm() -> None:
    """Refuse, in one line, when vLLM is not installed (it is not imported here).

    Raises:
        ForgeError: ``vllm`` cannot be found.
    """
    if importlib.util.find_spec("vllm") is None:
        raise ForgeError(f"the vllm: backend needs vLLM, which is not installed: {INSTALL_HINT}")


def require_cuda() -> None:
    """Refuse, in one line, when torch sees no CUDA GPU (vLLM runs on NVIDIA GPUs).

    Raises:
        ForgeError: ``torch.cuda.is_available()`` is false.
    """
    import torch

    if not torch.cuda.is_available():
        raise ForgeError(
            "the vllm: backend needs an NVIDIA GPU and torch sees none "
            "(torch.cuda.is_available() is false); on this machine give the model folder "
            "itself (--model FOLDER: the transformers backend)"
        )


def model_folder(name: str) -> Path:
    """The local folder ``vllm:NAME`` serves: ``bundled`` or an existing model folder.

    Raises:
        ForgeError: ``NAME`` is no folder (a hub name: forge never downloads), a PEFT adapter
            folder, or a folder without ``config.json``.
    """
    if name == "bundled":
        from model_forge.bundled_model import bundled_model_path

        return Path(bundled_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ForgeError(
            f"vllm:{name}: no such model folder; give a local folder or 'bundled' "
            "(forge never downloads a model)"
        )
    if (path / "adapter_config.json").is_file() and not (path / "config.json").is_file():
        raise ForgeError(
            f"vllm:{name}: a LoRA adapter folder; give the merged model (the top level of a "
            "training output)"
        )
    if not (path / "config.json").is_file():
        raise ForgeError(f"vllm:{name}: not a model folder (no config.json)")
    return path


def engine_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """The ``vllm.LLM`` keywords of the backend options given (typed), without forge's own.

    Raises:
        ForgeError: an unknown option, naming the known ones, or a value of the wrong type.
    """
    unknown = sorted(set(options) - set(_ENGINE_OPTIONS) - _OWN_OPTIONS)
    if unknown:
        known = ", ".join(sorted({*_ENGINE_OPTIONS, *_OWN_OPTIONS}))
        raise ForgeError(f"unknown option(s) for vllm: {', '.join(unknown)} (known: {known})")
    out: dict[str, Any] = {}
    for key, kind in _ENGINE_OPTIONS.items():
        if options.get(key) is None:
            continue
        value = options[key]
        try:
            out[key] = option_bool(value, name=key) if kind is bool else kind(value)
        except (TypeError, ValueError):
            raise ForgeError(f"vllm option {key}={value!r}: expected {kind.__name__}") from None
    return out


def sampling_kwargs(sampling: SamplingParams, stop_token_ids: Sequence[int]) -> dict[str, Any]:
    """The ``vllm.SamplingParams`` keywords of forge's decoding of one request.

    Greedy (``temperature`` 0) is vLLM's greedy too, with ``top_p`` 1; ``stop_token_ids`` are
    the model's end-of-turn tokens besides its EOS (vLLM stops at EOS itself).
    """
    return {
        "max_tokens": int(sampling.max_new_tokens),
        "temperature": 0.0 if sampling.greedy else float(sampling.temperature),
        "top_p": 1.0 if sampling.greedy else float(sampling.top_p),
        "seed": sampling.seed,
        "stop_token_ids": list(stop_token_ids),
    }


def to_generation(request_id: str, output: Any, model_id: str, latency_s: float) -> Generation:
    """The :class:`Generation` of one ``vllm.RequestOutput`` (its first completion).

    ``finish_reason`` ``stop`` and ``length`` are kept; anything else (``abort``) is an error.
    """
    completion = output.outputs[0]
    reason = _FINISH.get(str(completion.finish_reason), "error")
    return Generation(
        request_id=request_id,
        text=str(completion.text).strip(),
        model_id=model_id,
        prompt_tokens=len(output.prompt_token_ids or ()),
        completion_tokens=len(completion.token_ids),
        finish_reason=reason,
        latency_s=latency_s,
        error=None if reason != "error" else f"vLLM finished with {completion.finish_reason!r}",
    )


class VLLMBackend:
    """Answer chat requests with vLLM's offline engine (``vllm.LLM.chat``), all at once.

    Args:
        name: ``MODEL`` of ``vllm:MODEL`` (a folder or ``bundled``).
        **options: See the module docstring.

    Raises:
        ForgeError: vLLM missing, no GPU, a bad folder or option (one line each).
    """

    def __init__(self, name: str, **options: Any) -> None:
        require_vllm()
        kwargs = engine_kwargs(options)
        require_cuda()
        folder = model_folder(name)
        kwargs.setdefault("dtype", _default_dtype())
        from vllm import LLM  # heavy: only here

        self.model_id = str(options.get("model_id") or folder.name)
        self.revision = str(options.get("revision") or _revision(folder))
        self.device = "cuda"
        # requests per call of `model-forge generate`'s written chunks; vLLM batches itself
        given = options.get("batch_size")
        self.batch_size = int(
            on_device(given if given is not None else _GENERATE.batch_size, "cuda")
        )
        self.llm = LLM(model=str(folder), **kwargs)
        self._stop_ids = _end_of_turn_ids(self.llm.get_tokenizer())

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Answer ``requests`` in one vLLM call (it batches continuously); request order."""
        from vllm import SamplingParams as VLLMSampling

        if not requests:
            return []
        params = [VLLMSampling(**sampling_kwargs(r.sampling, self._stop_ids)) for r in requests]
        started = time.perf_counter()
        outputs = self.llm.chat(
            [list(r.messages) for r in requests], sampling_params=params, use_tqdm=False
        )
        elapsed = time.perf_counter() - started
        if progress is not None:
            progress(len(requests))
        return [
            to_generation(r.id, o, self.model_id, elapsed)
            for r, o in zip(requests, outputs, strict=True)
        ]


def _default_dtype() -> str:
    """The dtype the transformers backend would pick on this GPU (one policy for both)."""
    from model_forge.generation.transformers_backend import resolve_dtype

    return str(resolve_dtype(None, "cuda")).removeprefix("torch.")


def _revision(folder: Path) -> str:
    from model_forge.generation.transformers_backend import folder_revision

    return folder_revision(folder)


def _end_of_turn_ids(tokenizer: Any) -> list[int]:
    """The chat template's end-of-turn tokens that the vocabulary has (``<|im_end|>`` ...)."""
    from model_forge.generation.transformers_backend import END_OF_TURN_TOKENS

    template = str(getattr(tokenizer, "chat_template", "") or "")
    vocab = tokenizer.get_vocab()
    return [int(vocab[t]) for t in END_OF_TURN_TOKENS if t in template and t in vocab]


def _build(arg: str | None, **options: Any) -> Backend:
    return VLLMBackend(str(arg), **options)


PLUGIN = BackendPlugin(
    "vllm:MODEL",
    "vLLM's offline engine on an NVIDIA GPU, for a local model folder or bundled (needs "
    "`uv pip install vllm`)",
    _build,
    takes_arg=True,
    example="vllm:runs/loop/round-1/model",
)
