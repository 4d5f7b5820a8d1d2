"""Replay every real 1.4 wire capture (``tests/data/one14/wire``) against our oned.

The captures are one session against a fresh 1.4 oned with dummy drivers, recorded from
the real 1.4 and shipped with the tests (a missing capture directory is a collection
error, never a skip). They are replayed **in order** against one fresh oned of ours, and
each response is compared byte for byte after normalising what cannot match (non-zero
timestamps; the -503 parser detail; see ``normalise``).

* Every method the captures call must be registered by our oned: an unregistered method
  **fails** its capture (``method not registered: <name>``), so deleting any
  ``one_core/rpc/*_methods.py`` makes this suite fail (``test_mutation.py`` proves it).
* A capture where we deliberately answer differently is listed, with its decision link,
  in ``tests/data/one14/deviations.toml``; for it the replay asserts **our** documented
  answer instead of 1.4's, so it still fails when that answer changes.
* Read-only calls (``*.info``) are retried for a while until they match,
  because 1.4 acts asynchronously too (monitoring, VM life-cycle).
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from one_core.rpc.codec import parse_call, parse_response

ONE14 = Path(__file__).parents[1] / "data" / "one14"
WIRE = ONE14 / "wire"
DEVIATIONS_FILE = ONE14 / "deviations.toml"
PROJECT = Path(__file__).parents[2]

ONED_CONF = {
    "HOST_MONITORING_INTERVAL": 6,
    "VM_POLLING_INTERVAL": 3600,
    "MANAGER_TIMER": 1,
}
SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "external" ]
"""
RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Deviation:
    """A capture where our oned deliberately answers differently from 1.4."""

    stem: str
    decision: str
    reason: str
    response: Path


