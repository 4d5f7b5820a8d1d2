"""Logging in and out."""

from __future__ import annotations

import contextlib
import secrets

from starlette.responses import Response

from one_web.oned import OneClientError
from one_web.views.common import Ctx, view


def _safe_next(target: str) -> str:
    """Only a path of this site (no ``//host`` or ``scheme:``)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@view(login=False)
def login(ctx: Ctx) -> Response:
    """The login form; POST checks the password with oned and keeps a login token."""
    next_page = _safe_next(ctx.form.get("next") or ctx.query("next", "/"))
    if ctx.request.method == "GET":
        if ctx.session.logged_in:
            return ctx.redirect(next_page)
        return ctx.render("login.html", next=next_page, user="")
    user = ctx.form.get("user", "").strip()
    password = ctx.form.get("password", "")
    if not user or not password or ":" in user:
        return ctx.render(
            "login.html", status=400, next=next_page, user=user, error="Enter a user and password."
        )
    try:
        token, uid = ctx.web.oned.login(user, password, ctx.web.settings.session_seconds)
    except OneClientError as exc:
        return ctx.render(
            "login.html",
            status=401,
            next=next_page,
            user=user,
            error=f"Login failed: {exc.message}",
        )
    s = ctx.session
    s.user, s.uid, s.token = user, uid, token
    s.csrf = secrets.token_urlsafe(32)  # a new CSRF token after login
    s.changed = True
    return ctx.redirect(next_page)


@view(login=False)
def logout(ctx: Ctx) -> Response:
    """Revoke the login token and forget the session."""
    s = ctx.session
    if s.logged_in:
        # expired already, or oned is down: the cookie is dropped anyway
        with contextlib.suppress(OneClientError):
            ctx.web.oned.logout(s.user, s.token)
    s.user, s.uid, s.token = "", -1, ""
    s.changed = True
    return ctx.redirect("/login", flash="Logged out.")
