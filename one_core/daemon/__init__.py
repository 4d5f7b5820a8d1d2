"""``oned``: the daemon (``spec/lifecycle-and-drivers.md`` §9).

Start order: configuration → lock → oned.log → database (+ oneadmin bootstrap)
→ pools → drivers loaded and validated → components (``COMPONENTS`` in
:mod:`one_core.daemon.core`: vnet pool, VM engine, recovery) → services
(monitoring, engine) → the XML-RPC port opens. SIGTERM/SIGINT close the
port, stop the services and drivers, log ``All modules finalized, exiting.``
and remove the lock.

Locations (§9.7): with ``$ONE_LOCATION`` the config is
``$ONE_LOCATION/etc/oned.conf``, VAR, oned.log and the lock
(``$ONE_LOCATION/var/.lock``) live in ``$ONE_LOCATION/var``; without it
``/etc/one/oned.conf``, ``/var/lib/one``, ``/var/log/one`` and ``/var/lock/one/one``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any

from one_core.daemon.core import COMPONENTS, Core

__all__ = ["COMPONENTS", "Core", "Daemon", "Locations", "main"]

VERSION_TEXT = """OpenNebula 1.4.0 (OpenNebula-py)
Copyright 2002-2010, Distributed Systems Architecture Group, Universidad
Complutense de Madrid (dsa-research.org)

Licensed under the Apache License, Version 2.0 (the "License"); you may
not use this file except in compliance with the License. You may obtain
a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""

USAGE = "usage: oned [-h] [-v] [-f] [--config PATH] [--list-drivers]"

log = logging.getLogger("one.ONE")

ONE_MODULES = frozenset(
    {"ONE", "ReM", "InM", "VMM", "LCM", "DiM", "TM", "HKM", "VM", "POOL", "SCHED", "TrM"}
)
"""1.4 log modules: a logger ``one.<module>`` writes ``[<module>]`` with this case."""


class StartupError(Exception):
    """oned cannot start; the message is printed and logged, exit status 1."""


@dataclass
class Locations:
    """Where oned's files are (§9.7)."""

    etc: str
    var: str
    log: str
    lock: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Locations:
        env = dict(os.environ if env is None else env)
        loc = env.get("ONE_LOCATION")
        if loc:
            var = os.path.join(loc, "var")
            return cls(os.path.join(loc, "etc"), var, var, os.path.join(var, ".lock"))
        return cls("/etc/one", "/var/lib/one", "/var/log/one", "/var/lock/one/one")


# ---------------------------------------------------------------------------
# lock file
# ---------------------------------------------------------------------------


class LockFile:
    """Exclusive lock: the file holds oned's pid and an ``flock``.

    1.4 used ``O_CREAT|O_EXCL`` and its start script removed a stale lock when
    no oned ran; here a lock file whose ``flock`` can be taken is stale (its
    oned died, e.g. ``kill -9``) and is taken over.
    """

    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o640)
        except OSError:
            raise StartupError(
                f"Error: Can not start oned, opening lock file {self.path}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StartupError(
                    f"Error: Can not start oned, opening lock file {self.path}"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


# ---------------------------------------------------------------------------
# logging
# ---------------------------------------------------------------------------


class _ModuleFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "one_module", None):
            last = record.name.rsplit(".", 1)[-1]
            if last in ONE_MODULES:
                record.one_module = last
        return True


def setup_logging(path: str, debug_level: int) -> logging.Handler:
    """oned.log in 1.4's format at ``DEBUG_LEVEL`` (0 ERROR … 3 DEBUG)."""
    from one_core.logs import DEBUG_LEVELS, OneFormatter

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(OneFormatter())
    handler.addFilter(_ModuleFilter())
    root = logging.getLogger("one")
    root.addHandler(handler)
    root.setLevel(DEBUG_LEVELS.get(debug_level, logging.ERROR))
    root.propagate = False
    return handler


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


def load_configuration(path: str | None, locs: Locations) -> Any:
    """Load oned.conf: ``path``, else ``<etc>/oned.conf``, else the embedded default."""
    from one_core import config as cfgmod
    from one_core.errors import ConfigError

    try:
        return cfgmod.load_config(path, var_dir=locs.var)
    except (ConfigError, OSError) as exc:
        raise StartupError(cfgmod.startup_error_message(exc).lstrip("\n")) from None


def _cfg(cfg: Any, name: str, default: Any) -> Any:
    value = getattr(cfg, name, None)
    return default if value is None else value


# ---------------------------------------------------------------------------
# the daemon
# ---------------------------------------------------------------------------


