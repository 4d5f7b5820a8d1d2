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
image), ``ONE_XMLRPC`` (read, §7 #3).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from one_core.cloud.config import (
    DEFAULT_XMLRPC,
    ConfigError,
    as_list,
    config_flag,
    config_int,
    location_paths,
    parse_config_text,
    parse_vm_types,
    read_config_file,
    xmlrpc_endpoint,
)

__all__ = [
    "DEFAULT_XMLRPC",
    "ConfigError",
    "EconeConfig",
    "as_list",
    "one_location_paths",
    "parse_config_text",
]


def one_location_paths(env: dict[str, str] | None = None) -> dict[str, Path]:
    """Spec §1.1: econe.conf, templates, pid and log, per ``ONE_LOCATION``."""
    return location_paths("econe-server", "econe.conf", "ec2query_templates", env)


@dataclass
class EconeConfig:
    """The settings econe-server uses."""

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
    max_upload: int | None = None
    max_skew: int = 900
    user_cache: float = 2.0
    image_ownership: bool = True

    @classmethod
    def from_text(
        cls, text: str, template_dir: str | Path, env: dict[str, str] | None = None
    ) -> EconeConfig:
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
            max_upload=max_upload if max_upload > 0 else None,
            max_skew=config_int(v, "MAX_SKEW", 900),
            user_cache=float(config_int(v, "USER_CACHE", 2)),
            image_ownership=config_flag(v, "IMAGE_OWNERSHIP", True),
        )

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        template_dir: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> EconeConfig:
        """Read ``path`` (default: §1.1's location); templates from §1.1 unless given."""
        paths = one_location_paths(env)
        cfg_path = Path(path) if path else paths["config"]
        text = read_config_file(cfg_path)
        if template_dir is None:
            template_dir = cfg_path.parent / "ec2query_templates" if path else paths["templates"]
        return cls.from_text(text, template_dir, env)

    @property
    def signature_host(self) -> str:
        """``H`` of the SigV2 string: SSL_SERVER if set, else SERVER (§3.2)."""
        return self.ssl_server or self.server
