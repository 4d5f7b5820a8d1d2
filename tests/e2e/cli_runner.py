"""The four CLIs run as subprocesses against a real oned: the runner and the 1.4 layouts.

Shared by tests/e2e/test_cli_oned.py and tests/e2e/test_cli_every_subcommand.py
(the ``cli`` fixture comes from tests/e2e/conftest.py).
"""

from __future__ import annotations

import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import time
from typing import Any

CLEAR = "\x1b[2J\x1b[H\x1b[0;0H"  # what each pass of ``top`` starts with
HEADER_VM = (
    "\x1b[1m\x1b[4m  ID     USER     NAME STAT CPU     MEM        HOSTNAME        TIME\x1b[0m\n"
)
HEADER_HISTORY = "\x1b[1m\x1b[4m  ID SEQ        HOSTNAME          STIME          ETIME        TIME REASON\x1b[0m\n"
TIME = r"\d\d \d\d:\d\d:\d\d"
STAMP = r"\d\d/\d\d \d\d:\d\d:\d\d"


def history(vid: int, seq: int, reason: str, *, running: bool = False, host: str = "host01") -> str:
    """A regex of ``onevm history <vid>`` with one record; ETIME is ``--`` while ``running``."""
    end = f" {'--':>14}" if running else f" {STAMP}"
    return (
        f"History for VM {vid}\n\n"
        + re.escape(HEADER_HISTORY)
        + rf"{vid:>4} {seq:>3} {host:>15} {STAMP}{end} {TIME}   {reason}\n\n"
    )


# (STATE, LCM_STATE) of one.vm.info
PENDING, BOOT, RUNNING = ("1", "0"), ("3", "2"), ("3", "3")
STOPPED, SUSPENDED, DONE = ("4", "0"), ("5", "0"), ("6", "0")


class Cli:
    """Runs a tool as a subprocess with oned's ONE_AUTH / ONE_XMLRPC (stderr must stay empty)."""

    def __init__(self, oned: Any, env: dict[str, str] | None = None):
        self.oned = oned
        self.dir: pathlib.Path = oned.location
        self.env = dict(oned.env, TZ="UTC", **(env or {}))
        self.rpc = oned.client()

    def argv(self, tool: str, *args: str) -> list[str]:
        return [sys.executable, "-m", f"one_core.cli.{tool}", *args]

    def __call__(
        self, tool: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        proc = subprocess.run(
            self.argv(tool, *args), env={**self.env, **(env or {})}, cwd=self.dir,
            input=stdin.encode(), capture_output=True, timeout=60,
        )  # fmt: skip
        assert proc.stderr == b"", proc.stderr.decode()
        return proc.returncode, proc.stdout.decode()

    def out(self, tool: str, *args: str, env: dict[str, str] | None = None) -> str:
        rc, out = self(tool, *args, env=env)
        assert rc == 0, out
        return out

    def top(self, tool: str, *args: str) -> tuple[int, list[str]]:
        """Run ``<tool> top -d 1``, read the first screen and all of the second, Ctrl-C it.

        The tools run unbuffered (PYTHONUNBUFFERED of oned's environment), so the clear comes
        before the pool call: Ctrl-C is sent once the second screen is as long as the first,
        i.e. while the tool sleeps. Returns the exit status and the screens (after each clear).
        """
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", *self.argv(tool, "top", "-d", "1", *args)[1:]],
            env=self.env, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        clear, seen, deadline = CLEAR.encode(), b"", time.monotonic() + 20

        def second_screen_done() -> bool:
            screens = seen.split(clear)
            return len(screens) >= 3 and screens[2].count(b"\n") >= screens[1].count(b"\n")

        while not second_screen_done():
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                assert chunk, (seen, proc.stderr.read() if proc.stderr else b"")
                seen += chunk
        if seen.endswith(clear):
            time.sleep(0.3)  # empty screens (failed fetch): let the fetch end first
        proc.send_signal(signal.SIGINT)
        try:
            rest, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # stuck: SIGABRT makes faulthandler dump the stacks
            proc.send_signal(signal.SIGABRT)
            rest, err = proc.communicate(timeout=15)
            raise AssertionError(f"{tool} top ignored Ctrl-C:\n{err.decode()}") from None
        assert err == b"", err.decode()
        screens = (seen + rest).decode().split(CLEAR)
        assert screens[0] == "", screens
        return proc.returncode, screens[1:]

    def state(self, vid: int) -> tuple[str, str]:
        doc = self.rpc.vm_info(vid)
        return doc.findtext("STATE"), doc.findtext("LCM_STATE")

    def wait(self, vids: list[int], state: tuple[str, str]) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(self.state(v) == state for v in vids):
                return
            time.sleep(0.05)
        raise AssertionError(
            f"{vids} never reached {state}: {[self.state(v) for v in vids]}\n{self.oned.log()}"
        )


def vm_row(vid: int, name: str, stat: str, host: str = "", user: str = "oneadmin") -> str:
    """A regex of one ``onevm list`` row (CPU and MEM stay 0: the dummy VMM is not polled)."""
    return re.escape(f"{vid:>4} {user:>8} {name:>8} {stat:>4} {0:>3} {0:>7} {host:>15} ") + TIME
