"""The public Python API of scenario-forge: the one module model-forge imports.

model-forge (the loop, the generator plugin, the judges) reaches scenario-forge only through
this facade (``tests/test_package_seam.py`` checks it): the store (:class:`ScenarioStore`), the
taxonomy (:func:`load_taxonomy`, :class:`Taxonomy`, :class:`JudgeSpec`,
:class:`TaxonomyError`), human verdicts on reports (:func:`human_verdicts`,
:func:`apply_human_verdicts`) and the jobs below. The contract's readers (``EvalReport``,
export fingerprints, report comparison) live in :mod:`forge_export.reports`.

Example:
    >>> from scenario_forge.store import ScenarioStore
    >>> from scenario_forge.taxonomy import load_taxonomy
    >>> from scenario_forge.api import generate_scenarios, complete_with_templates, export_store
    >>> store = ScenarioStore.open("forge.db")                           # doctest: +SKIP
    >>> tax = load_taxonomy()                                            # doctest: +SKIP
    >>> generate_scenarios(store, tax, ["harmful_code"], count=40, seed=0)  # doctest: +SKIP
    >>> complete_with_templates(store, tax)                              # doctest: +SKIP
    >>> export_store(store, "out/")                                      # doctest: +SKIP

Everything else in the package is private. ``lookalike_scenarios``, ``lookalike_completions``
and ``add_lookalikes`` turn the taxonomy's benign look-alike kinds into ``comply`` scenarios
(``metadata["contrast_kind"]``) and their written answers. The loop's roles (frozen test set,
probes, failures as training data) are here too: :func:`choose_test_set`,
:func:`plan_lookalikes`, :func:`probe_scenarios`, :func:`store_failures`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export import Completion, ForgeError, Scenario
from forge_export.generators import Generator

from scenario_forge.eval_verdicts import apply_human_verdicts, human_verdicts
from scenario_forge.failure_training import FailureTraining, store_failures
from scenario_forge.generation import TemplateGenerator, target_brief
from scenario_forge.lookalikes import (
    LookalikeResult,
    add_lookalikes,
    lookalike_completions,
    lookalike_scenarios,
)
from scenario_forge.report_import import ImportReportResult, import_report
from scenario_forge.response_templates import good_answer
from scenario_forge.roles import (
    Augmentation,
    LookalikePlan,
    Probe,
    TestSet,
    augment_training,
    choose_test_set,
    is_derived,
    pin_test_set,
    pinned_test_set,
    plan_lookalikes,
    probe_scenarios,
    read_test_set,
)
from scenario_forge.store import ScenarioStore
from scenario_forge.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from scenario_forge.taxonomy.models import JudgeSpec
from scenario_forge.transforms import load_chain
from scenario_forge.wild_sets import WildSet, load_wild_set

if TYPE_CHECKING:
    from forge_export.exporters.huggingface import ExportOptions, ExportSummary

__all__ = [
    "JudgeSpec",
    "ScenarioStore",
    "Taxonomy",
    "TaxonomyError",
    "human_verdicts",
    "load_taxonomy",
    "load_chain",
    "CompleteResult",
    "FailureTraining",
    "apply_human_verdicts",
    "LookalikePlan",
    "Probe",
    "TestSet",
    "choose_test_set",
    "is_derived",
    "pin_test_set",
    "pinned_test_set",
    "read_test_set",
    "good_answer",
    "lookalike_scenarios",
    "plan_lookalikes",
    "probe_scenarios",
    "store_failures",
    "store_lookalikes",
    "GenerateResult",
    "ImportReportResult",
    "LookalikeResult",
    "TargetCounts",
    "add_lookalikes",
    "complete_with_generator",
    "complete_with_templates",
    "export_store",
    "generate_scenarios",
    "import_report",
    "lookalike_completions",
    "lookalike_scenarios",
    "template_completions",
    "WildSet",
    "load_wild_set",
    "Augmentation",
    "augment_training",
    "TemplateGenerator",
]

Progress = Callable[[int], None]


@dataclass
class TargetCounts:
    """Generation counts for one target."""

    generated: int = 0
    added: int = 0
    duplicates: int = 0
    screened_similar: int = 0
    screened_off_target: int = 0
    screened_unreadable: int = 0
    screened_not_harmful: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    """Every screened-out prompt: ``{"prompt", "reason", "detail"}``."""


@dataclass
class GenerateResult:
    """What :func:`generate_scenarios` did.

    Attributes:
        generator: Name of the generator used.
        per_target: Target → counts.
    """

    generator: str
    per_target: dict[str, TargetCounts] = field(default_factory=dict)
    transforms: list[str] = field(default_factory=list)

    @property
    def generated(self) -> int:
        """Scenarios the generator produced."""
        return sum(c.generated for c in self.per_target.values())

    @property
    def added(self) -> int:
        """Scenarios newly stored."""
        return sum(c.added for c in self.per_target.values())

    @property
    def duplicates(self) -> int:
        """Scenarios skipped because their id was already stored (or repeated)."""
        return sum(c.duplicates for c in self.per_target.values())

    @property
    def screened(self) -> int:
        """Scenarios dropped by screening (unreadable, near copies, off target, not harmful)."""
        return sum(
            c.screened_similar
            + c.screened_off_target
            + c.screened_unreadable
            + c.screened_not_harmful
            for c in self.per_target.values()
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "generator": self.generator,
            "transforms": list(self.transforms),
            "generated": self.generated,
            "added": self.added,
            "duplicates": self.duplicates,
            "screened": self.screened,
            "targets": {t: dict(vars(c)) for t, c in self.per_target.items()},
        }


@dataclass
class CompleteResult:
    """What a completion run did."""

    added: int = 0
    replaced: int = 0
    kept: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one scenario skipped for ``reason``."""
        self.skipped += 1
        self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "added": self.added,
            "replaced": self.replaced,
            "kept": self.kept,
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
        }


