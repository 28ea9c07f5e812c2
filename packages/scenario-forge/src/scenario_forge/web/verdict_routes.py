"""The verdict queue (``/verdicts``): reviewers confirm or overrule the judge, 25 at a time.

The answers of the reports given to ``scenario-forge serve --report`` are one queue. A page
shows :data:`PAGE_SIZE` of them, each with the prompt, the response, the scenario's success
criteria and the judge's verdict, label, confidence and reason, and the verdict in force.
Query parameters filter and order it (``unverified=1``, ``fail=1``, ``label=L``,
``target=T``, ``low=1``, ``reviewer=NAME``, ``order=confidence``, ``page=N``); a verdict
posted from a page returns to the same filters, at the next answer (``at=I``: the page that
holds answer I, so the answer after the last one of a page opens the next page). Keys
(``verdicts.js``, a static file: the CSP allows no inline script) drive every action.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from forge_export.models import LOW_CONFIDENCE, EvalReport
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scenario_forge.eval_verdicts import (
    LABELS,
    EvalVerdictError,
    record_eval_verdict,
    response_sha,
    review_rows,
)
from scenario_forge.review.decisions import clean_text
from scenario_forge.review.verdict_filters import Key, VerdictFilter
from scenario_forge.store import ScenarioStore
from scenario_forge.web.context import WebContext, text_response

PAGE_SIZE = 25
TRUE = frozenset({"1", "on", "true", "yes"})
KEYS = (
    ("j / k", "next / previous answer (on to the next / previous page at either end)"),
    ("c", "confirm the judge"),
    ("p / f", "overrule: pass / fail"),
    ("l", "next label (what the answer did)"),
    ("n", "type a note (Enter or Esc leaves it)"),
    ("] / [", "next / previous page"),
    ("?", "show or hide these keys"),
)


def queue_rows(reports: Sequence[EvalReport]) -> list[dict[str, Any]]:
    """Every answer of ``reports`` as a review row, with its number ``i``, its ``key`` and
    its scenario's success criteria."""
    rows: list[dict[str, Any]] = []
    for report in reports:
        for result, row in zip(report.results, review_rows(report), strict=True):
            rows.append(
                {
                    **row,
                    "i": len(rows),
                    "key": (row["scenario_id"], response_sha(row["response"])),
                    "success_criteria": list(result.scenario.success_criteria),
                }
            )
    return rows


def parse_filter(params: Mapping[str, str], targets: Sequence[str]) -> tuple[VerdictFilter, int]:
    """The filter and page number a query string asks for.

    Raises:
        ValueError: one line naming the parameter and what it takes.
    """
    target = params.get("target", "")
    if target and target not in targets:
        raise ValueError(f"target {target[:80]!r}: no answer has it; choose from the list")
    page_text = params.get("page", "1") or "1"
    if not page_text.isdigit() or int(page_text) < 1 or len(page_text) > 9:
        raise ValueError(f"page {page_text[:20]!r}: a whole number from 1")
    f = VerdictFilter(
        unverified=params.get("unverified", "") in TRUE,
        judge_fail=params.get("fail", "") in TRUE,
        label=params.get("label", ""),
        target=target,
        low_confidence=params.get("low", "") in TRUE,
        reviewer=params.get("reviewer", "")[:200],
        lowest_confidence_first=params.get("order", "") == "confidence",
    )
    f.check()
    return f, int(page_text)


