"""An inspect_ai task: any model inspect_ai supports, on a forge export, scored by forge's judge.

Install the extra (``pip install 'model-forge[inspect]'``; in this workspace the dev group has
it), then::

    inspect eval model_forge/forge_eval -T data=EXPORT --model openai/gpt-4o-mini
    inspect eval packages/model-forge/src/model_forge/inspect_task.py -T data=EXPORT \\
        --model mockllm/model

Task options (``-T``):

* ``data``: the export folder (required); its ``eval`` config is read with
  :func:`forge_export.load`, so the manifest and file hashes are checked first.
* ``split``: ``test`` (default) or ``train``.
* ``judge``: as ``model-forge evaluate --judge`` and with the same default (the learned
  judge); ``rules`` or an LLM judge spec (``openai:MODEL`` ...).
* ``targets``: comma-separated evaluation targets to keep (default: all).

Each sample is one scenario: ``input`` its chat messages (system, earlier turns, prompt),
``target`` its success criteria, ``metadata`` its target, expected behaviour, group and the full
scenario JSON. The scorer :func:`forge_judge` judges the model's answer with
:func:`model_forge.judge.load_judge` and scores ``C`` (pass) or ``I`` (fail); the score's
explanation is the judge's reason, its metadata the refusal flag and the judge's name. Metrics:
accuracy (pass rate) overall, per target and per expected behaviour, the safe-response rate on
harmful scenarios (``refuse`` / ``safe_complete``) and the over-refusal rate on benign contrasts
(``comply``). Generation settings are inspect_ai's (``--temperature 0`` for greedy answers,
``--max-tokens`` ...).
"""

from __future__ import annotations

from forge_export import Scenario
from forge_export.errors import ForgeError
from forge_export.models import EXPECTED_BEHAVIORS, HARMFUL_BEHAVIORS

from model_forge.eval_config import EvalOptions

try:
    from inspect_ai import Task, task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import (
        ChatMessage,
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageUser,
    )
    from inspect_ai.scorer import (
        CORRECT,
        INCORRECT,
        Metric,
        SampleScore,
        Score,
        Scorer,
        Target,
        accuracy,
        grouped,
        metric,
        scorer,
        stderr,
        value_to_float,
    )
    from inspect_ai.solver import TaskState, generate
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "model_forge.inspect_task needs inspect_ai: pip install 'model-forge[inspect]'"
    ) from exc

HARMFUL = tuple(b for b in EXPECTED_BEHAVIORS if b in HARMFUL_BEHAVIORS)
BENIGN = tuple(b for b in EXPECTED_BEHAVIORS if b not in HARMFUL_BEHAVIORS)


def _message(role: str, content: str) -> ChatMessage:
    if role == "system":
        return ChatMessageSystem(content=content)
    if role == "assistant":
        return ChatMessageAssistant(content=content)
    return ChatMessageUser(content=content)


def scenario_sample(scenario: Scenario) -> Sample:
    """The inspect_ai sample of one scenario (id, chat input, criteria, metadata).

    Args:
        scenario: A forge scenario.

    Returns:
        A :class:`inspect_ai.dataset.Sample` whose metadata carries the scenario as JSON.
    """
    return Sample(
        id=scenario.id,
        input=[_message(m["role"], m["content"]) for m in scenario.messages()],
        target=list(scenario.success_criteria),
        metadata={
            "evaluation_target": scenario.evaluation_target,
            "expected_behavior": scenario.expected_behavior,
            "group_id": scenario.group_id,
            "scenario": scenario.model_dump_json(),
        },
    )


def forge_dataset(data: str, split: str | None = None, targets: str | None = None) -> MemoryDataset:
    """The ``eval`` config of an export as an inspect_ai dataset.

    Args:
        data: The export folder.
        split: ``train`` or ``test`` [default: :class:`~model_forge.eval_config.EvalOptions`'].
        targets: Comma-separated evaluation targets to keep; ``None`` keeps all.

    Returns:
        One sample per scenario, in the export's order.

    Raises:
        ForgeError: the folder is not a valid export, the split is unknown or no scenario is
            left after the target filter.
    """
    from forge_export import load

    split = split or EvalOptions().split
    if split not in ("train", "test"):
        raise ForgeError(f"-T split={split!r}: use train or test")
    keep = {t.strip() for t in targets.split(",") if t.strip()} if targets else None
    rows = load(data, "eval", split)
    samples = []
    for raw in rows["scenario"]:
        scenario = Scenario.model_validate_json(raw)
        if keep is None or scenario.evaluation_target in keep:
            samples.append(scenario_sample(scenario))
    if not samples:
        what = f" for targets {sorted(keep)}" if keep else ""
        raise ForgeError(f"{data}: the eval config's {split} split has no scenarios{what}")
    return MemoryDataset(samples, name=f"forge:{data}:{split}", location=str(data))


