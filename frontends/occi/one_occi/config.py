"""occi-server.conf: locations (spec cloud-apis §1.1), syntax (§1.2), keys (§1.3).

The syntax is the shared one of :mod:`one_core.cloud.config`. Keys added by
this port (all optional): ``MAX_UPLOAD`` (bytes, 0 = no limit),
``USER_CACHE`` (seconds the user list is cached, default 2),
``IMAGE_OWNERSHIP`` (``yes``, the default: users read and use only their own
images, oneadmin all of them; ``no``: 1.4's any image), ``ONE_XMLRPC``
(read, §7 #3).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from one_core.cloud.config import (
    DEFAULT_XMLRPC,
    ConfigError,
    config_flag,
    config_int,
    location_paths,
    parse_config_text,
    parse_vm_types,
    read_config_file,
    xmlrpc_endpoint,
)

__all__ = ["ConfigError", "OcciConfig", "one_location_paths"]


def one_location_paths(env: dict[str, str] | None = None) -> dict[str, Path]:
    """Spec §1.1: occi-server.conf, occi_templates, pid and log, per ``ONE_LOCATION``."""
    return location_paths("occi-server", "occi-server.conf", "occi_templates", env)


@dataclass
class OcciConfig:
    """The settings occi-server uses."""

    values: dict[str, Any]
    template_dir: Path
    user: str = "oneadmin"
    password: str = ""
    server: str = "localhost"
    port: int = 4567
    ssl_server: str | None = None
    database: str = ""
    image_dir: str = ""
    one_xmlrpc: str = DEFAULT_XMLRPC
    vm_types: dict[str, dict[str, str]] = field(default_factory=dict)
    bridge: str = ""
    fs_format: str = "ext3"
    max_upload: int | None = None
    user_cache: float = 2.0
    image_ownership: bool = True

    @classmethod
    def from_text(
        cls, text: str, template_dir: str | Path, env: dict[str, str] | None = None
    ) -> OcciConfig:
        env = dict(os.environ if env is None else env)
        v = parse_config_text(text)
        if not v.get("DATABASE"):
            raise ConfigError("DB not defined")
        if not v.get("IMAGE_DIR"):
            raise ConfigError("IMAGE_DIR not defined")
        max_upload = config_int(v, "MAX_UPLOAD", 0)
        return cls(
            values=v,
            template_dir=Path(template_dir),
            user=str(v.get("USER") or "oneadmin"),
            password=str(v.get("PASSWORD") or ""),
            server=str(v.get("SERVER") or "localhost"),
            port=config_int(v, "PORT", 4567),
            ssl_server=(str(v["SSL_SERVER"]) if v.get("SSL_SERVER") else None),
            database=str(v["DATABASE"]),
            image_dir=str(v["IMAGE_DIR"]),
            one_xmlrpc=xmlrpc_endpoint(v, env),
            vm_types=parse_vm_types(v),
            bridge=str(v.get("BRIDGE") or ""),
            fs_format=str(v.get("FS_FORMAT") or "ext3"),
            max_upload=max_upload if max_upload > 0 else None,
            user_cache=float(config_int(v, "USER_CACHE", 2)),
            image_ownership=config_flag(v, "IMAGE_OWNERSHIP", True),
        )

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        template_dir: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> OcciConfig:
        """Read ``path`` (default: §1.1's location); templates from §1.1 unless given."""
        paths = one_location_paths(env)
        cfg_path = Path(path) if path else paths["config"]
        text = read_config_file(cfg_path)
        if template_dir is None:
            template_dir = cfg_path.parent / "occi_templates" if path else paths["templates"]
        return cls.from_text(text, template_dir, env)

    @property
    def base_url(self) -> str:
        """§5.3: SSL_SERVER verbatim if set, else ``http://SERVER:PORT`` (no trailing ``/``)."""
        return (self.ssl_server or f"http://{self.server}:{self.port}").rstrip("/")
