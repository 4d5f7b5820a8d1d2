"""Fixtures of the Xen driver tests: the shared test sshd and recording stand-ins for xm/xl.

No Xen hypervisor runs here. The "host" is the test sshd on loopback; its
``xm``, ``xl``, ``xentop`` and ``sudo`` are the Python scripts below, given
to the driver as absolute paths. They record every call (``calls.jsonl``:
program, argv and, for ``create``, the configuration file they were given)
and keep the domains they "run" in ``domains.json``.
"""

from __future__ import annotations

import json
import pathlib
import stat
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from one_driverkit.remote import RemotePool  # noqa: E402

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs  # noqa: E402
from one_core.testing.drivers import pool  # noqa: F401  (re-exported fixture; sshd: the plugin's)

COMMON = r"""
import json, os, re, sys
HERE = os.path.dirname(os.path.abspath(sys.argv[0]))
PROG = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]
STATE = os.path.join(HERE, "domains.json")

def record(**extra):
    with open(os.path.join(HERE, "calls.jsonl"), "a") as fh:
        fh.write(json.dumps(dict(prog=PROG, argv=ARGS, **extra)) + "\n")

def load():
    try:
        with open(STATE) as fh:
            return json.load(fh)
    except OSError:
        return {}

def save(domains):
    with open(STATE, "w") as fh:
        json.dump(domains, fh)

def setting(name, default=""):
    try:
        with open(os.path.join(HERE, name)) as fh:
            return fh.read().strip()
    except OSError:
        return default
"""

FAKE_TOOL = (
    COMMON
    + r"""
action = ARGS[0] if ARGS else ""
config = None
if action == "create":
    with open(ARGS[1]) as fh:
        config = fh.read()
record(config=config)
if action in setting("fail").split():
    sys.stderr.write("Error: simulated %s failure\n" % action)
    sys.exit(1)
domains = load()

def missing(name):
    if PROG == "xm":
        sys.stderr.write("Error: Domain '%s' does not exist.\n" % name)
    else:
        sys.stderr.write("%s is an invalid domain identifier (rc=-6)\n" % name)
    sys.exit(1)

if action == "create":
    name = re.search(r"^name = '([^']+)'", config, re.M).group(1)
    domains[name] = "-b----"
    if PROG == "xm":
        print('Using config file "%s".' % ARGS[1])
        print("Started domain %s" % name)
    else:
        sys.stderr.write("Parsing config from %s\n" % ARGS[1])
elif action == "sched-credit":
    pass
elif action == "shutdown":
    name = ARGS[1]
    if name not in domains:
        missing(name)
    behaviour = setting("shutdown", "gone")
    if behaviour == "gone":
        del domains[name]
    elif behaviour == "listed":
        domains[name] = "---s--"
elif action == "list":
    name = ARGS[1]
    if name not in domains:
        missing(name)
    print("Name                                        ID   Mem VCPUs      State   Time(s)")
    print("%-43s %3d %5d %5d     %s %9.1f" % (name, 3, 512, 1, domains[name], 5.3))
elif action == "destroy":
    name = ARGS[1]
    if name not in domains:
        missing(name)
    del domains[name]
elif action == "save":
    name, path = ARGS[1], ARGS[2]
    if name not in domains:
        missing(name)
    with open(path, "w") as fh:
        fh.write(name)
    del domains[name]
elif action == "restore":
    with open(ARGS[1]) as fh:
        domains[fh.read()] = "-b----"
elif action == "migrate":
    name = [a for a in ARGS[1:] if not a.startswith("-")][0]
    if name not in domains:
        missing(name)
    del domains[name]
else:
    sys.stderr.write("unknown command %s\n" % action)
    sys.exit(2)
save(domains)
"""
)

