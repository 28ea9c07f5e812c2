"""Benchmark: next-item latency of the web review app vs the terminal path, on one store.

For each backend (SQLite file, PostgreSQL) a synthetic store of N scenarios is built (the
``bench_store.py`` shape: 5 targets, one template completion each, 10% rated by ``ann``; for
PostgreSQL the SQLite store is copied with ``migrate-store``'s :func:`copy_store`, into a
throwaway server unless ``--pg-url`` names a database). Then, on that same store:

* ``terminal``: what ``scenario-forge review`` does to show the next scenario
  (:meth:`ReviewQueue.claim_next`, the scenario and its completions), in process;
* ``web``: ``GET /review`` from a signed-in HTTP client against a real ``scenario-forge serve``
  process (claim, read, render the page, over local TCP);
* ``web x8``: eight signed-in clients at once (threads), each fetching its next scenario and
  answering it; afterwards no scenario may hold two reviews.

Each measured item is answered (not timed) so the queue moves on. p50 / p95 in ms; the ratio is
web p95 over terminal p95 in the same run.

Usage:
    uv run python benchmarks/bench_review_web.py                  # 100000 scenarios, both
    uv run python benchmarks/bench_review_web.py 10000 --items 100 --backends sqlite
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import _pct, build_store, next_item  # noqa: E402

PASSWORD = "benchmark passphrase"
CLIENTS = 8


def serve(location: str, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``scenario-forge serve`` on a free port (with ``args``, e.g. ``--report R``);
    returns the process and its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("scenario-forge")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), *args],
        env={**os.environ, "SCENARIO_FORGE_DB": location},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            httpx.get(url + "/login", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


def signed_in(url: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=120)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
    assert r.status_code == 303, r.text
    return c


def web_items(c: httpx.Client, items: int) -> list[float]:
    """ms of each ``GET /review``; each scenario shown is then answered (rating 1)."""
    times: list[float] = []
    for _ in range(items):
        t = time.perf_counter()
        page = c.get("/review").text
        times.append((time.perf_counter() - t) * 1000)
        sid = re.search(r'id="scenario" data-id="([0-9a-f]+)"', page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert sid and csrf, page[:500]
        r = c.post(f"/review/{sid.group(1)}/answer", data={"csrf": csrf.group(1), "rating": "1"})
        assert r.status_code == 303, r.text[:500]
    return times


def measure(location: str, items: int) -> dict[str, Any]:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.web.auth import add_user

    with ScenarioStore.open(location) as store:
        for name in ["web", *(f"web{i}" for i in range(CLIENTS))]:
            add_user(store, name, PASSWORD, replace=True)
    term = next_item(location, "term", items, overlap=1)  # type: ignore[arg-type]
    proc, url = serve(location)
    try:
        c = signed_in(url, "web")
        web_items(c, 3)  # warm-up: imports, templates, connections
        web = web_items(c, items)
        c.close()
        results: dict[int, list[float]] = {}

        def one(i: int) -> None:
            client = signed_in(url, f"web{i}")
            results[i] = web_items(client, max(1, items // CLIENTS))
            client.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        together = [x for v in results.values() for x in v]
    finally:
        proc.terminate()
        proc.wait(30)
    with ScenarioStore.open(location) as store:
        twice = store.connection.execute(
            "SELECT COUNT(*) FROM (SELECT scenario_id FROM reviews GROUP BY scenario_id "
            "HAVING COUNT(*) > 1) t"
        ).fetchone()[0]
    return {
        "term_p50": term["p50_ms"],
        "term_p95": term["p95_ms"],
        "web_p50": _pct(web, 0.5),
        "web_p95": _pct(web, 0.95),
        "x8_p50": _pct(together, 0.5),
        "x8_p95": _pct(together, 0.95),
        "x8_items": len(together),
        "twice": int(twice),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=None, help="an empty PostgreSQL database to use")
    args = ap.parse_args()
    rows = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-web-")))
        db = tmp / "forge.db"
        t = time.perf_counter()
        build_store(db, args.n)
        print(f"built a SQLite store of {args.n} scenarios in {time.perf_counter() - t:.1f} s")
        locations: dict[str, str] = {}
        for backend in args.backends.split(","):  # copy first: both start from the same state
            if backend == "sqlite":
                locations[backend] = str(db)
                continue
            from scenario_forge.pg_throwaway import create_database, throwaway_server
            from scenario_forge.store_copy import copy_store

            url = args.pg_url or create_database(stack.enter_context(throwaway_server()), "bench")
            t = time.perf_counter()
            report = copy_store(db, url)
            print(
                f"copied it to PostgreSQL in {time.perf_counter() - t:.1f} s "
                f"({report.counts['scenarios']} scenarios, hashes checked)"
            )
            locations[backend] = url
        for backend, location in locations.items():
            r = measure(location, args.items)
            rows.append((backend, r))
            print(backend, r)
    print()
    print(
        f"next-item latency, {args.n} scenarios, {args.items} items (ms; ratio = web p95 / "
        "terminal p95)"
    )
    print(
        "| backend | terminal p50 | terminal p95 | web p50 | web p95 | ratio | web x8 p50 | "
        "web x8 p95 | reviewed twice |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for backend, r in rows:
        print(
            f"| {backend} | {r['term_p50']:.1f} | {r['term_p95']:.1f} | {r['web_p50']:.1f} | "
            f"{r['web_p95']:.1f} | {r['web_p95'] / r['term_p95']:.2f} | {r['x8_p50']:.1f} | "
            f"{r['x8_p95']:.1f} | {r['twice']} |"
        )


if __name__ == "__main__":
    main()
