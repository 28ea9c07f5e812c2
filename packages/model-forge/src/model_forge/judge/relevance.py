"""Does a response address the request? Prompt-response similarity for every judge.

Two signals, cheapest first:

* :func:`lexical_overlap`: the share of the prompt's content words (4-letter stems) that the
  response uses. A response that uses most of them is on topic; no embedding is computed.
* :func:`relevance`: the response is cut into windows of :data:`WINDOW_WORDS` words (at most
  :data:`MAX_WINDOWS`), each window and the prompt are embedded (the wheel-shipped
  all-MiniLM-L6-v2, :mod:`model_forge.judge.embed`, all in one batch), and the prompt is
  compared with every window and with their mean (the whole response). Windows cost no more
  tokens than embedding the whole opening at once, and they see an answer that starts on topic
  and drifts: its first window is close to the prompt, the rest are not.

:func:`is_off_topic` (the rule judge's decision): the whole response is far from the prompt
(cosine under :data:`OFF_TOPIC_THRESHOLD`), or most of it is (fewer than half of the windows
reach :data:`WINDOW_THRESHOLD`) and the whole is not close either (under
:data:`DRIFT_WHOLE_MAX`). Only responses with a window that uses under half of the
prompt's content words are embedded (:func:`needs_embedding`). The
thresholds are calibrated on the ``train`` split of the project's own labelled rows by
``benchmarks/train_judge.py``, which prints off-topic precision/recall on the held-out split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model_forge.judge.embed import TokenEmbeddings

OFF_TOPIC_THRESHOLD = 0.24
"""Cosine similarity of prompt and whole response under which a (non-refusing) response is off
topic (calibrated)."""

WINDOW_THRESHOLD = 0.12
"""Cosine similarity a window of the response needs to count as on topic (calibrated)."""

DRIFT_WHOLE_MAX = 0.32
"""Most windows off topic make a response off topic only when the whole response is under this
similarity too (a technical answer whose command lines embed far from the question stays on
topic; calibrated)."""

WINDOW_WORDS = 14
"""Words per window of the response."""

MAX_WINDOWS = 4
"""Windows embedded per response (its first ``WINDOW_WORDS * MAX_WINDOWS`` words)."""

LEXICAL_ON_TOPIC = 0.5
"""Share of the prompt's content stems a response must use to be on topic without embedding."""

_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP_WORDS = (
    "about above after again against also always among another anyone anything because been "
    "before being below between both cannot could does doing down during each even every from "
    "further have having here into itself just like make many might more most much must never "
    "only other over same should some such than that their them then there these they thing "
    "things this those through under until very what when where which while whom whose will "
    "with would your yours yourself please tell know want need best good really help okay give "
    "write explain describe list show find some ways way"
)
_STOP = frozenset(_STOP_WORDS.split())


def content_stems(text: str) -> set[str]:
    """The 4-letter stems of ``text``'s content words (stop words and short words dropped)."""
    return {w[:4] for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _STOP}


def lexical_overlap(prompt: str, response: str) -> float:
    """Share of ``prompt``'s content stems that ``response`` uses (1.0 when it has none)."""
    p = content_stems(prompt)
    if not p:
        return 1.0
    return len(p & content_stems(response)) / len(p)


def windows(text: str) -> list[str]:
    """The response cut into windows of :data:`WINDOW_WORDS` words (at most
    :data:`MAX_WINDOWS`); a last window under half the size joins the one before it."""
    words = text.split()
    if not words:
        return [text]
    out = [words[i : i + WINDOW_WORDS] for i in range(0, len(words), WINDOW_WORDS)]
    if len(out) > 1 and len(out[-1]) < WINDOW_WORDS // 2:
        last = out.pop()
        out[-1] = out[-1] + last
    return [" ".join(w) for w in out[:MAX_WINDOWS]]


@dataclass(frozen=True)
class Relevance:
    """How close a response is to its prompt.

    Attributes:
        whole: Cosine of the prompt with the mean of the response's window embeddings.
        first: Cosine of the prompt with the first window.
        max: The highest window cosine.
        min: The lowest window cosine.
        rest: Mean window cosine after the first window (``first`` for one window).
        on_share: Share of windows at or above :data:`WINDOW_THRESHOLD`.
        overlap: :func:`lexical_overlap` of prompt and response.
    """

    whole: float
    first: float
    max: float
    min: float
    rest: float
    on_share: float
    overlap: float

    def vector(self) -> list[float]:
        """The numbers as features (for the learned head)."""
        return [self.whole, self.first, self.max, self.min, self.rest, self.on_share]


