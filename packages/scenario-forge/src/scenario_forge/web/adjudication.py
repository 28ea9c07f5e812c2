"""Agreement and adjudication: alpha per target, the items reviewers disagree on, and the
lead who settles them."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scenario_forge.review.agreement import review_stats
from scenario_forge.web.context import WebContext


def adjudication_routes(ctx: WebContext) -> list[Route]:
    """``/agreement``."""

    @ctx.signed_in
    async def agreement_page(request: Request) -> Response:
        user = request.session["user"]
        st = await run_in_threadpool(lambda: review_stats(ctx.pool.get(user)))
        return ctx.render(request, "agreement.html", stats=st)

    return [Route("/agreement", agreement_page, methods=["GET"])]
