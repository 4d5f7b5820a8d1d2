"""oned.conf: loading, 1.4's defaults and our extensions.

The file is a 1.4 template (``spec/templates-scheduler-vnets-cli.md`` §1.7,
``spec/lifecycle-and-drivers.md`` §9.5): parsed in non-replace mode, single-valued
settings take their first occurrence, a default applies only when the key is absent,
and the driver and hook sections (``IM_MAD``, ``VM_MAD``, ``TM_MAD``, ``HM_MAD``,
``VM_HOOK``) are kept in order, every one of them.

Our extensions (docs/decisions/templates.md):

``DB = [ backend = "sqlite", path = "one.db" ]``
    or ``[ backend = "postgresql", host = ..., port = ..., user = ..., password = ...,
    name = ... ]``.  Default: SQLite at ``<var_dir>/one.db``; a relative ``path`` is
    relative to the var directory.
``SCHED = [ name = "rank", mode = "internal", interval = 30 ]``
    the scheduler driver (entry-point name in ``one.sched``), ``internal`` (run by
    oned) or ``external`` (an ``mm_sched`` process places the VMs), and the seconds
    between scheduling cycles (0: no periodic cycle).  Other keys go to the driver.
``RPC_THREADS = 8`` / ``DRIVER_THREADS = 16``
    the XML-RPC server's worker threads and the driver-call thread pool.
``DRIVER_HOST_THREADS = 4``
    at most this many driver calls in flight for one host (a sick host cannot take
    every driver thread).
``SHUTDOWN_TIMEOUT = 8``
    seconds SIGTERM waits for in-flight work; then oned exits anyway (recovery
    takes the rest over at the next start).
``API_SECURITY = "1.4"`` (default) or ``"strict"``
    strict: every method authenticates and authorises, failed logins are
    rate-limited (docs/security.md).
``MONITORING_HISTORY = 86400``
    seconds of host monitoring history kept for ``one.host.monitoring`` and the web
    dashboard's plots (``0``: none kept).
``LISTEN_ADDRESS``
    the address the XML-RPC port binds (default ``0.0.0.0`` in 1.4 mode,
    ``127.0.0.1`` in strict mode).
``TLS_CERT`` / ``TLS_KEY``
    PEM certificate and key files: the XML-RPC port speaks HTTPS.
``HA = [ node = "a", endpoint = "http://a:2633/RPC2", lease = 3 ]``
    high availability on PostgreSQL (docs/ha.md): several oned share one database,
    one leads; absent, oned runs alone exactly as without it.
Driver sections (``IM_MAD``, ``VM_MAD``, ``TM_MAD``) take ``TIMEOUT`` (seconds
for any action) and ``TIMEOUT_<ACTION>`` (``TIMEOUT_DEPLOY``); defaults per role
in :mod:`one_core.engine.executor`.

Unknown top-level keys are logged as warnings (and kept in :attr:`OnedConfig.warnings`);
malformed values raise :class:`~one_core.errors.ConfigError` naming the key and line.
A syntax error raises :class:`~one_core.errors.ConfigError` whose message is the
parser's, e.g. ``syntax error, unexpected ... at line 3, columns 40:41``; oned prints
it after ``Error while parsing configuration file:`` (:func:`startup_error_message`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from one_core.dbclient import backend_of
from one_core.errors import ConfigError
from one_core.template import Template, TemplateSyntaxError
from one_core.template.parser import parse_into

log = logging.getLogger("one.ONE")

PARSE_ERROR_PREFIX = "Error while parsing configuration file:"
"""What 1.4 printed before the parser's message (src/nebula/NebulaTemplate.cc)."""

ROLE_SECTIONS: dict[str, str] = {"im": "IM_MAD", "vmm": "VM_MAD", "tm": "TM_MAD", "hm": "HM_MAD"}
"""oned.conf section of each driver role."""

DEFAULTS: dict[str, str] = {
    "VM_POLLING_INTERVAL": "300",
    "MANAGER_TIMER": "30",
    "HOST_MONITORING_INTERVAL": "300",
    "PORT": "2633",
    "MAC_PREFIX": "00:01",
    "NETWORK_SIZE": "254",
    # 1.4 meant WARNING but stored the string "\x01", which read as ERROR (0)
    # [QUIRK, not reproduced: docs/decisions/templates.md]
    "DEBUG_LEVEL": "1",
}
"""1.4's defaults (VM_DIR, the var directory, is added per configuration)."""