def _rate(scores: list[SampleScore], behaviors: tuple[str, ...], flag: str) -> float:
    chosen = [
        s.score for s in scores if (s.score.metadata or {}).get("expected_behavior") in behaviors
    ]
    if not chosen:
        return 0.0
    if flag == "passed":
        # after epoch reduction values are floats (C -> 1.0), so convert either way
        to_float = value_to_float()
        return sum(to_float(s.value) for s in chosen) / len(chosen)
    return sum(bool((s.metadata or {}).get(flag)) for s in chosen) / len(chosen)


@metric
def safe_rate() -> Metric:
    """Share of harmful scenarios (refuse / safe_complete) answered safely (0 when none)."""

    def compute(scores: list[SampleScore]) -> float:
        return _rate(scores, HARMFUL, "passed")

    return compute


@metric
def over_refusal() -> Metric:
    """Share of benign contrasts (comply) the model refused (0 when none)."""

    def compute(scores: list[SampleScore]) -> float:
        return _rate(scores, BENIGN, "refused")

    return compute


@scorer(
    metrics=[
        accuracy(),
        stderr(),
        safe_rate(),
        over_refusal(),
        grouped(accuracy(), "evaluation_target", all=False, name_template="target:{group_name}"),
        grouped(accuracy(), "expected_behavior", all=False, name_template="expected:{group_name}"),
    ]
)
def forge_judge(judge: str | None = None) -> Scorer:
    """Score answers with forge's judge: ``C`` when the verdict is pass, ``I`` when fail.

    Args:
        judge: A judge spec, as :func:`model_forge.judge.load_judge` takes [default: the one
            of every forge evaluation, :class:`~model_forge.eval_config.EvalOptions`'].

    Returns:
        An inspect_ai scorer. Each score has the answer, the judge's reason as explanation and
        ``{"verdict", "refused", "judge", "expected_behavior", "evaluation_target"}`` metadata.
    """
    import anyio

    from model_forge.judge import JudgeItem, load_judge

    judge = judge or EvalOptions().judge
    try:
        the_judge = load_judge(judge)
    except ValueError as exc:
        raise ForgeError(f"-T judge={judge!r}: {exc}") from None

    async def score(state: TaskState, target: Target) -> Score:
        scenario = Scenario.model_validate_json(state.metadata["scenario"])
        response = state.output.completion if state.output else ""
        item = JudgeItem.from_scenario(scenario, response)
        [verdict] = await anyio.to_thread.run_sync(the_judge.judge, [item])
        return Score(
            value=CORRECT if verdict.passed else INCORRECT,
            answer=response,
            explanation=verdict.reason,
            metadata={
                "verdict": verdict.verdict,
                "refused": verdict.refused,
                "judge": verdict.judge,
                "expected_behavior": scenario.expected_behavior,
                "evaluation_target": scenario.evaluation_target,
            },
        )

    return score


@task
def forge_eval(
    data: str, split: str | None = None, judge: str | None = None, targets: str | None = None
) -> Task:
    """Evaluate a model on an export's ``eval`` scenarios, scored by forge's judge.

    Args:
        data: The export folder (``-T data=out/``).
        split: ``test`` (default) or ``train``.
        judge: The judge of every forge evaluation (default), ``rules``, or an LLM judge spec
            such as ``openai:gpt-4o-mini``.
        targets: Comma-separated evaluation targets to keep (default: all).

    Returns:
        The task: generate once per scenario, then judge.

    Example:
        ``inspect eval model_forge/forge_eval -T data=out/ --model mockllm/model``
    """
    return Task(
        dataset=forge_dataset(data, split, targets),
        solver=generate(),
        scorer=forge_judge(judge),
        metadata={
            "forge_export": str(data),
            "split": split or EvalOptions().split,
            "judge": judge or EvalOptions().judge,
        },
    )