FAKE_XENTOP = (
    COMMON
    + r"""
record()
if "xentop" in setting("fail").split():
    sys.stderr.write("xentop: failed to initialise\n")
    sys.exit(1)
header = ("      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS "
          "NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID")
row = "%10s %s %10d %6.1f %10d %6.1f %10d %9.1f %5d %4d %8d %8d %4d %8d %8d %8d %10d %10d %4d"
for cpu in (0.0, 1.5):
    print(header)
    print(row % ("Domain-0", "-----r", 7749, cpu * 4, 4193280, 12.5, 4194304, 12.5, 8, 0,
                 0, 0, 0, 0, 0, 0, 0, 0, 0))
    for name, state in sorted(load().items()):
        print(row % (name, state, 12, cpu, 524288, 1.6, 525312, 1.6, 1, 1,
                     10, 20, 2, 0, 54, 22, 3119, 1029, 0))
"""
)

FAKE_SUDO = (
    COMMON
    + r"""
record()
os.execv(ARGS[0], ARGS)
"""
)


@dataclass
class FakeHost:
    """The stand-in programs' directory and what they recorded."""

    bin: pathlib.Path

    def calls(self, prog: str | None = None) -> list[dict[str, Any]]:
        path = self.bin / "calls.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines()]
        return [c for c in found if prog is None or c["prog"] == prog]

    def domains(self) -> dict[str, str]:
        path = self.bin / "domains.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def set_domains(self, domains: dict[str, str]) -> None:
        (self.bin / "domains.json").write_text(json.dumps(domains))

    def setting(self, name: str, value: str) -> None:
        (self.bin / name).write_text(value)


def _script(path: pathlib.Path, body: str) -> None:
    path.write_text(f"#!{sys.executable} -IS\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def fake_host(tmp_path: pathlib.Path) -> FakeHost:
    directory = tmp_path / "hostbin"
    directory.mkdir()
    _script(directory / "fakexen", FAKE_TOOL)
    for tool in ("xm", "xl"):
        (directory / tool).symlink_to(directory / "fakexen")
    _script(directory / "xentop", FAKE_XENTOP)
    _script(directory / "sudo", FAKE_SUDO)
    return FakeHost(directory)


@dataclass
class XenWorld:
    """A loaded ``xen`` VMM driver reaching the stand-ins through the test sshd."""

    driver: LoadedDriver
    host: FakeHost
    root: pathlib.Path
    vm_log: list[tuple[int, str, str]] = field(default_factory=list)

    def call(self, hook: str, **kwargs: Any) -> Any:
        kwargs.setdefault("vid", 7)
        kwargs.setdefault("host", "node1")
        return self.driver.call(hook, **kwargs)


def make_world(pool: RemotePool, root: pathlib.Path, host: FakeHost, **section: str) -> XenWorld:  # noqa: F811
    logged: list[tuple[int, str, str]] = []
    tool = section.get("XEN_TOOL", "xm")
    config = {
        "XEN_TOOL": tool,
        "XEN_PATH": str(host.bin / tool),
        "XENTOP_PATH": str(host.bin / "xentop"),
        "SUDO": str(host.bin / "sudo"),
        "SHUTDOWN_POLL": "0.1",
        "SHUTDOWN_TIMEOUT": "30",
        "POLL_DELAY": "0.1",
        **section,
    }
    drivers = load_drivers_from_specs(
        [DriverSpec(role="vmm", name="xen", driver="xen", section=config)],
        var_dir=str(root / "var"),
        vm_dir=str(root / "vms"),
        remote_factory=pool,
        vm_log_func=lambda vid, module, level, message: logged.append((vid, level, message)),
    )
    return XenWorld(drivers.get("vmm", "xen"), host, root, logged)


@pytest.fixture
def make(pool: RemotePool, tmp_path: pathlib.Path, fake_host: FakeHost):  # noqa: F811
    """``make(**section)``: a world whose driver section has these extra keys."""
    return lambda **section: make_world(pool, tmp_path, fake_host, **section)


@pytest.fixture
def world(pool: RemotePool, tmp_path: pathlib.Path, fake_host: FakeHost) -> XenWorld:  # noqa: F811
    return make_world(pool, tmp_path, fake_host)


@pytest.fixture
def xl_world(pool: RemotePool, tmp_path: pathlib.Path, fake_host: FakeHost) -> XenWorld:  # noqa: F811
    return make_world(pool, tmp_path, fake_host, XEN_TOOL="xl")
