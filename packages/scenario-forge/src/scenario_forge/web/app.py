"""The web review app: Starlette routes, server-rendered Jinja2 pages, strict security headers.

Every page needs a signed-in reviewer (signed session cookie, ``SameSite=Strict``); every
form carries the session's CSRF token; every write acts as the signed-in reviewer only.
Scenario text is adversarial: templates autoescape everything and the Content-Security-Policy
allows no inline script, no other origin and no plugin, so even text that slipped through
could not run. The one script (keyboard shortcuts) is a static file.

Run it with ``scenario-forge serve`` (see ``docs/review-web.md``) or, in tests,
``TestClient(create_app(location))``.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from forge_export import Completion, Scenario, aggregate_rating
from forge_export.models import EvalReport
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scenario_forge.eval_verdicts import (
    LABELS,
    EvalVerdictError,
    human_verdicts,
    record_eval_verdict,
    response_sha,
    review_rows,
)
from scenario_forge.review.agreement import review_stats
from scenario_forge.review.decisions import AnswerError, clean_text
from scenario_forge.review.flow import RATINGS
from scenario_forge.review.verdicts import by_confidence
from scenario_forge.store import ScenarioStore
from scenario_forge.store_errors import StoreError
from scenario_forge.terminal import visible
from scenario_forge.web.auth import check_login, csrf_ok, new_csrf_token
from scenario_forge.web.reviewing import (
    CountCache,
    Settings,
    WebReview,
    answer_from_form,
    asked_completions,
)

HERE = Path(__file__).parent
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
TARGETS_TTL_S = 30.0
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


class StorePool:
    """One open store per worker thread (SQLite or PostgreSQL connections are not shared)."""

    def __init__(self, location: str | Path) -> None:
        self.location = location
        self._local = threading.local()
        self._all: list[ScenarioStore] = []
        self._lock = threading.Lock()

    def get(self, actor: str) -> ScenarioStore:
        """This thread's store, its audit actor set to ``actor``."""
        store: ScenarioStore | None = getattr(self._local, "store", None)
        if store is not None and getattr(store.connection, "broken", False):
            with self._lock:  # PostgreSQL went away meanwhile: reconnect
                self._all.remove(store)
            store = None
        if store is None:
            store = ScenarioStore.open(self.location, create=False, actor=actor)
            self._local.store = store
            with self._lock:
                self._all.append(store)
        store.actor = actor
        return store

    def close(self) -> None:
        """Close every store opened."""
        with self._lock:
            for s in self._all:
                s.close()
            self._all.clear()


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every page: scenario text is adversarial
        undefined=jinja2.StrictUndefined,
    )
    env.filters["visible"] = visible
    return env


