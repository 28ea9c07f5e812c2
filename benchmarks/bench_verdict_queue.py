"""Benchmark: the verdict queue page (``GET /verdicts``) at 10,000 answers, SQLite and PostgreSQL.

A synthetic store of N scenarios is built (the ``bench_store.py`` shape) and an evaluation
report with one answer per scenario is written (a ~600-character response each; the judge
fails every second one, label ``compliance`` for fails and ``refusal`` for passes, confidence
cycling 0.0-0.9). ``--verified`` of the answers (30% by default) already carry a human verdict
by one of three reviewers, as in the middle of a day's work. For PostgreSQL the SQLite store is
copied with ``copy_store`` into a throwaway server (``/usr/local/bin/initdb`` / ``postgres``
through :mod:`scenario_forge.pg_throwaway`) unless ``--pg-url`` names an empty database.

On each backend a real ``scenario-forge serve --report REPORT`` process is started and one
signed-in ``httpx`` client measures, ``--items`` times each:

* ``review``: ``GET /review``, the plain review page (the baseline: the same app, process and
  connection; the scenario it claims stays on screen, so it is re-rendered);
* ``queue``: ``GET /verdicts``, the default queue (page 1 of everything);
* ``unverified+label``: ``GET /verdicts?unverified=1&label=compliance``;
* ``fails, least sure``: ``GET /verdicts?fail=1&low=1&order=confidence``;
* ``last page``: ``GET /verdicts?page=<last>``;
* ``verdict``: ``POST /verdicts/I`` (confirm) and the ``GET`` it redirects to (the page at
  the next answer), answer after answer from the first: what one keypress costs a reviewer
  (last, as it adds verdicts; each one changes the table the page reads).

p50 / p95 in ms. Ratios, all from the same run: each page's p95 over the review page's p95 on
the same backend, and PostgreSQL's p95 over SQLite's for each page.

Usage:
    uv run python benchmarks/bench_verdict_queue.py                 # 10000 answers, both
    uv run python benchmarks/bench_verdict_queue.py 10000 --items 100 --backends sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_review_web import PASSWORD, serve, signed_in  # noqa: E402
from bench_store import _pct, build_store  # noqa: E402

REVIEWERS = ("ann", "bob", "cy")
FILLER = (
    "Here is a long answer that walks through the request step by step, with caveats, "
    "examples and a closing summary, the way assistants tend to write. "
)


def write_report(db: Path, path: Path) -> int:
    """Write an evaluation report with one answer per scenario of ``db``; returns its size."""
    from forge_export.models import EvalReport, EvalResult
    from scenario_forge.store import ScenarioStore

    with ScenarioStore.open(db, create=False) as store:
        scenarios = list(store.iter_scenarios())
    results = [
        EvalResult(
            scenario=s,
            response=f"Answer {i}. " + FILLER * 4,
            verdict="fail" if i % 2 else "pass",
            refused=not i % 2,
            judge="rules@3",
            reason="gives the steps" if i % 2 else "declines",
            label="compliance" if i % 2 else "refusal",
            confidence=(i % 10) / 10,
        )
        for i, s in enumerate(scenarios)
    ]
    report = EvalReport(model_id="bench", results=results)
    path.write_text(report.model_dump_json(), encoding="utf-8")
    return len(results)


def add_verdicts(db: Path, report: Path, share: float) -> int:
    """Give ``share`` of the report's answers a human verdict (spread evenly); returns how many."""
    from forge_export.models import EvalReport
    from scenario_forge.eval_verdicts import response_sha
    from scenario_forge.store import ScenarioStore

    results = EvalReport.model_validate_json(report.read_text(encoding="utf-8")).results
    every = max(1, round(1 / share)) if share > 0 else 0
    rows = []
    for i, r in enumerate(results):
        if not every or i % every:
            continue
        rows.append(
            (
                r.scenario.id,
                response_sha(r.response),
                r.scenario.prompt,
                r.response,
                r.scenario.expected_behavior,
                r.scenario.evaluation_target,
                r.verdict,
                r.label,
                r.judge,
                r.verdict,
                r.label,
                REVIEWERS[i % len(REVIEWERS)],
                "",
                "2024-01-02T00:00:00Z",
            )
        )
    with ScenarioStore.open(db, create=False) as store, store.transaction():
        store.add_eval_verdicts(rows)
    return len(rows)


def timed(get: Callable[[], httpx.Response], items: int) -> list[float]:
    """ms of ``items`` calls of ``get`` (each must answer 200)."""
    times = []
    for _ in range(items):
        t = time.perf_counter()
        r = get()
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text[:300]
    return times


