"""occi-server.conf: locations (spec cloud-apis §1.1), syntax (§1.2), keys (§1.3).

The syntax is the shared one of :mod:`one_cloudkit.config`. Keys added by
this port (all optional): ``MAX_UPLOAD`` (bytes, 0 = no limit),
``USER_CACHE`` (seconds the user list is cached, default 2),
``IMAGE_OWNERSHIP`` (``yes``, the default: users read and use only their own
images, oneadmin all of them; ``no``: 1.4's any image), ``ONE_XMLRPC``
(read, §7 #3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from one_cloudkit.config import CloudConfig, ConfigError

__all__ = ["ConfigError", "OcciConfig", "one_location_paths"]


@dataclass
class OcciConfig(CloudConfig):
    """The settings occi-server uses: the shared ones plus ``BRIDGE`` and ``FS_FORMAT``."""

    SERVER = "occi-server"
    CONFIG_NAME = "occi-server.conf"
    TEMPLATES_NAME = "occi_templates"

    bridge: str = ""
    fs_format: str = "ext3"

    @classmethod
    def extra_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "bridge": str(values.get("BRIDGE") or ""),
            "fs_format": str(values.get("FS_FORMAT") or "ext3"),
        }

    @property
    def base_url(self) -> str:
        """§5.3: SSL_SERVER verbatim if set, else ``http://SERVER:PORT`` (no trailing ``/``)."""
        return (self.ssl_server or f"http://{self.server}:{self.port}").rstrip("/")


one_location_paths = OcciConfig.location_paths
"""Spec §1.1: occi-server.conf, occi_templates, pid and log, per ``ONE_LOCATION``."""
