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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_XMLRPC = "http://localhost:2633/RPC2"

_ARRAY_RE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*\[([^\]]*)\]", re.M | re.S)
_SIMPLE_RE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*([^\[\n]*?)[ \t]*$", re.M)


def parse_config_text(text: str) -> dict[str, Any]:
    """Parse econe.conf text: ``{KEY: str | dict | list[str | dict]}``."""
    values: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        key = key.upper()
        if key in values:
            old = values[key]
            values[key] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            values[key] = value

    # Comment lines go first, so that a commented-out array is ignored.
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())

    def array(match: re.Match[str]) -> str:
        body: dict[str, str] = {}
        for piece in match.group(2).split(","):
            if "=" not in piece:
                continue
            k, v = piece.split("=", 1)
            body[k.strip().upper()] = v.strip()
        put(match.group(1), body)
        return "\n" * match.group(0).count("\n")

    text = _ARRAY_RE.sub(array, text)
    for match in _SIMPLE_RE.finditer(text):
        value = match.group(2).split("#", 1)[0].strip()
        put(match.group(1), value)
    return values


def as_list(value: Any) -> list[Any]:
    """A repeated key is a list, a single one is not (1.4): always give a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def one_location_paths(env: dict[str, str] | None = None) -> dict[str, Path]:
    """Spec §1.1: econe.conf, templates, pid and log, per ``ONE_LOCATION``."""
    env = dict(os.environ if env is None else env)
    loc = env.get("ONE_LOCATION")
    if loc:
        base = Path(loc)
        return {
            "config": base / "etc" / "econe.conf",
            "templates": base / "etc" / "ec2query_templates",
            "pid": base / "var" / "econe-server.pid",
            "log": base / "var" / "econe-server.log",
        }
    return {
        "config": Path("/etc/one/econe.conf"),
        "templates": Path("/etc/one/ec2query_templates"),
        "pid": Path("/var/run/one/econe-server.pid"),
        "log": Path("/var/log/one/econe-server.log"),
    }


class ConfigError(Exception):
    """The configuration cannot be used (the server refuses to start)."""


def _int(values: dict[str, Any], key: str, default: int) -> int:
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise ConfigError(f"{key} must be an integer, not {raw!r}") from None


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
        vm_types: dict[str, dict[str, str]] = {}
        for item in as_list(v.get("VM_TYPE")):
            if isinstance(item, dict) and item.get("NAME"):
                vm_types[item["NAME"]] = item
        max_upload = _int(v, "MAX_UPLOAD", 0)
        ownership = str(v.get("IMAGE_OWNERSHIP", "yes")).strip().lower()
        return cls(
            values=v,
            template_dir=Path(template_dir),
            user=str(v.get("USER") or "oneadmin"),
            password=str(v.get("PASSWORD") or ""),
            server=str(v.get("SERVER") or "localhost"),
            port=_int(v, "PORT", 4567),
            ssl_server=(str(v["SSL_SERVER"]) if v.get("SSL_SERVER") else None),
            database=str(v["DATABASE"]),
            image_dir=str(v["IMAGE_DIR"]),
            one_xmlrpc=env.get("ONE_XMLRPC") or str(v.get("ONE_XMLRPC") or "") or DEFAULT_XMLRPC,
            vm_types=vm_types,
            max_upload=max_upload if max_upload > 0 else None,
            max_skew=_int(v, "MAX_SKEW", 900),
            user_cache=float(_int(v, "USER_CACHE", 2)),
            image_ownership=ownership not in ("no", "false", "0", "off"),
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
        try:
            text = cfg_path.read_text()
        except OSError as exc:
            raise ConfigError(f"Can not read {cfg_path}: {exc.strerror or exc}") from None
        if template_dir is None:
            template_dir = cfg_path.parent / "ec2query_templates" if path else paths["templates"]
        return cls.from_text(text, template_dir, env)

    @property
    def signature_host(self) -> str:
        """``H`` of the SigV2 string: SSL_SERVER if set, else SERVER (§3.2)."""
        return self.ssl_server or self.server
