"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from rheumetrics.app import audit
from rheumetrics.app.context import FormData, check_csrf, ctx, render, writing
from rheumetrics.app.security import LOGIN_COOKIE, SESSION_COOKIE, SESSION_SECONDS, authenticate

router = APIRouter()


def _set_cookie(resp: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie; Secure when the request came over HTTPS."""
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or urlsplit(target).netloc
    ):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/", error: str | None = None) -> Response:
    cookie, token = ctx(request).sessions.login_token()
    resp = render(
        request,
        "login.html",
        status_code=401 if error else 200,
        login_token=token,
        next=_safe_next(next),
        error=error,
    )
    _set_cookie(resp, request, LOGIN_COOKIE, cookie, 3600)
    return resp


@router.post("/login")
def login(request: Request, form: FormData) -> Response:
    c = ctx(request)
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))
    if not c.sessions.check_login_token(
        request.cookies.get(LOGIN_COOKIE), str(form.get("csrf_token", "")) or None
    ):
        return Response("missing or wrong CSRF token: reload the sign-in page", status_code=403)
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"addr:{client}")
    wait = c.throttle.blocked(*keys)
    if wait > 0:
        return Response(
            f"too many failed sign-ins: try again in {int(wait) + 1} s",
            status_code=429,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    # the Argon2id check runs outside the write transaction (it takes tens of milliseconds)
    with c.engine.connect() as conn:
        user = authenticate(conn, username, password)
    with writing(c.engine) as conn:
        if user is None:
            c.throttle.fail(*keys)
            audit.record(conn, username or "(blank)", "login_failed", "user", username or "(blank)")
        else:
            c.throttle.clear(*keys)
            audit.record(conn, user.username, "login", "user", user.username)
            cookie, _ = c.sessions.issue(conn, user.id)
    if user is None:
        return login_form(request, str(form.get("next", "/")), "wrong user name or password")
    resp = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
    _set_cookie(resp, request, SESSION_COOKIE, cookie, SESSION_SECONDS)
    resp.delete_cookie(LOGIN_COOKIE, path="/")
    return resp


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    """End the session on the server (the cookie stops working everywhere) and drop the cookie."""
    c = ctx(request)
    with writing(c.engine) as conn:
        c.sessions.end(conn, request.cookies.get(SESSION_COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
