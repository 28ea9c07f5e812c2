"""Fill the generation cache from finished evaluation reports of one model.

Run: ``uv run python benchmarks/seed_generation_cache.py MODEL REPORT.json [...] --max-new-tokens 64``

Comparing training mixes repeats the same base-model answers in every run (round 0 on the same
test set and wild set). A run that finished before ``MODEL_FORGE_GENERATION_CACHE`` was set
still holds those answers in its reports; this puts them into the cache under the exact keys
the backend would use (weights fingerprint, rendered prompt, max new tokens, device, dtype), so
the next run reads them back. Only use it with reports of greedy answers of MODEL produced with
the same ``--max-new-tokens`` on this device; the token counts are recounted with the
tokenizer, and an answer that used every new token is recorded as finished by length.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    """Load the model's backend, rebuild each result's key, store the answers."""
    from forge_export.reports import read_report
    from model_forge.generation import load_backend
    from model_forge.generation.cache import CachedGeneration, cache_from_env

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--max-new-tokens", type=int, required=True)
    args = parser.parse_args()
    if cache_from_env() is None:
        raise SystemExit("set MODEL_FORGE_GENERATION_CACHE to the cache folder first")
    backend = load_backend(args.model)
    cache = backend.cache
    assert cache is not None
    # the key the backend computes (one empty call sets its model fingerprint)
    backend._cached([], [], [], None)
    model_key = backend._cache_model
    assert model_key is not None
    dtype = str(next(backend.model.parameters()).dtype)
    items: dict[str, CachedGeneration] = {}
    for path in args.reports:
        report = read_report(path)
        for r in report.results:
            prompt = backend.render(r.scenario.messages())
            key = cache.key(model_key, prompt, args.max_new_tokens, backend.device, dtype)
            tokens = len(backend.tokenizer(r.response, add_special_tokens=False)["input_ids"])
            prompt_tokens = len(backend.tokenizer(prompt, add_special_tokens=False)["input_ids"])
            done = "length" if tokens >= args.max_new_tokens else "stop"
            items[key] = CachedGeneration(r.response, prompt_tokens, tokens, done)
    before = cache.get_many(items)
    cache.put_many(items)
    print(f"{len(items)} answers from {len(args.reports)} report(s); {len(before)} were cached")


if __name__ == "__main__":
    main()
