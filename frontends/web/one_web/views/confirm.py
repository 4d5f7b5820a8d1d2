"""Confirmation of destructive actions, without JavaScript: a second form.

A form posts ``confirmed=yes`` only from the confirmation page; without it the
view answers that page (same action URL, same fields) instead of acting.
"""

from __future__ import annotations

from starlette.responses import Response

from one_web.views.common import Ctx


def needs_confirmation(ctx: Ctx, what: str, back: str) -> Response | None:
    """The confirmation page for ``what``, or None when the user already confirmed."""
    if ctx.form.get("confirmed") == "yes":
        return None
    fields = {k: v for k, v in ctx.form.items() if k not in ("csrf", "confirmed")}
    return ctx.render(
        "confirm.html", what=what, action=ctx.request.url.path, fields=fields, back=back
    )
