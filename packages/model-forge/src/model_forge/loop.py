"""The main job: a model's failures become its next training data, round after round.

::

    store (created if absent) ← template scenarios of every target + benign look-alikes
      → frozen TEST set (held-out groups and look-alikes, chosen once: test-set.json)
      → round 0: the base model on TEST
      → round 1: SFT on the training data → TEST
      → round r ≥ 2: PROBE the previous model with fresh scenarios → its failures become
        training scenarios in new groups (good answer + the model's own failing answer as
        the rejected side of a preference pair) → SFT (or DPO) from the previous model → TEST

Everything is written under one work folder::

    WORKDIR/run.yaml                      the resolved settings (--config run.yaml repeats)
    WORKDIR/progress.json                 the finished stages (--resume continues after them)
    WORKDIR/forge.db                      the store (unless another one is given)
    WORKDIR/test-set.json                 the frozen test set: groups, ids and scenarios
    WORKDIR/round-0/eval-test/            the base model on TEST (report.json/.html/.png)
    WORKDIR/round-R/export/               the HF dataset round R trained on
    WORKDIR/round-R/model/                the model of round R (+ adapter/, metrics.json)
    WORKDIR/round-R/train.yaml, train-rows/, train-launch.log
                                          with --launcher accelerate: what the launched
                                          training read, and what it printed
    WORKDIR/round-R/eval-test/            round R's model on TEST
    WORKDIR/round-R/eval-wild/            round R's model on the wild set (never stored)
    WORKDIR/round-R/probe/                round R's model on fresh probes (R < last round)
    WORKDIR/rounds.png, rounds.html       the curve of safe rate and benign compliance
    WORKDIR/summary.json                  a forge_export.loop_summary.LoopSummary

The frozen test set is pinned in the store the first time a run chooses it (one per seed,
test size and held-out parts): a later run on the same store evaluates exactly the same
scenarios, and scenarios made from probes or failures never enter it. ``--test-set FILE``
uses a given set instead.

Example:
    >>> from model_forge.loop import LoopConfig, run_loop  # doctest: +SKIP
    >>> summary = run_loop(LoopConfig.quick_config(workdir="runs/quick"))
    >>> len(summary.rounds)
    3
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.atomic_files import atomic_output
from forge_export.cli_support import StoreLocation
from forge_export.errors import ForgeError
from forge_export.loop_summary import (
    WILD_GROUP_KEY,
    LoopSummary,
    ProbeSummary,
    RoundSummary,
    TestSetSummary,
    by_contrast_kind,
    by_metadata,
    by_section,
)
from forge_export.redact import redact_location

from model_forge.loop_config import LoopConfig
from model_forge.loop_state import RunState, prepare_workdir, write_run_file
from model_forge.loop_table import format_rounds

if TYPE_CHECKING:
    from datasets import Dataset
    from forge_export.judge_spec import JudgeSpecs
    from forge_export.models import EvalReport
    from scenario_forge.api import TestSet

__all__ = ["LoopConfig", "default_workdir", "format_rounds", "run_loop"]

Log = Callable[[str], None]
ProgressFactory = Callable[[int, str], Any]


def default_workdir() -> Path:
    """``./forge-runs/<UTC timestamp>``."""
    return Path("forge-runs") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _completions_from_generator(
    store: Any, name: str, model: str, log: Log, judge_specs: JudgeSpecs | None = None
) -> int:
    """Model completions from a registered generator; ones the rule judge fails are rejected.

    Rejected completions are not trained on as answers, but they are the ``rejected`` side of
    preference pairs, so ``--later-method dpo`` gets data from them too.
    """
    from forge_export.generators import load_generator
    from scenario_forge.api import complete_with_generator

    from model_forge.judge import JudgeItem, load_judge

    generator = load_generator(name, model=model)
    added = complete_with_generator(store, generator)
    judge = load_judge("rules")
    specs = judge_specs or {}
    pending = [
        (
            c.id,
            JudgeItem.from_scenario(scenario, c.text, specs.get(scenario.evaluation_target)),
        )
        for scenario in store.iter_scenarios()
        for c in store.completions_for(scenario.id)
        if c.source == "model" and c.status == "proposed"
    ]
    # one batched judge call (embeddings in batches), not one call per completion
    judgements = judge.judge([item for _, item in pending])
    rejected = 0
    for (cid, _), j in zip(pending, judgements, strict=True):
        if j.verdict == "fail":
            store.update_completion_status(cid, "rejected", reviewer=judge.name)
            rejected += 1
    log(f"generator {name}: {added} model completions, {rejected} rejected by the rule judge")
    return added


class _Runner:
    """One run of the loop: the state shared by its stages."""

    def __init__(
        self, config: LoopConfig, log: Log, progress: ProgressFactory | None, state: RunState
    ) -> None:
        self.config = config
        self.store: Any = None
        self.say = log
        self.progress = progress
        self.state = state
        self.workdir = Path(str(config.workdir))
        self.store_path: Path | str = store_location(config, self.workdir)
        self.started = time.perf_counter()
        self.earlier = state.elapsed  # wall seconds of the run's earlier processes (resume)
        self.wild: Any = None
        self.test_set: TestSet | None = None
        self.held_out_kinds: list[str] = []
        self.judge_specs: JudgeSpecs = {}  # the taxonomy's, handed to the judge with each item
        self._backends: dict[str, Any] = {}

    # ------------------------------------------------------------------ stages

    def stage(self, name: str, work: Callable[[], Any]) -> bool:
        """Run stage ``name`` unless an earlier process of the run finished it.

        ``work`` returns the state it leaves for later stages (saved with the stage).
        Returns whether it ran.
        """
        if self.state.is_done(name):
            self.say(f"{name}: done before, kept (resume)")
            return False
        t0 = time.perf_counter()
        updates = work() or {}
        took = time.perf_counter() - t0
        self.state.finish(name, took, elapsed=round(self.elapsed(), 1), **updates)
        self.say(f"[{time.perf_counter() - self.started:6.0f}s] {name} done in {took:.0f}s")
        return True

    def elapsed(self) -> float:
        """Wall seconds of the run so far, earlier processes included."""
        return self.earlier + time.perf_counter() - self.started

    def backend(self, spec: str) -> Any:
        """The generation backend of ``spec``, loaded once (and only when a stage needs it)."""
        from model_forge.generation import load_backend
        from model_forge.generation.concurrency import backend_options

        if spec not in self._backends:
            self._backends.clear()  # one model in memory at a time
            b = load_backend(spec, **backend_options(spec, self.config.evaluation.generate))
            self._backends[spec] = b
            if not self.state.device:
                model = getattr(b, "model", None)
                self.state.device = str(getattr(b, "device", "") or "")
                self.state.dtype = str(getattr(model, "dtype", "") or "").removeprefix("torch.")
        return self._backends[spec]

    def _bar(self, n: int, label: str) -> tuple[Any, Callable[[int], None] | None]:
        self.say(f"{label}: {n} scenarios")
        if self.progress is None:
            return None, None
        cm = self.progress(n, label)
        bar = cm.__enter__()
        return cm, bar.update

    def evaluate_test(self, spec: str, export: Path, r: int, label: str) -> None:
        """Round ``r``'s model on exactly the frozen test set's scenarios."""
        from model_forge.evaluate import load_eval_scenarios

        assert self.test_set is not None
        pinned = self.test_set.scenario_ids
        scenarios = [s for s in load_eval_scenarios(export, "test") if s.id in pinned]
        missing = len(pinned) - len(scenarios)
        if missing:
            raise ForgeError(
                f"{export}: {missing} scenarios of the frozen test set are not in the export "
                "(removed from the store?); use the store the set was chosen on, or --test-set"
            )
        out = self.workdir / f"round-{r}" / "eval-test"
        self._evaluate(self.backend(spec), scenarios, out, label, export)

    def evaluate_wild(self, spec: str, r: int, label: str) -> None:
        """Round ``r``'s model on the wild set."""
        out = self.workdir / f"round-{r}" / "eval-wild"
        fingerprint = f"wild:{self.wild.sha256}"
        self._evaluate(
            self.backend(spec),
            self.wild.scenarios,
            out,
            f"{label} on the wild set",
            None,
            "wild",
            fingerprint,
        )

    def _evaluate(
        self,
        backend: Any,
        scenarios: list[Any],
        out: Path,
        label: str,
        data: Path | None,
        split: str | None = None,
        fingerprint: str | None = None,
    ) -> EvalReport:
        from scenario_forge.api import apply_human_verdicts

        from model_forge.evaluate import evaluate_scenarios, resolve_judge, write_report

        cm, update = self._bar(len(scenarios), label)
        try:
            report = evaluate_scenarios(
                scenarios,
                backend,
                resolve_judge(
                    self.config.evaluation.judge,
                    concurrency=self.config.evaluation.generate.concurrency,
                    batch_size=self.config.evaluation.judge_batch_size,
                ),
                generate=self.config.evaluation.generate,
                progress=update,
                data=data,
                split=split or ("test" if data else "probe"),
                metadata={"role": label},
                fingerprint=fingerprint
                if fingerprint is not None
                else (
                    f"test-set:{self.test_set.fingerprint()}" if data and self.test_set else None
                ),
                seeds={"seed": self.config.seed},
                judge_specs=self.judge_specs,
            )
        finally:
            if cm is not None:
                cm.__exit__(None, None, None)
        if self.store is not None:
            # A reviewer's verdict on an answer overrules the judge, in the report and in which
            # failures become training data.
            report = apply_human_verdicts(report, self.store)
        write_report(report, out)
        return report


