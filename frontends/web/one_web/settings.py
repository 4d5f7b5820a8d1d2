"""The dashboard's settings: where oned is, the cookie key, session length."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ONED = "http://localhost:2633/RPC2/modern"
"""oned's modern XML-RPC endpoint (login tokens, paged VM lists; docs/modern-api.md)."""


@dataclass(frozen=True)
class Settings:
    """What :func:`one_web.app.create_app` needs.

    :ivar oned: oned's ``/RPC2/modern`` URL.
    :ivar secret_key: signs the session cookie (random per process when not given:
        sessions then end when the dashboard restarts).
    :ivar session_seconds: how long a login lasts (the oned login token's validity).
    :ivar secure_cookie: always mark the cookie ``Secure`` (it is anyway on https requests).
    :ivar page_size: VMs per page of the VM list.
    :ivar poll_seconds: how often live parts of pages ask for changes.
    """

    oned: str = DEFAULT_ONED
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    session_seconds: int = 8 * 3600
    secure_cookie: bool = False
    page_size: int = 50
    poll_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``ONE_WEB_ONED`` (else ``ONE_XMLRPC`` with ``/modern``),
        ``ONE_WEB_SECRET_FILE`` / ``ONE_WEB_SECRET``, ``ONE_WEB_SECURE_COOKIE=1``;
        ``overrides`` (non-None) win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        oned = env.get("ONE_WEB_ONED") or _modern(env.get("ONE_XMLRPC", ""))
        if oned:
            values["oned"] = oned
        secret = env.get("ONE_WEB_SECRET", "")
        if env.get("ONE_WEB_SECRET_FILE"):
            secret = Path(env["ONE_WEB_SECRET_FILE"]).read_text(encoding="utf-8").strip()
        if secret:
            values["secret_key"] = secret
        if env.get("ONE_WEB_SECURE_COOKIE", "") in ("1", "yes", "true"):
            values["secure_cookie"] = True
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _modern(url: str) -> str:
    """``http://h:2633/RPC2`` → ``http://h:2633/RPC2/modern`` ("" stays "")."""
    url = url.rstrip("/")
    if not url or url.endswith("/modern"):
        return url
    return url + "/modern"
