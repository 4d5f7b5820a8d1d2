"""Replaying the 1.4 CLI session (tests/data/one14/cli-transcripts.raw.txt) on a real oned.

:class:`Replay` walks the transcript in order against one oned subprocess with the dummy
drivers: every ``one*`` command runs as the real tool (``python -m one_core.cli.<tool>``,
stderr merged into stdout as the recording's ``2>&1`` did), so users, hosts, networks and VMs
get the ids and states of the 1.4 session. Between commands it does what the recording did
without a command:

* ``cat templates/<file>`` entries *are* the template files: they are written from the
  recorded output before the session starts (``nonet.template``, never shown, is
  :data:`NONET_TEMPLATE`);
* the "wait 8s for the dummy IM driver" note: oned is restarted with a 1 s monitoring
  interval until both hosts are MONITORED, then again with the fixtures' slow interval, so
  later host states are deterministic;
* after each ``onevm`` action, it waits until the VM has settled (RUNNING on the target
  host, STOPPED, SUSPENDED, DONE...), as the recording's pauses did;
* the "start mm_sched" note: the external scheduler (``mm_sched``) runs until VMs 2, 3 and
  4 are RUNNING.

:func:`normalise` replaces what differs between two runs of the same session and nothing
else: wall-clock dates (``11/25 08:38:06``), running times (``00 00:00:07``) and epoch values
of the time elements of ``-x`` documents (a non-zero value becomes ``<t>``; zero stays zero).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transcripts as T
from conftest import vm_state, wait_vm

from one_core.testing.cloud import wait_until
from one_core.testing.process import stop_process

NONET_TEMPLATE = 'NAME   = "nonet"\nCPU    = 1\nMEMORY = 128\n'
"""``templates/nonet.template`` (the recording created a VM from it but never printed it)."""

FAST_MONITORING = {"HOST_MONITORING_INTERVAL": 1}
"""oned.conf keys while the hosts are first monitored (the recording used 3 s)."""

# -- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One entry of the transcript: ``occurrence`` counts earlier runs of the same command."""

    index: int
    command: str
    output: str
    rc: int
    occurrence: int

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def is_cli(self) -> bool:
        return self.argv[0] in ("oneuser", "onehost", "onevnet", "onevm")

    @property
    def id(self) -> str:
        return f"{self.index:03d}:{self.command}"


def load_steps() -> list[Step]:
    steps, seen = [], {}
    for index, (command, output, rc) in enumerate(T.ENTRIES):
        seen[command] = seen.get(command, 0) + 1
        steps.append(Step(index, command, output, rc, seen[command]))
    return steps


STEPS = load_steps()

# -- normalising ------------------------------------------------------------------------------

_DATE = re.compile(r"\d\d/\d\d \d\d:\d\d:\d\d")
_DURATION = re.compile(r"\d\d \d\d:\d\d:\d\d")
_TIME_TAGS = "LAST_POLL|LAST_MON_TIME|STIME|ETIME|PSTIME|PETIME|RSTIME|RETIME|ESTIME|EETIME"
_EPOCH = re.compile(rf"<({_TIME_TAGS})>[1-9]\d*</\1>")


def normalise(text: str) -> str:
    """``text`` with its wall-clock values replaced by fixed tokens of the same width."""
    text = _DATE.sub("MM/DD hh:mm:ss", text)
    text = _DURATION.sub("dd hh:mm:ss", text)
    return _EPOCH.sub(r"<\1><t></\1>", text)


# -- the replay -------------------------------------------------------------------------------


@dataclass
class Result:
    rc: int
    out: str