def create_app(
    location: str | Path,
    *,
    settings: Settings | None = None,
    secret_key: str | None = None,
    https_only: bool = False,
    reports: Sequence[EvalReport] = (),
) -> Starlette:
    """The ASGI app over the store at ``location`` (a file or ``postgresql://`` URL).

    Args:
        location: The store (must exist: ``scenario-forge init``).
        settings: Overlap and lease of the queue.
        secret_key: Signs session cookies; random per start when not given (sessions then
            end when the server restarts).
        https_only: Mark the session cookie ``Secure`` (behind HTTPS).
        reports: Evaluation reports whose answers reviewers confirm or overrule on
            ``/verdicts`` (the judge's verdict next to each answer).
    """
    settings = settings or Settings()
    ScenarioStore.open(location, create=False).close()  # fail now, not on the first request
    pool = StorePool(location)
    env = _env()
    targets_cache: dict[str, Any] = {"at": 0.0, "targets": []}
    counts = CountCache()
    answers = [row for report in reports for row in review_rows(report)]

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("user", request.session.get("user"))
        ctx.setdefault("csrf", request.session.get("csrf", ""))
        ctx.setdefault("error", None)
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)

    def all_targets(store: ScenarioStore) -> list[str]:
        if time.monotonic() - targets_cache["at"] > TARGETS_TTL_S:
            rows = store.connection.execute(
                "SELECT DISTINCT evaluation_target FROM scenarios ORDER BY 1"
            ).fetchall()
            targets_cache.update(at=time.monotonic(), targets=[str(r[0]) for r in rows])
        return list(targets_cache["targets"])

    def page_context(
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
            "targets": all_targets(store),
            "chosen": review.targets,
            "overlap": settings.overlap,
        }

    Handler = Callable[[Request], Awaitable[Response]]

    def signed_in(fn: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            if not request.session.get("user"):
                return RedirectResponse("/login", status_code=303)
            return await fn(request)

        return wrapper

    def posted(fn: Callable[[Request, dict[str, str]], Awaitable[Response]]) -> Handler:
        """A form POST: signed in, CSRF token checked, fields as text."""

        async def wrapper(request: Request) -> Response:
            if not request.session.get("user"):
                return RedirectResponse("/login", status_code=303)
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            if not csrf_ok(request.session.get("csrf"), fields.get("csrf")):
                return HTMLResponse("Bad or missing CSRF token: reload the page.", 403)
            return await fn(request, fields)

        return wrapper

    # ------------------------------------------------------------------ sign in / out

    async def login_page(request: Request) -> Response:
        if "csrf" not in request.session:
            request.session["csrf"] = new_csrf_token()
        return render(request, "login.html")

    async def login(request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(request.session.get("csrf"), fields.get("csrf")):
            return HTMLResponse("Bad or missing CSRF token: reload the page.", 403)
        name = fields.get("name", "").strip()
        password = fields.get("password", "")
        ok = await run_in_threadpool(lambda: check_login(pool.get(name or "-"), name, password))
        if not ok:
            return render(request, "login.html", 401, error="Wrong name or password.")
        request.session.clear()  # a new session for the new user
        request.session.update(user=name, csrf=new_csrf_token())
        return RedirectResponse("/review", status_code=303)

    async def logout(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]

        def release() -> None:
            review = WebReview(pool.get(user), user, dict(request.session), settings, counts)
            review.queue.release(review.queue.claimed_by_me())

        await run_in_threadpool(release)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ review

    @signed_in
    async def review_page(request: Request) -> Response:
        user = request.session["user"]
        if "target" in request.query_params:
            chosen = [t for t in request.query_params.getlist("target") if t]
            request.session["targets"] = chosen

        def work() -> dict[str, Any]:
            store = pool.get(user)
            review = WebReview(store, user, request.session, settings, counts)
            sid = review.current()
            scenario = store.get_scenario(sid) if sid else None
            completions = store.completions_for(sid) if sid else []
            return page_context(store, review, user, scenario, completions)

        ctx = await run_in_threadpool(work)
        return render(request, "review.html", ratings=RATINGS, form={}, **ctx)

    async def answer(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]

        def work() -> dict[str, Any] | None:
            store = pool.get(user)
            review = WebReview(store, user, request.session, settings, counts)
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
                    **page_context(store, review, user, scenario, completions),
                }

        try:
            failed = await run_in_threadpool(work)
        except AnswerError as exc:
            return HTMLResponse(str(exc), 404)
        if failed is None:
            return RedirectResponse("/review", status_code=303)
        return render(request, "review.html", 400, ratings=RATINGS, form=form, **failed)

    async def skip(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]
        await run_in_threadpool(
            lambda: WebReview(pool.get(user), user, request.session, settings, counts).skip(sid)
        )
        return RedirectResponse("/review", status_code=303)

    async def undo(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        await run_in_threadpool(
            lambda: WebReview(pool.get(user), user, request.session, settings, counts).undo()
        )
        return RedirectResponse("/review", status_code=303)

    # ------------------------------------------------------------------ read-only pages

    @signed_in
    async def scenario_page(request: Request) -> Response:
        user = request.session["user"]

        def work() -> dict[str, Any] | None:
            store = pool.get(user)
            try:
                sid = store.resolve_id(request.path_params["sid"])
            except StoreError:
                return None
            s = store.get_scenario(sid)
            reviews = store.reviews_for(sid)
            return {
                "scenario": s,
                "completions": store.completions_for(sid),
                "reviews": reviews,
                "rating": aggregate_rating(reviews),
            }

        ctx = await run_in_threadpool(work)
        if ctx is None:
            return render(request, "error.html", 404, message="No such scenario.")
        return render(request, "scenario.html", **ctx)

    @signed_in
    async def stats_page(request: Request) -> Response:
        user = request.session["user"]
        st = await run_in_threadpool(lambda: pool.get(user).stats())
        return render(request, "stats.html", stats=st)

    @signed_in
    async def agreement_page(request: Request) -> Response:
        user = request.session["user"]
        st = await run_in_threadpool(lambda: review_stats(pool.get(user)))
        return render(request, "agreement.html", stats=st)

    # ------------------------------------------------------------------ judge verdicts

    def verdict_rows(store: ScenarioStore, user: str) -> list[dict[str, Any]]:
        mine = {
            (h["scenario_id"], h["response_sha"]): h
            for h in human_verdicts(store)
            if h["reviewer"] == user
        }
        return [
            {**row, "i": i, "mine": mine.get((row["scenario_id"], response_sha(row["response"])))}
            for i, row in enumerate(answers)
        ]

    @signed_in
    async def verdicts_page(request: Request) -> Response:
        user = request.session["user"]
        rows = await run_in_threadpool(lambda: verdict_rows(pool.get(user), user))
        ordered = request.query_params.get("order") == "confidence"
        if ordered:
            rows = by_confidence(rows)
        return render(request, "verdicts.html", rows=rows, labels=LABELS, ordered=ordered)

    async def verdict(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        try:
            row = answers[int(request.path_params["i"])]
        except (ValueError, IndexError):
            return HTMLResponse("No such answer.", 404)
        choice = form.get("verdict", "")
        if choice == "confirm":
            chosen, label = row["judge_verdict"], row["judge_label"]
        elif choice in ("pass", "fail"):
            chosen, label = choice, form.get("label") or None
        else:
            return HTMLResponse("Choose confirm, pass or fail.", 400)
        note = clean_text(form.get("note", ""))

        def save() -> None:
            record_eval_verdict(
                pool.get(user), {**row, "verdict": chosen, "label": label, "note": note}, user
            )

        try:
            await run_in_threadpool(save)
        except EvalVerdictError as exc:
            return HTMLResponse(str(exc), 400)
        return RedirectResponse(f"/verdicts#a{request.path_params['i']}", status_code=303)

    async def home(request: Request) -> Response:
        return RedirectResponse("/review", status_code=303)

    routes = [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", posted(logout), methods=["POST"]),
        Route("/review", review_page, methods=["GET"]),
        Route("/review/{sid}/answer", posted(answer), methods=["POST"]),
        Route("/review/{sid}/skip", posted(skip), methods=["POST"]),
        Route("/undo", posted(undo), methods=["POST"]),
        Route("/scenario/{sid}", scenario_page, methods=["GET"]),
        Route("/stats", stats_page, methods=["GET"]),
        Route("/agreement", agreement_page, methods=["GET"]),
        Route("/verdicts", verdicts_page, methods=["GET"]),
        Route("/verdicts/{i}", posted(verdict), methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            session_cookie="forge_session",
            max_age=12 * 3600,
            same_site="strict",
            https_only=https_only,
        ),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    return Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, max_body_size=MAX_BODY
    )