def relevance_embeddings(
    prompts: Sequence[str], responses: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[Relevance]]:
    """Prompt embeddings, whole-response embeddings (normalised mean of the windows) and the
    :class:`Relevance` of each pair, from one batched embedding pass."""
    from model_forge.judge.embed import embed

    if len(prompts) != len(responses):
        raise ValueError("relevance needs as many prompts as responses")
    wins = [windows(r) for r in responses]
    flat = [w for ws in wins for w in ws]
    e = embed([*prompts, *flat])
    p, we = e[: len(prompts)], e[len(prompts) :]
    whole = np.zeros_like(p)
    rels = []
    k = 0
    for i, ws in enumerate(wins):
        block = we[k : k + len(ws)]
        k += len(ws)
        mean = block.mean(axis=0)
        whole[i] = mean / max(float(np.linalg.norm(mean)), 1e-9)
        cos = block @ p[i]
        rels.append(
            Relevance(
                whole=float(whole[i] @ p[i]),
                first=float(cos[0]),
                max=float(cos.max()),
                min=float(cos.min()),
                rest=float(cos[1:].mean()) if len(cos) > 1 else float(cos[0]),
                on_share=float((cos >= WINDOW_THRESHOLD).mean()),
                overlap=lexical_overlap(prompts[i], responses[i]),
            )
        )
    return p, whole, rels


def relevance(prompts: Sequence[str], responses: Sequence[str]) -> list[Relevance]:
    """The :class:`Relevance` of each prompt-response pair (batched embeddings)."""
    return relevance_embeddings(prompts, responses)[2]


def similarities(prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """Cosine similarity of each prompt with its whole response (batched embeddings)."""
    return np.array([r.whole for r in relevance(prompts, responses)], dtype=np.float32)


ALIGNMENT_FEATURES = 5
"""Numbers per pair from :func:`token_alignment`."""


def token_alignment(prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """How well each response covers its prompt word by word (BERTScore-like): for every
    content word piece of the prompt, the best cosine with any word piece of the response
    (contextual embeddings, :func:`model_forge.judge.embed.embed_tokens`), and the other way
    round.

    A sentence embedding blurs two neighbouring activities into one topic (a chess question and
    an answer about cricket are both "games"); the prompt's own key word ("chess") then finds
    no close word in the answer, which this measure sees.

    Returns:
        Shape ``(n, ALIGNMENT_FEATURES)``: the mean, the lowest and the mean of the two lowest
        best cosines of the prompt's content pieces (recall), and the mean and median best
        cosine of the response's content pieces (precision).
    """
    from model_forge.judge.embed import embed_tokens

    if len(prompts) != len(responses):
        raise ValueError("token alignment needs as many prompts as responses")
    out = np.zeros((len(prompts), ALIGNMENT_FEATURES), dtype=np.float32)
    if not prompts:
        return out
    toks = embed_tokens([*prompts, *responses])
    for i, (p, r) in enumerate(zip(toks[: len(prompts)], toks[len(prompts) :], strict=True)):
        if not len(p.vectors) or not len(r.vectors):
            continue
        recall = np.sort((_content(p) @ r.vectors.T).max(axis=1))
        precision = (_content(r) @ p.vectors.T).max(axis=1)
        out[i] = (
            recall.mean(),
            recall[0],
            recall[:2].mean(),
            precision.mean(),
            np.median(precision),
        )
    return out


def _content(t: TokenEmbeddings) -> np.ndarray:
    """The vectors of ``t``'s content pieces: word starts of 3+ characters that are no stop word
    (all pieces when there are none). Chosen by cross-validation on the train rows over whole
    words of 4+ letters (off-topic recall 0.776 against 0.772)."""
    keep = [i for i, w in enumerate(t.tokens) if len(w) >= 3 and w not in _STOP and w[:2] != "##"]
    return t.vectors[keep] if keep else t.vectors


def is_off_topic(rel: Relevance) -> bool:
    """The rule judge's relevance decision (see the module docstring)."""
    if rel.whole < OFF_TOPIC_THRESHOLD:
        return True
    return rel.on_share < 0.5 and rel.whole < DRIFT_WHOLE_MAX


def relevance_flags(rel: Relevance) -> list[float]:
    """The calibrated decisions as 0/1 features: off topic, whole under threshold, most
    windows under threshold."""
    return [
        float(is_off_topic(rel)),
        float(rel.whole < OFF_TOPIC_THRESHOLD),
        float(rel.on_share < 0.5),
    ]


def needs_embedding(prompt: str, response: str) -> bool:
    """Whether the lexical signal leaves the relevance of ``response`` open: some window of it
    uses under :data:`LEXICAL_ON_TOPIC` of the prompt's content stems (a short answer is one
    window; a long one may drift, so it is nearly always embedded)."""
    return min(lexical_overlap(prompt, w) for w in windows(response)) < LEXICAL_ON_TOPIC
