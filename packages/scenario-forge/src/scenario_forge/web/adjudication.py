"""The Agreement page: reviewer counts, alpha per target, the disagreement list, and the form
with which a lead settles a scenario (``/agreement/{sid}/settle``; anyone else gets 403)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scenario_forge.review.adjudication import (
    AdjudicationError,
    agreement_by_target,
    disagreements,
    overlapping,
    settle,
)
from scenario_forge.review.agreement import review_stats
from scenario_forge.review.decisions import clean_text
from scenario_forge.review.flow import RATINGS
from scenario_forge.store import ScenarioStore
from scenario_forge.web.auth import user_role
from scenario_forge.web.context import WebContext, text_response

PAGE_SIZE = 25


def _query(params: Mapping[str, str], targets: Sequence[str]) -> tuple[str, bool, int]:
    """(target, unsettled only, page) of a query string.

    Raises:
        ValueError: one line naming the parameter and what it takes.
    """
    target = params.get("target", "")
    if target and target not in targets:
        raise ValueError(f"target {target[:80]!r}: no scenario has it; choose from the list")
    page = params.get("page", "1") or "1"
    if not page.isdigit() or int(page) < 1 or len(page) > 9:
        raise ValueError(f"page {page[:20]!r}: a whole number from 1")
    return target, params.get("unsettled", "") in ("1", "on"), int(page)


def _encode(target: str, unsettled: bool, page: int = 1) -> str:
    pairs = [("target", target), ("unsettled", "1" if unsettled else ""), ("page", str(page))]
    return urlencode([(k, v) for k, v in pairs if v and (k != "page" or page > 1)])


def _page(
    store: ScenarioStore, user: str, target: str, unsettled: bool, page: int
) -> dict[str, Any]:
    """What agreement.html shows."""
    units = overlapping(store)
    items = disagreements(store, target=target, unsettled_only=unsettled, units=units)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(page, pages)
    shown = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    prompts = {}
    for d in shown:
        s = store.get_scenario(d.scenario_id)
        prompts[d.scenario_id] = "" if s is None else s.prompt[:400]
    return {
        "stats": review_stats(store),
        "per_target": agreement_by_target(store, units),
        "items": shown,
        "prompts": prompts,
        "matching": len(items),
        "page": page,
        "pages": pages,
        "target": target,
        "unsettled": unsettled,
        "back": _encode(target, unsettled, page),
        "prev_url": f"/agreement?{_encode(target, unsettled, page - 1)}" if page > 1 else "",
        "next_url": f"/agreement?{_encode(target, unsettled, page + 1)}" if page < pages else "",
        "is_lead": user_role(store, user) == "lead",
        "ratings": RATINGS,
    }


def adjudication_routes(ctx: WebContext) -> list[Route]:
    """``/agreement`` and ``/agreement/{sid}/settle`` (leads only)."""

    @ctx.signed_in
    async def agreement_page(request: Request) -> Response:
        user = request.session["user"]

        def work() -> dict[str, Any] | str:
            store = ctx.pool.get(user)
            try:
                target, unsettled, page = _query(request.query_params, ctx.all_targets(store))
            except ValueError as exc:
                return str(exc)
            return {
                **_page(store, user, target, unsettled, page),
                "targets": ctx.all_targets(store),
            }

        got = await run_in_threadpool(work)
        if isinstance(got, str):
            return text_response(got, 400)
        return ctx.render(request, "agreement.html", **got)

    async def settle_post(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]
        text = form.get("rating", "")
        if text not in ("0", "1", "2", "3"):
            return text_response("rating: choose 0, 1, 2 or 3.", 400)

        def work() -> tuple[int, str]:
            store = ctx.pool.get(user)
            if user_role(store, user) != "lead":
                return (
                    403,
                    "Only a lead settles disagreements (scenario-forge users role NAME lead).",
                )
            if store.get_scenario(sid) is None:
                return 404, "No such scenario."
            try:
                settle(store, sid, int(text), user, clean_text(form.get("note", "")))
            except AdjudicationError as exc:
                return 400, str(exc)
            try:
                back = _encode(
                    *_query(dict(parse_qsl(form.get("back", ""))), ctx.all_targets(store))
                )
            except ValueError:
                back = ""
            return 303, back

        status, text_or_back = await run_in_threadpool(work)
        if status != 303:
            return text_response(text_or_back, status)
        query = f"?{text_or_back}" if text_or_back else ""
        return RedirectResponse(f"/agreement{query}#d-{sid}", status_code=303)

    return [
        Route("/agreement", agreement_page, methods=["GET"]),
        Route("/agreement/{sid}/settle", ctx.posted(settle_post), methods=["POST"]),
    ]