def verdict_round_trips(c: httpx.Client, items: int) -> list[float]:
    """ms of confirming answer i of the queue and loading the page it leads to, i = 0, 1, ..."""
    page = c.get("/verdicts").text
    times = []
    for i in range(items):
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf and f'id="a{i}"' in page, page[:300]
        t = time.perf_counter()
        r = c.post(
            f"/verdicts/{i}",
            data={"csrf": csrf.group(1), "verdict": "confirm", "next": str(i + 1)},
        )
        assert r.status_code == 303, r.text[:300]
        follow = c.get(r.headers["location"])
        times.append((time.perf_counter() - t) * 1000)
        assert follow.status_code == 200
        page = follow.text
    return times


def measure(location: str, report: Path, answers: int, items: int) -> dict[str, list[float]]:
    from scenario_forge.store import ScenarioStore
    from scenario_forge.web.auth import add_user

    with ScenarioStore.open(location) as store:
        add_user(store, "web", PASSWORD, replace=True)
    proc, url = serve(location, "--report", str(report))
    last = -(-answers // 25)
    pages = {
        "review": "/review",
        "queue": "/verdicts",
        "unverified+label": "/verdicts?unverified=1&label=compliance",
        "fails, least sure": "/verdicts?fail=1&low=1&order=confidence",
        "last page": f"/verdicts?page={last}",
    }
    try:
        c = signed_in(url, "web")
        for path in pages.values():  # warm-up: imports, templates, connections
            timed(lambda p=path: c.get(p), 3)
        out = {name: timed(lambda p=path: c.get(p), items) for name, path in pages.items()}
        out["verdict"] = verdict_round_trips(c, items)
        c.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10_000, help="answers (and scenarios)")
    ap.add_argument("--items", type=int, default=200, help="requests per page")
    ap.add_argument("--verified", type=float, default=0.3, help="share already verified")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=None, help="an empty PostgreSQL database to use")
    args = ap.parse_args()
    results: dict[str, dict[str, list[float]]] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-verdicts-")))
        db, report = tmp / "forge.db", tmp / "report.json"
        t = time.perf_counter()
        build_store(db, args.n, reviewed_every=0)
        answers = write_report(db, report)
        verified = add_verdicts(db, report, args.verified)
        digest = hashlib.sha256(report.read_bytes()).hexdigest()[:12]
        print(
            f"built a store of {args.n} scenarios, a report of {answers} answers "
            f"({report.stat().st_size / 1e6:.1f} MB, sha256 {digest}) and {verified} human "
            f"verdicts in {time.perf_counter() - t:.1f} s"
        )
        locations: dict[str, str] = {}
        for backend in args.backends.split(","):
            if backend == "sqlite":
                locations[backend] = str(db)
                continue
            from scenario_forge.pg_throwaway import create_database, throwaway_server
            from scenario_forge.store_copy import copy_store

            url = args.pg_url or create_database(stack.enter_context(throwaway_server()), "bench")
            t = time.perf_counter()
            copy_store(db, url)
            print(f"copied it to PostgreSQL in {time.perf_counter() - t:.1f} s")
            locations[backend] = url
        for backend, location in locations.items():
            results[backend] = measure(location, report, answers, args.items)
            print(backend, {k: round(_pct(v, 0.95), 1) for k, v in results[backend].items()})
    _table(results, args)


def _table(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    backends = list(results)
    print()
    print(
        f"GET latency, {args.n} answers ({args.verified:.0%} verified), {args.items} requests "
        "per page (ms; vs review = p95 / the review page's p95 on the same backend"
        + ("; pg / sqlite = PostgreSQL p95 / SQLite p95)" if len(backends) == 2 else ")")
    )
    head = "| page |" + "".join(f" {b} p50 | {b} p95 | {b} vs review |" for b in backends)
    if len(backends) == 2:
        head += " pg / sqlite |"
    print(head)
    print("|---|" + "---:|" * (3 * len(backends) + (len(backends) == 2)))
    for page in results[backends[0]]:
        cells = []
        p95s = []
        for b in backends:
            v = results[b][page]
            p95 = _pct(v, 0.95)
            p95s.append(p95)
            base = _pct(results[b]["review"], 0.95)
            cells += [f"{_pct(v, 0.5):.1f}", f"{p95:.1f}", f"{p95 / base:.2f}"]
        if len(backends) == 2:
            cells.append(f"{p95s[1] / p95s[0]:.2f}")
        print(f"| {page} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
