"""econe-describe-instances: one line per instance of the first reservation."""

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
econe-describe-instances

List and describe running instances

== Usage

econe-describe-instances <OPTIONS>

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

FORMAT = "%-10s  %-4s  %-36s  %-13s %-15s %-10s"


@click.command(context_settings=context_settings())
@common_options
@headers_option
def command(access_key: str | None, secret_key: str | None, url: str | None, headers: bool) -> None:
    client = client_from(access_key, secret_key, url)
    root = client.call("DescribeInstances")
    if headers:
        click.echo(FORMAT % ("Owner", "Id", "ImageId", "State", "IP", "Type"))
        click.echo("-" * 108)
    reservation = root.find("reservationSet/item")
    if reservation is None:
        return
    owner = reservation.findtext("ownerId") or ""
    for item in reservation.findall("instancesSet/item"):
        click.echo(
            FORMAT
            % (
                owner,
                item.findtext("instanceId") or "",
                item.findtext("imageId") or "",
                item.findtext("instanceState/name") or "",
                item.findtext("dnsName") or "",
                item.findtext("instanceType") or "",
            )
        )


def main() -> None:
    run("econe-describe-instances", command, USAGE)