class Daemon:
    """One oned: :meth:`start` brings everything up, :meth:`stop` takes it down."""

    def __init__(self, cfg: Any, locs: Locations, port: int | None = None):
        self.cfg = cfg
        self.locs = locs
        self.port_override = port
        self.lock = LockFile(locs.lock)
        self.core: Core | None = None
        self.server: Any = None
        self.drivers: Any = None
        self._log_handler: logging.Handler | None = None
        self.stopped = threading.Event()

    def start(self) -> None:
        from one_core import db
        from one_core.pools.host import HostPool
        from one_core.pools.user import BootstrapError, UserPool

        cfg = self.cfg
        self.lock.acquire()
        self._log_handler = setup_logging(
            os.path.join(self.locs.log, "oned.log"), int(_cfg(cfg, "debug_level", 0))
        )
        log.info("Starting OpenNebula 1.4.0 (OpenNebula-py)")
        log.info("----------------------------------------")
        template = getattr(cfg, "template", None)
        if template is not None and hasattr(template, "to_str"):
            log.info("     OpenNebula Configuration File")
            log.info("%s", template.to_str())
        var_dir = str(_cfg(cfg, "var_dir", self.locs.var))
        _, fresh = db.connect(_cfg(cfg, "db", {}), var_dir=var_dir)
        if fresh:
            log.info("Bootstraping OpenNebula database.")
        users = UserPool()
        try:
            users.bootstrap()
        except BootstrapError as exc:
            log.error("%s", exc)
            raise StartupError(str(exc)) from None
        hosts = HostPool()
        from one_core.logs import VMLogWriter

        vm_log = VMLogWriter(var_dir)  # one writer for the engine and the drivers' ctx.vm_log
        self.drivers = self._load_drivers(vm_log)
        self.core = Core(users=users, hosts=hosts, cfg=cfg, drivers=self.drivers)
        self.core.extras["locations"] = self.locs
        self.core.extras["vm_log"] = vm_log
        skipped = self.core.run_components()
        for entry in skipped:
            log.debug("Component %s not installed", entry)
        self._add_monitoring()
        self.core.start_services()
        self._start_rpc()

    def _load_drivers(self, vm_log: Any = None) -> Any:
        from one_core.errors import DriverLoadError

        try:
            from one_core.drivers import load_drivers
        except ImportError as exc:  # pragma: no cover - drivers.py is part of one_core
            raise StartupError(f"Cannot load drivers: {exc}") from None
        try:
            drivers = load_drivers(self.cfg, vm_log_func=vm_log)
            drivers.start()
        except (DriverLoadError, Exception) as exc:
            log.error("Could not load drivers: %s", exc)
            raise StartupError(f"Could not load drivers: {exc}") from None
        for d in drivers.drivers.values():
            log.info("Loaded %s driver %s (%s)", d.role, d.name, d.spec.driver)
        return drivers

    def _add_monitoring(self) -> None:
        from one_core.im_manager import InformationManager

        assert self.core is not None
        cfg = self.cfg
        im = InformationManager(
            self.core.hosts,
            self.drivers,
            interval=int(_cfg(cfg, "host_monitoring_interval", 300)),
            timer=int(_cfg(cfg, "manager_timer", 30)),
            threads=int(_cfg(cfg, "driver_threads", 16)),
        )
        self.core.pools.setdefault("im", im)
        self.core.add_service(im)

    def _start_rpc(self) -> None:
        from one_core.rpc.app import RpcApp, RpcServer, load_method_modules

        assert self.core is not None
        missing = load_method_modules()
        for name in missing:
            log.debug("Method module %s not installed", name)
        port = (
            self.port_override
            if self.port_override is not None
            else int(_cfg(self.cfg, "port", 2633))
        )
        app = RpcApp(self.core)
        try:
            self.server = RpcServer(app, port, threads=int(_cfg(self.cfg, "rpc_threads", 8)))
        except OSError as exc:
            log.error("Can not bind to port %s : %s", port, exc.strerror)
            log.error("Could not start the Request Manager")
            raise StartupError(
                f"Can not bind to port {port} : {exc.strerror}\nCould not start the Request Manager"
            ) from None
        self.server.start()
        log.info("XML-RPC server listening on port %s", self.server.port)

    def stop(self) -> None:
        from one_core import db

        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.core is not None:
            self.core.stop_services()
        if self.drivers is not None:
            try:
                self.drivers.stop()
            except Exception:
                log.exception("Error stopping drivers")
        db.close()
        log.info("All modules finalized, exiting.")
        if self._log_handler is not None:
            self._log_handler.flush()
            logging.getLogger("one").removeHandler(self._log_handler)
            self._log_handler.close()
        self.lock.release()
        self.stopped.set()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oned", add_help=False, usage=USAGE[7:])
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("-v", "--version", action="store_true")
    p.add_argument("-f", "--foreground", action="store_true")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--port", type=int, help="override PORT of oned.conf")
    p.add_argument("--list-drivers", action="store_true")
    return p


class _UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    """The ``oned`` command. Always runs in the foreground (``-f`` is accepted)."""
    parser = _parser()
    parser.error = lambda message: (_ for _ in ()).throw(_UsageError(message))  # type: ignore[method-assign]
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except _UsageError:
        print(USAGE, file=sys.stderr)
        return 1
    if args.help:
        print(USAGE)
        return 0
    if args.version:
        print(VERSION_TEXT, end="")
        return 0
    if args.list_drivers:
        from one_core.drivers import list_installed

        print(list_installed())
        return 0

    locs = Locations.from_env()
    daemon: Daemon | None = None
    try:
        cfg = load_configuration(args.config, locs)
        daemon = Daemon(cfg, locs, port=args.port)
        stop = threading.Event()

        def _on_signal(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        daemon.start()
        while not stop.wait(1.0):
            pass
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        if daemon is not None:
            _safe_stop(daemon)
        return 1
    daemon.stop()
    return 0


def _safe_stop(daemon: Daemon) -> None:
    try:
        daemon.stop()
    except Exception:
        pass
    finally:
        daemon.lock.release()
