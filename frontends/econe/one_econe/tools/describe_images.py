"""econe-describe-images: one line per image, ``Owner ImageId Location``."""

from __future__ import annotations

from one_econe.tools.common import Connect, echo_table, fields, run, tool_command, usage

USAGE = usage(
    "econe-describe-images",
    "List and describe previously uploaded images of a user for use\nwith an OpenNebula Cloud.",
    headers=True,
)

FORMAT = "%-4s  %-36s  %s"


@tool_command(headers=True)
def command(connect: Connect, headers: bool) -> None:
    root = connect().call("DescribeImages")
    rows = (
        fields(item, "imageOwnerId", "imageId", "imageLocation")
        for item in root.findall("imagesSet/item")
    )
    echo_table(FORMAT, ("Owner", "ImageId", "Location"), 78, rows, headers)


def main() -> None:
    run("econe-describe-images", command, USAGE)
