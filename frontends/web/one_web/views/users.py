"""Users (oneadmin only): list, create, delete."""

from __future__ import annotations

from starlette.responses import Response

from one_web import documents
from one_web.oned import OneClientError
from one_web.views.common import Ctx, view
from one_web.views.confirm import needs_confirmation


@view(admin=True)
def user_list(ctx: Ctx) -> Response:
    return ctx.render("users.html", users=documents.users(ctx.api.doc("one.userpool.info")))


@view(admin=True)
def user_create(ctx: Ctx) -> Response:
    name, password = ctx.form.get("name", "").strip(), ctx.form.get("password", "")
    if not name or not password:
        return ctx.redirect("/users", flash="A user needs a name and a password.")
    try:
        uid = ctx.api.call("one.user.allocate", name, password, "", [])
    except OneClientError as exc:
        return ctx.redirect("/users", flash=f"Could not create the user: {exc.message}")
    return ctx.redirect("/users", flash=f"User {name} created (id {uid}).")


@view(admin=True)
def user_delete(ctx: Ctx) -> Response:
    uid = ctx.path_int("uid")
    asked = needs_confirmation(ctx, f"Delete user {uid}?", "/users")
    if asked is not None:
        return asked
    try:
        ctx.api.call("one.user.delete", uid)
    except OneClientError as exc:
        return ctx.redirect("/users", flash=f"Delete failed: {exc.message}")
    return ctx.redirect("/users", flash=f"User {uid} deleted.")
