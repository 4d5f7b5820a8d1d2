"""econe-terminate-instances: TerminateInstances with ``InstanceId.1``."""

from __future__ import annotations

import click

from one_econe.tools.common import Connect, ToolError, run, tool_command, usage

USAGE = usage(
    "econe-terminate-instances",
    "Terminate the selected running instance",
    "INSTANCE-ID",
    footer="INSTANCE-ID: The instance identification as returned by\n"
    "the econe-run-instances command\n",
)


@tool_command()
@click.argument("instance_id", required=False)
def command(connect: Connect, instance_id: str | None) -> None:
    if not instance_id:
        raise ToolError("missing INSTANCE-ID parameter")
    client = connect()
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
