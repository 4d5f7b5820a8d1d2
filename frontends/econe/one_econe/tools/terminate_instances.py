"""econe-terminate-instances: TerminateInstances with ``InstanceId.1``."""

from __future__ import annotations

import click

from one_econe.tools.common import ToolError, client_from, common_options, context_settings, run

USAGE = """
== Synopsis
econe-terminate-instances

Terminate the selected running instance

== Usage

econe-terminate-instances <OPTIONS> INSTANCE-ID

-h, --help:
   show help

--access-key <id>, -K <id>
   The username of the user

--secret-key <key>, -S <key>
   The password of the user

--url <url>, -U <url>
   Set url as the web service url to use

INSTANCE-ID: The instance identification as returned by
the econe-run-instances command
"""


@click.command(context_settings=context_settings())
@common_options
@click.argument("instance_id", required=False)
def command(
    access_key: str | None, secret_key: str | None, url: str | None, instance_id: str | None
) -> None:
    if not instance_id:
        raise ToolError("missing INSTANCE-ID parameter")
    client = client_from(access_key, secret_key, url)
    root = client.call("TerminateInstances", {"InstanceId.1": instance_id})
    item = root.find("instancesSet/item")
    if item is None:
        raise ToolError("Malformed response: no instancesSet/item")
    click.echo(
        f"Success: Terminating {item.findtext('instanceId') or ''} in "
        f"{item.findtext('previousState/name') or ''} state"
    )


def main() -> None:
    run("econe-terminate-instances", command, USAGE)
