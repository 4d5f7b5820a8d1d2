"""The ASGI application: routes, templates, static files, security headers.

``create_app(Settings(oned="http://host:2633/RPC2/modern"))`` → a Starlette app
(served by uvicorn, :mod:`one_web.cli`). Everything it needs is served by
itself (``/static``: htmx, uPlot, CSS, the app's script), so it works offline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from one_web.oned import Oned
from one_web.settings import Settings
from one_web.views import auth, dashboard, hosts, users, vms, vnets
from one_web.websession import SessionCodec

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
"""Sent with every response: no inline scripts or styles run even if markup slipped through."""


@dataclass
class WebApp:
    """What views reach through ``request.app.state.web``."""

    settings: Settings
    oned: Oned
    codec: SessionCodec
    templates: Environment


def make_templates() -> Environment:
    """Jinja2 with autoescaping of every ``.html`` template (and strings)."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = _timestamp
    env.filters["kib"] = _kib
    env.filters["cpus"] = _cpus
    env.globals.update(kib=_kib, cpus=_cpus)
    return env


def _cpus(value: int) -> str:
    """1.4 CPU (100 per core) as cores: 150 → 1.5."""
    return f"{int(value) / 100:g}"


def _timestamp(value: int) -> str:
    if not value:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(value))) + " UTC"


def _kib(value: int) -> str:
    """Memory in KiB as 512M / 16G."""
    v = float(value)
    for unit in ("K", "M", "G", "T"):
        if abs(v) < 1024 or unit == "T":
            return f"{v:.1f}{unit}".replace(".0", "")
        v /= 1024
    return str(value)  # pragma: no cover


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


ROUTES = [
    Route("/login", auth.login, methods=["GET", "POST"]),
    Route("/logout", auth.logout, methods=["POST"]),
    Route("/", dashboard.dashboard),
    Route("/live/dashboard", dashboard.dashboard_live),
    Route("/monitoring.json", dashboard.cloud_monitoring),
    Route("/hosts", hosts.host_list),
    Route("/hosts", hosts.host_create, methods=["POST"]),
    Route("/live/hosts", hosts.host_list_live),
    Route("/hosts/{hid:int}", hosts.host_detail),
    Route("/live/hosts/{hid:int}", hosts.host_live),
    Route("/hosts/{hid:int}/monitoring.json", hosts.host_monitoring),
    Route("/hosts/{hid:int}/{action}", hosts.host_action, methods=["POST"]),
    Route("/vms", vms.vm_list),
    Route("/vms", vms.vm_create, methods=["POST"]),
    Route("/vms/new", vms.vm_new),
    Route("/live/vms", vms.vm_list_live),
    Route("/vms/{vid:int}", vms.vm_detail),
    Route("/live/vms/{vid:int}", vms.vm_live),
    Route("/live/vms/{vid:int}/log", vms.vm_log),
    Route("/vms/{vid:int}/action", vms.vm_action, methods=["POST"]),
    Route("/vnets", vnets.vnet_list),
    Route("/vnets", vnets.vnet_create, methods=["POST"]),
    Route("/vnets/{nid:int}", vnets.vnet_detail),
    Route("/vnets/{nid:int}/delete", vnets.vnet_delete, methods=["POST"]),
    Route("/users", users.user_list),
    Route("/users", users.user_create, methods=["POST"]),
    Route("/users/{uid:int}/delete", users.user_delete, methods=["POST"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


def create_app(settings: Settings | None = None) -> Starlette:
    """The dashboard for ``settings`` (default: :meth:`Settings.from_env`)."""
    settings = settings or Settings.from_env()
    app = Starlette(routes=ROUTES, middleware=[Middleware(SecurityHeaders)])
    app.state.web = WebApp(
        settings=settings,
        oned=Oned(settings.oned),
        codec=SessionCodec(settings.secret_key, settings.session_seconds, settings.secure_cookie),
        templates=make_templates(),
    )
    return app
