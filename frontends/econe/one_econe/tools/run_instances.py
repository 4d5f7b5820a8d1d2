"""econe-run-instances: RunInstances of one IMAGE-ID with ``-t`` type (default m1.small).

No client-side check of the instance type (every 1.4 gem checked it against
Amazon's list, §7 #28): any VM_TYPE the server knows can be used.
"""

from __future__ import annotations

import click

from one_econe.tools.common import (
    IMAGE_ID_HELP,
    Connect,
    ToolError,
    echo_table,
    fields,
    run,
    tool_command,
    usage,
)

TYPE_HELP = """--type <type>, -t <type>
   OpenNebula template in which is based this instance
"""

USAGE = usage(
    "econe-run-instances",
    "Runs an instance of a particular image",
    "IMAGE-ID",
    options=(TYPE_HELP,),
    headers=True,
    footer=IMAGE_ID_HELP,
)

FORMAT = "%-10s  %-36s   %-10s %s"


@tool_command(headers=True)
@click.option("-t", "--type", "instance_type", default="m1.small")
@click.argument("image_id", required=False)
def command(connect: Connect, headers: bool, instance_type: str, image_id: str | None) -> None:
    if not image_id:
        raise ToolError("missing IMAGE-ID parameter")
    root = connect().call(
        "RunInstances",
        {"ImageId": image_id, "MinCount": "1", "MaxCount": "1", "InstanceType": instance_type},
    )
    owner = root.findtext("ownerId") or ""
    rows = (
        (owner, *fields(item, "imageId", "instanceId", "instanceType"))
        for item in root.findall("instancesSet/item")
    )
    echo_table(FORMAT, ("Owner", "ImageId", "InstanceId", "InstanceType"), 78, rows, headers)


def main() -> None:
    run("econe-run-instances", command, USAGE)
