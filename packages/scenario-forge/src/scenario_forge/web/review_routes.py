"""The review page and its forms, and the read-only scenario and stats pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forge_export import Completion, Scenario, aggregate_rating
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scenario_forge.review.decisions import AnswerError
from scenario_forge.review.flow import RATINGS
from scenario_forge.store import ScenarioStore
from scenario_forge.store_errors import StoreError
from scenario_forge.web.context import WebContext, text_response
from scenario_forge.web.reviewing import WebReview, answer_from_form, asked_completions

MAX_FILTER_TARGETS = 32
MAX_FILTER_CHARS = 1000
"""The target filter lives in the session cookie (browsers drop cookies over 4 kB)."""


def filter_problem(chosen: Sequence[str], known: Sequence[str]) -> str:
    """Why a target filter cannot go into the session cookie ("" when it can)."""
    unknown = [t for t in chosen if t not in set(known)]
    if unknown:
        return (
            f"target filter: no scenario has the target {unknown[0][:80]!r}; choose from the list"
        )
    if len(chosen) > MAX_FILTER_TARGETS or sum(len(t) for t in chosen) > MAX_FILTER_CHARS:
        return (
            f"target filter: at most {MAX_FILTER_TARGETS} targets ({MAX_FILTER_CHARS} characters) "
            "at once; choose fewer, or none for all"
        )
    return ""


def page_context(
    ctx: WebContext,
    store: ScenarioStore,
    review: WebReview,
    user: str,
    scenario: Scenario | None,
    completions: list[Completion],
) -> dict[str, Any]:
    """What review.html shows of one scenario (the review page and a refused answer)."""
    return {
        "scenario": scenario,
        "completions": completions,
        "asked": {c.id for c in asked_completions(completions, user)},
        "progress": review.progress(scenario),
        "targets": ctx.all_targets(store),
        "chosen": review.targets,
        "overlap": ctx.settings.overlap,
        "ratings": RATINGS,
    }


def review_routes(ctx: WebContext) -> list[Route]:
    """``/review`` and its answer, skip and undo forms."""

    @ctx.signed_in
    async def review_page(request: Request) -> Response:
        user = request.session["user"]
        if "target" in request.query_params:
            chosen = list(dict.fromkeys(t for t in request.query_params.getlist("target") if t))
            known = await run_in_threadpool(lambda: ctx.all_targets(ctx.pool.get(user)))
            if set(chosen) - set(known):
                known = await run_in_threadpool(
                    lambda: ctx.all_targets(ctx.pool.get(user), fresh=True)
                )
            problem = filter_problem(chosen, known)
            if problem:
                return text_response(problem, 400)
            request.session["targets"] = chosen

        def work() -> dict[str, Any]:
            store = ctx.pool.get(user)
            review = WebReview(store, user, request.session, ctx.settings, ctx.counts)
            sid = review.current()
            scenario = store.get_scenario(sid) if sid else None
            completions = store.completions_for(sid) if sid else []
            return page_context(ctx, store, review, user, scenario, completions)

        page = await run_in_threadpool(work)
        return ctx.render(request, "review.html", form={}, **page)

    async def answer(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]

        def work() -> dict[str, Any] | None:
            store = ctx.pool.get(user)
            review = WebReview(store, user, request.session, ctx.settings, ctx.counts)
            scenario = store.get_scenario(sid)
            if scenario is None:
                raise AnswerError(f"scenario {sid[:40]!r} is not in the store")
            completions = store.completions_for(sid)
            try:
                if not review.may_answer(sid):
                    raise AnswerError(
                        "your lease on this scenario expired and other reviewers took it; "
                        "your answer was not saved"
                    )
                review.answer(answer_from_form(scenario, completions, user, form))
                return None
            except AnswerError as exc:
                return {
                    "error": str(exc),
                    **page_context(ctx, store, review, user, scenario, completions),
                }

        try:
            failed = await run_in_threadpool(work)
        except AnswerError as exc:
            return text_response(str(exc), 404)
        if failed is None:
            return RedirectResponse("/review", status_code=303)
        return ctx.render(request, "review.html", 400, form=form, **failed)

    return [
        Route("/review", review_page, methods=["GET"]),
        Route("/review/{sid}/answer", ctx.posted(answer), methods=["POST"]),
        *skip_undo_routes(ctx),
    ]


def skip_undo_routes(ctx: WebContext) -> list[Route]:
    """The review page's skip and undo forms."""

    async def skip(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]

        def work() -> bool:
            store = ctx.pool.get(user)
            if store.get_scenario(sid) is None:  # only real ids go into the session cookie
                return False
            WebReview(store, user, request.session, ctx.settings, ctx.counts).skip(sid)
            return True

        if not await run_in_threadpool(work):
            return text_response("No such scenario.", 404)
        return RedirectResponse("/review", status_code=303)

    async def undo(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        await run_in_threadpool(
            lambda: WebReview(
                ctx.pool.get(user), user, request.session, ctx.settings, ctx.counts
            ).undo()
        )
        return RedirectResponse("/review", status_code=303)

    return [
        Route("/review/{sid}/skip", ctx.posted(skip), methods=["POST"]),
        Route("/undo", ctx.posted(undo), methods=["POST"]),
    ]


def page_routes(ctx: WebContext) -> list[Route]:
    """The read-only pages: ``/scenario/{sid}`` and ``/stats``."""

    @ctx.signed_in
    async def scenario_page(request: Request) -> Response:
        user = request.session["user"]

        def work() -> dict[str, Any] | None:
            store = ctx.pool.get(user)
            try:
                sid = store.resolve_id(request.path_params["sid"])
            except StoreError:
                return None
            reviews = store.reviews_for(sid)
            return {
                "scenario": store.get_scenario(sid),
                "completions": store.completions_for(sid),
                "reviews": reviews,
                "rating": aggregate_rating(reviews),
                "settled": store.adjudications([sid]).get(sid),
            }

        page = await run_in_threadpool(work)
        if page is None:
            return ctx.render(request, "error.html", 404, message="No such scenario.")
        return ctx.render(request, "scenario.html", **page)

    @ctx.signed_in
    async def stats_page(request: Request) -> Response:
        user = request.session["user"]
        st = await run_in_threadpool(lambda: ctx.pool.get(user).stats())
        return ctx.render(request, "stats.html", stats=st)

    return [
        Route("/scenario/{sid}", scenario_page, methods=["GET"]),
        Route("/stats", stats_page, methods=["GET"]),
    ]
