"""``oned``: the daemon (``spec/lifecycle-and-drivers.md`` §9).

Start order: configuration → lock → oned.log → peewee, with the client library of
the configured database only (:mod:`one_core.dbclient`) → oned's own modules
(:func:`load_modules`; a missing one stops oned, naming it) → database (+ oneadmin bootstrap)
→ pools → drivers loaded and validated (sharing one SSH pool behind ``ctx.remote``, see
:mod:`one_core.remote_access`; closed with the drivers) → components (:func:`~one_core.daemon.core.components`:
vnet pool, VM engine, recovery) → services
(monitoring, engine) → the XML-RPC port opens. SIGTERM/SIGINT close the
port, stop the services and drivers, log ``All modules finalized, exiting.``
and remove the lock.

Stop means stop: the graceful part gets ``SHUTDOWN_TIMEOUT`` seconds (8); work
still in flight then (a hung driver) is left for recovery at the next start
and the process ends anyway (``os._exit``: no thread can keep it alive). The
lock file's ``flock`` and the database lock (:mod:`one_core.daemon.dblock`)
are held until the process is gone, so a second oned cannot start on the same
location or the same database (SQLite file or PostgreSQL database) meanwhile.
A database that cannot be opened (corrupt, unreadable) stops the start with
one line naming it and what to do, on stderr and in oned.log.

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
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from one_core.daemon.core import Component, Core, components
from one_core.dbclient import backend_of, import_peewee

if TYPE_CHECKING:
    from one_core.config import OnedConfig
    from one_core.drivers import DriverSet
    from one_core.ha.node import HaNode
    from one_core.logs import VMLogWriter
    from one_core.pools.user import UserPool
    from one_core.rpc.app import RpcServer

__all__ = ["Core", "Daemon", "Locations", "components", "main"]

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


class LogFileHandler(logging.FileHandler):
    """oned.log. A line that cannot be written (a full disk) is not worth a traceback
    on stderr per line, as :class:`logging.Handler` prints: the failure is reported
    once on stderr, and again when lines are written again."""

    def __init__(self, path: str):
        super().__init__(path, encoding="utf-8")
        self.failing: str | None = None
        self._failed_now = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if not self._failed_now and self.failing is not None:
            print(f"oned.log: written again after: {self.failing}", file=sys.stderr)
            self.failing = None

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802  # logging's name
        self._failed_now = True
        if self.failing is None:
            exc = sys.exc_info()[1]
            self.failing = f"{type(exc).__name__}: {exc}"
            print(
                f"oned.log: cannot write ({self.failing}); lines are dropped until it can",
                file=sys.stderr,
            )


def setup_logging(path: str, debug_level: int) -> logging.Handler:
    """oned.log in 1.4's format at ``DEBUG_LEVEL`` (0 ERROR … 3 DEBUG)."""
    from one_core.logs import DEBUG_LEVELS, OneFormatter

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    handler = LogFileHandler(path)
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


def load_configuration(path: str | None, locs: Locations) -> OnedConfig:
    """Load oned.conf: ``path``, else ``<etc>/oned.conf``, else the embedded default."""
    from one_core import config as cfgmod
    from one_core.errors import ConfigError

    try:
        return cfgmod.load_config(path, var_dir=locs.var)
    except (ConfigError, OSError) as exc:
        raise StartupError(cfgmod.startup_error_message(exc).lstrip("\n")) from None


# ---------------------------------------------------------------------------
# oned's own modules
# ---------------------------------------------------------------------------


def load_modules() -> list[Component]:
    """Import every part oned is wired from: DB models, RPC methods, components.

    All are part of one_core, so a missing one is an installation error: it
    stops oned (logged and printed, one line naming the module), never skipped.

    :returns: the components' ``setup`` functions, in order.
    :raises StartupError: a module is missing or fails to import.
    """
    from one_core.db import import_model_modules
    from one_core.rpc.registry import load_methods

    try:
        import_model_modules()
        load_methods()
        return components()
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            problem = f"module {exc.name} is missing"
        else:
            problem = f"{exc.__class__.__name__}: {exc}"
        message = f"Error: Can not start oned, {problem}"
        log.error("%s", message)
        raise StartupError(message) from None


