"""econe-run-instances: RunInstances of one IMAGE-ID with ``-t`` type (default m1.small).

No client-side check of the instance type (every 1.4 gem checked it against
Amazon's list, §7 #28): any VM_TYPE the server knows can be used.
"""

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
econe-run-instances

Runs an instance of a particular image

== Usage

econe-run-instances <OPTIONS> IMAGE-ID

-h, --help:
   show help

--access-key <id>, -K <id>
   The username of the user

--secret-key <key>, -S <key>
   The password of the user

--url <url>, -U <url>
   Set url as the web service url to use

--type <type>, -t <type>
   OpenNebula template in which is based this instance

--headers, -H
   Display column headers

IMAGE-ID: The image identification as returned by
the econe-upload command
"""

FORMAT = "%-10s  %-36s   %-10s %s"


@click.command(context_settings=context_settings())
@common_options
@headers_option
@click.option("-t", "--type", "instance_type", default="m1.small")
@click.argument("image_id", required=False)
def command(
    access_key: str | None,
    secret_key: str | None,
    url: str | None,
    headers: bool,
    instance_type: str,
    image_id: str | None,
) -> None:
    if not image_id:
        raise ToolError("missing IMAGE-ID parameter")
    client = client_from(access_key, secret_key, url)
    root = client.call(
        "RunInstances",
        {"ImageId": image_id, "MinCount": "1", "MaxCount": "1", "InstanceType": instance_type},
    )
    if headers:
        click.echo(FORMAT % ("Owner", "ImageId", "InstanceId", "InstanceType"))
        click.echo("-" * 78)
    owner = root.findtext("ownerId") or ""
    for item in root.findall("instancesSet/item"):
        click.echo(
            FORMAT
            % (
                owner,
                item.findtext("imageId") or "",
                item.findtext("instanceId") or "",
                item.findtext("instanceType") or "",
            )
        )


def main() -> None:
    run("econe-run-instances", command, USAGE)