class Replay:
    """The 1.4 session played on a real oned, one step at a time, in order."""

    def __init__(self, base: Path, oned_cls: type):
        self.oned_cls = oned_cls
        self.location = base / "one"
        self.cwd = base / "cwd"
        (self.cwd / "templates").mkdir(parents=True)
        self._write_templates()
        self.oned = oned_cls(self.location).start()
        self.results: dict[int, Result] = {}
        self.next = 0
        self.failure: str | None = None
        self._sched: subprocess.Popen[bytes] | None = None

    def _write_templates(self) -> None:
        (self.cwd / "templates" / "nonet.template").write_text(NONET_TEMPLATE)
        for step in STEPS:
            argv = step.argv
            if argv[0] == "cat" and argv[1].startswith("templates/"):
                (self.cwd / argv[1]).write_text(step.output)

    def close(self) -> None:
        if self._sched is not None:
            self._stop_sched()
        self.oned.stop()

    # -- running ----------------------------------------------------------------------------

    def result(self, step: Step) -> Result:
        """Our output of ``step``, playing every earlier step first (once)."""
        while self.next <= step.index:
            if self.failure:
                raise AssertionError(f"the replay stopped earlier: {self.failure}")
            current = STEPS[self.next]
            try:
                self._play(current)
            except Exception as exc:
                self.failure = f"step {current.id}: {exc}\n{self.oned.log()[-3000:]}"
                raise
            self.next += 1
        return self.results[step.index]

    def _play(self, step: Step) -> None:
        before = BEFORE.get((step.command, step.occurrence))
        if before is not None:
            before(self)
        if step.is_cli:
            vm_before = self._vm_before(step.argv)
            self.results[step.index] = self.run(*step.argv)
            self._settle(step.argv, vm_before)

    def run(self, tool: str, *args: str) -> Result:
        env = dict(self.oned.env, TZ="UTC")
        env.pop("ONE_CLI_NOW", None)
        proc = subprocess.run(
            [sys.executable, "-m", f"one_core.cli.{tool}", *args],
            env=env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout.decode())

    # -- state ------------------------------------------------------------------------------

    def vm(self, vid: int) -> tuple[int, int, str]:
        """``(STATE, LCM_STATE, HID of the last history record)`` of VM ``vid``."""
        with self.client() as client:
            return vm_state(client, vid)

    def wait_vm(self, vid: int, state: int, lcm: int = 0, hid: int | None = None) -> None:
        with self.client() as client:
            wait_vm(client, vid, state, lcm, hid)
        if (state, lcm) == (3, 3):
            wait_until(lambda: self._last_poll(vid) != "0", 30, f"VM {vid} polled once")

    def _last_poll(self, vid: int) -> str:
        """1.4 had polled every VM it showed RUNNING; ours polls on the next timer tick."""
        with self.client() as client:
            return client.vm_info(vid).findtext("LAST_POLL") or "0"

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        client = self.oned.client()
        try:
            yield client
        finally:
            client.close()

    def host_states(self) -> list[int]:
        with self.client() as client:
            pool = client.hostpool_info()
        return [int(h.findtext("STATE")) for h in pool.iter("HOST")]

    def _settle(self, argv: list[str], before: tuple[int, int, str] | None) -> None:
        """After an accepted ``onevm`` action, wait for the state the recording showed next."""
        if before is None or self.results[max(self.results)].rc != 0:
            return
        action, vid = argv[1], int(argv[2])
        if action in ("deploy", "migrate", "livemigrate"):
            self.wait_vm(vid, 3, 3, int(argv[3]))
        elif (action, before[0]) in SETTLED:
            self.wait_vm(vid, *SETTLED[action, before[0]])

    def _vm_before(self, argv: list[str]) -> tuple[int, int, str] | None:
        """The state of the VM an ``onevm <action> <vid>`` step acts on (None: not such a step)."""
        if argv[0] != "onevm" or len(argv) < 3 or not argv[2].isdigit():
            return None
        if argv[1] in ("show", "history"):
            return None
        try:
            return self.vm(int(argv[2]))
        except Exception:
            return None

    def restart(self, **conf: Any) -> None:
        """oned again on the same ONE_LOCATION (same database) with ``conf`` keys."""
        self.oned.stop()
        self.oned = self.oned_cls(self.location, conf).start()

    def monitor_hosts(self) -> None:
        self.restart(**FAST_MONITORING)
        wait_until(lambda: self.host_states() == [2, 2], 60.0, "both hosts MONITORED")
        self.restart()

    def schedule(self) -> None:
        mm_sched = shutil.which("mm_sched", path=str(Path(sys.executable).parent))
        assert mm_sched, "mm_sched (one-sched-rank) is not installed in this environment"
        self._sched = subprocess.Popen(
            [mm_sched, "-p", str(self.oned.port), "-t", "1"],
            env=self.oned.env,
            cwd=self.location,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for vid in (2, 3, 4):
                self.wait_vm(vid, 3, 3)
        finally:
            self._stop_sched()

    def polled(self) -> None:
        """1.4 had polled the RUNNING VMs when the recording listed them with ``-x``: ours
        polls a VM on the first timer tick after it is RUNNING (``MANAGER_TIMER``)."""

        def all_polled() -> bool:
            with self.client() as client:
                pool = client.vmpool_info()
            running = [vm for vm in pool.iter("VM") if vm.findtext("LCM_STATE") == "3"]
            return bool(running) and all(vm.findtext("LAST_POLL") != "0" for vm in running)

        wait_until(all_polled, 30, "every RUNNING VM polled once")

    def _stop_sched(self) -> None:
        assert self._sched is not None
        stop_process(self._sched)
        self._sched = None


SETTLED: dict[tuple[str, int], tuple[int, int]] = {
    ("stop", 3): (4, 0),
    ("resume", 4): (1, 0),
    ("resume", 5): (3, 3),
    ("suspend", 3): (5, 0),
    ("shutdown", 3): (6, 0),
    ("hold", 1): (2, 0),
    ("release", 2): (1, 0),
    ("delete", 1): (6, 0),
}
"""``(action, STATE before)`` → ``(STATE, LCM_STATE)`` the VM settles in after it."""

BEFORE: dict[tuple[str, int], Callable[[Replay], None]] = {
    ("onehost list", 2): Replay.monitor_hosts,
    ("onevm list", 12): Replay.schedule,
    ("onevm list -x", 1): Replay.polled,
}
"""What the recording did (or waited for) before these ``(command, occurrence)`` steps."""
