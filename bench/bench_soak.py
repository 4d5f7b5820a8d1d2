"""Soak: mixed load on a real oned killed with SIGKILL every minute, random driver faults.

    uv run python bench/bench_soak.py                 # 10 minutes (issue 17's "1 hour in 10")
    uv run python bench/bench_soak.py --minutes 2     # a smoke run
    uv run python bench/bench_soak.py --write-doc     # also write the figures to docs/performance.md

One oned (dummy drivers, in-daemon scheduler, ``--hosts`` hosts) in a fresh directory. The VMM
and TM sections fail each action at random (``FAIL_RATE``, polls spared) and the VMM hangs 2 %
of its deploys for ``HANG`` s, beyond ``TIMEOUT_DEPLOY`` (knobs of
:mod:`one_drivers_dummy.control`). Four client threads run allocate, deploy, the VM actions
(stop, suspend, resume, shutdown, cancel, hold, release, finalize) and listings
(``one.vmpool.info``, ``one.hostpool.info``) for ``--minutes``; every minute oned is killed
with SIGKILL and restarted. A call whose request could not be sent (connection refused) is
retried; one whose answer was lost in the kill is recorded as unknown. At the end oned is
killed once more, restarted (one recovery), and the checks wait for quiescence:

* **lost** — a VM whose ``one.vm.allocate`` returned success that ``one.vm.info`` does not know;
* **duplicated** — a VM id returned twice, listed twice, or deployed (the dummy ``RECORD``
  log's ``deployed <vid> <host> new|existing``) on a host its history does not name, or found
  ``existing`` on a host other than the one of its previous deploy;
* **stuck** — an ACTIVE VM in any LCM state but RUNNING after quiescence, or a RUNNING VM
  without its running domain on its host;
* **host counters** — ``RUNNING_VMS``, ``CPU_USAGE`` and ``MEM_USAGE`` of each host equal the
  sum over the ACTIVE VMs whose current record names it;
* **RSS** — sampled every 10 s once 10 s have passed since each restart: first, last, max,
  each minute's max (every restart starts a new saw-tooth) and the least-squares slopes of
  the samples and of the minute maxima; flat when the latter is at most +0.5 MiB/min and the
  last minute's maximum within 10 MiB of the first minute's.

Prints ``RESULT soak.<key> <value> <unit>`` lines for ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core.db import SQLITE_CACHE_KIB  # noqa: E402
from one_core.rpc.codec import encode_call, parse_response  # noqa: E402
from one_core.testing.oned import ONEADMIN_SESSION, OnedProcess  # noqa: E402
from one_core.vm.states import LcmState, VmState  # noqa: E402

S = ONEADMIN_SESSION
VM_TEMPLATE = 'NAME = soak\nCPU = 0.1\nMEMORY = 64\nDISK = [ SOURCE = "/images/soak.img" ]\n'
ACTIVE, SUSPENDED, DONE, FAILED = 3, 5, 6, 7
LCM_RUNNING = 3


def sections(record: Path, fail_rate: float, hang_rate: float, hang: float, timeout: float) -> str:
    """oned.conf driver sections: dummy drivers with random faults, in-daemon scheduler."""
    faults = f'FAIL_RATE = "{fail_rate}", FAIL_RATE_POLL = "0", RECORD = "{record}"'
    return (
        'IM_MAD = [ name = "im_dummy", driver = "dummy" ]\n'
        f'VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml", {faults},\n'
        f'  HANG_RATE_DEPLOY = "{hang_rate}", HANG = "{hang}", TIMEOUT_DEPLOY = "{timeout}" ]\n'
        f'TM_MAD = [ name = "tm_dummy", driver = "dummy", {faults} ]\n'
        'SCHED  = [ name = "rank", mode = "internal", interval = 1 ]\n'
    )


class Unsent(Exception):
    """The request never reached oned (it is down): safe to retry."""


class Lost(Exception):
    """The request was sent but its answer was lost (oned killed meanwhile)."""


class Rpc:
    """XML-RPC calls on a fresh connection each, to an oned that may be restarting."""

    def __init__(self, one: OnedProcess):
        self.one = one

    def once(self, method: str, *params: Any) -> tuple[bool, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.one.port, timeout=60)
        try:
            try:
                conn.connect()
            except OSError as exc:
                raise Unsent(str(exc)) from exc
            try:
                conn.request(
                    "POST",
                    "/RPC2",
                    encode_call(method, list(params)),
                    {"Content-Type": "text/xml"},
                )
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                raise Lost(str(exc)) from exc
        finally:
            conn.close()
        if resp.status != 200:
            raise Lost(f"HTTP {resp.status}")
        ok, value = parse_response(body)
        if not ok:
            return False, value
        return bool(value[0]), value[1] if len(value) > 1 else None

    def call(self, method: str, *params: Any, patience: float = 120.0) -> tuple[bool, Any]:
        """``(success, value)``; retries while oned is down; :class:`Lost` if the answer was."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return self.once(method, *params)
            except Unsent:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def vm_states(body: str) -> tuple[int, int]:
    state = re.search(r"<STATE>(\d+)</STATE>", body)
    lcm = re.search(r"<LCM_STATE>(\d+)</LCM_STATE>", body)
    return int(state.group(1)) if state else -1, int(lcm.group(1)) if lcm else -1


