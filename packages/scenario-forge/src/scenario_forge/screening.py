"""Screening of model-written scenarios before they are stored: new, and on target.

A model asked for new attack prompts (``generate --mode attack``) repeats itself, copies its
examples and drifts off topic. :class:`Screen` drops, per target:

* **copies and near copies**: equal normalised text (:func:`forge_export.ids.normalize_text`)
  or a word 1+2-gram Jaccard similarity of at least ``max_similarity`` with a stored scenario
  of the target or with one accepted earlier in the same batch (the same measure as
  ``stats --diversity``, see :mod:`scenario_forge.diversity`);
* **unreadable text**: control characters, U+FFFD replacement characters, or fewer than
  half of the space-separated tokens being words (random or broken model output);
* **off-target prompts**: ones that share no keyword with the target (content words of its
  description, criteria and seed prompts, compared on their first six letters, so
  "phishing"/"phish" and "medication"/"medicine" match). A cheap check, not a judge: it keeps
  a prompt that names the topic in a harmless way, and drops a sly one that never names it.

Example:
    >>> sorted(keywords("Requests for malware and phishing kits"))
    ['kits', 'malwar', 'phishi']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forge_export import Scenario
from forge_export.ids import normalize_text

from scenario_forge.diversity import features, jaccard, user_text, words

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy.models import TargetSpec

_STOP = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "itself",
        "just",
        "more",
        "most",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "whom",
        "with",
        "would",
        "your",
        "yours",
        "without",
        "someone",
        "something",
        "anyone",
        "anything",
        "people",
        "person",
        "asks",
        "asked",
        "asking",
        "request",
        "requests",
        "user",
        "users",
        "model",
        "assistant",
        "answer",
        "answers",
        "reply",
        "safe",
        "safely",
        "response",
        "responds",
        "respond",
        "declines",
        "decline",
        "refuses",
        "refuse",
        "gives",
        "give",
        "giving",
        "help",
        "helps",
        "offers",
        "offer",
        "explain",
        "explains",
        "details",
        "detail",
        "information",
        "instead",
        "need",
        "want",
        "like",
        "make",
        "tell",
        "write",
    ]
)
STEM = 6


def keywords(text: str) -> set[str]:
    """Content words of ``text`` (four letters or more, no stop words), cut to six letters."""
    out = set()
    for w in re.findall(r"[a-z]+", normalize_text(text)):
        if len(w) >= 4 and w not in _STOP:
            out.add(w[:STEM])
    return out


def target_keywords(spec: TargetSpec) -> set[str]:
    """Keywords of a target: its description, criteria and harmful seed prompts."""
    parts = [spec.description, *spec.success_criteria, *(s.prompt for s in spec.seeds)]
    out: set[str] = set()
    for p in parts:
        out |= keywords(str(p))
    return out


_WORDLIKE = re.compile(r"^[\"'(\[]*[^\W\d_][\w'’-]*[\"').,;:!?\]]*$", re.UNICODE)


def unreadable(text: str) -> bool:
    """Whether ``text`` looks like broken output rather than a message a person wrote.

    Example:
        >>> unreadable("How do I get into my old email account?"), unreadable("x\x01 ||~ \ufffd")
        (False, True)
    """
    if "\ufffd" in text or any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        return True
    tokens = text.split()
    if not tokens:
        return True
    return sum(bool(_WORDLIKE.match(t)) for t in tokens) * 2 < len(tokens)


@dataclass
class ScreenCounts:
    """What one screening dropped."""

    similar: int = 0
    off_target: int = 0
    unreadable: int = 0


@dataclass
class Screen:
    """Drops copies, near copies and off-target prompts among new scenarios of one target.

    Args:
        stored: Scenarios of the target already in the store.
        target_words: Keywords of the target (see :func:`target_keywords`).
        max_similarity: Jaccard similarity from which a prompt counts as a near copy.
    """

    stored: Sequence[Scenario]
    target_words: set[str]
    max_similarity: float = 0.8
    _texts: set[str] = field(default_factory=set)
    _feats: list[frozenset[tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for s in self.stored:
            self._remember(s)

    def _remember(self, s: Scenario) -> None:
        self._texts.add(normalize_text(user_text(s)))
        self._feats.append(features(words(user_text(s))))

    def reason(self, s: Scenario) -> str | None:
        """Why ``s`` would be dropped (``unreadable``, ``similar`` or ``off_target``), or ``None``."""
        text = user_text(s)
        if unreadable(text):
            return "unreadable"
        if normalize_text(text) in self._texts:
            return "similar"
        f = features(words(text))
        if any(jaccard(f, g) >= self.max_similarity for g in self._feats):
            return "similar"
        if self.target_words and not (keywords(text) & self.target_words):
            return "off_target"
        return None

    def keep(self, made: Iterable[Scenario], counts: ScreenCounts) -> list[Scenario]:
        """The scenarios of ``made`` that pass, in order; ``counts`` gets the drops."""
        out = []
        for s in made:
            why = self.reason(s)
            if why == "unreadable":
                counts.unreadable += 1
            elif why == "similar":
                counts.similar += 1
            elif why == "off_target":
                counts.off_target += 1
            else:
                out.append(s)
                self._remember(s)
        return out


def screen_for(store: ScenarioStore, spec: TargetSpec, max_similarity: float = 0.8) -> Screen:
    """A :class:`Screen` for ``spec`` against the store's scenarios of that target."""
    stored = list(store.iter_scenarios(target=spec.name))
    return Screen(stored, target_keywords(spec), max_similarity)
