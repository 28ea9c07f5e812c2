"""The web review app: Starlette routes, server-rendered Jinja2 pages, strict security headers.

Every page needs a signed-in reviewer (signed session cookie, ``SameSite=Strict``, checked on
every request against her account's session key and the idle and absolute limits:
:mod:`scenario_forge.web.sessions`); sign-in is throttled per account and per address
(:mod:`scenario_forge.web.throttle`); every form carries the session's CSRF token; every write
acts as the signed-in reviewer only. Every response, errors and 500s included, carries the
security headers, and error bodies are plain text.
Scenario text is adversarial: templates autoescape everything and the Content-Security-Policy
allows no inline script, no other origin and no plugin, so even text that slipped through
could not run. The one script (keyboard shortcuts) is a static file.

Run it with ``scenario-forge serve`` (see ``docs/review-web.md``) or, in tests,
``TestClient(create_app(location))``.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from forge_export.models import EvalReport
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scenario_forge.store import ScenarioStore
from scenario_forge.web.adjudication import adjudication_routes
from scenario_forge.web.context import HERE, StorePool, WebContext, log, text_response
from scenario_forge.web.login_routes import login_routes
from scenario_forge.web.review_routes import (
    MAX_FILTER_CHARS,
    MAX_FILTER_TARGETS,
    filter_problem,
    page_routes,
    review_routes,
)
from scenario_forge.web.reviewing import Settings
from scenario_forge.web.sessions import SessionLimits, check_secret
from scenario_forge.web.verdict_routes import verdict_routes

__all__ = [
    "MAX_FILTER_CHARS",
    "MAX_FILTER_TARGETS",
    "StorePool",
    "create_app",
    "filter_problem",
    "log",
    "text_response",
]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
}
MAX_BODY = 1 << 20
"""Largest request body accepted (a review form is a few kB)."""


class SecurityHeaders:
    """ASGI middleware: the CSP and friends on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ForgeApp(Starlette):
    """Starlette with :class:`SecurityHeaders` outside its error handler: a 500 carries the
    headers too (inside, the handler's response would bypass them)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: plain text, no traceback (the server's log has it)."""
    return text_response("Internal server error: the server's log has the details.", 500)


def create_app(
    location: str | Path,
    *,
    settings: Settings | None = None,
    secret_key: str | None = None,
    https_only: bool = False,
    reports: Sequence[EvalReport] = (),
    limits: SessionLimits | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The ASGI app over the store at ``location`` (a file or ``postgresql://`` URL).

    Args:
        location: The store (must exist: ``scenario-forge init``).
        settings: Overlap and lease of the queue.
        secret_key: Signs session cookies (at least 32 bytes, not a placeholder); random per
            start when not given (sessions then end when the server restarts).
        https_only: Mark the session cookie ``Secure`` (behind HTTPS).
        reports: Evaluation reports whose answers reviewers confirm or overrule on
            ``/verdicts`` (the judge's verdict next to each answer).
        limits: How long a session lasts (absolute and idle).
        clock: The time in seconds (sessions and sign-in locks; tests pass their own).

    Raises:
        ForgeError: a weak ``secret_key``, or a store that cannot be opened.
    """
    if secret_key is not None:
        check_secret(secret_key)
    limits = limits or SessionLimits()
    ScenarioStore.open(location, create=False).close()  # fail now, not on the first request
    ctx = WebContext(
        pool=StorePool(location), settings=settings or Settings(), limits=limits, clock=clock
    )

    async def home(request: Request) -> Response:
        return RedirectResponse("/review", status_code=303)

    routes = [
        Route("/", home),
        *login_routes(ctx),
        *review_routes(ctx),
        *page_routes(ctx),
        *adjudication_routes(ctx),
        *verdict_routes(ctx, reports),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            session_cookie="forge_session",
            max_age=int(limits.max_age_s) + 60,  # the session's own times decide earlier
            same_site="strict",
            https_only=https_only,
        ),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        ctx.pool.close()

    return ForgeApp(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        max_body_size=MAX_BODY,
        exception_handlers={500: server_error},
    )
