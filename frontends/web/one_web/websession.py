"""The session cookie and CSRF tokens.

The cookie holds, signed with the app's key (:mod:`itsdangerous`), the user
name, uid and oned login token of a logged-in user, a CSRF token and at most one
flash message; never a password. It is ``HttpOnly``, ``SameSite=Strict`` and
``Secure`` on https (or when configured). A visitor who is not logged in still
gets a cookie with a CSRF token, so the login form is protected too.

Every state-changing request (any method but GET/HEAD) must carry the CSRF
token: the form field ``csrf`` or the header ``X-CSRF-Token`` (htmx sends it
from ``hx-headers`` on ``<body>``); a request whose ``Origin`` is another site
is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "one_web"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class WebSession:
    """What the cookie carries."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user: str = ""
    uid: int = -1
    token: str = ""
    flash: str = ""
    changed: bool = False

    @property
    def logged_in(self) -> bool:
        return bool(self.user and self.token)

    @property
    def is_admin(self) -> bool:
        return self.uid == 0

    def to_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user, "i": self.uid, "t": self.token, "f": self.flash}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WebSession:
        return cls(
            csrf=str(d.get("c") or secrets.token_urlsafe(32)),
            user=str(d.get("u") or ""),
            uid=int(d.get("i", -1)),
            token=str(d.get("t") or ""),
            flash=str(d.get("f") or ""),
        )

    def set_flash(self, message: str) -> None:
        self.flash = message
        self.changed = True

    def pop_flash(self) -> str:
        message, self.flash = self.flash, ""
        if message:
            self.changed = True
        return message


class SessionCodec:
    """Signs and reads the cookie."""

    def __init__(self, secret_key: str, max_age: int, secure: bool = False):
        self.serializer = URLSafeTimedSerializer(secret_key, salt="one-web-session")
        self.max_age = max_age
        self.secure = secure

    def load(self, request: Request) -> WebSession:
        """The request's session; a fresh one when the cookie is absent, forged or expired."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                return WebSession.from_dict(self.serializer.loads(raw, max_age=self.max_age))
            except (BadSignature, ValueError, TypeError):
                pass
        session = WebSession()
        session.changed = True
        return session

    def save(self, request: Request, response: Response, session: WebSession) -> None:
        """Set the cookie when the session changed."""
        if not session.changed:
            return
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(session.to_dict()),
            max_age=self.max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure or request.url.scheme == "https",
        )


def csrf_ok(request: Request, session: WebSession, form_token: str | None) -> bool:
    """Whether a state-changing request carries the session's CSRF token and no foreign Origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            return False
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    return hmac.compare_digest(sent.encode(), session.csrf.encode())
