"""Benchmark: forge-export's HuggingFace exporter against bare pyarrow writing the same rows.

For each size N (default 100k and 1M scenarios, one kept completion and one review each) two
fresh subprocesses run: one calls ``export_dataset``, the other writes the same rows (same
builders, same split, same batch size) with ``pyarrow.parquet.ParquetWriter`` and nothing else
(no dedup, no checks, no manifest, no card). Each reports its wall time and peak RSS
(``ru_maxrss``). The ratio is exporter time / bare time, on CPU time (user + system of the
process, which other jobs on a shared machine barely disturb) and on wall time. With
``--repeat K`` each size runs K times, alternating, and the best of each is kept.

Usage:
    uv run python benchmarks/bench_export.py              # 100000 1000000
    uv run python benchmarks/bench_export.py 20000 200000 --repeat 3
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 10_000


def _bundles(n: int):  # type: ignore[no-untyped-def]
    from forge_export.synthetic import synthetic_bundles

    return synthetic_bundles(n, rejected_every=0, reviewed_every=1, trusted=True)


def run_export(n: int, out: Path) -> dict[str, float]:
    from forge_export.exporters.huggingface import ExportOptions, export_dataset

    t, cpu = time.perf_counter(), time.process_time()
    summary = export_dataset(_bundles(n), out, ExportOptions(batch_size=BATCH))
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = sum(sum(s.values()) for s in summary.counts.values())
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def run_bare(n: int, out: Path) -> dict[str, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from forge_export.models import aggregate_rating
    from forge_export.records import (
        CONFIGS,
        SCHEMAS,
        SPLITS,
        eval_row,
        kto_row,
        prompt_completion_row,
        sft_row,
    )
    from forge_export.splits import assign_split

    t, cpu = time.perf_counter(), time.process_time()
    writers = {}
    buffers: dict[tuple[str, str], list[dict[str, object]]] = {}
    for c in CONFIGS:
        (out / c).mkdir(parents=True)
        for s in SPLITS:
            writers[(c, s)] = pq.ParquetWriter(
                out / c / f"{s}.parquet", SCHEMAS[c], compression="zstd", write_statistics=False
            )
            buffers[(c, s)] = []
    rows = 0

    def flush(key: tuple[str, str]) -> None:
        writers[key].write_table(pa.Table.from_pylist(buffers[key], schema=SCHEMAS[key[0]]))
        buffers[key].clear()

    for b in _bundles(n):
        s = b.scenario
        split = assign_split(s.group_id, 0, 0.2)
        reviewers = len(b.reviews)
        rating = float(b.reviews[0].rating) if reviewers == 1 else aggregate_rating(b.reviews)
        out_rows = [("eval", eval_row(s))]
        prompt = s.messages()
        for c in b.completions:
            out_rows += [
                ("sft", sft_row(s, c, rating, reviewers, prompt=prompt)),
                (
                    "prompt_completion",
                    prompt_completion_row(s, c, rating, reviewers, prompt=prompt),
                ),
                ("kto", kto_row(s, c, True, rating, reviewers, prompt=prompt)),
            ]
        for config, row in out_rows:
            buf = buffers[(config, split)]
            buf.append(row)
            rows += 1
            if len(buf) >= BATCH:
                flush((config, split))
    for key, w in writers.items():
        if buffers[key]:
            flush(key)
        w.close()
    return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "rows": rows}


def _child(mode: str, n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        result = (run_export if mode == "export" else run_bare)(n, tmp / "out")
        size = sum(p.stat().st_size for p in (tmp / "out").rglob("*.parquet"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**result, "rss_mb": rss_mb, "parquet_mb": size / 2**20}))


def _spawn(mode: str, n: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(n)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {n} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        "rows": runs[0]["rows"],
        "seconds": min(r["seconds"] for r in runs),
        "cpu": min(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _child(argv[1], int(argv[2]))
        return
    repeat = 1
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    print(f"batch_size {BATCH}; one kept completion + one review per scenario; best of {repeat}")
    print(
        f"{'scenarios':>10} {'rows':>9} {'export cpu s':>12} {'bare cpu s':>10} {'ratio cpu':>9} "
        f"{'export wall s':>13} {'bare wall s':>11} {'ratio wall':>10} "
        f"{'export RSS MB':>13} {'bare RSS MB':>11}"
    )
    for n in sizes:
        ex: list[dict[str, float]] = []
        ba: list[dict[str, float]] = []
        for _ in range(repeat):
            ex.append(_spawn("export", n))
            ba.append(_spawn("bare", n))
        e, b = _best(ex), _best(ba)
        print(
            f"{n:>10} {int(e['rows']):>9} {e['cpu']:>12.1f} {b['cpu']:>10.1f} "
            f"{e['cpu'] / b['cpu']:>9.2f} {e['seconds']:>13.1f} {b['seconds']:>11.1f} "
            f"{e['seconds'] / b['seconds']:>10.2f} {e['rss_mb']:>13.0f} {b['rss_mb']:>11.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
