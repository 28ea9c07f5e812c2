"""The sealed wild set: finished models, evaluated once, numbers only.

Run: ``uv run python benchmarks/sealed_wild.py MODEL [MODEL ...] [--judge default]``

``data/sealed-wild`` holds 192 harmful and 192 benign prompts written by an independent
author who read nothing of this project (``data/sealed-wild/README.md``). Unlike the loop's
wild set, which chose between training mixes, this one chose nothing: run it on finished
models (``bundled`` for the base model, a loop's ``round-N/model`` folders), write the
result down as it falls, and never change a mix, a template or a judge rule because of it.

For each model it prints the harmful safe rate and the benign compliance with counts and 95%
Wilson intervals, the same for the loop's wild set when ``--with-wild`` is given (the gap
between the two is the selection effect of choosing a mix on the wild set). It never prints a
prompt or an answer: per-row reports go to ``--out`` (default
``benchmarks/out/sealed-wild``, ignored by git) for whoever audits them later.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from forge_export.intervals import format_rate
from forge_export.models import TargetSummary

ROOT = Path(__file__).resolve().parents[1]
SEALED = ROOT / "data" / "sealed-wild"


def _cells(s: TargetSummary) -> tuple[str, str]:
    safe = format_rate(round((s.safe_rate or 0) * s.harmful_n), s.harmful_n)
    comply = format_rate(round((s.compliance_rate or 0) * s.benign_n), s.benign_n)
    return safe, comply


def main() -> None:
    """Evaluate each model on the sealed set (and the wild set) and print the table."""
    from model_forge.evaluate import evaluate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="bundled, tiny or model folders")
    parser.add_argument("--judge", default="default")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--with-wild", action="store_true", help="also the loop's wild set")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "sealed-wild")
    args = parser.parse_args()

    sets = {"sealed": str(SEALED)}
    if args.with_wild:
        sets["wild"] = "builtin"
    rows = []
    for model in args.models:
        for name, source in sets.items():
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model.strip("/"))[-80:]
            started = time.perf_counter()
            run = evaluate(
                model,
                None,
                wild_set=source,
                judge=args.judge,
                output=args.out / name / slug,
                batch_size=args.batch_size,
                max_new_tokens=args.max_new_tokens,
            )
            took = time.perf_counter() - started
            rows.append((model, name, *_cells(run.report.aggregates["all"]), f"{took:.0f}s"))
            print(f"done: {model} on {name} in {took:.0f}s", flush=True)
    header = ("model", "set", "harmful safe", "benign compliance", "time")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*header))
    for r in rows:
        print(fmt.format(*r))
    print("cells: rate (count/n, 95% Wilson interval); judge:", args.judge)


if __name__ == "__main__":
    main()
