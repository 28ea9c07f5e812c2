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

A generator that screens by meaning (``screen_scenarios``, the
:class:`~forge_export.generators.ScenarioScreen` side of the plugin protocol; model-forge's
judges relevance to the target and its seed prompts and harmful intent with sentence
embeddings) is asked about every readable prompt too: its ``off_target`` and ``not_harmful``
verdicts are dropped and counted, and a kept scenario carries its scores in
``metadata["screen"]``. scenario-forge itself loads no model.

Every drop is recorded as a :class:`Rejection` with its reason and the numbers behind it.

Example:
    >>> sorted(keywords("Requests for malware and phishing kits"))
    ['kits', 'malwar', 'phishi']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forge_export import Scenario
from forge_export.generators import ScreenVerdict
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


REASONS = {
    "unreadable": "unreadable",
    "similar": "near copies",
    "off_target": "off target",
    "not_harmful": "not a harmful request",
}
"""Reason key → the words the CLI prints."""


@dataclass(frozen=True)
class Rejection:
    """One screened-out scenario.

    Attributes:
        prompt: Its user text.
        reason: ``unreadable``, ``similar``, ``off_target`` or ``not_harmful``.
        detail: Why, with the numbers (``relevance to harmful_code 0.12 < 0.20``).
    """

    prompt: str
    reason: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"prompt": self.prompt, "reason": self.reason, "detail": self.detail}


@dataclass
class ScreenCounts:
    """What one screening dropped, counted by reason, and each drop."""

    similar: int = 0
    off_target: int = 0
    unreadable: int = 0
    not_harmful: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def reject(self, s: Scenario, reason: str, detail: str) -> None:
        """Count ``s`` as dropped for ``reason``."""
        setattr(self, reason, getattr(self, reason) + 1)
        self.rejected.append(Rejection(user_text(s), reason, detail))


SemanticScreen = Callable[[Sequence[Scenario]], Sequence[ScreenVerdict]]
"""A generator's screen by meaning, bound to one target (see the module docs)."""


@dataclass
class Screen:
    """Drops unreadable text, copies, near copies and off-target prompts among new scenarios
    of one target.

    Args:
        stored: Scenarios of the target already in the store.
        target_words: Keywords of the target (see :func:`target_keywords`).
        max_similarity: Jaccard similarity from which a prompt counts as a near copy.
        semantic: The generator's screen by meaning, if it has one.
    """

    stored: Sequence[Scenario]
    target_words: set[str]
    max_similarity: float = 0.8
    semantic: SemanticScreen | None = None
    _texts: set[str] = field(default_factory=set)
    _feats: list[frozenset[tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for s in self.stored:
            self._remember(s)

    def _remember(self, s: Scenario) -> None:
        self._texts.add(normalize_text(user_text(s)))
        self._feats.append(features(words(user_text(s))))

    def reason(self, s: Scenario) -> str | None:
        """Why ``s`` would be dropped by the word checks (``unreadable``, ``similar`` or
        ``off_target``), or ``None``."""
        found = self._word_check(s)
        return found[0] if found else None

    def _word_check(self, s: Scenario) -> tuple[str, str] | None:
        text = user_text(s)
        if unreadable(text):
            return "unreadable", "control characters, or under half the tokens are words"
        if normalize_text(text) in self._texts:
            return "similar", "same text as a stored scenario"
        f = features(words(text))
        best = max((jaccard(f, g) for g in self._feats), default=0.0)
        if best >= self.max_similarity:
            return "similar", f"word n-gram similarity {best:.2f} >= {self.max_similarity:.2f}"
        if self.target_words and not (keywords(text) & self.target_words):
            return "off_target", "shares no keyword with the target"
        return None

    def keep(self, made: Iterable[Scenario], counts: ScreenCounts) -> list[Scenario]:
        """The scenarios of ``made`` that pass, in order; ``counts`` gets the drops.

        Unreadable text is dropped first; the rest go to the screen by meaning (one batch),
        then to the copy and keyword checks. A kept scenario gets the semantic scores in
        ``metadata["screen"]``.
        """
        readable: list[Scenario] = []
        for s in made:
            if unreadable(user_text(s)):
                counts.reject(
                    s, "unreadable", "control characters, or under half the tokens are words"
                )
            else:
                readable.append(s)
        verdicts: Sequence[ScreenVerdict | None] = [None] * len(readable)
        if self.semantic is not None and readable:
            verdicts = list(self.semantic(readable))
            if len(verdicts) != len(readable):
                raise ValueError(
                    f"the generator's screen gave {len(verdicts)} verdicts for "
                    f"{len(readable)} scenarios"
                )
        out = []
        for s, v in zip(readable, verdicts, strict=True):
            if v is not None and not v.kept:
                counts.reject(s, str(v.reason), v.detail)
                continue
            found = self._word_check(s)
            if found is not None:
                counts.reject(s, *found)
                continue
            if v is not None and v.scores:
                meta: dict[str, Any] = {**s.metadata, "screen": dict(v.scores)}
                s = s.model_copy(update={"metadata": meta})
            out.append(s)
            self._remember(s)
        return out


def rejection_summary(rejected: Sequence[Rejection]) -> str:
    """One line: how many were dropped, by reason, e.g. ``3 rejected: 2 off target, 1 not a
    harmful request``; empty when nothing was.

    Example:
        >>> rejection_summary([Rejection("a", "off_target", "x"), Rejection("b", "similar", "y")])
        '2 rejected: 1 off target, 1 near copies'
    """
    if not rejected:
        return ""
    by: dict[str, int] = {}
    for r in rejected:
        by[r.reason] = by.get(r.reason, 0) + 1
    parts = [f"{n} {REASONS.get(k, k)}" for k, n in sorted(by.items(), key=lambda kv: -kv[1])]
    return f"{len(rejected)} rejected: " + ", ".join(parts)


def screen_for(
    store: ScenarioStore,
    spec: TargetSpec,
    max_similarity: float = 0.8,
    semantic: SemanticScreen | None = None,
) -> Screen:
    """A :class:`Screen` for ``spec`` against the store's scenarios of that target."""
    stored = list(store.iter_scenarios(target=spec.name))
    return Screen(stored, target_keywords(spec), max_similarity, semantic)