def generate_scenarios(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    targets: Sequence[str] | None,
    count: int,
    seed: int,
    generator: Generator | None = None,
    *,
    progress: Progress | None = None,
    transforms: Sequence[str] = (),
    screen: float | None = None,
) -> GenerateResult:
    """Generate ``count`` scenarios per target and store the new ones.

    Args:
        store: The store to add to.
        taxonomy: Targets (and, for the built-in generator, their seeds).
        targets: Target names; ``None`` or empty means every target of the taxonomy.
        count: Scenarios to generate per target.
        seed: Makes the choice of seeds, framings and wordings reproducible.
        generator: A generator (see :func:`forge_export.generators.load_generator`); ``None``
            is the built-in template generator.
        progress: Called with 1 after each target.
        transforms: Transform specs (``base64``, ``crescendo:4`` ...; see
            :mod:`scenario_forge.transforms`) applied in order to every generated scenario,
            harmful and benign alike; the transformed variants are stored instead of the
            plain ones, in the same groups.
        screen: When set, new scenarios are screened before they are stored (see
            :mod:`scenario_forge.screening`): copies and near copies (word n-gram Jaccard
            ``>= screen``) of stored scenarios or of each other, prompts sharing no keyword
            with the target, and unreadable text are dropped and counted; so is every
            scenario the generator's own screen by meaning rejects, when it has one
            (``screen_scenarios``: off target, not a harmful request). Each drop is listed
            with its reason in ``TargetCounts.rejected``. Used for model-written attacks.

    Raises:
        ForgeError: unknown target, a bad count, or an unknown transform / bad argument.
    """
    from scenario_forge.transforms import apply_chain, load_chain

    if count < 1:
        raise ForgeError(f"--count must be at least 1 (got {count})")
    chain = load_chain(transforms)  # every spec is checked before anything is generated
    if generator is None:
        from scenario_forge.generation import TemplateGenerator

        generator = TemplateGenerator(taxonomy)
    specs = taxonomy.select(list(targets) if targets else None)
    result = GenerateResult(
        generator=getattr(generator, "name", type(generator).__name__),
        transforms=[t.spec for t in chain],
    )
    for spec in specs:
        brief = target_brief(taxonomy, spec.name)
        made = list(generator.generate_scenarios(brief, count, seed))
        for s in made:
            if not isinstance(s, Scenario):
                raise ForgeError(
                    f"generator {result.generator!r} yielded {type(s).__name__}, not a Scenario"
                )
        generated = len(made)
        counts = TargetCounts(generated)
        if screen is not None:
            made = _screened(store, spec, screen, generator, brief, made, counts)
        made = [apply_chain(s, chain, seed) for s in made]
        added = store.add_scenarios(made)
        counts.added, counts.duplicates = added.added, added.duplicates
        result.per_target[spec.name] = counts
        if progress:
            progress(1)
    return result


def _screened(
    store: ScenarioStore,
    spec: Any,
    screen: float,
    generator: Generator,
    brief: Any,
    made: list[Scenario],
    counts: TargetCounts,
) -> list[Scenario]:
    """The scenarios of ``made`` that pass :mod:`scenario_forge.screening` (and the generator's
    own screen by meaning, when it has one); what was dropped, and why, goes into ``counts``."""
    from forge_export.generators import ScenarioScreen

    from scenario_forge.screening import ScreenCounts, SemanticScreen, screen_for

    semantic: SemanticScreen | None = None
    if isinstance(generator, ScenarioScreen):
        semantic = functools.partial(generator.screen_scenarios, brief)
    dropped = ScreenCounts()
    kept = screen_for(store, spec, screen, semantic).keep(made, dropped)
    counts.screened_similar = dropped.similar
    counts.screened_off_target = dropped.off_target
    counts.screened_unreadable = dropped.unreadable
    counts.screened_not_harmful = dropped.not_harmful
    counts.rejected = [r.to_dict() for r in dropped.rejected]
    return kept