def xml_int(tag: str, text: str) -> int:
    """The integer in ``<tag>`` of ``text`` (oned's XML always has the tags asked for)."""
    m = re.search(rf"<{tag}>(\d+)</{tag}>", text)
    assert m is not None, (tag, text)
    return int(m.group(1))


def state_name(state: int, lcm: int) -> str:
    name = VmState(state).name if state in set(VmState) else str(state)
    if state == ACTIVE and lcm in set(LcmState):
        return f"{name}/{LcmState(lcm).name}"
    return name


class Stats:
    """What the clients saw, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.allocated: list[int] = []
        self.unknown_allocates = 0
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.lost_answers = 0

    def count(self, what: str, ok: bool) -> None:
        with self.lock:
            self.calls[what] += 1
            if not ok:
                self.faults[what] += 1


ACTIONS_FOR = {  # (DM state, LCM state) -> actions a client may ask for
    (1, 0): ["hold", "finalize", "deploy"],
    (2, 0): ["release", "finalize"],
    (3, 3): ["stop", "suspend", "shutdown", "shutdown", "cancel"],
    (4, 0): ["resume", "finalize"],
    (5, 0): ["resume", "resume", "finalize"],
    (7, 0): ["finalize"],
}


def client(
    rpc: Rpc, stats: Stats, stop: threading.Event, seed: int, cap: int, hosts: int, pace: float
) -> None:
    """One client: allocate, act on its own VMs, list; until ``stop``."""
    rnd = random.Random(seed)
    mine: list[int] = []
    while not stop.is_set():
        try:
            roll = rnd.random()
            if roll < 0.25 and len(mine) < cap:
                ok, vid = rpc.call("one.vm.allocate", S, VM_TEMPLATE)
                stats.count("allocate", ok)
                if ok:
                    with stats.lock:
                        stats.allocated.append(vid)
                    mine.append(vid)
            elif roll < 0.85 and mine:
                vid = rnd.choice(mine)
                ok, body = rpc.call("one.vm.info", S, vid)
                stats.count("info", ok)
                if not ok:
                    continue
                state, lcm = vm_states(body)
                if state == DONE:
                    mine.remove(vid)
                    continue
                choices = ACTIONS_FOR.get((state, lcm if state == ACTIVE else 0))
                if not choices:
                    time.sleep(0.02)  # transitional: look again later
                    continue
                action = rnd.choice(choices)
                if action == "deploy":
                    ok, _ = rpc.call("one.vm.deploy", S, vid, rnd.randrange(hosts))
                else:
                    ok, _ = rpc.call("one.vm.action", S, action, vid)
                stats.count(action, ok)
            elif roll < 0.93:
                ok, _ = rpc.call("one.vmpool.info", S, -2)
                stats.count("vmpool.info", ok)
            else:
                ok, _ = rpc.call("one.hostpool.info", S)
                stats.count("hostpool.info", ok)
        except Lost:
            with stats.lock:
                stats.lost_answers += 1
                if roll < 0.25:
                    stats.unknown_allocates += 1
        except Unsent:
            continue
        except Exception as exc:  # a bug of this script must not end the load silently
            print(f"  client {seed}: {type(exc).__name__}: {exc}", flush=True)
            time.sleep(1)
        time.sleep(pace)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def db_connections(pid: int) -> int:
    """How many SQLite connections process ``pid`` has open (descriptors of ``one.db``):
    each has its own page cache (``DB = [ CACHE_SIZE ]``)."""
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/fd/{fd}").endswith("/one.db")
    return count


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(t, y)`` (y per unit of t)."""
    if len(points) < 2:
        return 0.0
    mt = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / den if den else 0.0


