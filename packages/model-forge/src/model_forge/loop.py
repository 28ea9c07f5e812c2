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

    WORKDIR/forge.db                      the store (unless another one is given)
    WORKDIR/test-set.json                 the frozen test groups and scenario ids
    WORKDIR/round-0/eval-test/            the base model on TEST (report.json/.html/.png)
    WORKDIR/round-R/export/               the HF dataset round R trained on
    WORKDIR/round-R/model/                the model of round R (+ adapter/, metrics.json)
    WORKDIR/round-R/eval-test/            round R's model on TEST
    WORKDIR/round-R/eval-wild/            round R's model on the wild set (never stored)
    WORKDIR/round-R/probe/                round R's model on fresh probes (R < last round)
    WORKDIR/rounds.png, rounds.html       the curve of safe rate and benign compliance
    WORKDIR/summary.json                  a forge_export.loop_summary.LoopSummary

Example:
    >>> from model_forge.loop import LoopConfig, run_loop  # doctest: +SKIP
    >>> summary = run_loop(LoopConfig.quick_config(workdir="runs/quick"))
    >>> [r.aggregates["all"].safe_rate for r in summary.rounds]
    [0.0, 0.0, 0.0]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forge_export.atomic_files import atomic_output
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

from model_forge.loop_config import LoopConfig
from model_forge.loop_table import format_rounds

if TYPE_CHECKING:
    from datasets import Dataset
    from forge_export.models import EvalReport, Scenario

__all__ = ["LoopConfig", "default_workdir", "format_rounds", "run_loop"]

Log = Callable[[str], None]
ProgressFactory = Callable[[int, str], Any]


