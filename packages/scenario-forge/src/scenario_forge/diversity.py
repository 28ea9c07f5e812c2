"""Diversity of the stored scenarios: do new scenarios add anything?

Two measures, computed on each scenario's *user text* (the user turns of its context and its
prompt, normalised with :func:`forge_export.ids.normalize_text` and split into words):

* **distinct-n** (n = 1, 2, 3): unique word n-grams / all word n-grams of a group of
  scenarios. 1.0 means no n-gram repeats; a group of copies tends to 1 / copies.
* **nearest-neighbour similarity**: for each scenario, the highest Jaccard similarity of its
  set of word 1- and 2-grams with any *other* scenario of the same evaluation target (1.0 = a
  copy up to case and white space); reported as the mean over a group, with the share of
  scenarios whose neighbour is at least :data:`NEAR_DUPLICATE` similar.

Groups are: each target, each provenance kind (``template``, ``llm``, ``import``, ``human``,
``report``), each transform chain (``none`` for untransformed scenarios) and ``all``. No model,
no download: plain word n-grams. Nearest neighbours are exact, over at most
``max_per_target`` scenarios per target (the first by id, i.e. a hash-ordered sample); the
result says when a target was sampled.

Example:
    >>> distinct_n([["a", "b", "a", "b"]], 1)
    0.5
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forge_export import Scenario
from forge_export.ids import normalize_text

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore

NEAR_DUPLICATE = 0.8
"""Nearest-neighbour similarity from which a scenario counts as a near duplicate."""
_WORD = re.compile(r"\w+", re.UNICODE)


def user_text(s: Scenario) -> str:
    """The text a user wrote in ``s``: user context turns, then the prompt."""
    parts = [t.content for t in s.context if t.role == "user"]
    return "\n".join([*parts, s.prompt])


def words(text: str) -> list[str]:
    """Normalised words of ``text``."""
    return _WORD.findall(normalize_text(text))


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The word n-grams of ``tokens``, in order, with repeats."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(docs: Iterable[Sequence[str]], n: int) -> float | None:
    """Unique n-grams / all n-grams over ``docs`` (token lists); ``None`` without n-grams."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for toks in docs:
        grams = ngrams(toks, n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else None


def features(tokens: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """The set of word 1- and 2-grams (what nearest-neighbour similarity compares)."""
    return frozenset([*ngrams(tokens, 1), *ngrams(tokens, 2)])


def jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def nearest_neighbour(feats: Sequence[frozenset[Any]]) -> list[float | None]:
    """For each feature set, the highest Jaccard similarity with any other (``None`` if alone)."""
    best: list[float | None] = [None] * len(feats)
    sizes = [len(f) for f in feats]
    for i in range(len(feats)):
        fi, si = feats[i], sizes[i]
        for j in range(i + 1, len(feats)):
            sj = sizes[j]
            # the Jaccard bound min/max cannot beat both current bests: skip the intersection
            cap = min(si, sj) / max(si, sj, 1)
            bi, bj = best[i], best[j]
            if bi is not None and bj is not None and cap <= bi and cap <= bj:
                continue
            sim = jaccard(fi, feats[j])
            if bi is None or sim > bi:
                best[i] = sim
            if bj is None or sim > bj:
                best[j] = sim
    return best


@dataclass
class GroupDiversity:
    """Diversity of one group of scenarios.

    Attributes:
        n: Scenarios in the group.
        distinct_1: Distinct word unigram ratio (``None`` if no words).
        distinct_2: Distinct word bigram ratio.
        distinct_3: Distinct word trigram ratio.
        nn_similarity: Mean nearest-neighbour Jaccard similarity within the same target
            (``None`` if no scenario of the group has a neighbour).
        near_duplicates: Share of scenarios with a neighbour ≥ :data:`NEAR_DUPLICATE`.
    """

    n: int = 0
    distinct_1: float | None = None
    distinct_2: float | None = None
    distinct_3: float | None = None
    nn_similarity: float | None = None
    near_duplicates: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, rounded to 4 places."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass
class DiversityReport:
    """:func:`diversity` of a store: per target, per source kind, per transform chain, all."""

    by_target: dict[str, GroupDiversity] = field(default_factory=dict)
    by_source: dict[str, GroupDiversity] = field(default_factory=dict)
    by_transform: dict[str, GroupDiversity] = field(default_factory=dict)
    all: GroupDiversity = field(default_factory=GroupDiversity)
    sampled_targets: dict[str, int] = field(default_factory=dict)
    max_per_target: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``stats --diversity --json`` prints under ``diversity``)."""
        return {
            "measure": {
                "text": "user turns + prompt, normalised, word tokens",
                "distinct_n": "unique / all word n-grams",
                "nn_similarity": "mean max Jaccard of word 1+2-gram sets, same target",
                "near_duplicate_at": NEAR_DUPLICATE,
                "max_per_target": self.max_per_target,
            },
            "all": self.all.to_dict(),
            "by_target": {k: v.to_dict() for k, v in self.by_target.items()},
            "by_source": {k: v.to_dict() for k, v in self.by_source.items()},
            "by_transform": {k: v.to_dict() for k, v in self.by_transform.items()},
            "sampled_targets": dict(self.sampled_targets),
        }


def _group(tokens: list[list[str]], nn: list[float | None]) -> GroupDiversity:
    have = [v for v in nn if v is not None]
    return GroupDiversity(
        n=len(tokens),
        distinct_1=distinct_n(tokens, 1),
        distinct_2=distinct_n(tokens, 2),
        distinct_3=distinct_n(tokens, 3),
        nn_similarity=sum(have) / len(have) if have else None,
        near_duplicates=sum(v >= NEAR_DUPLICATE for v in have) / len(have) if have else None,
    )


def transform_key(s: Scenario) -> str:
    """``none`` or the scenario's transform chain joined by ``+``."""
    chain = s.metadata.get("transforms") or []
    return "+".join(str(c) for c in chain) if chain else "none"


def diversity_of(scenarios: Iterable[Scenario], max_per_target: int = 2000) -> DiversityReport:
    """The :class:`DiversityReport` of ``scenarios``.

    Args:
        scenarios: Any scenarios (e.g. a store's, ordered by id).
        max_per_target: At most this many scenarios per target are measured (the first ones
            given); the rest are counted in ``sampled_targets``.
    """
    per_target: dict[str, list[Scenario]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for s in scenarios:
        counts[s.evaluation_target] += 1
        if len(per_target[s.evaluation_target]) < max_per_target:
            per_target[s.evaluation_target].append(s)
    report = DiversityReport(max_per_target=max_per_target)
    report.sampled_targets = {
        t: len(per_target[t]) for t, c in sorted(counts.items()) if c > len(per_target[t])
    }
    rows: list[tuple[Scenario, list[str], float | None]] = []
    for target in sorted(per_target):
        items = per_target[target]
        toks = [words(user_text(s)) for s in items]
        nn = nearest_neighbour([features(t) for t in toks])
        report.by_target[target] = _group(toks, nn)
        rows.extend(zip(items, toks, nn, strict=True))
    for attr, key in (
        ("by_source", lambda s: s.source.kind),
        ("by_transform", transform_key),
    ):
        buckets: dict[str, tuple[list[list[str]], list[float | None]]] = {}
        for s, t, v in rows:
            b = buckets.setdefault(key(s), ([], []))
            b[0].append(t)
            b[1].append(v)
        setattr(report, attr, {k: _group(*buckets[k]) for k in sorted(buckets)})
    report.all = _group([t for _, t, _ in rows], [v for _, _, v in rows])
    return report


def diversity(store: ScenarioStore, max_per_target: int = 2000) -> DiversityReport:
    """The :class:`DiversityReport` of every scenario in ``store``."""
    return diversity_of(store.iter_scenarios(), max_per_target)
