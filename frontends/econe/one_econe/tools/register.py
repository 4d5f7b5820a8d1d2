"""econe-register: RegisterImage with ``ImageLocation=<IMAGE-ID>``."""

from __future__ import annotations

import click

from one_econe.tools.common import IMAGE_ID_HELP, Connect, ToolError, run, tool_command, usage

USAGE = usage(
    "econe-register",
    "Register a previously uploaded image for use in an OpenNebula Cloud.",
    "IMAGE-ID",
    headers=True,
    footer=IMAGE_ID_HELP,
)


@tool_command(headers=True)
@click.argument("image_id", required=False)
def command(connect: Connect, headers: bool, image_id: str | None) -> None:
    if not image_id:
        raise ToolError("missing ImageId parameter")
    root = connect().call("RegisterImage", {"ImageLocation": image_id})
    click.echo(f"Success: ImageId {root.findtext('imageId') or ''}")


def main() -> None:
    run("econe-register", command, USAGE)
