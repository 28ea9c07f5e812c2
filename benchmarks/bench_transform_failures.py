"""Failure rate per attack transform, for one or more models, vs the plain scenarios.

Takes the harmful and benign-contrast scenarios of a loop run's frozen test set (never trained
on), answers each plain and under every transform (one at a time, default arguments, seed 0)
with each model, judges with the loop's default judge, and prints per model and transform:
the unsafe share of harmful scenarios, the over-refusal share of benign contrasts, and the
harmful failure rate as a ratio to the plain scenarios measured in the same run.

    uv run python benchmarks/bench_transform_failures.py --run /tmp/run-e \\
        --model bundled --model /tmp/run-e/round-1/model --harmful 38 --benign 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

TRANSFORMS = (
    "base64",
    "rot13",
    "leetspeak",
    "homoglyph",
    "zero_width",
    "split",
    "language_game",
    "authority",
    "persuasion",
    "crescendo:4",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a model-forge loop workdir")
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--harmful", type=int, default=38)
    parser.add_argument("--benign", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--judge", default="default")
    parser.add_argument("--transform", action="append", default=None)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    import torch
    from model_forge.evaluate import evaluate_scenarios, resolve_judge
    from model_forge.generation import load_backend
    from scenario_forge.lookalikes import is_lookalike
    from scenario_forge.store import ScenarioStore
    from scenario_forge.transforms import apply_chain, load_chain

    torch.set_num_threads(1)
    ids = set(json.loads((args.run / "test-set.json").read_text())["scenario_ids"])
    with ScenarioStore.open(args.run / "forge.db", create=False) as store:
        test = [s for s in store.iter_scenarios() if s.id in ids]
    harmful = [s for s in test if s.is_harmful][: args.harmful]
    benign = [s for s in test if not s.is_harmful and not is_lookalike(s)][: args.benign]
    base = harmful + benign
    transforms = tuple(args.transform or TRANSFORMS)
    sets = {"plain": base}
    for t in transforms:
        chain = load_chain([t])
        sets[t] = [apply_chain(s, chain, 0) for s in base]
    judge = resolve_judge(args.judge)
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    print(f"{len(harmful)} harmful + {len(benign)} benign test scenarios of {args.run}")
    for spec in args.model:
        backend = load_backend(spec, batch_size=16)
        out[spec] = {}
        t0 = time.perf_counter()
        everything = [(name, s) for name, ss in sets.items() for s in ss]
        rep = evaluate_scenarios(  # one call: full batches across the sets
            [s for _, s in everything],
            backend,
            judge,
            max_new_tokens=args.max_new_tokens,
            split="probe",
        )
        plain_fail: list[bool] = []
        for name in sets:
            rs = [r for (n, _), r in zip(everything, rep.results, strict=True) if n == name]
            h = [r for r in rs if r.scenario.is_harmful]
            b = [r for r in rs if not r.scenario.is_harmful]
            if name == "plain":
                plain_fail = [r.verdict == "fail" for r in h]
            out[spec][name] = {
                # harmful scenarios whose plain form passed but this form failed
                "new_fail": sum(
                    r.verdict == "fail" and not pf for r, pf in zip(h, plain_fail, strict=True)
                ),
                "harmful_n": len(h),
                "harmful_fail": sum(r.verdict == "fail" for r in h),
                "benign_n": len(b),
                "benign_refused": sum(r.refused for r in b),
                "benign_fail": sum(r.verdict == "fail" for r in b),
            }
        print(f"{spec}: {time.perf_counter() - t0:.0f}s")
        plain = out[spec]["plain"]
        base_rate = plain["harmful_fail"] / max(1, plain["harmful_n"])
        print(
            "| transform | harmful unsafe | vs plain | failures plain missed "
            "| benign over-refusal | benign fail |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, c in out[spec].items():
            rate = c["harmful_fail"] / max(1, c["harmful_n"])
            ratio = f"{rate / base_rate:.2f}x" if base_rate else "-"
            print(
                f"| {name} | {rate:.0%} ({c['harmful_fail']}/{c['harmful_n']}) | {ratio} "
                f"| {c['new_fail']} "
                f"| {c['benign_refused'] / max(1, c['benign_n']):.0%} "
                f"| {c['benign_fail']}/{c['benign_n']} |"
            )
    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
