"""Three roles for scenarios in a training loop: frozen **test**, fresh **probe**, **train**.

* **test** — chosen once per run: every group whose stable split position (seed, group id) is
  below ``test_size``, plus look-alikes of held-out kinds and a share of every other kind.
  The groups are written to ``test-set.json`` and passed to every export of the run
  (``ExportOptions.test_groups``), so they are measured every round and never trained on.
* **probe** — fresh each round: harmful seeds of *train* groups in framings and wordings the
  store does not hold yet, benign contrasts not used yet, and look-alikes of the probe pool.
  Never stored as such: only their failures enter the store, as training data in new groups
  (:mod:`scenario_forge.failure_training`).
* **train** — everything else in the store.

Everything is deterministic for a seed: the same run picks the same test set and probes.

Example:
    >>> from scenario_forge.roles import group_role
    >>> group_role("some-group", seed=0, test_size=0.25) in ("test", "train")
    True
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import Completion, ForgeError, Scenario
from forge_export.atomic_files import atomic_output
from forge_export.loop_summary import CONTRAST_KIND_KEY
from forge_export.splits import split_point

from scenario_forge.generation import BENIGN_FRAMINGS, FRAMINGS, benign_scenario, seed_scenario

if TYPE_CHECKING:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.taxonomy import Taxonomy

PROBE_TAG = "probe"


def group_role(group_id: str, seed: int, test_size: float) -> str:
    """``test`` or ``train``: the role of a template group (same rule as the export's split)."""
    return "test" if split_point(group_id, seed) < test_size else "train"


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class LookalikePlan:
    """How the benign look-alikes are divided between the roles.

    Attributes:
        test: Look-alikes in the frozen test set (held-out kinds and a share of the others).
        train: Look-alikes trained on from the first round.
        probe_pool: Look-alikes kept back for the probes; the ones a model fails on become
            training data.
        held_out_kinds: Kinds that are only in ``test``.
    """

    test: list[Scenario] = field(default_factory=list)
    train: list[Scenario] = field(default_factory=list)
    probe_pool: list[Scenario] = field(default_factory=list)
    held_out_kinds: list[str] = field(default_factory=list)


def plan_lookalikes(
    lookalikes: Sequence[Scenario],
    *,
    seed: int,
    held_out_kinds: Sequence[str] = (),
    test_share: float = 0.25,
    probe_share: float = 0.4,
    held_out_targets: Sequence[str] = (),
) -> LookalikePlan:
    """Divide look-alikes into test, train and probe pool, deterministically.

    Args:
        lookalikes: Benign look-alike scenarios (``metadata["contrast_kind"]`` set).
        seed: Seed of the division.
        held_out_kinds: Kinds that go to ``test`` entirely (measures generalisation to kinds
            never trained on).
        test_share: Share of every other kind's prompts in ``test``.
        probe_share: Share of the rest kept back for probes.
        held_out_targets: Targets held out of training: look-alikes that borrow their words
            (``evaluation_target`` one of them) go to ``test`` too.

    Raises:
        ForgeError: a held-out kind that no look-alike has.
    """
    kinds = {str(s.metadata.get(CONTRAST_KIND_KEY, "")) for s in lookalikes}
    unknown = [k for k in held_out_kinds if k not in kinds]
    if unknown:
        raise ForgeError(
            f"held-out look-alike kind {unknown[0]!r} is not a kind; use one of "
            f"{', '.join(sorted(k for k in kinds if k))}"
        )
    plan = LookalikePlan(held_out_kinds=sorted(held_out_kinds))
    held = set(held_out_kinds)
    held_targets = set(held_out_targets)
    for s in lookalikes:
        kind = str(s.metadata.get(CONTRAST_KIND_KEY, ""))
        if kind in held or s.evaluation_target in held_targets:
            plan.test.append(s)
            continue
        pos = split_point(s.group_id, seed)
        if pos < test_share:
            plan.test.append(s)
        elif pos < test_share + (1 - test_share) * probe_share:
            plan.probe_pool.append(s)
        else:
            plan.train.append(s)
    return plan


@dataclass
class TestSet:
    """The frozen test set of a run (see the module docstring).

    Attributes:
        groups: Test group ids.
        scenario_ids: Test scenario ids.
        harmful: Harmful test scenarios.
        benign: Benign test scenarios (contrasts and look-alikes).
        lookalikes: Look-alikes among them.
        held_out_kinds: Look-alike kinds only in the test set.
        held_out_targets: Targets whose every scenario is in the test set (never trained on,
            never probed).
        seed: The seed that chose it.
        test_size: The share of template groups in it; groups not yet in the store whose
            position is below it are never probed either.
        scenarios: The scenarios themselves when read from (or written to) a file with them,
            so the set can be evaluated without the store (``model-forge evaluate
            --test-set``).
    """

    __test__ = False  # not a pytest test class

    groups: frozenset[str]
    scenario_ids: frozenset[str]
    seed: int = 0
    test_size: float = 0.0
    harmful: int = 0
    benign: int = 0
    lookalikes: int = 0
    held_out_kinds: list[str] = field(default_factory=list)
    held_out_targets: list[str] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)

    def fingerprint(self) -> str:
        """A digest of the set's scenario ids: two reports with it ran on the same scenarios."""
        ids = "\n".join(sorted(self.scenario_ids)).encode("utf-8")
        return hashlib.sha256(ids).hexdigest()[:16]

    def to_json(self, *, with_scenarios: bool = True) -> dict[str, Any]:
        """Everything needed to rebuild the set, sorted (stable file content)."""
        scenarios = sorted(self.scenarios, key=lambda s: s.id) if with_scenarios else []
        return {
            "groups": sorted(self.groups),
            "scenario_ids": sorted(self.scenario_ids),
            "harmful": self.harmful,
            "benign": self.benign,
            "lookalikes": self.lookalikes,
            "held_out_kinds": list(self.held_out_kinds),
            "held_out_targets": list(self.held_out_targets),
            "seed": self.seed,
            "test_size": self.test_size,
            "fingerprint": self.fingerprint(),
            **({"scenarios": [s.model_dump(mode="json") for s in scenarios]} if scenarios else {}),
        }

    def write(self, path: str | Path) -> Path:
        """Write the set as JSON (atomically), with its scenarios when it has them."""
        p = Path(path)
        with atomic_output(p, "w") as fh:
            fh.write(json.dumps(self.to_json(), indent=1) + "\n")
        return p

    def allows_probe(self, s: Scenario) -> bool:
        """Whether ``s`` may be a probe: not in the set, not in a group of the test role."""
        return (
            s.group_id not in self.groups
            and s.id not in self.scenario_ids
            and s.evaluation_target not in self.held_out_targets
            and group_role(s.group_id, self.seed, self.test_size) == "train"
        )

    @classmethod
    def read(cls, path: str | Path, *, scenarios: bool = False) -> TestSet:
        """Read a set written by :meth:`write`.

        Args:
            path: The file.
            scenarios: Require the scenarios themselves (to evaluate on them).

        Raises:
            ForgeError: the file is missing or not such a set, or (``scenarios``) it holds no
                scenarios or not exactly the ones its ids name.
        """
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ForgeError(
                f"{p}: not a test-set file written by 'model-forge loop' ({exc})"
            ) from None
        if not isinstance(raw, dict):
            raise ForgeError(f"{p}: not a test-set file written by 'model-forge loop'")
        test_set = cls.from_json(raw, str(p))
        if scenarios and not test_set.scenarios:
            raise ForgeError(
                f"{p}: holds the set's ids but not its scenarios; write it again with this "
                "forge's 'model-forge loop' (or give --data EXPORT)"
            )
        if test_set.scenarios and {s.id for s in test_set.scenarios} != test_set.scenario_ids:
            raise ForgeError(f"{p}: its scenarios are not the ones its scenario_ids name")
        return test_set

    @classmethod
    def from_json(cls, raw: dict[str, Any], where: str) -> TestSet:
        """Rebuild a set from :meth:`to_json` output.

        Raises:
            ForgeError: a missing or bad field (naming ``where``).
        """
        from pydantic import ValidationError

        try:
            found = [Scenario.model_validate(s) for s in raw.get("scenarios", [])]
            return cls(
                groups=frozenset(str(g) for g in raw["groups"]),
                scenario_ids=frozenset(str(s) for s in raw["scenario_ids"]),
                harmful=int(raw.get("harmful", 0)),
                benign=int(raw.get("benign", 0)),
                lookalikes=int(raw.get("lookalikes", 0)),
                held_out_kinds=[str(k) for k in raw.get("held_out_kinds", [])],
                held_out_targets=[str(t) for t in raw.get("held_out_targets", [])],
                seed=int(raw.get("seed", 0)),
                test_size=float(raw.get("test_size", 0.0)),
                scenarios=found,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise ForgeError(f"{where}: a scenario's {loc}: {first['msg']}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ForgeError(
                f"{where}: not a test-set file written by 'model-forge loop' (field {exc})"
            ) from None


def is_derived(s: Scenario) -> bool:
    """Whether ``s`` was made from another scenario (a probe failure, a training variant)."""
    from scenario_forge.transforms import TRANSFORMS_KEY

    return bool(s.source.parent_id) or TRANSFORMS_KEY in s.metadata


PIN_ENTITY = "test_set"
"""The audit-log entity under which a store keeps the test sets pinned in it."""


def pinned_test_set(store: ScenarioStore, key: str) -> TestSet | None:
    """The test set pinned in ``store`` under ``key`` by an earlier run, if any.

    A store keeps every test set a loop chose on it (one per choice of seed, test size and
    held-out parts, the ``key``), in its audit log: an append-only record that travels with
    the store (backups, ``migrate-store``). The first pin of a key is the one in force.
    """
    for entry in store.audit_entries(entity=PIN_ENTITY, entity_id=key):
        if entry["action"] == "pin":
            return TestSet.from_json(entry["details"], f"the store's test set {key!r}")
    return None


def pin_test_set(store: ScenarioStore, key: str, test_set: TestSet) -> None:
    """Pin ``test_set`` in ``store`` under ``key`` (see :func:`pinned_test_set`)."""
    with store.transaction():
        store.audit("pin", PIN_ENTITY, key, test_set.to_json(with_scenarios=False))


def read_test_set(path: str | Path, *, scenarios: bool = False) -> TestSet:
    """A test-set file (``test-set.json``); see :meth:`TestSet.read`."""
    return TestSet.read(path, scenarios=scenarios)


def choose_test_set(
    store: ScenarioStore,
    *,
    seed: int,
    test_size: float,
    lookalikes: Iterable[Scenario] = (),
    held_out_kinds: Sequence[str] = (),
    held_out_targets: Sequence[str] = (),
) -> TestSet:
    """Freeze the test set: stored groups in the test role plus the given test look-alikes.

    The look-alikes must already be in the store (the loop stores them first); their groups
    join the test set whatever their hash. Every scenario of a ``held_out_targets`` target
    joins it too (whole hazards never trained on, to measure transfer across harms).
    Scenarios derived from others (from a probe's failures, or wording variants made for
    training) never join it: they are near copies of what a model was probed or trained on.
    """
    held_targets = set(held_out_targets)
    groups: set[str] = set()
    ids: set[str] = set()
    harmful = benign = looks = 0
    forced = {s.group_id for s in lookalikes}
    for s in store.iter_scenarios():
        if is_derived(s):
            continue
        if (
            s.group_id in forced
            or s.evaluation_target in held_targets
            or group_role(s.group_id, seed, test_size) == "test"
        ):
            groups.add(s.group_id)
            ids.add(s.id)
            if s.is_harmful:
                harmful += 1
            else:
                benign += 1
                looks += CONTRAST_KIND_KEY in s.metadata
    return TestSet(
        groups=frozenset(groups),
        scenario_ids=frozenset(ids),
        harmful=harmful,
        benign=benign,
        lookalikes=looks,
        held_out_kinds=sorted(held_out_kinds),
        held_out_targets=sorted(held_targets),
        seed=seed,
        test_size=test_size,
    )


@dataclass
class Probe:
    """One probe scenario and the good answer that trains on it if the model fails it."""

    scenario: Scenario
    good: Completion | None


def probe_scenarios(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    test_set: TestSet,
    *,
    round_: int,
    seed: int,
    harmful_per_target: int,
    benign_per_target: int,
    lookalike_pool: Sequence[Scenario] = (),
    lookalikes_per_round: int = 0,
    exclude_ids: Iterable[str] = (),
    transforms: Sequence[str] = (),
) -> list[Probe]:
    """Fresh probe scenarios for ``round_`` (never in the store, never in a test group).

    Harmful probes are seeds of train groups in a framing and wording (picked by ``seed`` and
    ``round_``) the store does not hold; benign probes are contrasts of train groups not used
    yet; look-alikes come from ``lookalike_pool``, a different slice each round.

    Args:
        store: The store (scenarios already in it are never probes).
        taxonomy: Seeds, contrasts and templates of the targets.
        test_set: The frozen test set (its groups never give probes).
        round_: The round the probe follows (changes wordings and slices).
        seed: The run's seed.
        harmful_per_target: Harmful probes per target.
        benign_per_target: Benign contrast probes per target.
        lookalike_pool: Look-alikes kept back for probes.
        lookalikes_per_round: Look-alikes per probe.
        exclude_ids: Scenario ids of earlier probes.
        transforms: Attack transform specs (:mod:`scenario_forge.transforms`) applied to
            every probe, harmful, benign and look-alike, before it is checked for freshness;
            groups, expected behaviour and good answers are kept. Empty: plain probes.
    """
    from scenario_forge.response_templates import good_answer, template_completion
    from scenario_forge.transforms import apply_chain, load_chain

    taken = set(exclude_ids)
    wording_seed = seed * 1_000 + round_
    chain = load_chain(transforms)

    def tf(s: Scenario) -> Scenario:
        return apply_chain(s, chain, wording_seed)

    out: list[Probe] = []
    for spec in taxonomy:
        candidates: list[Scenario] = []
        for i in range(len(spec.seeds)):
            for framing in FRAMINGS:
                candidates.append(tf(seed_scenario(spec, i, framing, wording_seed)))
        benign: list[Scenario] = []
        for i in range(len(spec.benign)):
            for framing in BENIGN_FRAMINGS:
                benign.append(tf(benign_scenario(spec, i, framing, wording_seed)))
        for pool, n in ((candidates, harmful_per_target), (benign, benign_per_target)):
            fresh = [s for s in pool if s.id not in taken and test_set.allows_probe(s)]
            known = store.existing_ids([s.id for s in fresh])
            fresh = [s for s in fresh if s.id not in known]
            _rng(seed, round_, spec.name, "probe", n).shuffle(fresh)
            for s in _spread_over_seeds(fresh, n):
                taken.add(s.id)
                out.append(Probe(_tagged(s, round_), template_completion(s, spec)))
    if lookalikes_per_round and lookalike_pool:
        pool = [
            tf(s)
            for s in lookalike_pool
            if s.id not in taken
            and s.id not in test_set.scenario_ids
            and s.evaluation_target not in test_set.held_out_targets
        ]
        pool = [s for s in pool if s.id not in taken]
        known = store.existing_ids([s.id for s in pool])
        pool = [s for s in pool if s.id not in known]
        _rng(seed, round_, "lookalike-probe").shuffle(pool)
        for s in pool[:lookalikes_per_round]:
            taken.add(s.id)
            out.append(Probe(_tagged(s, round_), good_answer(s, taxonomy)))
    return out


def _spread_over_seeds(fresh: Sequence[Scenario], n: int) -> list[Scenario]:
    """``n`` of ``fresh`` (in order): one per seed group first, so probes cover many seeds."""
    picked: list[Scenario] = []
    seeds_used: set[str] = set()
    for s in fresh:
        if len(picked) >= n:
            break
        if s.group_id not in seeds_used:
            picked.append(s)
            seeds_used.add(s.group_id)
    return picked + [s for s in fresh if s not in picked][: max(0, n - len(picked))]


def _tagged(s: Scenario, round_: int) -> Scenario:
    return s.model_copy(
        update={
            "tags": list(dict.fromkeys([*s.tags, PROBE_TAG])),
            "metadata": {**s.metadata, "probe_round": round_},
        }
    )


@dataclass
class Augmentation:
    """What :func:`augment_training` stored.

    Attributes:
        added: New training scenarios (variants), each with its original's good answer.
        harmful: Of them, harmful.
        benign: Of them, benign (contrasts and look-alikes).
    """

    added: int = 0
    harmful: int = 0
    benign: int = 0


def augment_training(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    test_set: TestSet,
    transforms: Sequence[str],
    *,
    seed: int,
) -> Augmentation:
    """Store wording variants of every training scenario, one per transform.

    Each variant (:func:`scenario_forge.transforms.apply_chain` with one transform) keeps its
    original's group, expected behaviour and good answer, so it trains the same answer on new
    wording (e.g. ``casual``: typed in a hurry). Harmful and benign scenarios are augmented
    alike, so the wording itself never signals harm. Test groups, held-out targets, probe
    failures and scenarios that are variants already are left alone.

    Args:
        store: The store; variants are added to it (once: re-running adds nothing).
        taxonomy: For the good answers (templates, written answers).
        test_set: The frozen test set (its groups are never augmented).
        transforms: Transform specs, each applied on its own (not chained).
        seed: The run's seed (the transforms' randomness).
    """
    from scenario_forge.response_templates import good_answer
    from scenario_forge.transforms import TRANSFORMS_KEY, apply_chain, load_chain

    chain = load_chain(transforms)
    result = Augmentation()
    if not chain:
        return result
    variants: list[Scenario] = []
    answers: list[Completion] = []
    for s in store.iter_scenarios():
        if (
            s.group_id in test_set.groups
            or s.id in test_set.scenario_ids
            or s.evaluation_target in test_set.held_out_targets
            or s.source.parent_id
            or TRANSFORMS_KEY in s.metadata
            or s.source.kind != "template"
        ):
            continue
        for t in chain:
            v = apply_chain(s, [t], seed)
            good = good_answer(v, taxonomy)
            if good is None:
                continue
            variants.append(v)
            answers.append(good)
    new = set(variants_ids := [v.id for v in variants]) - store.existing_ids(variants_ids)
    fresh = [v for v in variants if v.id in new]
    with store.transaction():
        result.added = store.add_scenarios(fresh).added
        store.add_completions([c for c in answers if c.scenario_id in new])
    result.harmful = sum(v.is_harmful for v in fresh)
    result.benign = len(fresh) - result.harmful
    return result
