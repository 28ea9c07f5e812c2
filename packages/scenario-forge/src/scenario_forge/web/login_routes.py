"""Sign-in and sign-out routes of the web app (throttled sign-in, audited, logged)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

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
from scenario_forge.web.context import WebContext, log, text_response
from scenario_forge.web.reviewing import WebReview
from scenario_forge.web.sessions import begin
from scenario_forge.web.throttle import (
    ACCOUNT_FREE,
    ADDRESS_FREE,
    account_key,
    address_key,
    clear,
    locked_for,
    record_failure,
)


def login_routes(ctx: WebContext) -> list[Route]:
    """``/login`` (GET, POST) and ``/logout`` (POST)."""

    async def login_page(request: Request) -> Response:
        if "csrf" not in request.session:
            request.session["csrf"] = new_csrf_token()
        return ctx.render(request, "login.html")

    async def login(request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(request.session.get("csrf"), fields.get("csrf")):
            return text_response("Bad or missing CSRF token: reload the page.", 403)
        typed = fields.get("name", "")[:200]
        address = request.client.host if request.client else "unknown"
        now = ctx.clock()
        outcome, wait, account, key = await run_in_threadpool(
            lambda: _attempt(ctx, typed, fields.get("password", ""), address, now)
        )
        if outcome == "ok":
            begin(request.session, account, key, now, new_csrf_token())
            log.info("signed in: %r from %s", account, address)
            return RedirectResponse("/review", status_code=303)
        request.session["csrf"] = new_csrf_token()  # a new token after every failed attempt
        seconds = max(1, int(wait + 0.999))
        wait_text = f"wait {seconds} second{'s' if seconds != 1 else ''}"
        if outcome == "locked":
            log.warning("sign-in refused for %r from %s: locked (%s)", account, address, wait_text)
            message = (
                f"Too many failed sign-ins for this account or from this address: {wait_text} "
                "and try again."
            )
            response = ctx.render(request, "login.html", 429, error=message)
            response.headers["Retry-After"] = str(seconds)
            return response
        message = "Wrong name or password."
        if wait > 0:
            message += f" Too many failed sign-ins: {wait_text} before the next try."
        return ctx.render(request, "login.html", 401, error=message)

    async def logout(request: Request, form: dict[str, str]) -> Response:
        user = request.session["user"]

        def release() -> None:
            store = ctx.pool.get(user)
            review = WebReview(store, user, dict(request.session), ctx.settings, ctx.counts)
            review.queue.release(review.queue.claimed_by_me())
            end_sessions(store, user)  # every copy of every session cookie of hers dies
            with store.transaction():
                store.audit("logout", "web_user", user)

        await run_in_threadpool(release)
        request.session.clear()
        log.info("signed out: %r (every session of the account ended)", user)
        return RedirectResponse("/login", status_code=303)

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", ctx.posted(logout), methods=["POST"]),
    ]


def _attempt(
    ctx: WebContext, typed: str, password: str, address: str, now: float
) -> tuple[str, float, str, str]:
    """(outcome, seconds locked, account or typed name, session key) of one sign-in."""
    try:
        name = account_name(typed)
    except AccountError:
        name = visible(typed.strip())  # never an account; still counted
    keys = [account_key(name), address_key(address)]
    store = ctx.pool.get("-")
    wait = locked_for(store, keys, now)
    if wait > 0:  # logged, not audited: a flood of these must not write to the store
        return "locked", wait, name, ""
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
            "sign-in failed for %r from %s (%d in a row for the account)", name, address, failures
        )
        return "failed", wait, name, ""
    clear(store, account_key(account))
    key = session_key(store, account) or ""
    store.actor = account
    with store.transaction():
        store.audit("login", "web_user", account, {"address": address})
    return "ok", 0.0, account, key
