"""Mix I of docs/model-forge.md: DPO on a loop round's failure pairs plus benign contrast pairs.

A benign contrast pair needs no generation: the prompt of a benign training row, its answer as
``chosen`` and, as ``rejected``, a refusal in the taxonomy's own words (the row's target's
refusal template filled with the target's slot defaults; a generic refusal for look-alikes).
The script reads a loop round's export (``RUN/round-2/export``), adds ``--benign N`` such pairs
to the ``preference`` train split (the round's failures against the model's own answers),
trains DPO from ``--model`` and writes the model; evaluate it with ``model-forge evaluate``::

    uv run python benchmarks/contrast_pairs.py RUN/round-2/export OUT \\
        --model RUN/round-1/model --benign 103 --steps 48 --learning-rate 2.5e-6
    uv run model-forge evaluate --model OUT --wild-set builtin --max-new-tokens 64
    uv run model-forge evaluate --model OUT --test-set RUN/test-set.json --max-new-tokens 64

Measured once on run C (docs/model-forge.md, "Mix I"): the benign pairs undo the safety gain
of the failure pairs on the wild set; the loop does not use them.
"""

from __future__ import annotations

import argparse
import random
from typing import Any

GENERIC_REFUSAL = (
    "I can't help with that. It could be used to cause real harm. "
    "I'd be glad to help with something else instead."
)


def refusal_for(target: str, taxonomy: Any) -> str:
    """The refusal a model over-generalises to a benign row of ``target``."""
    from scenario_forge.response_templates import fill_template

    if target not in taxonomy:
        return GENERIC_REFUSAL
    spec = taxonomy.get(target)
    key = "refuse" if "refuse" in spec.response_templates else next(iter(spec.response_templates))
    return fill_template(spec.response_templates[key], spec.slot_defaults).strip()


def contrast_dataset(export: str, n_benign: int, seed: int) -> Any:
    """The export's failure pairs plus ``n_benign`` benign contrast pairs (a ``Dataset``)."""
    from datasets import Dataset, concatenate_datasets
    from model_forge.train import load_train_split
    from scenario_forge.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    rows = load_train_split(export, "prompt_completion")
    benign = [r for r in rows if r["expected_behavior"] == "comply"]
    random.Random(seed).shuffle(benign)
    contrast = [
        {
            "prompt": r["prompt"],
            "chosen": r["completion"],
            "rejected": [
                {"role": "assistant", "content": refusal_for(r["evaluation_target"], taxonomy)}
            ],
            "expected_behavior": "comply",
        }
        for r in benign[:n_benign]
    ]
    pairs = load_train_split(export, "preference").select_columns(
        ["prompt", "chosen", "rejected", "expected_behavior"]
    )
    if not contrast:
        return pairs
    return concatenate_datasets([pairs, Dataset.from_list(contrast).cast(pairs.features)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="a loop round's export folder (RUN/round-2/export)")
    parser.add_argument("output", help="where the trained model is written")
    parser.add_argument("--model", required=True, help="the model DPO starts from")
    parser.add_argument("--benign", type=int, default=103, help="benign contrast pairs to add")
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--learning-rate", type=float, default=2.5e-6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from model_forge.train import train
    from model_forge.train_config import TrainOptions

    dataset = contrast_dataset(args.export, args.benign, args.seed)
    print(f"{len(dataset)} preference rows ({args.benign} benign contrast pairs at most)")
    options = TrainOptions(
        method="dpo",
        dataset_config="preference",
        model=args.model,
        lora=False,
        max_steps=args.steps,
        learning_rate=args.learning_rate,
        benign_repeat=1,
        save_steps=0,
    )
    result = train(args.export, args.output, options, dataset=dataset, log=print)
    print(f"model: {result.output} (loss {result.metrics.train_loss:.4f})")


if __name__ == "__main__":
    main()
