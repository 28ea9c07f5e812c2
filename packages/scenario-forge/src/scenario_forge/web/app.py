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
import logging
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
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
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
from scenario_forge.web.auth import (
    AccountError,
    account_name,
    check_login,
    csrf_ok,
    end_sessions,
    new_csrf_token,
    session_key,
)
from scenario_forge.web.reviewing import (
    CountCache,
    Settings,
    WebReview,
    answer_from_form,
    asked_completions,
)
from scenario_forge.web.sessions import (
    SessionLimits,
    begin,
    check_secret,
    expiry_problem,
    key_problem,
)
from scenario_forge.web.throttle import (
    ACCOUNT_FREE,
    ADDRESS_FREE,
    account_key,
    address_key,
    clear,
    locked_for,
    record_failure,
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
MAX_FILTER_TARGETS = 32
MAX_FILTER_CHARS = 1000
"""The target filter lives in the session cookie (browsers drop cookies over 4 kB)."""

log = logging.getLogger("scenario_forge.web")
"""Sign-in, sign-out and ended sessions (``scenario-forge serve`` prints them on stderr)."""


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


def text_response(message: str, status: int, **headers: str) -> PlainTextResponse:
    """An error as plain text (never HTML: nothing a client sent can become markup)."""
    return PlainTextResponse(message, status_code=status, headers=headers or None)


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: plain text, no traceback (the server's log has it)."""
    return text_response("Internal server error: the server's log has the details.", 500)


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
    settings = settings or Settings()
    limits = limits or SessionLimits()
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

    def all_targets(store: ScenarioStore, *, fresh: bool = False) -> list[str]:
        if fresh or time.monotonic() - targets_cache["at"] > TARGETS_TTL_S:
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

    async def current_user(request: Request) -> str | None:
        """The signed-in reviewer, after checking her session against her account and the
        limits; an ended session is cleared."""
        session = request.session
        user = session.get("user")
        if not isinstance(user, str) or not user:
            return None
        now = clock()
        problem = expiry_problem(session, now, limits)
        if not problem:
            current = await run_in_threadpool(lambda: session_key(pool.get(user), user))
            problem = key_problem(session, current)
        if problem:
            log.info("session of %r ended: %s", user, problem)
            session.clear()
            return None
        session["seen"] = now
        return user

    def signed_in(fn: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            if await current_user(request) is None:
                return RedirectResponse("/login", status_code=303)
            return await fn(request)

        return wrapper

    def posted(fn: Callable[[Request, dict[str, str]], Awaitable[Response]]) -> Handler:
        """A form POST: signed in, CSRF token checked, fields as text."""

        async def wrapper(request: Request) -> Response:
            if await current_user(request) is None:
                return RedirectResponse("/login", status_code=303)
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            if not csrf_ok(request.session.get("csrf"), fields.get("csrf")):
                return text_response("Bad or missing CSRF token: reload the page.", 403)
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
            return text_response("Bad or missing CSRF token: reload the page.", 403)
        typed = fields.get("name", "")[:200]
        password = fields.get("password", "")
        address = request.client.host if request.client else "unknown"
        try:
            name = account_name(typed)
        except AccountError:
            name = visible(typed.strip())  # never an account; still counted
        keys = [account_key(name), address_key(address)]
        now = clock()

        def attempt() -> tuple[str, float, str, str]:
            """(outcome, seconds locked, account, session key) of this sign-in."""
            store = pool.get("-")
            wait = locked_for(store, keys, now)
            if wait > 0:  # logged, not audited: a flood of these must not write to the store
                return "locked", wait, "", ""
            account = check_login(store, typed, password)
            if account is None:
                with store.transaction():
                    failures, wait = record_failure(
                        store, [(keys[0], ACCOUNT_FREE), (keys[1], ADDRESS_FREE)], now
                    )
                    details = {"address": address, "failures": failures}
                    store.audit("login_failed", "web_user", name, details)
                    if wait > 0:
                        store.audit("login_locked", "web_user", name, {**details, "seconds": wait})
                log.warning(
                    "sign-in failed for %r from %s (%d in a row for the account)",
                    name,
                    address,
                    failures,
                )
                return "failed", wait, "", ""
            clear(store, account_key(account))
            key = session_key(store, account) or ""
            store.actor = account
            with store.transaction():
                store.audit("login", "web_user", account, {"address": address})
            return "ok", 0.0, account, key

        outcome, wait, account, key = await run_in_threadpool(attempt)
        if outcome == "ok":
            begin(request.session, account, key, now, new_csrf_token())
            log.info("signed in: %r from %s", account, address)
            return RedirectResponse("/review", status_code=303)
        request.session["csrf"] = new_csrf_token()  # a new token after every failed attempt
        seconds = max(1, int(wait + 0.999))
        wait_text = f"wait {seconds} second{'s' if seconds != 1 else ''}"
        if outcome == "locked":
            log.warning("sign-in refused for %r from %s: locked (%s)", name, address, wait_text)
            message = (
                f"Too many failed sign-ins for this account or from this address: {wait_text} "
                "and try again."
            )
            response = render(request, "login.html", 429, error=message)
            response.headers["Retry-After"] = str(seconds)
            return response
        message = "Wrong name or password."
        if wait > 0:
            message += f" Too many failed sign-ins: {wait_text} before the next try."
        return render(request, "login.html", 401, error=message)

    async def logout(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]

        def release() -> None:
            store = pool.get(user)
            review = WebReview(store, user, dict(request.session), settings, counts)
            review.queue.release(review.queue.claimed_by_me())
            end_sessions(store, user)  # every copy of every session cookie of hers dies
            with store.transaction():
                store.audit("logout", "web_user", user)

        await run_in_threadpool(release)
        request.session.clear()
        log.info("signed out: %r (every session of the account ended)", user)
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ review

    @signed_in
    async def review_page(request: Request) -> Response:
        user = request.session["user"]
        if "target" in request.query_params:
            chosen = list(dict.fromkeys(t for t in request.query_params.getlist("target") if t))
            known = await run_in_threadpool(lambda: all_targets(pool.get(user)))
            if set(chosen) - set(known):
                known = await run_in_threadpool(lambda: all_targets(pool.get(user), fresh=True))
            problem = filter_problem(chosen, known)
            if problem:
                return text_response(problem, 400)
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
            return text_response(str(exc), 404)
        if failed is None:
            return RedirectResponse("/review", status_code=303)
        return render(request, "review.html", 400, ratings=RATINGS, form=form, **failed)

    async def skip(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]
        sid = request.path_params["sid"]

        def work() -> bool:
            store = pool.get(user)
            if store.get_scenario(sid) is None:  # only real ids go into the session cookie
                return False
            WebReview(store, user, request.session, settings, counts).skip(sid)
            return True

        if not await run_in_threadpool(work):
            return text_response("No such scenario.", 404)
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

        def save() -> None:
            record_eval_verdict(
                pool.get(user), {**row, "verdict": chosen, "label": label, "note": note}, user
            )

        try:
            await run_in_threadpool(save)
        except EvalVerdictError as exc:
            return text_response(str(exc), 400)
        return RedirectResponse(f"/verdicts#a{i}", status_code=303)

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
        Route("/verdicts/{i:int}", posted(verdict), methods=["POST"]),
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
        pool.close()

    return ForgeApp(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        max_body_size=MAX_BODY,
        exception_handlers={500: server_error},
    )


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
