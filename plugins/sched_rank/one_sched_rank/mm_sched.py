"""``mm_sched [-p port] [-t timer]``: the scheduler as a separate process.

Behaves as 1.4's ``mm_sched`` (``spec/templates-scheduler-vnets-cli.md``
§3.1-§3.3, §3.7) with one deliberate difference: 1.4 read hosts and pending
VMs straight from oned's SQLite file; this one asks oned over XML-RPC
(``one.hostpool.info`` + ``one.host.info`` per enabled host,
``one.vmpool.info(-2)`` + ``one.vm.info`` per pending VM), so it works with
any database backend. Placement is the same code as the in-process
``rank`` driver (:mod:`.policy`); each placement is deployed with
``one.vm.deploy(session, vid, hid)``.
"""

from __future__ import annotations

import getopt
import hashlib
import logging
import os
import pwd
import signal
import sys
import threading
import xmlrpc.client
from collections.abc import Sequence
from typing import Any

from one_core.api import (
    LEVEL_LETTERS,
    DriverContext,
    HostSnapshot,
    PendingVM,
    VmState,
    cnum,
    format_line,
)
from one_sched_rank import xmlrecords
from one_sched_rank.policy import dispatch, plan

DEFAULT_PORT = 2633
DEFAULT_TIMER = 30
_LETTERS = {v: k for k, v in LEVEL_LETTERS.items()}


class UsageError(Exception):
    """Bad command line (exit 255 after the usage line)."""


class AuthError(Exception):
    """ONE_AUTH problems; the message is 1.4's."""


# ---------------------------------------------------------------------------
# command line, credentials, locations
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> tuple[int, int]:
    """``getopt(argc, argv, "p:t:")``: (port, timer). Values go through ``cnum.atoi``."""
    prog = argv[0] if argv else "mm_sched"
    try:
        opts, _ = getopt.gnu_getopt(list(argv[1:]), "p:t:")
    except getopt.GetoptError as exc:
        opt = exc.opt or "?"
        if "requires argument" in exc.msg:
            sys.stderr.write(f"{prog}: option requires an argument -- '{opt}'\n")
        else:
            sys.stderr.write(f"{prog}: invalid option -- '{opt}'\n")
        raise UsageError(f"usage: {prog} [-p port] [-t timer]") from exc
    port, timer = DEFAULT_PORT, DEFAULT_TIMER
    for opt, value in opts:
        if opt == "-p":
            port = cnum.atoi(value)
        else:
            timer = cnum.atoi(value)
    return port, timer


