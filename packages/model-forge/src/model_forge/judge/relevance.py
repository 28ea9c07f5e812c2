"""Does a response address the request? Prompt-response similarity for every judge.

Two signals, cheapest first:

* :func:`lexical_overlap`: the share of the prompt's content words (4-letter stems) that the
  response uses. A response that uses most of them is on topic; no embedding is computed.
* :func:`similarities`: cosine similarity of prompt and response embeddings (the wheel-shipped
  all-MiniLM-L6-v2, :mod:`model_forge.judge.embed`), computed in one batch for the responses the
  lexical signal cannot settle. Below :data:`OFF_TOPIC_THRESHOLD` a response answers a different
  question. The threshold is calibrated on the project's own labelled rows by
  ``benchmarks/train_judge.py`` (it prints the precision/recall of off-topic detection).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

OFF_TOPIC_THRESHOLD = 0.28
"""Cosine similarity under which a (non-refusing) response is off topic (calibrated)."""

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


def similarities(prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """Cosine similarity of each prompt with its response (batched embeddings)."""
    from model_forge.judge.embed import cosine_pairs

    return cosine_pairs(prompts, responses)


def needs_embedding(prompt: str, response: str) -> bool:
    """Whether the lexical signal leaves the relevance of ``response`` open."""
    return lexical_overlap(prompt, response) < LEXICAL_ON_TOPIC