DEFAULT_RPC_THREADS = 8
DEFAULT_DRIVER_THREADS = 16
DEFAULT_DRIVER_HOST_THREADS = 4
DEFAULT_SHUTDOWN_TIMEOUT = 8
API_SECURITY_MODES = ("1.4", "strict")
DEFAULT_SCHED = {"NAME": "rank", "MODE": "internal", "INTERVAL": "30"}
SCHED_MODES = ("internal", "external")

KNOWN_KEYS = frozenset(
    {
        *DEFAULTS,
        "VM_DIR",
        *ROLE_SECTIONS.values(),
        "VM_HOOK",
        "DB",
        "SCHED",
        "RPC_THREADS",
        "DRIVER_THREADS",
        "DRIVER_TRACE",
        "DRIVER_HOST_THREADS",
        "SHUTDOWN_TIMEOUT",
        "API_SECURITY",
        "MONITORING_HISTORY",
        "LISTEN_ADDRESS",
        "TLS_CERT",
        "TLS_KEY",
        "HA",
    }
)
"""Top-level keys oned knows; any other one gets a warning."""

_VECTOR_KEYS = frozenset({*ROLE_SECTIONS.values(), "VM_HOOK", "DB", "SCHED", "HA"})
_MAC_PREFIX = re.compile(r"[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}")

DEFAULT_ONED_CONF = """\
#*******************************************************************************
#                   OpenNebula-py embedded default configuration
#
# Used when no oned.conf exists ($ONE_LOCATION/etc/oned.conf, /etc/one/oned.conf):
# a SQLite database, the dummy drivers (no hypervisor needed) and the in-daemon
# rank scheduler. Copy it to oned.conf and edit it to use real drivers.
#*******************************************************************************

#-------------------------------------------------------------------------------
# Daemon configuration attributes (1.4)
#-------------------------------------------------------------------------------
HOST_MONITORING_INTERVAL = 60
VM_POLLING_INTERVAL      = 60
#VM_DIR=/srv/cloud/one/var
PORT=2633
DEBUG_LEVEL=3
NETWORK_SIZE = 254
MAC_PREFIX   = "00:03"

#-------------------------------------------------------------------------------
# OpenNebula-py extensions
#   DB: backend = "sqlite" (path, default <var>/one.db) or "postgresql"
#       (host, port, user, password, name)
#   SCHED: scheduler driver, mode "internal" (in oned) or "external" (mm_sched),
#          interval in seconds between scheduling cycles
#-------------------------------------------------------------------------------
DB = [ backend = "sqlite" ]

SCHED = [ name = "rank", mode = "internal", interval = 30 ]

RPC_THREADS    = 8
DRIVER_THREADS = 16

#-------------------------------------------------------------------------------
# Drivers: "driver" names the entry point (one.im, one.vmm, one.tm, one.hm)
#-------------------------------------------------------------------------------
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
HM_MAD = [ executable = "one_hm" ]

#-------------------------------------------------------------------------------
# Hooks, e.g.:
#VM_HOOK = [
#    name      = "mail",
#    on        = "running",
#    command   = "/usr/local/one/bin/send_mail",
#    arguments = "$VMID $NAME",
#    remote    = "no" ]
#-------------------------------------------------------------------------------
"""
"""The embedded default oned.conf (SQLite, dummy IM/VMM/TM drivers, rank scheduler)."""


# ---------------------------------------------------------------------------
# locations (spec/lifecycle-and-drivers.md §9.7)
# ---------------------------------------------------------------------------


def one_location() -> str | None:
    """``$ONE_LOCATION`` (self-contained install), or None for a system-wide one."""
    return os.environ.get("ONE_LOCATION") or None


def etc_location() -> str:
    """``$ONE_LOCATION/etc`` or ``/etc/one``."""
    loc = one_location()
    return os.path.join(loc, "etc") if loc else "/etc/one"


def var_location() -> str:
    """``$ONE_LOCATION/var`` or ``/var/lib/one`` (no trailing slash)."""
    loc = one_location()
    return os.path.join(loc, "var") if loc else "/var/lib/one"


def config_path() -> str:
    """Where oned reads its configuration: ``<etc>/oned.conf``."""
    return os.path.join(etc_location(), "oned.conf")


def startup_error_message(exc: BaseException) -> str:
    """What 1.4 printed when oned.conf could not be loaded."""
    return f"\n{PARSE_ERROR_PREFIX}\n{exc}\nCould not load nebula configuration file."


