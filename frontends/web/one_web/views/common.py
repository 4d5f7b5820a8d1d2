"""What every page shares: the :class:`Ctx` of a request, the :func:`view` decorator and
:func:`live_part`, the endpoint a page polls to refresh one of its parts.

A view is a plain (blocking) function ``view(ctx) -> Response`` run on
Starlette's thread pool, because it calls oned over XML-RPC. The decorator
loads the session cookie, sends visitors who are not logged in to the login
page, checks the CSRF token of state-changing requests, turns oned's refusals
into error pages, and writes the cookie back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from one_web.oned import OneClientError, OneTransportError, Session
from one_web.websession import CSRF_FIELD, SAFE_METHODS, WebSession, csrf_ok

if TYPE_CHECKING:
    from one_web.app import WebApp

View = Callable[["Ctx"], Response]


class HttpError(Exception):
    """Stop a view with an error page (``status``, ``message``)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Ctx:
    """One request as a view sees it."""

    request: Request
    web: WebApp
    session: WebSession
    form: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> Session:
        """oned, as the logged-in user."""
        return self.web.oned.session(self.session.user, self.session.token)

    def path_int(self, name: str) -> int:
        try:
            return int(self.request.path_params[name])
        except (KeyError, ValueError):
            raise HttpError(404, "No such page") from None

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int) -> int:
        try:
            return int(self.request.query_params.get(name, default))
        except ValueError:
            return default

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A whole page (``template`` extends ``base.html``)."""
        html = self.web.templates.get_template(template).render(
            session=self.session,
            flash=self.session.pop_flash(),
            poll=self.web.settings.poll_seconds,
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def fragment(self, template: str, data: Any, **values: Any) -> Response:
        """A live part of a page: 304 when ``data`` did not change since the
        ``If-None-Match`` the poller sent, else the part with its ``ETag``."""
        etag = (
            '"'
            + hashlib.sha1(
                json.dumps(
                    [template, self.session.csrf, data], sort_keys=True, default=str
                ).encode()
            ).hexdigest()[:20]
            + '"'
        )
        if self.request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        html = self.web.templates.get_template(template).render(
            session=self.session, poll=self.web.settings.poll_seconds, etag=etag, **values
        )
        return HTMLResponse(html, headers={"ETag": etag, "Cache-Control": "no-cache"})

    def redirect(self, url: str, flash: str = "", **query: Any) -> RedirectResponse:
        """303 to ``url`` (a path of this app), with a message for the next page."""
        if flash:
            self.session.set_flash(flash)
        if query:
            url += "?" + urlencode(query)
        return RedirectResponse(url, status_code=303)


def _status_of(exc: OneClientError) -> int:
    if isinstance(exc, OneTransportError):
        return 502  # oned is down or unreachable
    text = exc.message or ""
    if "authenticated" in text or "User not recognized" in text:
        return 401
    if "Not authorized" in text or "not authorized" in text:
        return 403
    if "Error getting" in text:
        return 404
    return 400


def view(
    login: bool = True, admin: bool = False
) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """Make ``func(ctx)`` a Starlette endpoint (see the module doc)."""

    def deco(func: View) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            web: WebApp = request.app.state.web
            session = web.codec.load(request)
            form: dict[str, str] = {}
            if request.method not in SAFE_METHODS:
                data = await request.form()
                form = {k: v for k, v in data.items() if isinstance(v, str)}
            ctx = Ctx(request, web, session, form)
            response = await run_in_threadpool(_run, func, ctx, login, admin)
            web.codec.save(request, response, session)
            return response

        endpoint.__name__ = func.__name__
        endpoint.__doc__ = func.__doc__
        return endpoint

    return deco


def live_part(
    template: str, load: Callable[[Ctx], dict[str, Any]], *, name: str
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint ``name`` a page polls: ``template`` rendered with the values
    ``load(ctx)`` returns, which are also what its ETag is computed from (:meth:`Ctx.fragment`)."""

    def live(ctx: Ctx) -> Response:
        values = load(ctx)
        return ctx.fragment(template, values, **values)

    live.__name__ = name
    return view()(live)


def _run(func: View, ctx: Ctx, login: bool, admin: bool) -> Response:
    session, request = ctx.session, ctx.request
    if request.method not in SAFE_METHODS and not csrf_ok(
        request, session, ctx.form.get(CSRF_FIELD)
    ):
        return ctx.render(
            "error.html", status=403, message="The form has expired (no valid CSRF token)."
        )
    if login and not session.logged_in:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return ctx.redirect("/login", next=request.url.path)
    if admin and not session.is_admin:
        return ctx.render("error.html", status=403, message="Only oneadmin may see this page.")
    try:
        return func(ctx)
    except HttpError as exc:
        return ctx.render("error.html", status=exc.status, message=exc.message)
    except OneClientError as exc:
        status = _status_of(exc)
        if status == 401:
            session.user, session.token, session.uid = "", "", -1
            session.changed = True
            return ctx.redirect("/login", flash="Your session has ended; please log in again.")
        return ctx.render("error.html", status=status, message=exc.message)
