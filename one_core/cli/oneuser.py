"""``oneuser``: users (spec §6.8), compatible with the 1.4 tool byte for byte."""

from __future__ import annotations

import re
import sys

from one_core.cli import xmldoc
from one_core.cli.base import (
    USER,
    CliExit,
    Runtime,
    Tool,
    error,
    expand_args,
    make_group,
    out,
    tool_command,
    tool_main,
)
from one_core.cli.session import CallError, sha1_hex
from one_core.cli.table import Column, Table

group = make_group("oneuser", "Manage OpenNebula users (1.4 compatible).")

USER_TABLE = Table(
    [
        Column("id", "ID", 4, "ONE identifier for user", lambda u: xmldoc.text(u, "ID")),
        Column("user", "USER", 15, "name of the user", lambda u: xmldoc.text(u, "NAME"),
               left=True),
        Column("password", "PASSWORD", 50, "password of the user",
               lambda u: xmldoc.text(u, "PASSWORD"), left=True),
        Column("enable", "ENABLE", 6, "Wether the user is active or not",
               lambda u: xmldoc.text(u, "ENABLED")),
    ],
    ["id", "user", "password", "enable"],
)  # fmt: skip


@tool_command(group, "create", "Create a user (the password is sent as its SHA-1).",
              "<username> <password>")  # fmt: skip
def create(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "create", 2)
    uid = rt.call_or_error("user.allocate", args[0], sha1_hex(args[1]))
    rt.say(f"ID: {uid}")


def _has_vms(rt: Runtime, arg: str, uid: str) -> bool:
    """Whether the user owns VMs. A numeric argument skips the check (1.4 quirk, kept)."""
    if re.match(r"^[0-9]+$", arg):
        return False
    try:
        pool = xmldoc.parse(str(rt.call("vmpool.info", int(uid))))
    except (CallError, xmldoc.XmlError):
        return False
    return len(pool) > 0


def _confirm(arg: str) -> bool:
    out(f"The user {arg} still has VM's defined, type YES if you are sure you")
    out("want to delete this user: ", end="")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.rstrip("\r\n") == "YES"


@tool_command(group, "delete", "Remove users (asks for YES if the user still has VMs).",
              "<user>...", (USER,))  # fmt: skip
def delete(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "delete", 1)
    last_error: str | None = None
    for arg in expand_args(args):
        uid = rt.resolve(USER, arg)
        if _has_vms(rt, arg, uid) and not _confirm(arg):
            raise CliExit(255)
        try:
            rt.call("user.delete", int(uid))
        except CallError as exc:
            last_error = exc.message
            continue
        last_error = None
        rt.say("User deleted")
    if last_error is not None:
        error(last_error)


@tool_command(group, "list", "List the users (oneadmin only).")
def list_(rt: Runtime, args: list[str]) -> None:
    rt.print_listing(USER_TABLE, rt.fetch("userpool.info"))


TOOL = Tool("oneuser", group, USER_TABLE)


def main(argv: list[str] | None = None) -> int:
    """Console entry point of ``oneuser``."""
    tool_main(TOOL, argv)


if __name__ == "__main__":
    main()