def template_completions(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    overwrite: bool = False,
    *,
    targets: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> CompleteResult:
    """Like :func:`complete_with_templates`, returning the detailed :class:`CompleteResult`."""
    from scenario_forge.lookalikes import EXAGGERATED_SAFETY, is_lookalike

    if targets:
        for t in targets:
            if t != EXAGGERATED_SAFETY:
                taxonomy.get(t)
    result = CompleteResult()
    page: list[Scenario] = []

    def flush() -> None:
        with store.transaction():
            new: list[Completion] = []
            for s in page:
                lookalike = is_lookalike(s)
                if not lookalike and s.evaluation_target not in taxonomy:
                    result.skip("target not in the taxonomy (pass --taxonomy FILE)")
                    continue
                existing = [c for c in store.completions_for(s.id) if c.source == "template"]
                if existing and not overwrite:
                    result.kept += 1
                    continue
                c = good_answer(s, taxonomy)
                if c is None:
                    result.skip("benign contrast without an answer")
                    continue
                replaceable = [e.id for e in existing if e.status == "proposed"]
                result.replaced += store.delete_completions(replaceable)
                new.append(c)
            result.added += store.add_completions(new).added
        if progress:
            progress(len(page))
        page.clear()

    for s in store.iter_scenarios(target=list(targets) if targets else None):
        page.append(s)
        if len(page) >= 200:
            flush()
    if page:
        flush()
    return result


def complete_with_templates(
    store: ScenarioStore,
    taxonomy: Taxonomy,
    overwrite: bool = False,
    *,
    targets: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Add a template completion (status ``proposed``) to every scenario that lacks one.

    Args:
        store: The store.
        taxonomy: Gives each target's response templates, slot defaults and benign answers.
        overwrite: Replace existing *proposed* template completions (accepted or rejected
            ones are reviewers' decisions and are kept).
        targets: Only these targets (default all).
        progress: Called with the number of scenarios handled after each page.

    Returns:
        The number of completions added.
    """
    return template_completions(
        store, taxonomy, overwrite, targets=targets, progress=progress
    ).added


def _chunks(items: Iterable[Scenario], size: int) -> Iterable[list[Scenario]]:
    chunk: list[Scenario] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def complete_with_generator(
    store: ScenarioStore,
    generator: Generator,
    scenario_ids: Sequence[str] | None = None,
    *,
    targets: Sequence[str] | None = None,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> int:
    """Ask a generator for completions and store them as ``proposed``.

    Args:
        store: The store.
        generator: Any :class:`~forge_export.generators.Generator` with ``complete``.
        scenario_ids: Only these scenarios (default: all, or all of ``targets``).
        targets: Only scenarios of these targets.
        batch_size: Scenarios handed to the generator at once (and stored per transaction).
        progress: Called with the number of scenarios handled after each batch.

    Returns:
        The number of completions added.

    Raises:
        ForgeError: an unknown scenario id, or a generator that yields something else than
            completions of the scenarios it was given.
    """
    name = getattr(generator, "name", type(generator).__name__)
    if scenario_ids is not None:
        scenarios: Iterable[Scenario] = _load_ids(store, scenario_ids)
    else:
        scenarios = store.iter_scenarios(target=list(targets) if targets else None)
    added = 0
    for batch in _chunks(scenarios, batch_size):
        ids = {s.id for s in batch}
        out: list[Completion] = []
        for c in generator.complete(batch):
            if not isinstance(c, Completion) or c.scenario_id not in ids:
                raise ForgeError(
                    f"generator {name!r} returned a completion for a scenario it was not given"
                )
            out.append(c.model_copy(update={"status": "proposed", "validated_by": []}))
        added += store.add_completions(out).added
        if progress:
            progress(len(batch))
    return added


def _load_ids(store: ScenarioStore, scenario_ids: Sequence[str]) -> list[Scenario]:
    out = []
    for sid in scenario_ids:
        s = store.get_scenario(sid)
        if s is None:
            raise ForgeError(f"no scenario {sid!r} in {store.path}")
        out.append(s)
    return out


def export_store(
    store: ScenarioStore,
    out: str | Path,
    options: ExportOptions | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Export the store as a HuggingFace dataset folder (see forge-export's exporter).

    Args:
        store: The store; its scenarios stream in id order, never all in memory.
        out: The folder to write (must not exist unless ``options.overwrite``).
        options: Configs, filters, split and seed; default: every config, no filter.
        progress: Called with the number of scenarios read, as they are read.

    The whole export reads one snapshot of the store (:meth:`ScenarioStore.snapshot`):
    imports and reviews committed meanwhile by other processes are not in it, and nothing
    of them is half in it.

    Raises:
        ForgeError: ``out`` exists without overwrite, or bad options.
    """
    from forge_export.exporters.huggingface import ExportOptions, export_dataset

    opts = options if options is not None else ExportOptions()
    targets = list(opts.targets) if opts.targets else None
    with store.snapshot():  # one read transaction: the export is a state the store had
        return export_dataset(store.iter_bundles(targets=targets), out, opts, progress=progress)


def store_lookalikes(
    store: ScenarioStore, taxonomy: Taxonomy, scenarios: Sequence[Scenario]
) -> int:
    """Store look-alike scenarios with their written answers (template completions).

    Returns:
        The number of scenarios that were new.
    """
    completions = [c for s in scenarios for c in [good_answer(s, taxonomy)] if c is not None]
    with store.transaction():
        added = store.add_scenarios(list(scenarios)).added
        store.add_completions(completions)
    return added
