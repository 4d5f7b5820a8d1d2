"""econe-register: RegisterImage with ``ImageLocation=<IMAGE-ID>``."""

from __future__ import annotations

import click

from one_econe.tools.common import (
    ToolError,
    client_from,
    common_options,
    context_settings,
    headers_option,
    run,
)

USAGE = """
== Synopsis
econe-register

Register a previously uploaded image for use in an OpenNebula Cloud.

== Usage

econe-register <OPTIONS> IMAGE-ID

-h, --help:
   show help

--access-key <id>, -K <id>
   The username of the user

--secret-key <key>, -S <key>
   The password of the user

--url <url>, -U <url>
   Set url as the web service url to use

--headers, -H
   Display column headers

IMAGE-ID: The image identification as returned by
the econe-upload command
"""


@click.command(context_settings=context_settings())
@common_options
@headers_option
@click.argument("image_id", required=False)
def command(
    access_key: str | None,
    secret_key: str | None,
    url: str | None,
    headers: bool,
    image_id: str | None,
) -> None:
    if not image_id:
        raise ToolError("missing ImageId parameter")
    client = client_from(access_key, secret_key, url)
    root = client.call("RegisterImage", {"ImageLocation": image_id})
    click.echo(f"Success: ImageId {root.findtext('imageId') or ''}")


def main() -> None:
    run("econe-register", command, USAGE)