def default_workdir() -> Path:
    """``./forge-runs/<UTC timestamp>``."""
    return Path("forge-runs") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _completions_from_generator(store: Any, name: str, model: str, log: Log) -> int:
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
    pending = [
        (c.id, JudgeItem.from_scenario(scenario, c.text))
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
    """One run of the loop: the state shared by its steps."""

    def __init__(self, config: LoopConfig, log: Log, progress: ProgressFactory | None) -> None:
        self.config = config
        self.store: Any = None
        self.say = log
        self.progress = progress
        self.workdir = Path(config.workdir or default_workdir())
        store = config.store
        # a postgresql:// URL stays text (Path would fold its "//")
        self.store_path: Path | str = (
            str(store)
            if isinstance(store, str) and store.startswith(("postgresql://", "postgres://"))
            else Path(store or self.workdir / "forge.db")
        )
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self.wild: list[Scenario] = []
        self.held_out_targets: list[str] = []
        self.held_out_kinds: list[str] = []

    def round_summary(
        self, r: int, model: str, report: EvalReport, wild: EvalReport | None
    ) -> RoundSummary:
        """Round ``r``'s entry: test aggregates (per target, kind and part) and the wild set."""
        folder = self.workdir / f"round-{r}"
        return RoundSummary(
            round=r,
            model=model,
            test_report=str(folder / "eval-test" / "report.json"),
            test_html=str(folder / "eval-test" / "report.html"),
            aggregates=dict(report.aggregates),
            kinds=by_contrast_kind(report.results),
            sections=by_section(report.results, self.held_out_targets, self.held_out_kinds),
            wild_report=str(folder / "eval-wild" / "report.json") if wild else "",
            wild=by_metadata(wild.results, WILD_GROUP_KEY) if wild else {},
        )

    def step(self, name: str, t0: float) -> float:
        took = round(time.perf_counter() - t0, 1)
        self.timings[name] = took
        self.say(f"[{time.perf_counter() - self.started:6.0f}s] {name} done in {took:.0f}s")
        return took

    def _bar(self, n: int, label: str) -> tuple[Any, Callable[[int], None] | None]:
        self.say(f"{label}: {n} scenarios")
        if self.progress is None:
            return None, None
        cm = self.progress(n, label)
        bar = cm.__enter__()
        return cm, bar.update

    def evaluate_test(self, backend: Any, export: Path, out: Path, label: str) -> EvalReport:
        from model_forge.evaluate import load_eval_scenarios

        return self._evaluate(backend, load_eval_scenarios(export, "test"), out, label, export)

    def evaluate_wild(self, backend: Any, r: int, label: str) -> EvalReport | None:
        """Round ``r``'s model on the wild set (``None`` without one)."""
        if not self.wild:
            return None
        out = self.workdir / f"round-{r}" / "eval-wild"
        return self._evaluate(backend, self.wild, out, f"{label} on the wild set", None, "wild")

    def _evaluate(
        self,
        backend: Any,
        scenarios: list[Any],
        out: Path,
        label: str,
        data: Path | None,
        split: str | None = None,
    ) -> EvalReport:
        from scenario_forge.api import apply_human_verdicts

        from model_forge.evaluate import evaluate_scenarios, resolve_judge, write_report

        cm, update = self._bar(len(scenarios), label)
        try:
            report = evaluate_scenarios(
                scenarios,
                backend,
                resolve_judge(self.config.judge),
                max_new_tokens=self.config.max_new_tokens,
                progress=update,
                data=data,
                split=split or ("test" if data else "probe"),
                metadata={"role": label},
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


def run_loop(
    config: LoopConfig,
    *,
    log: Log | None = None,
    progress: ProgressFactory | None = None,
) -> LoopSummary:
    """Run the main job and return its summary (also written to ``WORKDIR/summary.json``).

    Args:
        config: What to run.
        log: Receives one-line progress messages.
        progress: ``progress(total, label)`` returns a context manager with ``update(n)``,
            used to show generation progress during evaluations.

    Returns:
        The :class:`~forge_export.loop_summary.LoopSummary`.

    Raises:
        ForgeError: bad settings or any step's user-facing error.
    """
    config.check()
    run = _Runner(config, log or (lambda _m: None), progress)
    run.workdir.mkdir(parents=True, exist_ok=True)
    from scenario_forge.api import ScenarioStore

    store = ScenarioStore.open(run.store_path)
    run.store = store
    try:
        return _run(run, store)
    finally:
        store.close()


def _run(run: _Runner, store: Any) -> LoopSummary:
    from forge_export.exporters.huggingface import ExportOptions
    from scenario_forge.api import (
        TemplateGenerator,
        augment_training,
        choose_test_set,
        complete_with_templates,
        export_store,
        generate_scenarios,
        load_taxonomy,
        lookalike_scenarios,
        plan_lookalikes,
        probe_scenarios,
        store_failures,
        store_lookalikes,
    )

    from model_forge.generation import load_backend

    config, say = run.config, run.say
    t0 = time.perf_counter()
    taxonomy = load_taxonomy()
    for name in config.held_out_targets:
        taxonomy.get(name)  # an unknown target: one line listing the known ones
    run.held_out_targets = sorted(config.held_out_targets)
    gen = generate_scenarios(
        store,
        taxonomy,
        None,
        count=config.count_per_target,
        seed=config.seed,
        generator=TemplateGenerator(taxonomy, benign_share=config.benign_share),
    )
    completed = complete_with_templates(store, taxonomy)
    plan = plan_lookalikes(
        lookalike_scenarios(taxonomy) if config.lookalikes else [],
        seed=config.seed,
        held_out_kinds=config.held_out_kinds if config.lookalikes else (),
        test_share=config.lookalike_test_share,
        probe_share=config.lookalike_probe_share,
        held_out_targets=config.held_out_targets,
    )
    looks = store_lookalikes(store, taxonomy, [*plan.test, *plan.train])
    say(
        f"store {store.path}: {gen.added} new template scenarios ({gen.duplicates} already "
        f"there), {completed} template completions; look-alikes: {len(plan.test)} test, "
        f"{len(plan.train)} train, {len(plan.probe_pool)} kept for probes ({looks} new)"
    )
    if config.generator:
        model_for_generator = "tiny" if config.quick else config.model
        _completions_from_generator(store, config.generator, model_for_generator, say)
    test_set = choose_test_set(
        store,
        seed=config.seed,
        test_size=config.test_size,
        lookalikes=plan.test,
        held_out_kinds=plan.held_out_kinds,
        held_out_targets=config.held_out_targets,
    )
    run.held_out_kinds = list(test_set.held_out_kinds)
    test_file = test_set.write(run.workdir / "test-set.json")
    if config.train_transforms:
        aug = augment_training(store, taxonomy, test_set, config.train_transforms, seed=config.seed)
        say(
            f"training variants ({', '.join(config.train_transforms)}): {aug.added} new "
            f"({aug.harmful} harmful, {aug.benign} benign), in their originals' groups"
        )
    say(
        f"frozen test set: {len(test_set.scenario_ids)} scenarios in {len(test_set.groups)} "
        f"groups ({test_set.harmful} harmful, {test_set.benign} benign, {test_set.lookalikes} "
        f"look-alikes; held-out kinds: {', '.join(test_set.held_out_kinds) or 'none'}; "
        f"held-out targets: {', '.join(test_set.held_out_targets) or 'none'}) → {test_file}"
    )
    wild = _wild_set(config, store, say)
    run.wild = wild.scenarios if wild else []
    run.step("scenarios", t0)

    export_options = ExportOptions(test_groups=test_set.groups, seed=config.seed, overwrite=True)

    def export(r: int) -> tuple[Path, Any]:
        t = time.perf_counter()
        out = run.workdir / f"round-{r}" / "export"
        summary = export_store(store, out, export_options)
        say(
            f"round {r}: export {out}: "
            + ", ".join(f"{c} {s['train']}/{s['test']}" for c, s in summary.counts.items())
            + " (train/test rows)"
        )
        run.step(f"round {r} export", t)
        return out, summary

    rounds: list[RoundSummary] = []
    t0 = time.perf_counter()
    export0, summary0 = export(0)
    base = load_backend(config.model, batch_size=config.eval_batch_size)
    report = run.evaluate_test(base, export0, run.workdir / "round-0" / "eval-test", "base model")
    run.step("round 0 (base model) test evaluation", t0)
    t0 = time.perf_counter()
    wild_report = run.evaluate_wild(base, 0, "base model")
    if wild_report:
        run.step("round 0 (base model) wild-set evaluation", t0)
    del base
    rounds.append(run.round_summary(0, config.model, report, wild_report))

    previous = config.model
    probed: set[str] = set()
    failure_ids: set[str] = set()
    for r in range(1, config.rounds + 1):
        rdir = run.workdir / f"round-{r}"
        probe: ProbeSummary | None = None
        if r > 1:
            t0 = time.perf_counter()
            backend = load_backend(previous, batch_size=config.eval_batch_size)
            probes = probe_scenarios(
                store,
                taxonomy,
                test_set,
                round_=r - 1,
                seed=config.seed,
                harmful_per_target=config.probe_harmful,
                benign_per_target=config.probe_benign,
                lookalike_pool=plan.probe_pool,
                lookalikes_per_round=config.probe_lookalikes,
                exclude_ids=probed,
                transforms=config.probe_transforms,
            )
            probed.update(p.scenario.id for p in probes)
            if not probes:
                raise ForgeError("no fresh probe scenarios are left; use fewer --rounds")
            probe_report = run._evaluate(
                backend,
                [p.scenario for p in probes],
                rdir / "probe",
                f"round {r - 1} model on probes",
                None,
            )
            del backend
            failures = probe_report.failures()
            stored = store_failures(
                store,
                failures,
                taxonomy,
                round_=r - 1,
                model_id=probe_report.model_id,
                good_answers={p.scenario.id: p.good for p in probes},
                seed=config.seed,
                origin=f"probe:{rdir / 'probe' / 'report.json'}",
            )
            failure_ids.update(stored.scenario_ids)
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
            say(
                f"round {r}: probe of {len(probes)} fresh scenarios: {stored.failures} failures "
                f"({stored.harmful_failures} harmful, {stored.benign_failures} benign) → "
                f"{stored.train_scenarios} training scenarios, {stored.preference_pairs} "
                "preference pairs"
            )
            run.step(f"round {r} probe", t0)

        exported, summary = (export0, summary0) if r == 1 else export(r)
        t0 = time.perf_counter()
        method = config.method if r == 1 else config.later_method
        trained = _train_round(run, r, method, previous, exported, failure_ids)
        run.step(f"round {r} training ({method})", t0)

        t0 = time.perf_counter()
        backend = load_backend(str(rdir / "model"), batch_size=config.eval_batch_size)
        report = run.evaluate_test(backend, exported, rdir / "eval-test", f"round {r} model")
        run.step(f"round {r} test evaluation", t0)
        t0 = time.perf_counter()
        wild_report = run.evaluate_wild(backend, r, f"round {r} model")
        if wild_report:
            run.step(f"round {r} wild-set evaluation", t0)
        del backend
        rounds.append(
            run.round_summary(r, str(rdir / "model"), report, wild_report).model_copy(
                update={
                    "method": method,
                    "export": str(exported),
                    "export_counts": summary.counts,
                    "train_loss": trained.metrics.train_loss,
                    "train_steps": trained.metrics.global_step,
                    "probe": probe,
                }
            )
        )
        previous = str(rdir / "model")

    result = LoopSummary(
        workdir=str(run.workdir),
        store=str(store.path),  # a URL without its password
        config=config.to_json(),
        test_set=TestSetSummary(
            file=str(test_file),
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
        timings_s=run.timings,
        total_s=round(time.perf_counter() - run.started, 1),
    )
    _write_outputs(result, run.workdir)
    return result


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


def _train_round(
    run: _Runner, r: int, method: str, previous: str, export: Path, failure_ids: set[str]
) -> Any:
    """Train round ``r`` from ``previous`` on ``export`` (failure rows weighted in SFT)."""
    from model_forge.train import TrainOptions, load_train_split, repeat_rows, train

    config = run.config
    later = r > 1
    lr = config.learning_rate if not later else config.later_learning_rate
    if method == "dpo":
        lr = lr / 10
    benign_repeat = config.later_benign_repeat if later else config.benign_repeat
    options = TrainOptions(
        method=method,  # type: ignore[arg-type]
        model=previous,
        lora=config.lora,
        lora_r=config.lora_r,
        lora_alpha=2 * config.lora_r,
        max_steps=config.later_steps if later else config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=lr,
        benign_repeat=benign_repeat if method == "sft" else 1,
        max_length=config.max_length,
        seed=config.seed + r,
        save_steps=None,  # a round is never resumed: no checkpoints (~3x the model each)
        overwrite=True,
        extra=dict(config.extra),
    )
    dataset: Dataset | None = None
    if method == "sft" and later and failure_ids:
        dataset = load_train_split(export, options.export_config())
        if config.later_harmful == "failures":
            dataset = _failures_and_benign(dataset, failure_ids)
        dataset = repeat_rows(
            dataset, "scenario_id", failure_ids.__contains__, config.failure_repeat
        )
    return train(
        export, run.workdir / f"round-{r}" / "model", options, dataset=dataset, log=run.say
    )


def _failures_and_benign(ds: Dataset, failure_ids: set[str]) -> Dataset:
    """The rows of ``ds`` that are benign or made from a probe failure.

    Later rounds start from a model that has learned the template refusals already; training
    them again mostly teaches the refusal opener to benign questions.
    """

    def keep(behaviours: list[str], ids: list[str]) -> list[bool]:
        return [b == "comply" or s in failure_ids for b, s in zip(behaviours, ids, strict=True)]

    return ds.filter(keep, batched=True, input_columns=["expected_behavior", "scenario_id"])


def _write_outputs(summary: LoopSummary, workdir: Path) -> None:
    from model_forge.loop_table import render_rounds_chart, render_rounds_html

    png = render_rounds_chart(summary)
    with atomic_output(workdir / "rounds.png", "wb") as fh:
        fh.write(png)
    with atomic_output(workdir / "rounds.html", "w") as fh:
        fh.write(render_rounds_html(summary, png))
    with atomic_output(workdir / "summary.json", "w") as fh:
        fh.write(summary.model_dump_json(indent=2))
