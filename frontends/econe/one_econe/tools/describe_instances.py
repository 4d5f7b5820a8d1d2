"""econe-describe-instances: one line per instance of the first reservation."""

from __future__ import annotations

from one_econe.tools.common import Connect, echo_table, fields, run, tool_command, usage

USAGE = usage("econe-describe-instances", "List and describe running instances", headers=True)

FORMAT = "%-10s  %-4s  %-36s  %-13s %-15s %-10s"
COLUMNS = ("instanceId", "imageId", "instanceState/name", "dnsName", "instanceType")


@tool_command(headers=True)
def command(connect: Connect, headers: bool) -> None:
    root = connect().call("DescribeInstances")
    reservation = root.find("reservationSet/item")
    rows: list[tuple[str, ...]] = []
    if reservation is not None:
        owner = reservation.findtext("ownerId") or ""
        rows = [
            (owner, *fields(item, *COLUMNS)) for item in reservation.findall("instancesSet/item")
        ]
    echo_table(FORMAT, ("Owner", "Id", "ImageId", "State", "IP", "Type"), 108, rows, headers)


def main() -> None:
    run("econe-describe-instances", command, USAGE)
