"""econe-describe-images: one line per image, ``Owner ImageId Location``."""

from __future__ import annotations

import click

from one_econe.tools.common import (
    client_from,
    common_options,
    context_settings,
    headers_option,
    run,
)

USAGE = """
== Synopsis
econe-describe-images

List and describe previously uploaded images of a user for use
with an OpenNebula Cloud.

== Usage

econe-describe-images <OPTIONS>

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
"""

FORMAT = "%-4s  %-36s  %s"


@click.command(context_settings=context_settings())
@common_options
@headers_option
def command(access_key: str | None, secret_key: str | None, url: str | None, headers: bool) -> None:
    client = client_from(access_key, secret_key, url)
    root = client.call("DescribeImages")
    if headers:
        click.echo(FORMAT % ("Owner", "ImageId", "Location"))
        click.echo("-" * 78)
    for item in root.findall("imagesSet/item"):
        click.echo(
            FORMAT
            % (
                item.findtext("imageOwnerId") or "",
                item.findtext("imageId") or "",
                item.findtext("imageLocation") or "",
            )
        )


def main() -> None:
    run("econe-describe-images", command, USAGE)