def quiesce(rpc: Rpc, timeout: float) -> tuple[float, dict[int, tuple[int, int]]]:
    """Wait until no VM is transitional and the listing stops changing for 10 s."""
    t0 = time.monotonic()
    stable_since, last = time.monotonic(), None
    while True:
        ok, pool = rpc.call("one.vmpool.info", S, -2)
        assert ok, pool
        now = {
            int(m.group(1)): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(
                r"<VM><ID>(\d+)</ID>.*?<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>", pool, re.S
            )
        }
        busy = any(s == ACTIVE and lcm != LCM_RUNNING for s, lcm in now.values())
        busy = busy or any(s == 1 for s, _ in now.values())
        if now != last or busy:
            stable_since, last = time.monotonic(), now
        if time.monotonic() - stable_since >= 10 or time.monotonic() - t0 > timeout:
            return time.monotonic() - t0, now
        time.sleep(1)


def domains(one: OnedProcess) -> dict[int, tuple[str, str]]:
    found = {}
    for path in (one.var / "dummy_vmm").glob("dummy-*"):
        if path.name.endswith(".tmp"):
            continue
        status, _, host = path.read_text().strip().partition(" ")
        found[int(path.name.split("-")[1])] = (status, host)
    return found


def history_hosts(one: OnedProcess) -> dict[int, list[str]]:
    """Every VM's history hosts in ``seq`` order, from the (SQLite) database."""
    found: dict[int, list[str]] = defaultdict(list)
    with contextlib.closing(sqlite3.connect(f"file:{one.var / 'one.db'}?mode=ro", uri=True)) as db:
        for vid, host in db.execute("SELECT vid, host_name FROM history ORDER BY vid, seq"):
            found[vid].append(host)
    return found