def store_location(config: LoopConfig, workdir: Path) -> Path | str:
    """The run's store: ``--store`` (a file or a postgresql:// URL) or ``WORKDIR/forge.db``."""
    store = config.store
    return StoreLocation.parse(str(store)) if store else workdir / "forge.db"


def run_loop(
    config: LoopConfig,
    *,
    log: Log | None = None,
    progress: ProgressFactory | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> LoopSummary:
    """Run the main job and return its summary (also written to ``WORKDIR/summary.json``).

    Args:
        config: What to run.
        log: Receives one-line progress messages.
        progress: ``progress(total, label)`` returns a context manager with ``update(n)``,
            used to show generation progress during evaluations.
        resume: Continue the run in ``config.workdir`` after its last finished stage.
        overwrite: Remove an earlier run's files from ``config.workdir`` first.

    Returns:
        The :class:`~forge_export.loop_summary.LoopSummary`.

    Raises:
        ForgeError: bad settings, a work folder that holds something (without ``resume`` or
            ``overwrite``), or any step's user-facing error.
    """
    workdir = Path(config.workdir or default_workdir())
    config = config.merge({"workdir": str(workdir)})
    config.check()
    own_store = not config.store
    prepare_workdir(workdir, own_store=own_store, resume=resume, overwrite=overwrite)
    workdir.mkdir(parents=True, exist_ok=True)
    if not resume:
        write_run_file(workdir, config.to_public_json())
    run = _Runner(config, log or (lambda _m: None), progress, RunState.load(workdir))
    from scenario_forge.api import ScenarioStore

    store = ScenarioStore.open(run.store_path)
    run.store = store
    try:
        return _run(run, store)
    finally:
        store.close()


def _run(run: _Runner, store: Any) -> LoopSummary:
    from scenario_forge.api import load_taxonomy, plan_lookalikes

    config = run.config
    taxonomy = load_taxonomy()
    run.judge_specs = taxonomy.judge_specs()
    for name in config.held_out_targets:
        taxonomy.get(name)  # an unknown target: one line listing the known ones
    plan = plan_lookalikes(
        _lookalikes(taxonomy) if config.lookalikes else [],
        seed=config.seed,
        held_out_kinds=config.held_out_kinds if config.lookalikes else (),
        test_share=config.lookalike_test_share,
        probe_share=config.lookalike_probe_share,
        held_out_targets=config.held_out_targets,
    )
    run.stage("scenarios", lambda: _seed_store(run, store, taxonomy, plan))
    run.test_set = _read_own_test_set(run)
    run.held_out_kinds = list(run.test_set.held_out_kinds)
    wild = _wild_set(config, store, run.say)
    run.wild = wild
    run.stage("round 0 export", lambda: _export(run, store, 0))
    export0 = run.workdir / "round-0" / "export"
    run.stage("round 0 test", lambda: run.evaluate_test(config.model, export0, 0, "base model"))
    if wild:
        run.stage("round 0 wild", lambda: run.evaluate_wild(config.model, 0, "base model"))
    previous = config.model
    for r in range(1, config.rounds + 1):
        _round(run, store, taxonomy, plan, r, previous)
        previous = str(run.workdir / f"round-{r}" / "model")
    return _finish(run, store)


def _lookalikes(taxonomy: Any) -> list[Any]:
    from scenario_forge.api import lookalike_scenarios

    return lookalike_scenarios(taxonomy)


def _seed_store(run: _Runner, store: Any, taxonomy: Any, plan: Any) -> None:
    """The store's scenarios, answers and look-alikes; the frozen test set; training variants."""
    from scenario_forge.api import (
        TemplateGenerator,
        augment_training,
        complete_with_templates,
        generate_scenarios,
        store_lookalikes,
    )

    config, say = run.config, run.say
    gen = generate_scenarios(
        store,
        taxonomy,
        None,
        count=config.count_per_target,
        seed=config.seed,
        generator=TemplateGenerator(taxonomy, benign_share=config.benign_share),
    )
    completed = complete_with_templates(store, taxonomy)
    looks = store_lookalikes(store, taxonomy, [*plan.test, *plan.train])
    say(
        f"store {redact_location(run.store_path)}: {gen.added} new template scenarios ({gen.duplicates} already "
        f"there), {completed} template completions; look-alikes: {len(plan.test)} test, "
        f"{len(plan.train)} train, {len(plan.probe_pool)} kept for probes ({looks} new)"
    )
    if config.generator:
        model_for_generator = "tiny" if config.quick else config.model
        _completions_from_generator(
            store, config.generator, model_for_generator, say, taxonomy.judge_specs()
        )
    test_set, origin = _frozen_test_set(run, store, plan)
    test_file = test_set.write(run.workdir / "test-set.json")
    if config.train_transforms:
        aug = augment_training(store, taxonomy, test_set, config.train_transforms, seed=config.seed)
        say(
            f"training variants ({', '.join(config.train_transforms)}): {aug.added} new "
            f"({aug.harmful} harmful, {aug.benign} benign), in their originals' groups"
        )
    say(
        f"frozen test set ({origin}): {len(test_set.scenario_ids)} scenarios in "
        f"{len(test_set.groups)} groups ({test_set.harmful} harmful, {test_set.benign} benign, "
        f"{test_set.lookalikes} look-alikes; held-out kinds: "
        f"{', '.join(test_set.held_out_kinds) or 'none'}; held-out targets: "
        f"{', '.join(test_set.held_out_targets) or 'none'}) → {test_file}"
    )


def pin_key(config: LoopConfig) -> str:
    """The name a store pins a test set under: what chose it (seed, size, held-out parts)."""
    kinds = ",".join(sorted(config.held_out_kinds)) if config.lookalikes else ""
    return (
        f"seed={config.seed} test_size={config.test_size:g} lookalikes={config.lookalikes} "
        f"lookalike_test_share={config.lookalike_test_share:g} held_out_kinds={kinds} "
        f"held_out_targets={','.join(sorted(config.held_out_targets))}"
    )


def _frozen_test_set(run: _Runner, store: Any, plan: Any) -> tuple[TestSet, str]:
    """The run's test set with its scenarios, and where it came from.

    ``--test-set FILE`` gives it; otherwise the set pinned in the store under :func:`pin_key`
    by an earlier run; otherwise it is chosen now and pinned.

    Raises:
        ForgeError: a test-set file whose held-out parts differ from the settings', or a
            pinned set whose scenarios the store no longer holds.
    """
    from scenario_forge.api import choose_test_set, pin_test_set, pinned_test_set, read_test_set

    config = run.config
    if config.test_set is not None:
        given = read_test_set(config.test_set, scenarios=True)
        for name in ("held_out_targets", "held_out_kinds"):
            mine, theirs = sorted(getattr(config, name)), sorted(getattr(given, name))
            if name == "held_out_kinds" and not config.lookalikes:
                continue
            if mine != theirs:
                raise ForgeError(
                    f"{config.test_set}: its {name} ({', '.join(theirs) or 'none'}) differ from "
                    f"--{name.replace('_', '-')} ({', '.join(mine) or 'none'}); give the same, "
                    "or use another test set"
                )
        with store.transaction():
            store.add_scenarios(given.scenarios)
        return given, f"from {config.test_set}"
    key = pin_key(config)
    pinned = pinned_test_set(store, key)
    if pinned is None:
        pinned = choose_test_set(
            store,
            seed=config.seed,
            test_size=config.test_size,
            lookalikes=plan.test,
            held_out_kinds=plan.held_out_kinds,
            held_out_targets=config.held_out_targets,
        )
        pin_test_set(store, key, pinned)
        origin = "chosen now and pinned in the store"
    else:
        origin = "pinned in the store by an earlier run"
    found = [store.get_scenario(i) for i in sorted(pinned.scenario_ids)]
    if any(s is None for s in found):
        lost = sum(s is None for s in found)
        raise ForgeError(
            f"the store's pinned test set ({key}) names {lost} scenarios it no longer holds; "
            "use another store or --test-set FILE"
        )
    pinned.scenarios = [s for s in found if s is not None]
    return pinned, origin


def _read_own_test_set(run: _Runner) -> TestSet:
    from scenario_forge.api import read_test_set

    return read_test_set(run.workdir / "test-set.json", scenarios=True)


def _export(run: _Runner, store: Any, r: int) -> dict[str, Any]:
    """Export the store for round ``r`` (the frozen test groups as its test split)."""
    from forge_export.exporters.huggingface import ExportOptions
    from scenario_forge.api import export_store

    assert run.test_set is not None
    options = ExportOptions(test_groups=run.test_set.groups, seed=run.config.seed, overwrite=True)
    out = run.workdir / f"round-{r}" / "export"
    summary = export_store(store, out, options)
    run.say(
        f"round {r}: export {out}: "
        + ", ".join(f"{c} {s['train']}/{s['test']}" for c, s in summary.counts.items())
        + " (train/test rows)"
    )
    return {"exports": {**run.state.exports, str(r): summary.counts}}


def _round(run: _Runner, store: Any, taxonomy: Any, plan: Any, r: int, previous: str) -> None:
    """Round ``r``: probe (r ≥ 2) → export → train → test → wild set, each a stage."""
    rdir = run.workdir / f"round-{r}"
    model = str(rdir / "model")
    if r > 1:
        run.stage(f"round {r} probe", lambda: _probe(run, store, taxonomy, plan, r, previous))
        run.stage(f"round {r} export", lambda: _export(run, store, r))
    export = rdir / "export" if r > 1 else run.workdir / "round-0" / "export"
    run.stage(f"round {r} train", lambda: _train_round(run, r, previous, export))
    run.stage(f"round {r} test", lambda: run.evaluate_test(model, export, r, f"round {r} model"))
    if run.wild:
        run.stage(f"round {r} wild", lambda: run.evaluate_wild(model, r, f"round {r} model"))


def _probe(
    run: _Runner, store: Any, taxonomy: Any, plan: Any, r: int, previous: str
) -> dict[str, Any]:
    """Round ``r - 1``'s model on fresh probes; its failures become training scenarios."""
    from scenario_forge.api import probe_scenarios, store_failures

    config = run.config
    assert run.test_set is not None
    rdir = run.workdir / f"round-{r}"
    probed = set(run.state.probed)
    probes = probe_scenarios(
        store,
        taxonomy,
        run.test_set,
        round_=r - 1,
        seed=config.seed,
        harmful_per_target=config.probe_harmful,
        benign_per_target=config.probe_benign,
        lookalike_pool=plan.probe_pool,
        lookalikes_per_round=config.probe_lookalikes,
        exclude_ids=probed,
        transforms=config.probe_transforms,
    )
    if not probes:
        raise ForgeError("no fresh probe scenarios are left; use fewer --rounds")
    report = run._evaluate(
        run.backend(previous),
        [p.scenario for p in probes],
        rdir / "probe",
        f"round {r - 1} model on probes",
        None,
    )
    stored = store_failures(
        store,
        report.failures(),
        taxonomy,
        round_=r - 1,
        model_id=report.model_id,
        good_answers={p.scenario.id: p.good for p in probes},
        seed=config.seed,
        origin=f"probe:{rdir / 'probe' / 'report.json'}",
    )
    probe = ProbeSummary(
        report=str(rdir / "probe" / "report.json"),
        scenarios=len(probes),
        failures=stored.failures,
        harmful_failures=stored.harmful_failures,
        benign_failures=stored.benign_failures,
        train_scenarios=stored.train_scenarios,
        sft_completions=stored.sft_completions,
        preference_pairs=stored.preference_pairs,
        skipped=stored.skipped,
    )
    run.say(
        f"round {r}: probe of {len(probes)} fresh scenarios: {stored.failures} failures "
        f"({stored.harmful_failures} harmful, {stored.benign_failures} benign) → "
        f"{stored.train_scenarios} training scenarios, {stored.preference_pairs} "
        "preference pairs"
    )
    return {
        "probes": {**run.state.probes, str(r): probe.model_dump(mode="json")},
        "probed": sorted(probed | {p.scenario.id for p in probes}),
        "failure_ids": sorted(set(run.state.failure_ids) | set(stored.scenario_ids)),
    }


def _wild_set(config: LoopConfig, store: Any, say: Log) -> Any:
    """The wild set of the run (``None`` with ``--wild-set none``), checked against the store.

    Raises:
        ForgeError: a bad wild set, or a store that holds one of its prompts (it would be
            trained on, and the set would measure memory, not transfer).
    """
    from forge_export.ids import normalize_text
    from scenario_forge.api import load_wild_set

    if config.wild_set.strip().lower() == "none":
        return None
    wild = load_wild_set(config.wild_set)
    if config.wild_limit:
        wild = wild.limit(config.wild_limit)
    prompts = {normalize_text(s.prompt): s for s in wild.scenarios}
    for s in store.iter_scenarios():
        hit = prompts.get(normalize_text(s.prompt))
        if hit is not None:
            raise ForgeError(
                f"the store holds wild-set prompt {hit.metadata['wild_id']} (scenario {s.id}); "
                "a wild set is never trained on: use a store without it, or --wild-set none"
            )
    say(
        f"wild set {wild.name}: {wild.harmful} harmful, {wild.benign} benign prompts "
        f"(sha256 {wild.sha256[:12]}), evaluated after every round, never stored"
    )
    return wild


def _train_round(run: _Runner, r: int, previous: str, export: Path) -> None:
    """Train round ``r`` from ``previous`` on ``export`` (failure rows weighted in SFT), in
    this process or, with ``--launcher accelerate``, in a subprocess under ``accelerate
    launch`` (:mod:`model_forge.launch`); either way into ``round-R/model``."""
    from model_forge.train import load_train_split, repeat_rows, train

    run._backends.clear()  # free the evaluated model before training
    config = run.config
    options = config.round_options(r, previous)
    failure_ids = set(run.state.failure_ids)
    dataset: Dataset | None = None
    if options.method == "sft" and r > 1 and failure_ids:
        dataset = load_train_split(export, options.export_config())
        if config.later_harmful == "failures":
            dataset = _failures_and_benign(dataset, failure_ids)
        dataset = repeat_rows(
            dataset, "scenario_id", failure_ids.__contains__, config.failure_repeat
        )
    out = run.workdir / f"round-{r}" / "model"
    if config.launcher == "accelerate":
        from model_forge.launch import train_launched

        train_launched(
            export,
            out,
            options,
            dataset=dataset,
            processes=config.num_processes,
            config_file=config.accelerate_config,
            log=run.say,
        )
    else:
        train(export, out, options, dataset=dataset, log=run.say)


def _failures_and_benign(ds: Dataset, failure_ids: set[str]) -> Dataset:
    """The rows of ``ds`` that are benign or made from a probe failure.

    Later rounds start from a model that has learned the template refusals already; training
    them again mostly teaches the refusal opener to benign questions.
    """

    def keep(behaviours: list[str], ids: list[str]) -> list[bool]:
        return [b == "comply" or s in failure_ids for b, s in zip(behaviours, ids, strict=True)]

    return ds.filter(keep, batched=True, input_columns=["expected_behavior", "scenario_id"])


ROUND_STAGES = ("probe", "export", "train", "test", "wild")
"""The stages of a round, as named in ``timings_s`` (``round 2 probe``) and ``seconds``."""


def _round_summary(run: _Runner, r: int) -> RoundSummary:
    """Round ``r``'s entry, read back from its reports and metrics (so a resumed run's summary
    is the same as an uninterrupted one's)."""
    from forge_export.reports import read_report
    from forge_export.train_metrics import TrainMetrics

    folder = run.workdir / f"round-{r}"
    report = read_report(folder / "eval-test" / "report.json")
    wild_path = folder / "eval-wild" / "report.json"
    wild = read_report(wild_path) if run.wild else None
    assert run.test_set is not None
    timings = run.state.timings
    export_round = r if r > 1 else 0
    summary = RoundSummary(
        round=r,
        model=run.config.model if r == 0 else str(folder / "model"),
        test_report=str(folder / "eval-test" / "report.json"),
        test_html=str(folder / "eval-test" / "report.html"),
        aggregates=dict(report.aggregates),
        kinds=by_contrast_kind(report.results),
        sections=by_section(
            report.results, run.test_set.held_out_targets, run.test_set.held_out_kinds
        ),
        wild_report=str(wild_path) if wild else "",
        wild=by_metadata(wild.results, WILD_GROUP_KEY) if wild else {},
        seconds={
            stage: timings[f"round {r} {stage}"]
            for stage in ROUND_STAGES
            if f"round {r} {stage}" in timings
        },
    )
    if r == 0:
        return summary
    metrics = TrainMetrics.read(folder / "model")
    probe = run.state.probes.get(str(r))
    return summary.model_copy(
        update={
            "method": metrics.method,
            "export": str(run.workdir / f"round-{export_round}" / "export"),
            "export_counts": run.state.exports.get(str(export_round), {}),
            "train_loss": metrics.train_loss,
            "train_steps": metrics.global_step,
            "probe": ProbeSummary.model_validate(probe) if probe else None,
        }
    )


def _finish(run: _Runner, store: Any) -> LoopSummary:
    """The run's summary (from what its stages left) and its files."""
    from forge_export.reports import export_fingerprint
    from forge_export.run_provenance import collect_provenance

    config, test_set, wild = run.config, run.test_set, run.wild
    assert test_set is not None
    rounds = [_round_summary(run, r) for r in range(config.rounds + 1)]
    total = round(run.elapsed(), 1)
    datasets = {
        f"round-{r} export": export_fingerprint(run.workdir / f"round-{r}" / "export")
        for r in sorted({0, *range(2, config.rounds + 1)})
    }
    datasets["test set"] = test_set.fingerprint()
    if wild:
        datasets["wild set"] = wild.sha256
    result = LoopSummary(
        workdir=str(run.workdir),
        store=str(store.path),  # a URL without its password
        config=config.to_public_json(),
        test_set=TestSetSummary(
            file=str(run.workdir / "test-set.json"),
            groups=len(test_set.groups),
            scenarios=len(test_set.scenario_ids),
            harmful=test_set.harmful,
            benign=test_set.benign,
            lookalikes=test_set.lookalikes,
            held_out_kinds=test_set.held_out_kinds,
            held_out_targets=test_set.held_out_targets,
            wild=wild.name if wild else "",
            wild_harmful=wild.harmful if wild else 0,
            wild_benign=wild.benign if wild else 0,
        ),
        rounds=rounds,
        store_stats=store.stats(),
        timings_s=dict(run.state.timings),
        total_s=total,
        provenance=collect_provenance(
            device=run.state.device,
            dtype=run.state.dtype,
            seeds={
                "seed": config.seed,
                **{f"round {r} training": config.seed + r for r in range(1, config.rounds + 1)},
            },
            datasets=datasets,
            workdir=run.workdir.resolve(),
            stage_seconds=dict(run.state.timings),
        ),
    )
    run.state.elapsed = total
    run.state.save()
    _write_outputs(result, run.workdir)
    from model_forge.tracking import log_loop_rounds

    log_loop_rounds(result, run.workdir, config.first_round.report_to)
    return result


def _write_outputs(summary: LoopSummary, workdir: Path) -> None:
    from model_forge.loop_table import render_rounds_chart, render_rounds_html

    png = render_rounds_chart(summary)
    with atomic_output(workdir / "rounds.png", "wb") as fh:
        fh.write(png)
    with atomic_output(workdir / "rounds.html", "w") as fh:
        fh.write(render_rounds_html(summary, png))
    with atomic_output(workdir / "summary.json", "w") as fh:
        fh.write(summary.model_dump_json(indent=2))