def read_session(environ: dict[str, str] | None = None) -> str:
    """``user:sha1(password)`` from ``$ONE_AUTH`` or ``~/.one/one_auth`` (§3.2)."""
    env = os.environ if environ is None else environ
    path = env.get("ONE_AUTH")
    if not path:
        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError as exc:
            raise AuthError("Could not get one_auth file location") from exc
        path = os.path.join(home, ".one", "one_auth")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            line = fh.readline()
    except OSError as exc:
        raise AuthError("Could not open $ONE_AUTH file") from exc
    if not line:
        raise AuthError("Error reading $ONE_AUTH file")
    line = line.rstrip("\n")
    if ":" not in line:
        raise AuthError("Wrong format must be <username>:<password>")
    user, password = line.split(":", 1)
    digest = hashlib.sha1(password.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{user}:{digest}"


def log_location(environ: dict[str, str] | None = None) -> str:
    """``$ONE_LOCATION/var/sched.log`` or ``/var/log/one/sched.log``."""
    env = os.environ if environ is None else environ
    loc = env.get("ONE_LOCATION")
    return os.path.join(loc, "var", "sched.log") if loc else "/var/log/one/sched.log"


def vm_log_location(vid: int, environ: dict[str, str] | None = None) -> str:
    """``$ONE_LOCATION/var/<vid>/vm.log`` or ``/var/log/one/<vid>.log``."""
    env = os.environ if environ is None else environ
    loc = env.get("ONE_LOCATION")
    if loc:
        return os.path.join(loc, "var", str(vid), "vm.log")
    return f"/var/log/one/{vid}.log"


# ---------------------------------------------------------------------------
# logging
# ---------------------------------------------------------------------------


class SchedLogHandler(logging.Handler):
    """Appends 1.4-format lines (``<ctime> [MODULE][L]: message``) to sched.log."""

    def __init__(self, path: str):
        super().__init__(logging.DEBUG)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.path = path
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def emit(self, record: logging.LogRecord) -> None:
        module = getattr(record, "one_module", None) or "SCHED"
        letter = _LETTERS.get(record.levelno, "E" if record.levelno > logging.ERROR else "D")
        try:
            self._fh.write(format_line(module, letter, record.getMessage(), record.created))
            self._fh.flush()
        except Exception:  # pragma: no cover - logging must never kill the loop
            self.handleError(record)

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()


def make_logger(path: str) -> logging.Logger:
    """A logger for sched.log (its own, not propagated)."""
    logger = logging.getLogger(f"one.mm_sched.{path}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    logger.addHandler(SchedLogHandler(path))
    return logger


def _vm_log_writer(environ: dict[str, str] | None = None):
    def write(vid: int, module: str, level: str, message: str) -> None:
        path = vm_log_location(vid, environ)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(format_line(module, level, message))
        except OSError:
            pass

    return write


# ---------------------------------------------------------------------------
# one cycle
# ---------------------------------------------------------------------------


class RPCFailure(Exception):
    """An info call answered ``[false, message]``."""


class Scheduler:
    """Fetches the pools, places the pending VMs and deploys them."""

    def __init__(self, endpoint: str, session: str, ctx: DriverContext, proxy: Any | None = None):
        self.endpoint = endpoint
        self.session = session
        self.ctx = ctx
        self.proxy = proxy or xmlrpc.client.ServerProxy(endpoint, allow_none=False)

    def _log(self, module: str, level: int, message: str) -> None:
        self.ctx.log.log(level, message, extra={"one_module": module})

    def _call(self, method: str, *args: Any) -> Any:
        result = getattr(self.proxy, method)(self.session, *args)
        if not result or not result[0]:
            raise RPCFailure(f"{method}: {result[1] if len(result) > 1 else 'failed'}")
        return result[1] if len(result) > 1 else None

    def fetch(self) -> tuple[list[PendingVM], list[HostSnapshot]]:
        """The enabled hosts and the pending VMs, with their templates."""
        hosts = []
        for hid in xmlrecords.enabled_host_ids(self._call("one.hostpool.info")):
            try:
                snap = xmlrecords.host_snapshot(self._call("one.host.info", hid))
            except RPCFailure:
                continue  # deleted meanwhile
            if snap.hid == hid:
                hosts.append(snap)
        vms = []
        for vid in xmlrecords.pending_vm_ids(self._call("one.vmpool.info", -2)):
            try:
                doc = self._call("one.vm.info", vid)
            except RPCFailure:
                continue
            if xmlrecords.vm_state(doc) == VmState.PENDING:
                vms.append(xmlrecords.pending_vm(doc))
        return vms, hosts

    def cycle(self) -> int:
        """One scheduling cycle; returns the number of successful deploys."""
        try:
            vms, hosts = self.fetch()
        except Exception as exc:  # any transport/protocol/document problem skips the cycle
            self._log("SCHED", logging.ERROR, f"Could not get the pools from oned: {exc}")
            return 0
        deployed = 0
        for placement in dispatch(self.ctx, plan(self.ctx, vms, hosts)):
            vid, hid = placement.vid, placement.hid
            try:
                result: Any = self.proxy.one.vm.deploy(self.session, vid, hid)
            except Exception as exc:
                self._log("SCHED", logging.ERROR, f"Exception raised: {exc}\n")
                break
            if result and result[0]:
                deployed += 1
            else:
                reason = result[1] if result and len(result) > 1 else ""
                self._log(
                    "SCHED",
                    logging.ERROR,
                    f"Error deploying virtual machine {vid} to HID: {hid}. Reason: {reason}",
                )
        return deployed


def run_loop(scheduler: Scheduler, timer: int, stop: threading.Event) -> None:
    """1.4's ActionManager loop: first cycle ``timer`` s after start, then
    ``timer`` s after each cycle ends; ``timer`` 0 never fires."""
    log = scheduler._log
    log("SCHED", logging.INFO, "Scheduler loop started.")
    while True:
        if stop.wait(timer if timer > 0 else None):
            break
        try:
            scheduler.cycle()
        except Exception as exc:  # a bug must not end the loop silently
            log("SCHED", logging.ERROR, f"Scheduling cycle failed: {exc!r}")
    log("SCHED", logging.INFO, "Stopping the scheduler...")
    log("SCHED", logging.INFO, "Scheduler loop stopped.")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mm_sched`` console script."""
    argv = list(sys.argv if argv is None else argv)
    try:
        port, timer = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 255
    try:
        logger = make_logger(log_location())
        logger.info("Init Scheduler Log system", extra={"one_module": "SCHED"})
        session = read_session()
    except (AuthError, OSError) as exc:
        sys.stdout.write(f"{exc}\n")
        sys.stdout.flush()
        return 255
    ctx = DriverContext(
        role="sched", name="rank", driver="rank", log=logger, vm_log_func=_vm_log_writer()
    )
    scheduler = Scheduler(f"http://localhost:{port}/RPC2", session, ctx)
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    logger.info("Starting scheduler loop...", extra={"one_module": "SCHED"})
    thread = threading.Thread(
        target=run_loop, args=(scheduler, timer, stop), daemon=True, name="mm_sched-loop"
    )
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