def check(one: OnedProcess, rpc: Rpc, stats: Stats, record: Path, hosts: list[str]) -> dict:
    """The end-of-run checks; returns the figures and the problems found."""
    problems: dict[str, list[str]] = defaultdict(list)
    counts = Counter(stats.allocated)
    for vid, n in counts.items():
        if n > 1:
            problems["duplicated"].append(f"VM {vid} returned by {n} allocates")
    vms: dict[int, str] = {}
    for vid in sorted(counts):
        ok, body = rpc.call("one.vm.info", S, vid)
        if not ok:
            problems["lost"].append(f"VM {vid}: allocate succeeded, vm.info says {body}")
        else:
            vms[vid] = body
    ok, pool = rpc.call("one.vmpool.info", S, -2)
    listed = Counter(int(v) for v in re.findall(r"<VM><ID>(\d+)</ID>", pool))
    for vid, n in listed.items():
        if n > 1:
            problems["duplicated"].append(f"VM {vid} listed {n} times")
    for vid in listed:  # VMs allocated with a lost answer: check them too
        if vid not in vms:
            ok, body = rpc.call("one.vm.info", S, vid)
            if ok:
                vms[vid] = body
    # history hosts and current host per VM
    hist: dict[int, list[str]] = {}
    final: Counter[str] = Counter()
    usage: dict[str, list[float]] = {h: [0, 0.0, 0] for h in hosts}
    doms = domains(one)
    history = history_hosts(one)
    for vid, body in vms.items():
        state, lcm = vm_states(body)
        final[state_name(state, lcm)] += 1
        hosts_of = history.get(vid, [])  # vm.info shows only the last record, as 1.4
        hist[vid] = hosts_of
        if state == ACTIVE and lcm != LCM_RUNNING:
            problems["stuck"].append(f"VM {vid} in {state_name(state, lcm)}")
        if state == ACTIVE and hosts_of:
            cur = hosts_of[-1]
            u = usage.setdefault(cur, [0, 0.0, 0])
            u[0] += 1
            u[1] += 10  # CPU 0.1 -> 10 (percent of a CPU)
            u[2] += 64 * 1024  # MEMORY 64 MiB -> KiB
            if lcm == LCM_RUNNING and doms.get(vid) != ("running", cur):
                problems["stuck"].append(
                    f"VM {vid} RUNNING on {cur} but its domain is {doms.get(vid)}"
                )
    # RECORD: every deploy on a host of the VM's history; "existing" only on the same host
    last_host: dict[int, str] = {}
    redeploys = 0
    deploys = 0
    for line in record.read_text().splitlines():
        parts = line.split()
        if len(parts) < 6 or parts[2] != "deployed":
            continue
        vid, host, note = int(parts[3]), parts[4], parts[5]
        deploys += 1
        if vid in hist and host not in hist[vid]:
            problems["duplicated"].append(f"VM {vid} deployed on {host}, history {hist[vid]}")
        if note == "existing":
            redeploys += 1
            if last_host.get(vid, host) != host:
                problems["duplicated"].append(
                    f"VM {vid} deployed on {host} while its domain ran on {last_host[vid]}"
                )
        last_host[vid] = host
    ok, hostpool = rpc.call("one.hostpool.info", S)
    for m in re.finditer(r"<HOST><ID>\d+</ID><NAME>([^<]*)</NAME>.*?</HOST>", hostpool, re.S):
        name, text = m.group(1), m.group(0)
        got = [xml_int(tag, text) for tag in ("RUNNING_VMS", "CPU_USAGE", "MEM_USAGE")]
        want = usage.get(name, [0, 0, 0])
        if got != [int(x) for x in want]:
            problems["host counters"].append(f"host {name}: RUNNING_VMS/CPU/MEM {got}, VMs {want}")
    return {
        "vms": len(vms),
        "final": final,
        "deploys": deploys,
        "redeploys": redeploys,
        "problems": problems,
    }


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="one-soak-"))
    record = work / "actions.log"
    conf = {
        "HOST_MONITORING_INTERVAL": 30,
        "VM_POLLING_INTERVAL": 30,
        "DEBUG_LEVEL": 1,
    }
    one = OnedProcess(
        work / "one",
        conf,
        sections(record, args.fail_rate, args.hang_rate, args.hang, args.timeout)
        + (
            f'DB = [ BACKEND = "sqlite", CACHE_SIZE = "{args.db_cache}" ]\n'
            if args.db_cache
            else ""
        ),
    )
    one.start()
    rpc = Rpc(one)
    hosts = [f"soak{i}" for i in range(args.hosts)]
    for name in hosts:
        ok, _ = rpc.call("one.host.allocate", S, name, "im_dummy", "vmm_dummy", "tm_dummy")
        assert ok, name
    time.sleep(2)  # first monitoring, so the scheduler sees capacity
    stats = Stats()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=client,
            args=(rpc, stats, stop, seed, args.cap, args.hosts, args.pace),
            daemon=True,
        )
        for seed in range(args.clients)
    ]
    for t in threads:
        t.start()
    loads: list[float] = []
    rss: list[tuple[float, float, int]] = []  # (minute of the run, MiB, restart number)
    connections: list[int] = []  # open SQLite connections at each RSS sample
    restarts: list[float] = []
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    started = time.monotonic()
    kills = 0
    next_sample = started + 10
    while time.monotonic() < end:
        now = time.monotonic()
        if now - started >= 60:
            loads.append(os.getloadavg()[0])
            one.kill9()
            kills += 1
            r0 = time.monotonic()
            one.start(timeout=120)
            restarts.append(time.monotonic() - r0)
            started = time.monotonic()
            next_sample = started + 10
            print(
                f"  {(started - t0) / 60:4.1f} min: kill -9 #{kills}, up again in "
                f"{restarts[-1]:.1f} s; {len(stats.allocated)} VMs allocated, "
                f"{sum(stats.calls.values())} calls, load {loads[-1]:.2f}",
                flush=True,
            )
        elif now >= next_sample:
            assert one.proc is not None
            rss.append(((now - t0) / 60, rss_mib(one.proc.pid), kills))
            connections.append(db_connections(one.proc.pid))
            next_sample += 10
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(120)
    loads.append(os.getloadavg()[0])
    # one more crash, then recovery and quiescence
    one.kill9()
    kills += 1
    one.start(timeout=120)
    waited, _ = quiesce(rpc, args.quiesce)
    figures = check(one, rpc, stats, record, hosts)
    figures.update(
        stats=stats,
        kills=kills,
        restarts=restarts,
        rss=rss,
        connections=connections,
        loads=loads,
        waited=waited,
        minutes=args.minutes,
        db_cache=args.db_cache,
        hosts=args.hosts,
        record=record,
        work=work,
    )
    log = one.log()
    figures["recovered"] = sum(  # info lines: in each vm.log (oned.log runs at DEBUG_LEVEL 1)
        path.read_text(errors="replace").count("after a restart:")
        for path in one.var.glob("*/vm.log")
    )
    figures["timeouts"] = len(re.findall(r"timed out after", log))
    figures["hangs"] = sum(1 for line in record.read_text().splitlines() if " hang " in line)
    figures["fails"] = sum(1 for line in record.read_text().splitlines() if " fail " in line)
    one.stop()
    return figures


