"""econe.conf: locations (spec cloud-apis §1.1), syntax (§1.2) and keys (§1.3).

Syntax, as 1.4's regex parser, with two fixes (docs/decisions/econe.md):

* ``NAME = value`` simple variables; keys upper-cased; ``#`` anywhere in a
  value starts a comment (kept: values cannot contain ``#``).
* ``NAME = [ K1 = v1, K2 = v2 ]`` arrays, possibly over several lines; the
  body is split on ``,`` then ``=`` (values cannot contain either).
* Repeated keys accumulate into a list.
* Fix (§7 #2): an empty value is ``""`` (1.4 swallowed the next line).
* Fix: lines inside an array are never read as simple variables (1.4 only
  skipped ``NAME``/``TEMPLATE`` lines).

Keys added by this port (all optional): ``MAX_UPLOAD`` (bytes, default 0 =
no limit), ``MAX_SKEW`` (seconds a signed request's Timestamp/X-Amz-Date may
differ from now, default 900; 0 = no check, as 1.4), ``USER_CACHE`` (seconds
the user list is cached, default 2), ``IMAGE_OWNERSHIP`` (``yes``: RunInstances
only with the caller's images or as oneadmin, the default; ``no``: 1.4's any
image), ``ONE_XMLRPC`` (read, §7 #3), ``REGION`` (the region name
DescribeRegions answers, default ``opennebula``; read by :mod:`one_econe.resources`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from one_cloudkit.config import (
    DEFAULT_XMLRPC,
    CloudConfig,
    ConfigError,
    as_list,
    config_int,
    parse_config_text,
)

__all__ = [
    "DEFAULT_XMLRPC",
    "ConfigError",
    "EconeConfig",
    "as_list",
    "one_location_paths",
    "parse_config_text",
]


@dataclass
class EconeConfig(CloudConfig):
    """The settings econe-server uses: the shared ones plus ``MAX_SKEW``."""

    SERVER = "econe-server"
    CONFIG_NAME = "econe.conf"
    TEMPLATES_NAME = "ec2query_templates"

    max_skew: int = 900

    @classmethod
    def extra_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {"max_skew": config_int(values, "MAX_SKEW", 900)}

    @property
    def signature_host(self) -> str:
        """``H`` of the SigV2 string: SSL_SERVER if set, else SERVER (§3.2)."""
        return self.ssl_server or self.server


one_location_paths = EconeConfig.location_paths
"""Spec §1.1: econe.conf, templates, pid and log, per ``ONE_LOCATION``."""
