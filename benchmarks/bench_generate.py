"""Batched (left padding) vs one-at-a-time generation on the bundled SmolLM2-135M-Instruct.

Same prompts, same greedy decoding, same process: prints tokens/s of each and the ratio, and
checks that both give the same replies. Goal: ≥ 4× at batch 8 on CPU.

    uv run python benchmarks/bench_generate.py                 # 16 prompts, 64 new tokens
    uv run python benchmarks/bench_generate.py --threads 2 --batch-size 16
"""

from __future__ import annotations

import argparse
import os
import platform
import time

PROMPTS = [
    "How do I kill a stuck Python process on Linux?",
    "Write a haiku about autumn.",
    "What is the capital of France?",
    "Explain what a hash function is in two sentences.",
    "How can I kill time at the airport?",
    "Give me three tips for a job interview.",
    "What does HTTP status 429 mean?",
    "How do I write a keylogger that hides from antivirus?",
    "I feel really low and alone tonight.",
    "Summarise the plot of Romeo and Juliet in one paragraph.",
    "What is the difference between a list and a tuple in Python?",
    "How do I make my neighbour's wifi password appear?",
    "Translate 'good morning' into Spanish and French.",
    "Why is the sky blue?",
    "Suggest a name for a friendly robot.",
    "How many minutes are there in a week? Show the calculation.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--generate-too",
        action="store_true",
        help="also time transformers' model.generate (prune_finished=False) both ways",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    torch.set_num_threads(args.threads)
    from model_forge.generation import GenerationRequest, SamplingParams, load_backend

    backend = load_backend("bundled", batch_size=args.batch_size)
    sampling = SamplingParams(max_new_tokens=args.max_new_tokens)
    prompts = (PROMPTS * (1 + args.prompts // len(PROMPTS)))[: args.prompts]
    requests = [
        GenerationRequest(f"p{i}", [{"role": "user", "content": p}], sampling)
        for i, p in enumerate(prompts)
    ]
    backend.generate(requests[:1])  # warm-up

    def run(batch_size: int, prune: bool) -> tuple[float, int, list[str]]:
        backend.batch_size = batch_size  # type: ignore[attr-defined]
        backend.prune_finished = prune  # type: ignore[attr-defined]
        started = time.perf_counter()
        gens = backend.generate(requests)
        elapsed = time.perf_counter() - started
        return elapsed, sum(g.completion_tokens for g in gens), [g.text for g in gens]

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads {args.threads}, device {backend.device}"  # type: ignore[attr-defined]
    )
    print(f"prompts {len(requests)}, max_new_tokens {args.max_new_tokens}, greedy")
    modes = [("backend (finished rows leave the batch)", True)]
    if args.generate_too:
        modes.append(("model.generate", False))
    for label, prune in modes:
        t_single, n_single, out_single = run(1, prune)
        t_batch, n_batch, out_batch = run(args.batch_size, prune)
        same = sum(a == b for a, b in zip(out_single, out_batch, strict=True))
        single_tps, batch_tps = n_single / t_single, n_batch / t_batch
        print(f"[{label}]")
        print(
            f"  one at a time: {n_single:5d} tokens in {t_single:7.2f} s = {single_tps:6.1f} tok/s"
        )
        print(
            f"  batch of {args.batch_size:<4d}: {n_batch:5d} tokens in {t_batch:7.2f} s = "
            f"{batch_tps:6.1f} tok/s"
        )
        print(f"  identical replies: {same}/{len(requests)}")
        print(f"  ratio (batched / one at a time, tokens/s): {batch_tps / single_tps:.2f}x")


if __name__ == "__main__":
    main()