# ---------------------------------------------------------------------------
# the daemon
# ---------------------------------------------------------------------------


class Daemon:
    """One oned: :meth:`start` brings everything up, :meth:`stop` takes it down."""

    def __init__(self, cfg: OnedConfig, locs: Locations, port: int | None = None):
        self.cfg = cfg
        self.locs = locs
        self.port_override = port
        self.lock = LockFile(locs.lock)
        self.core: Core | None = None
        self.server: RpcServer | None = None
        self.drivers: DriverSet | None = None
        self._log_handler: logging.Handler | None = None
        self.db_lock: Any = None
        self.ha: HaNode | None = None
        """The HA node (oned.conf ``HA``; :mod:`one_core.daemon.ha`), else None."""
        self.stopped = threading.Event()

    def start(self) -> None:
        cfg = self.cfg
        self.lock.acquire()
        self._log_handler = setup_logging(os.path.join(self.locs.log, "oned.log"), cfg.debug_level)
        log.info("Starting OpenNebula 1.4.0 (OpenNebula-py)")
        log.info("----------------------------------------")
        log.info("     OpenNebula Configuration File")
        log.info("%s", cfg.template.to_str())
        import_peewee(backend_of(cfg.db))  # SQLite: no PostgreSQL client in memory
        setups = load_modules()
        if cfg.ha is not None:  # several oned on one PostgreSQL database (docs/ha.md)
            from one_core.daemon.ha import start_ha

            start_ha(self, setups)
            return
        fresh = self._open_database(cfg.var_dir)
        if fresh:
            log.info("Bootstraping OpenNebula database.")
        self.build_core(setups, self.make_users())
        assert self.core is not None
        self.core.start_services()
        self._start_rpc()

    def make_users(self) -> UserPool:
        """The user pool (strict mode's password hashing and login guard), oneadmin
        bootstrapped in a fresh database."""
        from one_core.pools.user import BootstrapError, UserPool

        users = UserPool()
        if self.cfg.strict:  # docs/security.md
            from one_core.rpc.security import LoginGuard, RepeatFilter

            users.hash_passwords = True
            users.guard = LoginGuard()
            logging.getLogger("one.ReM").addFilter(RepeatFilter())
        try:
            users.bootstrap()
        except BootstrapError as exc:
            log.error("%s", exc)
            raise StartupError(str(exc)) from None
        return users

    def build_core(self, setups: list[Component], users: UserPool) -> Core:
        """Drivers, the :class:`Core` and its components, monitoring (not started yet)."""
        from one_core.logs import VMLogWriter
        from one_core.pools.host import HostPool

        cfg = self.cfg
        hosts = HostPool()
        hosts.history_retention = cfg.monitoring_history
        vm_log = VMLogWriter(cfg.var_dir)  # one writer for the engine and the drivers' ctx.vm_log
        self.drivers = self._load_drivers(vm_log)
        self.core = Core(
            users=users,
            hosts=hosts,
            cfg=cfg,
            drivers=self.drivers,
            locations=self.locs,
            vm_log=vm_log,
        )
        self.core.run_components(setups)
        if self.core.engine is not None:
            self.core.engine.executor.per_host = cfg.driver_host_threads
        self._add_monitoring()
        return self.core

    def _open_database(self, var_dir: str) -> bool:
        """Lock and open the database; returns whether it was just created."""
        import peewee

        from one_core import db
        from one_core.daemon.dblock import DatabaseInUse, DatabaseLock, describe

        dbobj = db.make_database(self.cfg.db, var_dir=var_dir)
        name = describe(dbobj)
        try:
            self.db_lock = DatabaseLock(dbobj)
            self.db_lock.acquire()
            _, fresh = db.connect(dbobj)
        except DatabaseInUse:
            message = f"Error: Can not start oned, the database {name} is used by another oned"
            log.error("%s", message)
            raise StartupError(message) from None
        except (peewee.PeeweeException, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            message = (
                f"Error: Can not open the database {name} ({reason}): check that it is "
                "readable and writable by oned; if it is corrupt, restore it from a backup "
                "or move it away to start with an empty one"
            )
            log.error("%s", message)
            raise StartupError(message) from None
        return bool(fresh)

    def _load_drivers(self, vm_log: VMLogWriter) -> DriverSet:
        from one_core.drivers import load_drivers
        from one_core.errors import DriverLoadError

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
            self.core.need_engine().work,  # probes on the driver executor, ticks on the dispatcher
            interval=cfg.host_monitoring_interval,
            timer=cfg.manager_timer,
        )
        self.core.im = im
        self.core.add_service(im)

    def _start_rpc(self, core: Core | None = None, refuse: Any = None) -> None:
        """Open the API port serving ``core`` (default: the daemon's); ``refuse``: the
        HA follower's refusal hook (:attr:`one_core.rpc.app.RpcApp.refuse`)."""
        from one_core.rpc.app import RpcApp, RpcServer

        core = core or self.core
        assert core is not None
        port = self.port_override if self.port_override is not None else self.cfg.port
        app = RpcApp(core)
        app.refuse = refuse
        try:
            self.server = RpcServer(
                app,
                port,
                host=self.cfg.listen_address,
                threads=self.cfg.rpc_threads,
                certfile=self.cfg.tls_cert or None,
                keyfile=self.cfg.tls_key or None,
            )
        except OSError as exc:
            log.error("Can not bind to port %s : %s", port, exc.strerror)
            log.error("Could not start the Request Manager")
            raise StartupError(
                f"Can not bind to port {port} : {exc.strerror}\nCould not start the Request Manager"
            ) from None
        log.info("XML-RPC server listening on port %s", self.server.port)
        self.server.start()  # logged first: a client that connects finds the line in oned.log

    def stop(self) -> None:
        """Close the port, stop services and drivers, close the database (may block on
        a hung driver: :meth:`stop_within` bounds it)."""
        from one_core import db

        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.ha is not None:
            self.ha.stop_follower()
        executor = getattr(self.core.engine if self.core else None, "executor", None)
        if executor is not None and hasattr(executor, "close"):
            executor.close()  # queued driver work is dropped (recovery re-issues it)
        if self.core is not None:
            self.core.stop_services()
        if self.drivers is not None:
            try:
                self.drivers.stop()
            except Exception:
                log.exception("Error stopping drivers")
        db.close()
        if self.ha is not None:
            self.ha.stop()  # ends the lock session last: nothing of this node runs after it
        self.finish()

    def finish(self) -> None:
        """Last words: log, close oned.log, remove the lock file (its ``flock`` and the
        database lock go with the process)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        log.info("All modules finalized, exiting.")
        if self._log_handler is not None:
            self._log_handler.flush()
            logging.getLogger("one").removeHandler(self._log_handler)
            self._log_handler.close()
        self.lock.release()

    def stop_within(self, timeout: float) -> bool:
        """:meth:`stop`, giving up after ``timeout`` seconds (work in flight is left
        for recovery); returns whether everything stopped in time."""
        worker = threading.Thread(target=self._stop_quietly, name="oned-stop", daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            log.error(
                "Stopping took more than %s s: in-flight driver actions are left for recovery",
                timeout,
            )
            self.finish()
            return False
        log.debug("Stopped in %.1f s", time.monotonic() - started)
        return True

    def _stop_quietly(self) -> None:
        try:
            self.stop()
        except Exception:
            log.exception("Error while stopping")
            self.finish()


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

    if argv is None:  # the command itself (a test calling main() stays in its process)
        from one_core.daemon.optimize import run_optimized

        run_optimized(sys.argv[1:])  # python -OO: no docstrings in memory (optimize.py)

    from one_core.daemon.malloc import tune_malloc

    tune_malloc()  # big buffers go back to the system; one heap for all threads (decisions.md)
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
    daemon.stop_within(float(daemon.cfg.shutdown_timeout))
    _exit_now(0)
    return 0


def _exit_now(code: int) -> None:
    """End the process now: no driver thread, pool or hung call can keep it alive."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def _safe_stop(daemon: Daemon) -> None:
    try:
        daemon.stop()
    except Exception:
        pass
    finally:
        daemon.lock.release()
