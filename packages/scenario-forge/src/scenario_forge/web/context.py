"""What every route module of the web app shares: the store pool, pages, the session checks.

:class:`WebContext` is built once by :func:`scenario_forge.web.app.create_app`; each route
module (``review_routes``, ``verdict_routes``, ``adjudication``, ...) takes it and returns its
routes. Its decorators are the app's security rules in one place: :meth:`WebContext.signed_in`
(a page needs a live session bound to its account) and :meth:`WebContext.posted` (a form POST
also needs the session's CSRF token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from scenario_forge.store import ScenarioStore
from scenario_forge.terminal import visible
from scenario_forge.web.auth import csrf_ok, session_key
from scenario_forge.web.reviewing import CountCache, Settings
from scenario_forge.web.sessions import SessionLimits, expiry_problem, key_problem

HERE = Path(__file__).parent
TARGETS_TTL_S = 30.0

log = logging.getLogger("scenario_forge.web")
"""Sign-in, sign-out and ended sessions (``scenario-forge serve`` prints them on stderr)."""

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, dict[str, str]], Awaitable[Response]]


def text_response(message: str, status: int, **headers: str) -> PlainTextResponse:
    """An error as plain text (never HTML: nothing a client sent can become markup)."""
    return PlainTextResponse(message, status_code=status, headers=headers or None)


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


def make_env() -> jinja2.Environment:
    """The pages' Jinja2 environment: autoescape on every page, undefined names fail."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every page: scenario text is adversarial
        undefined=jinja2.StrictUndefined,
    )
    env.filters["visible"] = visible
    return env


@dataclass
class WebContext:
    """The app's shared state and its session/CSRF checks.

    Attributes:
        pool: One store per worker thread.
        settings: Overlap and lease of the review queue.
        limits: How long a session lasts.
        clock: The time in seconds (tests pass their own).
        counts: Cached queue counts of the review page.
        env: The Jinja2 environment.
    """

    pool: StorePool
    settings: Settings
    limits: SessionLimits
    clock: Callable[[], float] = time.time
    counts: CountCache = field(default_factory=CountCache)
    env: jinja2.Environment = field(default_factory=make_env)
    _targets: dict[str, Any] = field(default_factory=lambda: {"at": 0.0, "targets": []})

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        """The template ``name`` with the user, CSRF token and error filled in."""
        ctx.setdefault("user", request.session.get("user"))
        ctx.setdefault("csrf", request.session.get("csrf", ""))
        ctx.setdefault("error", None)
        return HTMLResponse(self.env.get_template(name).render(**ctx), status_code=status)

    def all_targets(self, store: ScenarioStore, *, fresh: bool = False) -> list[str]:
        """The store's targets (cached for :data:`TARGETS_TTL_S` seconds)."""
        if fresh or time.monotonic() - self._targets["at"] > TARGETS_TTL_S:
            self._targets.update(at=time.monotonic(), targets=sorted(store.targets()))
        return list(self._targets["targets"])

    async def current_user(self, request: Request) -> str | None:
        """The signed-in reviewer, after checking her session against her account and the
        limits; an ended session is cleared."""
        session = request.session
        user = session.get("user")
        if not isinstance(user, str) or not user:
            return None
        now = self.clock()
        problem = expiry_problem(session, now, self.limits)
        if not problem:
            current = await run_in_threadpool(lambda: session_key(self.pool.get(user), user))
            problem = key_problem(session, current)
        if problem:
            log.info("session of %r ended: %s", user, problem)
            session.clear()
            return None
        session["seen"] = now
        return user

    def signed_in(self, fn: Handler) -> Handler:
        """A page for signed-in reviewers only (others go to the sign-in page)."""

        async def wrapper(request: Request) -> Response:
            if await self.current_user(request) is None:
                return RedirectResponse("/login", status_code=303)
            return await fn(request)

        return wrapper

    def posted(self, fn: FormHandler) -> Handler:
        """A form POST: signed in, CSRF token checked, fields as text."""

        async def wrapper(request: Request) -> Response:
            if await self.current_user(request) is None:
                return RedirectResponse("/login", status_code=303)
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            if not csrf_ok(request.session.get("csrf"), fields.get("csrf")):
                return text_response("Bad or missing CSRF token: reload the page.", 403)
            return await fn(request, fields)

        return wrapper