def rss_summary(rss: list[tuple[float, float, int]]) -> dict[str, float]:
    values = [mib for _, mib, _ in rss]
    if not values:
        return {"first": 0, "last": 0, "max": 0, "slope": 0, "sample_slope": 0, "drift": 0}
    first_epoch = [mib for _, mib, k in rss if k == rss[0][2]]
    last_epoch = [mib for _, mib, k in rss if k == rss[-1][2]]
    return {
        "first": values[0],
        "last": values[-1],
        "max": max(values),
        "slope": slope(list(enumerate(per_minute(rss)))),
        "sample_slope": slope([(t, mib) for t, mib, _ in rss]),
        "drift": max(last_epoch) - max(first_epoch),
    }


def per_minute(rss: list[tuple[float, float, int]]) -> list[float]:
    """The largest RSS sample of each run between two kills."""
    best: dict[int, float] = {}
    for _, mib, kill in rss:
        best[kill] = max(best.get(kill, 0.0), mib)
    return [best[k] for k in sorted(best)]


def report(fig: dict) -> tuple[list[str], bool]:
    """Human lines (also the doc's body) and whether every goal was met."""
    p = fig["problems"]
    st: Stats = fig["stats"]
    r = rss_summary(fig["rss"])
    flat = r["slope"] <= 0.5 and r["drift"] <= 10
    met = {
        "lost": not p["lost"],
        "duplicated": not p["duplicated"],
        "stuck": not p["stuck"],
        "host counters": not p["host counters"],
        "RSS flat": flat,
    }
    calls = sum(st.calls.values())
    loads = fig["loads"]
    lines = [
        f"{fig['minutes']} min, {fig['hosts']} hosts, 4 clients, {fig['kills']} kill -9 "
        f"(the last one before the checks); load average (1 min) "
        f"{min(loads):.2f}–{max(loads):.2f}, mean {statistics.fmean(loads):.2f}",
        f"{calls:,} calls ({sum(st.faults.values()):,} answered with an error, "
        f"{st.lost_answers} answers lost in a kill); "
        + ", ".join(f"{k} {v:,}" for k, v in st.calls.most_common()),
        f"{len(st.allocated):,} allocates returned success ({st.unknown_allocates} more "
        f"with the answer lost); {fig['vms']:,} VMs checked at the end",
        f"driver faults injected: {fig['fails']} random failures, {fig['hangs']} hung deploys "
        f"({fig['timeouts']} 'timed out' lines in oned.log); {fig['deploys']:,} deploys, "
        f"{fig['redeploys']} of them re-run by recovery on the domain's own host",
        f"restart (kill -9 → port open, recovery included): median "
        f"{statistics.median(fig['restarts'] or [0]):.1f} s, max {max(fig['restarts'] or [0]):.1f} s;"
        f" {fig['recovered']} VMs recovered in all; quiescence after the last restart "
        f"{fig['waited']:.0f} s",
        "final states: " + ", ".join(f"{k} {v}" for k, v in sorted(fig["final"].items())),
        f"RSS (every 10 s, 10 s after each restart): first {r['first']:.1f} MiB, last "
        f"{r['last']:.1f}, max {r['max']:.1f}, slope of the samples {r['sample_slope']:+.2f} "
        f"MiB/min, of each minute's max {r['slope']:+.2f} MiB/min, "
        f"last minute's max − first minute's {r['drift']:+.1f} MiB",
        "RSS max of each minute (MiB): " + ", ".join(f"{v:.1f}" for v in per_minute(fig["rss"])),
        f"open SQLite connections at the RSS samples: max {max(fig['connections'] or [0])}, "
        f"median {statistics.median(fig['connections'] or [0]):.0f}; page cache "
        f"{fig['db_cache'] or SQLITE_CACHE_KIB} KiB each",
    ]
    for key, ok in met.items():
        n = len(p[key]) if key in p else 0
        lines.append(f"{key:<14} {'met' if ok else 'MISSED'}" + (f" ({n})" if n else ""))
        for item in p.get(key, [])[:20]:
            lines.append(f"    {item}")
    return lines, all(met.values())


