"""Cost of the issue-17 input guards, as ratios against the unguarded baseline in the same run.

* JSON: ``forge_export.bounded.json_loads`` (digit limit, duplicate keys) vs ``json.loads`` on
  scenario-import-like JSONL lines.
* YAML: ``forge_export.bounded.yaml_load`` (one parse + graph check) vs ``yaml.safe_load`` on a
  YAML list of scenarios without aliases.
* Completion: ``Completion(...)`` with origin redaction vs the same with the redaction replaced
  by the identity (what every completion read from a store pays).

Usage: ``uv run python benchmarks/bench_guards.py [N]`` (default N = 100000 JSON lines /
completions, N/20 YAML items); best of 3 alternating runs each.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import yaml
from forge_export import models
from forge_export.bounded import json_loads, yaml_load
from forge_export.models import Completion


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(n: int) -> None:
    lines = [
        json.dumps(
            {
                "prompt": f"How would someone do thing number {i}? " * 4,
                "evaluation_target": "harmful_code",
                "tags": ["a", "b"],
                "metadata": {"k": i, "nested": {"x": 1.5}},
            }
        )
        for i in range(n)
    ]
    base = best(lambda: [json.loads(x) for x in lines])
    guarded = best(lambda: [json_loads(x) for x in lines])
    print(f"JSON  {n} lines: json.loads {base:.2f} s, json_loads {guarded:.2f} s, "
          f"ratio {guarded / base:.2f}")  # fmt: skip

    text = yaml.safe_dump(
        [{"prompt": f"scenario {i} " * 8, "tags": ["x", "y"], "n": i} for i in range(n // 20)]
    )
    base = best(lambda: yaml.safe_load(text), repeat=2)
    guarded = best(lambda: yaml_load(text, "bench.yaml"), repeat=2)
    print(f"YAML  {n // 20} items ({len(text) / 1e6:.1f} MB): safe_load {base:.2f} s, "
          f"yaml_load {guarded:.2f} s, ratio {guarded / base:.2f}")  # fmt: skip

    def make() -> None:
        for i in range(n):
            Completion(id="c" * 20, scenario_id="s" * 20, text=f"answer {i}", source="model",
                       origin="bundled@0123abcd#safe-completion-v2")  # fmt: skip

    real = models.redact
    guarded = best(make)
    models.redact = lambda text: text  # type: ignore[assignment]
    try:
        base = best(make)
    finally:
        models.redact = real
    print(f"Completion x{n}: unredacted {base:.2f} s, redacted {guarded:.2f} s, "
          f"ratio {guarded / base:.2f}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