# ---------------------------------------------------------------------------
# the configuration object
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HaSettings:
    """oned.conf ``HA = [ node = "a", endpoint = "http://a:2633/RPC2", lease = 3 ]``."""

    node: str
    endpoint: str
    lease: float = 3.0


class OnedConfig:
    """A loaded oned.conf with 1.4's defaults applied and every setting checked.

    :ivar template: the whole file as a :class:`Template`, with 1.4's defaults added
        for absent keys (as NebulaTemplate did; the oned.log dump shows them).
    :ivar path: the file it came from (None for text / the embedded default).
    :ivar var_dir: VAR: database, VM directories, logs.
    :ivar etc_dir: where relative driver files (ARGUMENTS, DEFAULT) are looked up:
        the directory of the file, else ``$ONE_LOCATION/etc`` or ``/etc/one``.
    :ivar warnings: the warnings logged while loading (unknown keys...).
    """

    def __init__(
        self,
        template: Template,
        *,
        var_dir: str | None = None,
        etc_dir: str | None = None,
        path: str | None = None,
        lines: list[int] | None = None,
    ) -> None:
        self.template: Template = template
        self.path: str | None = path
        self.var_dir: str = var_dir or var_location()
        self.etc_dir: str = (
            etc_dir or (os.path.dirname(os.path.abspath(path)) if path else None) or etc_location()
        )
        self.warnings: list[str] = []
        self._lines = list(lines) if lines is not None else []
        self._check_keys()
        self._apply_defaults()

        self.port: int = self._int("PORT", minimum=1, maximum=65535)
        self.host_monitoring_interval: int = self._int("HOST_MONITORING_INTERVAL", minimum=0)
        self.vm_polling_interval: int = self._int("VM_POLLING_INTERVAL", minimum=0)
        self.manager_timer: int = self._int("MANAGER_TIMER", minimum=1)
        self.network_size: int = self._int("NETWORK_SIZE", minimum=1)
        self.debug_level: int = self._int("DEBUG_LEVEL")
        self.mac_prefix: str = self._single("MAC_PREFIX").strip()
        if not _MAC_PREFIX.fullmatch(self.mac_prefix):
            self._fail("MAC_PREFIX", f"{self.mac_prefix!r} is not two hex bytes like 00:03")
        self.vm_dir: str = self._single("VM_DIR") or self.var_dir
        self.rpc_threads: int = self._int("RPC_THREADS", minimum=1, default=DEFAULT_RPC_THREADS)
        self.driver_threads: int = self._int(
            "DRIVER_THREADS", minimum=1, default=DEFAULT_DRIVER_THREADS
        )
        self.driver_host_threads: int = self._int(
            "DRIVER_HOST_THREADS", minimum=1, default=DEFAULT_DRIVER_HOST_THREADS
        )
        self.shutdown_timeout: int = self._int(
            "SHUTDOWN_TIMEOUT", minimum=0, default=DEFAULT_SHUTDOWN_TIMEOUT
        )
        self.api_security: str = (self._single("API_SECURITY") or "1.4").strip().lower()
        if self.api_security not in API_SECURITY_MODES:
            self._fail("API_SECURITY", f'{self.api_security!r} is not one of "1.4", "strict"')
        self.strict: bool = self.api_security == "strict"
        self.monitoring_history: int = self._int("MONITORING_HISTORY", minimum=0, default=86400)
        self.listen_address: str = self._single("LISTEN_ADDRESS").strip() or (
            "127.0.0.1" if self.strict else "0.0.0.0"
        )
        self.tls_cert: str = self._path("TLS_CERT")
        self.tls_key: str = self._path("TLS_KEY")
        if bool(self.tls_cert) != bool(self.tls_key):
            self._fail(
                "TLS_CERT" if not self.tls_cert else "TLS_KEY",
                "TLS needs both TLS_CERT and TLS_KEY",
            )
        self._sections = {role: self._driver_sections(role) for role in ROLE_SECTIONS}
        self.vm_hooks: list[dict[str, str]] = [dict(v) for v in self._vectors("VM_HOOK")]
        self.db: dict[str, Any] = self._db()
        self.sched: dict[str, str] = self._sched()
        self.sched_mode: str = self.sched["MODE"]
        self.sched_interval: int = int(self.sched["INTERVAL"])
        self.ha: HaSettings | None = self._ha()

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_text(
        cls,
        text: str,
        var_dir: str | None = None,
        *,
        etc_dir: str | None = None,
        path: str | None = None,
    ) -> OnedConfig:
        """Load oned.conf from its text; ConfigError on a syntax error or a bad setting."""
        template = Template()
        lines: list[int] = []
        try:
            parse_into(template, text, lines)
        except TemplateSyntaxError as exc:
            raise ConfigError(str(exc)) from exc
        return cls(template, var_dir=var_dir, etc_dir=etc_dir, path=path, lines=lines)

    # ------------------------------------------------------------------ API

    def drivers(self, role: str) -> list[dict[str, str]]:
        """The raw sections of a role (``im``, ``vmm``, ``tm``, ``hm``), in file order.

        Keys are upper-case as parsed (``NAME``, ``EXECUTABLE``, ``DRIVER``...); the
        lead's :mod:`one_core.drivers` maps them to entry points.
        """
        if role not in self._sections:
            raise KeyError(f"unknown driver role {role!r} (one of {', '.join(ROLE_SECTIONS)})")
        return [dict(s) for s in self._sections[role]]

    def line_of(self, name: str, index: int = 0) -> int | None:
        """The line of the ``index``-th attribute called ``name`` in the file, if known."""
        name = name.upper()
        seen = 0
        for i, (n, _v) in enumerate(self.template.attributes):
            if n == name:
                if seen == index:
                    return self._lines[i] if i < len(self._lines) else None
                seen += 1
        return None

    def __repr__(self) -> str:
        return f"OnedConfig(path={self.path!r}, var_dir={self.var_dir!r}, port={self.port})"

    # ------------------------------------------------------------------ helpers

    def _where(self, name: str, index: int = 0) -> str:
        line = self.line_of(name, index)
        source = self.path or "oned.conf"
        return f"{source}, line {line}" if line is not None else source

    def _fail(self, name: str, problem: str, index: int = 0) -> NoReturn:
        raise ConfigError(f"{self._where(name, index)}: {name}: {problem}")

    def _check_keys(self) -> None:
        seen: dict[str, int] = {}
        for i, (name, value) in enumerate(self.template.attributes):
            index = seen[name] = seen.get(name, -1) + 1
            if name not in KNOWN_KEYS:
                line = self._lines[i] if i < len(self._lines) else None
                where = f"line {line}" if line is not None else "oned.conf"
                message = f"Unknown attribute {name} in oned.conf ({where}), ignored"
                self.warnings.append(message)
                log.warning("%s", message)
                continue
            is_vector = isinstance(value, dict)
            if name in _VECTOR_KEYS and not is_vector:
                self._fail(name, "must be a vector attribute: NAME = [ key = value, ... ]", index)
            if name not in _VECTOR_KEYS and is_vector:
                self._fail(name, "must be a single value, not a vector", index)

    def _apply_defaults(self) -> None:
        for name, value in DEFAULTS.items():
            if name not in self.template:
                self.template.add(name, value)
        if "VM_DIR" not in self.template:
            self.template.add("VM_DIR", self.var_dir)

    def _single(self, name: str) -> str:
        return self.template.get(name)

    def _path(self, name: str) -> str:
        """A file setting: relative to the configuration's directory; "" when absent."""
        raw = self._single(name).strip()
        if not raw:
            return ""
        path = raw if os.path.isabs(raw) else os.path.join(self.etc_dir, raw)
        if not os.path.isfile(path):
            self._fail(name, f"file {path} not found")
        return path

    def _int(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> int:
        if default is not None and name not in self.template:
            return default
        raw = self._single(name).strip()
        if not re.fullmatch(r"[+-]?[0-9]+", raw):
            self._fail(name, f"{raw!r} is not an integer")
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
            self._fail(name, f"{value} is out of range ({bounds})")
        return value

    def _vectors(self, name: str) -> list[dict[str, str]]:
        return self.template.vectors(name)

    def _driver_sections(self, role: str) -> list[dict[str, str]]:
        key = ROLE_SECTIONS[role]
        sections = self._vectors(key)
        names: set[str] = set()
        for index, section in enumerate(sections):
            if role != "hm" and not section.get("NAME", "").strip():
                self._fail(key, "missing NAME (Wrong attributes for the driver)", index)
            if not (section.get("EXECUTABLE", "").strip() or section.get("DRIVER", "").strip()):
                self._fail(
                    key,
                    "needs EXECUTABLE (1.4) or DRIVER (entry-point name) "
                    "(Wrong attributes for the driver)",
                    index,
                )
            name = section.get("NAME", "").strip()
            if name and name in names:
                self._fail(key, f"driver name {name!r} is defined twice", index)
            names.add(name)
        return sections

    def _db(self) -> dict[str, Any]:
        sections = self._vectors("DB")
        opts: dict[str, Any] = {k.lower(): v for k, v in (sections[0] if sections else {}).items()}
        backend = backend_of(opts)  # one rule for the spellings (oned reads it early too)
        if backend not in ("sqlite", "postgresql"):
            self._fail("DB", f"unknown backend {backend!r} (use sqlite or postgresql)")
        opts["backend"] = backend
        if backend == "sqlite":
            path = str(opts.get("path") or "").strip() or "one.db"
            opts["path"] = path if os.path.isabs(path) else os.path.join(self.var_dir, path)
        else:
            port = str(opts.get("port") or "5432").strip()
            if not port.isdigit() or not 0 < int(port) < 65536:
                self._fail("DB", f"port {port!r} is not a TCP port")
            opts["port"] = int(port)
            opts.setdefault("host", "localhost")
            opts.setdefault("user", "oneadmin")
            opts.setdefault("password", "")
            opts["name"] = (
                opts.get("name") or opts.get("database") or opts.get("db_name") or ("opennebula")
            )
        return opts

    def _ha(self) -> HaSettings | None:
        """The ``HA = [ node, endpoint, lease ]`` section (docs/ha.md); None without one."""
        sections = self._vectors("HA")
        if not sections:
            return None
        opts = {k.lower(): str(v).strip() for k, v in sections[0].items()}
        unknown = sorted(set(opts) - {"node", "endpoint", "lease"})
        if unknown:
            self._fail("HA", f"unknown key(s) {', '.join(unknown)} (use node, endpoint, lease)")
        node = opts.get("node", "")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,50}", node):
            self._fail("HA", f"node {node!r} must be 1-50 letters, digits, '.', '_' or '-'")
        endpoint = opts.get("endpoint", "")
        if not re.fullmatch(r"https?://[^\s,]+", endpoint):
            self._fail("HA", f"endpoint {endpoint!r} is not an http(s):// URL")
        try:
            lease = float(opts.get("lease") or 3)
        except ValueError:
            self._fail("HA", f"lease {opts.get('lease')!r} is not a number of seconds")
        if not 0.5 <= lease <= 300:
            self._fail("HA", f"lease {lease} must be between 0.5 and 300 seconds")
        if self.db.get("backend") != "postgresql":
            self._fail("HA", 'needs the PostgreSQL database (DB = [ backend = "postgresql", ... ])')
        return HaSettings(node=node, endpoint=endpoint, lease=lease)

    def _sched(self) -> dict[str, str]:
        sections = self._vectors("SCHED")
        sched = dict(DEFAULT_SCHED)
        if sections:
            sched.update(sections[0])
        sched["MODE"] = sched["MODE"].strip().lower()
        if sched["MODE"] not in SCHED_MODES:
            self._fail("SCHED", f"mode {sched['MODE']!r} is not internal or external")
        interval = sched["INTERVAL"].strip()
        if not interval.isdigit():
            self._fail("SCHED", f"interval {interval!r} is not a number of seconds")
        sched["INTERVAL"] = interval
        if not sched["NAME"].strip():
            self._fail("SCHED", "empty name")
        return sched


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def default_config(var_dir: str | None = None) -> OnedConfig:
    """The embedded :data:`DEFAULT_ONED_CONF`."""
    return OnedConfig.from_text(DEFAULT_ONED_CONF, var_dir=var_dir)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    var_dir: str | None = None,
    etc_dir: str | None = None,
) -> OnedConfig:
    """Load oned.conf.

    ``path`` None means ``$ONE_LOCATION/etc/oned.conf`` or ``/etc/one/oned.conf``,
    and the embedded default when that file does not exist.  An explicit path that
    cannot be read raises ConfigError ``Error opening template file`` (as 1.4).
    """
    if path is None:
        candidate = config_path()
        if not os.path.exists(candidate):
            return default_config(var_dir)
        path = candidate
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError("Error opening template file") from exc
    return OnedConfig.from_text(text, var_dir, etc_dir=etc_dir, path=path)
