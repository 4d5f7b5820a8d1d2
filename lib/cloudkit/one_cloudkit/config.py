"""Configuration files of the cloud servers: syntax (spec cloud-apis §1.2), locations (§1.1).

Syntax, as 1.4's regex parser (src/cloud/common/Configuration.rb), with two
fixes (docs/decisions/econe.md, docs/decisions/occi.md):

* ``NAME = value`` simple variables; keys upper-cased; ``#`` anywhere in a
  value starts a comment (kept: values cannot contain ``#``).
* ``NAME = [ K1 = v1, K2 = v2 ]`` arrays, possibly over several lines; the
  body is split on ``,`` then ``=`` (values cannot contain either).
* Repeated keys accumulate into a list.
* Fix (§7 #2): an empty value is ``""`` (1.4 swallowed the next line).
* Fix: lines inside an array are never read as simple variables (1.4 only
  skipped ``NAME``/``TEMPLATE`` lines).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

DEFAULT_XMLRPC = "http://localhost:2633/RPC2"

_ARRAY_RE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*\[([^\]]*)\]", re.M | re.S)
_SIMPLE_RE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*([^\[\n]*?)[ \t]*$", re.M)

_FALSE = ("no", "false", "0", "off")


class ConfigError(Exception):
    """The configuration cannot be used (the server refuses to start)."""


def parse_config_text(text: str) -> dict[str, Any]:
    """Parse a cloud server configuration: ``{KEY: str | dict | list[str | dict]}``."""
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


def config_int(values: dict[str, Any], key: str, default: int) -> int:
    """An integer key, ``default`` when absent or empty; :class:`ConfigError` otherwise."""
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise ConfigError(f"{key} must be an integer, not {raw!r}") from None


def config_flag(values: dict[str, Any], key: str, default: bool) -> bool:
    """A yes/no key: anything but ``no``/``false``/``0``/``off`` is true."""
    raw = values.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    return str(raw).strip().lower() not in _FALSE


def parse_vm_types(values: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``VM_TYPE = [NAME=..., TEMPLATE=...]`` entries by NAME (§1.3)."""
    types: dict[str, dict[str, str]] = {}
    for item in as_list(values.get("VM_TYPE")):
        if isinstance(item, dict) and item.get("NAME"):
            types[item["NAME"]] = item
    return types


def xmlrpc_endpoint(values: dict[str, Any], env: dict[str, str]) -> str:
    """§7 #3: env ``ONE_XMLRPC``, else the config key, else the default."""
    return env.get("ONE_XMLRPC") or str(values.get("ONE_XMLRPC") or "") or DEFAULT_XMLRPC


def location_paths(
    server: str, config_name: str, templates_name: str, env: dict[str, str] | None = None
) -> dict[str, Path]:
    """Spec §1.1: ``config``, ``templates``, ``pid`` and ``log`` of ``<server>``.

    ``server`` is ``econe-server`` or ``occi-server``; ``config_name`` the
    configuration file name; ``templates_name`` the template directory name.
    """
    env = dict(os.environ if env is None else env)
    loc = env.get("ONE_LOCATION")
    if loc:
        base = Path(loc)
        return {
            "config": base / "etc" / config_name,
            "templates": base / "etc" / templates_name,
            "pid": base / "var" / f"{server}.pid",
            "log": base / "var" / f"{server}.log",
        }
    return {
        "config": Path("/etc/one") / config_name,
        "templates": Path("/etc/one") / templates_name,
        "pid": Path("/var/run/one") / f"{server}.pid",
        "log": Path("/var/log/one") / f"{server}.log",
    }


def read_config_file(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError(f"Can not read {path}: {exc.strerror or exc}") from None


@dataclass
class CloudConfig:
    """The settings both cloud servers read (§1.3); a front-end subclass adds its own.

    Subclasses set :attr:`SERVER`, :attr:`CONFIG_NAME` and :attr:`TEMPLATES_NAME`
    (§1.1 names) and may override :meth:`extra_values` for their own keys.
    """

    SERVER: ClassVar[str] = ""
    CONFIG_NAME: ClassVar[str] = ""
    TEMPLATES_NAME: ClassVar[str] = ""

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
    user_cache: float = 2.0
    image_ownership: bool = True

    @classmethod
    def location_paths(cls, env: dict[str, str] | None = None) -> dict[str, Path]:
        """Spec §1.1: config, templates, pid and log, per ``ONE_LOCATION``."""
        return location_paths(cls.SERVER, cls.CONFIG_NAME, cls.TEMPLATES_NAME, env)

    @classmethod
    def extra_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The front-end's own keys, as constructor arguments."""
        return {}

    @classmethod
    def from_text(
        cls, text: str, template_dir: str | Path, env: dict[str, str] | None = None
    ) -> Self:
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
            user_cache=float(config_int(v, "USER_CACHE", 2)),
            image_ownership=config_flag(v, "IMAGE_OWNERSHIP", True),
            **cls.extra_values(v),
        )

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        template_dir: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Self:
        """Read ``path`` (default: §1.1's location); templates from §1.1 unless given."""
        paths = cls.location_paths(env)
        cfg_path = Path(path) if path else paths["config"]
        text = read_config_file(cfg_path)
        if template_dir is None:
            template_dir = cfg_path.parent / cls.TEMPLATES_NAME if path else paths["templates"]
        return cls.from_text(text, template_dir, env)

    def image_repository(self) -> Any:
        """The image repository this configuration names (``DATABASE``, ``IMAGE_DIR``)."""
        from one_cloudkit.images import ImageRepository

        return ImageRepository(self.database, self.image_dir, max_upload=self.max_upload)

    def user_directory(self) -> Any:
        """oned's users, looked up as the configured admin (``USER``/``PASSWORD``)."""
        from one_cloudkit.users import UserDirectory

        return UserDirectory(self.one_xmlrpc, self.user, self.password, ttl=self.user_cache)
