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

    def timed(reqs: list[GenerationRequest], batch_size: int) -> tuple[float, float, list]:
        backend.batch_size = batch_size  # type: ignore[attr-defined]
        wall, cpu = time.perf_counter(), time.process_time()
        gens = backend.generate(reqs)
        return time.perf_counter() - wall, time.process_time() - cpu, gens

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads {args.threads}, device {backend.device}"  # type: ignore[attr-defined]
    )
    print(
        f"prompts {len(requests)}, max_new_tokens {args.max_new_tokens}, greedy; the two ways "
        f"alternate per group of {args.batch_size} prompts, so machine load hits both alike"
    )
    modes = [("backend (finished rows leave the batch)", True)]
    if args.generate_too:
        modes.append(("model.generate", False))
    for label, prune in modes:
        backend.prune_finished = prune  # type: ignore[attr-defined]
        totals = {1: [0.0, 0.0, 0], args.batch_size: [0.0, 0.0, 0]}
        texts: dict[int, list[str]] = {1: [], args.batch_size: []}
        for start in range(0, len(requests), args.batch_size):
            group = requests[start : start + args.batch_size]
            for bs in (1, args.batch_size):
                wall, cpu, gens = timed(group, bs)
                totals[bs][0] += wall
                totals[bs][1] += cpu
                totals[bs][2] += sum(g.completion_tokens for g in gens)
                texts[bs].extend(g.text for g in gens)
        same = sum(a == b for a, b in zip(texts[1], texts[args.batch_size], strict=True))
        print(f"[{label}]")
        for bs, name in ((1, "one at a time"), (args.batch_size, f"batch of {args.batch_size}")):
            wall, cpu, n = totals[bs]
            print(
                f"  {name:<13}: {n:5d} tokens, wall {wall:7.2f} s = {n / wall:6.1f} tok/s, "
                f"cpu {cpu:7.2f} s = {n / cpu:6.1f} tok/cpu-s"
            )
        (w1, c1, n1), (wb, cb, nb) = totals[1], totals[args.batch_size]
        print(f"  identical replies: {same}/{len(requests)}")
        print(
            f"  ratio (batched / one at a time, tokens/s): {(nb / wb) / (n1 / w1):.2f}x wall, "
            f"{(nb / cb) / (n1 / c1):.2f}x cpu"
        )


if __name__ == "__main__":
    main()