def parse_at(params: Mapping[str, str]) -> int | None:
    """The answer number ``at=I`` asks to show (``None`` when not given).

    Raises:
        ValueError: one line, when it is not a whole number.
    """
    text = params.get("at", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise ValueError(f"at {text[:20]!r}: an answer number from 0")
    return int(text)


def filter_query(f: VerdictFilter, page: int = 1) -> str:
    """The query string of ``f`` at ``page`` ("" for everything, page 1)."""
    pairs = [
        ("unverified", "1" if f.unverified else ""),
        ("fail", "1" if f.judge_fail else ""),
        ("label", f.label),
        ("target", f.target),
        ("low", "1" if f.low_confidence else ""),
        ("reviewer", f.reviewer),
        ("order", "confidence" if f.lowest_confidence_first else ""),
        ("page", str(page) if page > 1 else ""),
    ]
    return urlencode([(k, v) for k, v in pairs if v])


@dataclass(frozen=True)
class InForce:
    """The human verdicts in force at one version of ``eval_verdicts``.

    Attributes:
        version: (count, highest id, sum of ids) of the table when read.
        by_key: The latest verdict per (scenario, response sha): ``reviewer``, ``verdict``,
            ``label``, ``note``, ``created_at`` (and ``id``, ``scenario_id``,
            ``response_sha``).
        verified: How many of the queue's answers have one.
        reviewers: Who gave the verdicts in force, sorted.
    """

    version: tuple[int, int, int]
    by_key: dict[Key, dict[str, Any]] = field(default_factory=dict)
    verified: int = 0
    reviewers: tuple[str, ...] = ()


class InForceCache:
    """The verdicts in force, kept between requests (one per app, shared by its threads).

    Each request reads the table's version (:meth:`ScenarioStore.eval_verdicts_version`, one
    aggregate row). Unchanged: the kept verdicts serve. Grown by rows above the highest id kept
    (the common case: verdicts added, here or by another process on the store): only those
    rows are read and merged. Anything else (a verdict withdrawn, or a row committed late
    with a lower id): every verdict is read again. So a page does not read every verdict,
    with its texts, per request. Ids are never reused, so only a coincidence the version
    cannot see (two or more withdrawals and as many late commits whose ids sum alike, between
    two requests) could leave the kept verdicts behind, until the next change.
    """

    def __init__(self, answer_keys: Collection[Key]) -> None:
        self._answer_keys = frozenset(answer_keys)
        self._lock = threading.Lock()
        self._current = InForce(version=(-1, -1, -1))

    def get(self, store: ScenarioStore) -> InForce:
        """The verdicts in force now, read from ``store`` only as far as they changed."""
        version = store.eval_verdicts_version()
        with self._lock:
            kept = self._current
            if version == kept.version:
                return kept
            new = store.eval_verdicts_after(kept.version[1]) if kept.version[0] >= 0 else []
            grown = (
                kept.version[0] + len(new),
                max([kept.version[1], *(int(r["id"]) for r in new)]),
                kept.version[2] + sum(int(r["id"]) for r in new),
            )
            if kept.version[0] >= 0 and grown == version:
                self._current = self._build(version, kept.by_key, new)
            else:
                rows = store.eval_verdicts_after(0)
                ids = [int(r["id"]) for r in rows]
                read = (len(ids), max(ids, default=0), sum(ids))
                self._current = self._build(read, {}, rows)
            return self._current

    def _build(
        self,
        version: tuple[int, int, int],
        before: Mapping[Key, dict[str, Any]],
        rows: Sequence[dict[str, Any]],
    ) -> InForce:
        by_key = dict(before)  # a new dict: a request still reading the old one is unaffected
        for r in rows:  # oldest first: the latest per answer wins
            by_key[(str(r["scenario_id"]), str(r["response_sha"]))] = r
        return InForce(
            version=version,
            by_key=by_key,
            verified=len(self._answer_keys & by_key.keys()),
            reviewers=tuple(sorted({str(v["reviewer"]) for v in by_key.values()})),
        )


def queue_page(
    rows: Sequence[dict[str, Any]],
    in_force: Mapping[Key, Mapping[str, Any]],
    f: VerdictFilter,
    page: int,
    at: int | None = None,
    *,
    verified: int | None = None,
    reviewers: Sequence[str] | None = None,
) -> dict[str, Any]:
    """What verdicts.html shows: one page of the filtered queue and the progress.

    ``at``: an answer number; when the filtered queue holds it, its page is shown (and
    ``page`` is ignored). Each row's ``next`` is the answer after it in the queue, the first
    of the next page for the last row of a page (itself at the very end). ``verified`` and
    ``reviewers``: :class:`InForce`'s, when the caller has them (else counted here).
    """
    kept = f.apply(rows, in_force)
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    if at is not None:
        where = next((k for k, r in enumerate(kept) if r["i"] == at), None)
        if where is not None:
            page = where // PAGE_SIZE + 1
    page = min(page, pages)
    start = (page - 1) * PAGE_SIZE
    shown = [{**r, "verdict": in_force.get(r["key"])} for r in kept[start : start + PAGE_SIZE]]
    after = kept[start + PAGE_SIZE : start + PAGE_SIZE + 1] or shown[-1:]
    nexts = [r["i"] for r in shown[1:]] + [r["i"] for r in after]
    return {
        "rows": [{**r, "next": n} for r, n in zip(shown, nexts, strict=True)],
        "total": len(rows),
        "verified": (
            sum(1 for r in rows if r["key"] in in_force) if verified is None else verified
        ),
        "matching": len(kept),
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1,
        "prev_url": f"/verdicts?{filter_query(f, page - 1)}" if page > 1 else "",
        "next_url": f"/verdicts?{filter_query(f, page + 1)}" if page < pages else "",
        "back": filter_query(f, page),
        "f": f,
        "reviewers": (
            sorted({str(v["reviewer"]) for v in in_force.values()})
            if reviewers is None
            else list(reviewers)
        ),
    }


def verdict_routes(ctx: WebContext, reports: Sequence[EvalReport]) -> list[Route]:
    """``/verdicts`` (the queue) and ``/verdicts/{i}`` (one verdict)."""
    answers = queue_rows(reports)
    targets = sorted({str(r["evaluation_target"]) for r in answers})
    cache = InForceCache([r["key"] for r in answers])

    @ctx.signed_in
    async def verdicts_page(request: Request) -> Response:
        user = request.session["user"]
        try:
            f, page = parse_filter(request.query_params, targets)
            at = parse_at(request.query_params)
        except ValueError as exc:
            return text_response(str(exc), 400)
        now = await run_in_threadpool(lambda: cache.get(ctx.pool.get(user)))
        shown = queue_page(
            answers, now.by_key, f, page, at, verified=now.verified, reviewers=now.reviewers
        )
        return ctx.render(
            request,
            "verdicts.html",
            labels=LABELS,
            targets=targets,
            keys=KEYS,
            low_confidence=LOW_CONFIDENCE,
            **shown,
        )

    async def verdict(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        i: int = request.path_params["i"]  # the route takes digits only: never negative
        if not 0 <= i < len(answers):
            return text_response("No such answer.", 404)
        row = answers[i]
        choice = form.get("verdict", "")
        if choice == "confirm":
            chosen, label = row["judge_verdict"], row["judge_label"]
        elif choice in ("pass", "fail"):
            chosen, label = choice, form.get("label") or None
        else:
            return text_response("Choose confirm, pass or fail.", 400)
        note = clean_text(form.get("note", ""))
        values = {**row, "verdict": chosen, "label": label, "note": note}
        try:
            await run_in_threadpool(lambda: record_eval_verdict(ctx.pool.get(user), values, user))
        except EvalVerdictError as exc:
            return text_response(str(exc), 400)
        return RedirectResponse(_back(form, targets, i), status_code=303)

    return [
        Route("/verdicts", verdicts_page, methods=["GET"]),
        Route("/verdicts/{i:int}", ctx.posted(verdict), methods=["POST"]),
    ]


def _back(form: Mapping[str, str], targets: Sequence[str], i: int) -> str:
    """Where a posted verdict returns: the page's own filters (rebuilt, never echoed), at the
    answer after it (``at``: on whichever page now holds it, the next page after the last
    answer of a page)."""
    try:
        f, page = parse_filter(dict(parse_qsl(form.get("back", ""))), targets)
        query = filter_query(f, page)
    except ValueError:
        query = ""
    nxt = form.get("next", "")
    anchor = int(nxt) if nxt.isdigit() and len(nxt) < 10 else i
    query = f"{query}&at={anchor}" if query else f"at={anchor}"
    return f"/verdicts?{query}#a{anchor}"
