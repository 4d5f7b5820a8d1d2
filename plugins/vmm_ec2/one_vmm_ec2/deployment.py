"""What to launch: the ``EC2`` section of the deployment file (spec §5.4, §5.6).

The core gives an EC2 VM's template as XML (``<TEMPLATE>…<EC2><AMI>…</AMI>
…</EC2>…</TEMPLATE>``; this driver renders no deployment file of its own).
A template may hold several ``EC2`` sections, one per cloud: the one whose
``CLOUD`` names the host (case-insensitively, the last such wins) is used;
with no match, a single ``EC2`` section is used; otherwise the deploy fails
with 1.4's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree

from one_core.api import DriverError

DEFAULTABLE = ("KEYPAIR", "AUTHORIZEDPORTS", "INSTANCETYPE")
"""The only values the defaults file can supply (as in 1.4)."""

_RANGE = re.compile(r"(\d+)(?:\s*-\s*(\d+))?")


@dataclass(frozen=True)
class LaunchRequest:
    """One instance to run."""

    ami: str
    keypair: str = ""
    instance_type: str = ""
    ports: tuple[tuple[int, int], ...] = ()
    elastic_ip: str = ""


def parse_ports(text: str) -> tuple[tuple[int, int], ...]:
    """``AUTHORIZEDPORTS``: ``22``, ``8000-8010`` or a comma list of those → sorted TCP ranges.

    1.4 handed the value to ``ec2-authorize -p``, which took one port or one
    range; a comma-separated list is accepted too.
    """
    ranges = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        match = _RANGE.fullmatch(item)
        if not match:
            raise DriverError(f"Wrong AUTHORIZEDPORTS value: {text!r}")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not 0 <= low <= high <= 65535:
            raise DriverError(f"Wrong AUTHORIZEDPORTS value: {text!r}")
        ranges.add((low, high))
    return tuple(sorted(ranges))


def ec2_sections(deployment: str, deployment_file: str) -> list[dict[str, str]]:
    """Every ``EC2`` element of the template XML, as ``{SUB: stripped text}``."""
    try:
        root = ElementTree.fromstring(deployment)
    except Exception as exc:
        raise DriverError(f"Can not parse deployment file {deployment_file}: {exc}") from exc
    sections = []
    for element in root.findall("EC2"):
        sections.append({child.tag.upper(): (child.text or "").strip() for child in element})
    return sections


def choose_section(
    sections: list[dict[str, str]], host: str, deployment_file: str
) -> dict[str, str]:
    """The section for ``host`` (see the module docstring)."""
    chosen = None
    for section in sections:
        if section.get("CLOUD", "").lower() == host.lower():
            chosen = section
    if chosen is None and len(sections) == 1:
        chosen = sections[0]
    if chosen is None:
        raise DriverError(
            f"Can not find EC2 element in deployment file {deployment_file} or couldn't find "
            "any EC2 site matching one of the template."
        )
    return chosen


def _default(defaults: Mapping[str, Any], key: str) -> str:
    for name, value in defaults.items():
        if str(name).upper() == "EC2" and isinstance(value, Mapping):
            found = value.get(key, "")
            return found.strip() if isinstance(found, str) else ""
    return ""


def launch_request(
    deployment: str, host: str, defaults: Mapping[str, Any], deployment_file: str
) -> LaunchRequest:
    """The instance ``deployment`` asks for on ``host``, with the defaults applied."""
    section = choose_section(ec2_sections(deployment, deployment_file), host, deployment_file)
    ami = section.get("AMI", "")
    if not ami:
        raise DriverError(f"Can not find AMI in deployment file {deployment_file}")
    values = {key: section.get(key, "") or _default(defaults, key) for key in DEFAULTABLE}
    return LaunchRequest(
        ami=ami,
        keypair=values["KEYPAIR"],
        instance_type=values["INSTANCETYPE"],
        ports=parse_ports(values["AUTHORIZEDPORTS"]),
        elastic_ip=section.get("ELASTICIP", ""),
    )