def write_doc(lines: list[str]) -> None:
    """Replace the "Last run" block of the "Soak" section of docs/performance.md (the
    analysis written around it stays); add the section if it is missing."""
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text()
    block = "```\n" + "\n".join(lines) + "\n```\n"
    last_run = re.compile(r"(^## Soak\b.*?Last run:\n\n)```\n.*?```\n", re.S | re.M)
    if last_run.search(text):
        text = last_run.sub(lambda m: m.group(1) + block, text, count=1)
    else:
        text = (
            text.rstrip("\n")
            + "\n\n"
            + (
                "## Soak (`bench/bench_soak.py`, issue 17)\n\n"
                'Issue 17\'s "1 hour compressed to 10 minutes": mixed load from 4 clients on a real '
                "oned killed with SIGKILL every minute, with random driver failures (5 % of VMM and "
                "TM actions, polls spared) and hung deploys (2 %, 30 s, `TIMEOUT_DEPLOY = 5`); the "
                "checks and their definitions are in the script's docstring. "
                "`make bench` runs it (`bench/run_all.py --only soak --minutes N`). Last run:\n\n"
                + block
            )
        )
    doc.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--hosts", type=int, default=6)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--cap", type=int, default=40, help="live VMs per client at most")
    ap.add_argument("--fail-rate", type=float, default=0.05)
    ap.add_argument("--hang-rate", type=float, default=0.02)
    ap.add_argument("--hang", type=float, default=30)
    ap.add_argument("--timeout", type=float, default=5, help="TIMEOUT_DEPLOY")
    ap.add_argument("--quiesce", type=float, default=180, help="s to wait for quiescence")
    ap.add_argument("--pace", type=float, default=0.05, help="s each client waits between calls")
    ap.add_argument(
        "--db-cache", type=int, default=0, help="DB CACHE_SIZE (KiB per connection; 0: default)"
    )
    ap.add_argument("--write-doc", action="store_true", help="write docs/performance.md")
    args = ap.parse_args()
    fig = run(args)
    lines, ok = report(fig)
    print("\n".join(lines))
    print(f"(work directory kept: {fig['work']})")
    r = rss_summary(fig["rss"])
    p = fig["problems"]
    for key, value, unit in [
        ("lost", len(p["lost"]), "VMs"),
        ("duplicated", len(p["duplicated"]), "VMs"),
        ("stuck", len(p["stuck"]), "VMs"),
        ("host_counters", len(p["host counters"]), "hosts"),
        ("rss_slope", r["slope"], "MiB/min"),
        ("rss_max", r["max"], "MiB"),
    ]:
        print(f"RESULT soak.{key} {value:.3f} {unit}")
    if args.write_doc:
        write_doc(lines)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