def load_deviations(path: Path = DEVIATIONS_FILE) -> dict[str, Deviation]:
    """The named deviations of ``deviations.toml`` (every field is required)."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        stem: Deviation(stem, entry["decision"], entry["reason"], path.parent / entry["response"])
        for stem, entry in table.items()
    }


DEVIATIONS = load_deviations()

TIME_TAGS = "STIME|ETIME|LAST_POLL|LAST_MON_TIME|PSTIME|PETIME|RSTIME|RETIME|ESTIME|EETIME"


def _captures() -> list[tuple[int, str]]:
    if not WIRE.is_dir():
        raise FileNotFoundError(f"the 1.4 wire captures are missing: {WIRE}")
    out = []
    for req in WIRE.glob("*.request.xml"):
        stem = req.name[: -len(".request.xml")]
        out.append((int(stem.split("_", 1)[0]), stem))
    if not out:
        raise FileNotFoundError(f"no 1.4 wire captures in {WIRE}")
    return sorted(out)


CAPTURES = _captures()
UNREGISTERED_ON_PURPOSE = re.compile(r"\?|one\.vm\.nosuch.*")
"""Methods the 1.4 session called to see the error for an unknown method or a broken request."""


def method_of(stem: str) -> str:
    body = (WIRE / f"{stem}.request.xml").read_bytes()
    try:
        return parse_call(body)[0]
    except Exception:
        m = re.search(rb"<methodName>([^<]*)", body)
        return m.group(1).decode() if m else "?"


def _hosts(doc: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"<HOST><ID>(\d+)</ID>.*?</HOST>", doc)}


def _never_monitored(host: str) -> bool:
    return "<STATE>0</STATE>" in host and "<MAX_CPU>0</MAX_CPU>" in host


def monitoring_lag_equal(expected: bytes, got: bytes) -> bool:
    """Equal except for hosts 1.4 had not monitored yet but ours already has.

    Our replay is slower than the 1.4 session (VM life-cycle steps are waited
    for), so a host allocated late may already be monitored here.
    """
    try:
        ok_e, val_e = parse_response(expected)
        ok_g, val_g = parse_response(got)
    except Exception:
        return False
    if not (ok_e and ok_g and isinstance(val_e, list) and isinstance(val_g, list)):
        return False
    if len(val_e) != 2 or len(val_g) != 2 or val_e[0] is not True or val_g[0] is not True:
        return False
    doc_e, doc_g = val_e[1], val_g[1]
    if not (isinstance(doc_e, str) and isinstance(doc_g, str) and doc_e.startswith("<HOST")):
        return False
    hosts_e, hosts_g = _hosts(doc_e), _hosts(doc_g)
    if hosts_e.keys() != hosts_g.keys():
        return False
    for hid, host in hosts_e.items():
        if host != hosts_g[hid] and _never_monitored(host) and not _never_monitored(hosts_g[hid]):
            doc_g = doc_g.replace(hosts_g[hid], host)
    return doc_g == doc_e


def normalise(text: str) -> str:
    text = re.sub(rf"&lt;({TIME_TAGS})&gt;[1-9]\d*&lt;/\1&gt;", r"&lt;\1&gt;T&lt;/\1&gt;", text)
    # LAST_POLL is 0 until the VM polling timer first reaches the VM: whether that happened
    # during the session depends on MANAGER_TIMER ticks, so any value stands for "a time"
    text = re.sub(
        r"&lt;LAST_POLL&gt;\d+&lt;/LAST_POLL&gt;", "&lt;LAST_POLL&gt;T&lt;/LAST_POLL&gt;", text
    )
    text = re.sub(
        r"(Call XML not a proper XML-RPC call\.  Call is not valid XML\.  )[^<]*", r"\1...", text
    )
    return text.replace("\r\n", "\n")


SETTLED = re.compile(r"<STATE>3</STATE><LCM_STATE>(?!3<|16<)\d+</LCM_STATE>")
"""An ACTIVE VM whose LCM state is neither RUNNING nor UNKNOWN: a driver action in flight."""


class Replayer:
    """Sends the captured requests, in order, to one oned of ours and checks each answer."""

    def settle(self, timeout: float = RETRY_SECONDS) -> None:
        """Wait until no VM is mid-transition, as the 1.4 capture session did between calls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok, body = self.oned.call("one.vmpool.info", self.oned.session, -2)
            if not ok or not SETTLED.search(body):
                return
            time.sleep(0.05)

    def __init__(self, oned):
        self.oned = oned
        self.registered = set(oned.call("system.listMethods"))

    def expected(self, stem: str) -> str:
        """The normalised response we must send: 1.4's, or our documented deviation."""
        deviation = DEVIATIONS.get(stem)
        path = deviation.response if deviation else WIRE / f"{stem}.response.xml"
        return normalise(path.read_text(encoding="utf-8"))

    def check_registered(self, stem: str, method: str) -> None:
        """Fail unless every method the capture needs is registered by our oned."""
        if method == "system.listMethods":
            captured = normalise((WIRE / f"{stem}.response.xml").read_text(encoding="utf-8"))
            missing = sorted(set(parse_response(captured.encode())[1]) - self.registered)
        elif UNREGISTERED_ON_PURPOSE.fullmatch(method):
            missing = []
        else:
            missing = [] if method in self.registered else [method]
        if missing:
            pytest.fail(f"{stem}: method not registered: {', '.join(missing)}")

    def replay(self, stem: str) -> None:
        """Send capture ``stem``; fail unless the (normalised) answer is the expected one."""
        method = method_of(stem)
        self.check_registered(stem, method)
        request = (WIRE / f"{stem}.request.xml").read_bytes()
        expected = self.expected(stem)
        retry = method.endswith(".info")
        if not retry:
            self.settle()
        deadline = time.monotonic() + (RETRY_SECONDS if retry else 0)
        while True:
            status, body, _ = self.oned.post(request)
            got = normalise(body.decode("utf-8", "replace"))
            if status == 200 and (
                got == expected or monitoring_lag_equal(expected.encode(), got.encode())
            ):
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        note = ""
        if stem in DEVIATIONS:
            note = f" (deliberate deviation, {DEVIATIONS[stem].decision}: expected is OUR answer)"
        pytest.fail(f"{stem}: HTTP {status}{note}\n--- expected\n{expected}\n--- got\n{got}")


@pytest.fixture(scope="module")
def replayer(tmp_path_factory, oned_process_cls):
    """One fresh oned (dummy drivers) for the whole replay, in capture order."""
    oned = oned_process_cls(tmp_path_factory.mktemp("conformance"), ONED_CONF, SECTIONS)
    oned.start()
    try:
        yield Replayer(oned)
    finally:
        oned.stop()


@pytest.mark.parametrize("stem", [s for _, s in CAPTURES], ids=[s for _, s in CAPTURES])
def test_capture(replayer, stem):
    replayer.replay(stem)


@pytest.mark.parametrize("stem", sorted(DEVIATIONS))
def test_deviation_is_named_and_documented(stem):
    """A deviation names a real capture, an existing response file and a decision document."""
    deviation = DEVIATIONS[stem]
    assert (WIRE / f"{stem}.request.xml").is_file(), f"{stem}: no such capture"
    assert deviation.response.is_file(), f"{stem}: missing {deviation.response}"
    assert deviation.reason.strip(), f"{stem}: no reason given"
    doc = PROJECT / deviation.decision.split("#", 1)[0]
    assert doc.is_file(), f"{stem}: decision document {doc} does not exist"
    number = stem.split("_", 1)[0]
    assert f"capture {number}" in doc.read_text(encoding="utf-8"), f"{doc} never names {stem}"
    assert deviation.response.read_bytes() != (WIRE / f"{stem}.response.xml").read_bytes()
