"""CONTEXT resolution at allocation (spec §8.1) on real templates."""

from __future__ import annotations

import logging
import xmlrpc.client
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from one_core.template import Template
from one_core.vm_context import resolve_context, serialize_context, stored_context, take_context

WIRE = Path(__file__).parents[1] / "data" / "one14" / "wire"
"""oned 1.4's wire captures."""

SPEC_EXAMPLE = r"""
NAME = "web"
DISK = [ source = "/srv/img.raw", target = "hda" ]
NIC = [ NETWORK = "Public" ]
CONTEXT = [
  hostname    = "$NAME",
  ip_public   = "$NIC[IP, NETWORK=\"Public\"]",
  files       = "/srv/init.sh /srv/id_dsa.pub",
  target      = "hdc",
  root_pubkey = "id_dsa.pub" ]
"""


def allocate(
    text: str,
    vid: int,
    leases: dict[str, str] | None = None,
    lookup=None,
    log: logging.Logger | None = None,
) -> tuple[Template, dict | None]:
    """What the engine does: take CONTEXT, 'insert' (VMID, leases), resolve, store."""
    template = Template.parse(text)
    raw = take_context(template)
    template.add("VMID", str(vid))
    nics = template.remove("NIC")
    for nic in nics:
        if isinstance(nic, dict) and nic.get("NETWORK") in (leases or {}):
            nic = {**nic, "IP": leases[nic["NETWORK"]]}
        template.add("NIC", nic)
    resolved = None if raw is None else resolve_context(raw, template, lookup, oned_log=log)
    if resolved is not None:
        template.add("CONTEXT", resolved)
    return template, resolved


def test_spec_example() -> None:
    template, resolved = allocate(SPEC_EXAMPLE, 5, {"Public": "10.0.0.1"})
    assert resolved == {
        "FILES": "/srv/init.sh /srv/id_dsa.pub",
        "HOSTNAME": "web",
        "IP_PUBLIC": "10.0.0.1",
        "ROOT_PUBKEY": "id_dsa.pub",
        "TARGET": "hdc",
    }
    assert list(resolved) == sorted(resolved)
    assert stored_context(template) == resolved


def test_one14_wire_capture_example() -> None:
    """The template of wire capture 43 gives the CONTEXT oned 1.4 stored (capture 63)."""
    (_, text), _ = xmlrpc.client.loads(
        (WIRE / "43_vm_allocate_example_template.request.xml").read_text()
    )
    _, resolved = allocate(text, 0, {"Private LAN": "192.168.0.1"})
    (info,), _ = xmlrpc.client.loads((WIRE / "63_vm_info_running.response.xml").read_text())
    stored = ET.fromstring(info[1]).find("TEMPLATE/CONTEXT")
    assert resolved == {el.tag: el.text for el in stored}
    assert resolved == {"HOSTNAME": "vm-example", "IP_GEN": "10.0.0.", "IP_PRIVATE": "192.168.0.1"}


def test_other_vm_context_and_self_reference() -> None:
    others = {3: Template.parse('CONTEXT = [ IP_PUBLIC = "1.2.3.4" ]')}
    text = 'CONTEXT = [ A = "$3.IP_PUBLIC", B = "$8.A", C = "$9.A" ]'
    # VM 8 is the VM itself: its CONTEXT is not stored yet, so $8.A is empty
    own: dict[int, Template] = {}

    def lookup(vid: int):
        return others.get(vid) or own.get(vid)

    template = Template.parse(text)
    raw = take_context(template)
    own[8] = template
    assert resolve_context(raw, template, lookup) == {"A": "1.2.3.4", "B": "", "C": ""}


def test_syntax_error_drops_the_whole_context(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.oned")
    caplog.set_level(logging.ERROR, logger="test.oned")
    text = 'NAME = "x"\nCONTEXT = [ HOSTNAME = "$NAME", BAD = "$NIC[IP]x" ]'
    template, resolved = allocate(text, 1, log=log)
    assert resolved is None
    assert "CONTEXT" not in template
    assert [r.getMessage() for r in caplog.records] == [
        "syntax error, unexpected VARIABLE, expecting EOA at line 1, columns 12:13: "
        "BAD=$NIC[IP]x @^_^@ HOSTNAME=$NAME"
    ]


def test_take_context_keeps_only_the_first_vector() -> None:
    t = Template.parse('CONTEXT = [ A = "1" ]\nCONTEXT = [ B = "2" ]\nNAME = "n"')
    assert take_context(t) == {"A": "1"}
    assert "CONTEXT" not in t
    single = Template.parse('CONTEXT = "x"\nCONTEXT = [ B = "2" ]')
    assert take_context(single) is None
    assert "CONTEXT" not in single
    assert take_context(Template.parse('NAME = "n"')) is None


def test_stored_context_needs_exactly_one_vector() -> None:
    assert stored_context(Template.parse('NAME = "n"')) is None
    assert stored_context(Template.parse("CONTEXT = [ A = 1 ]\nCONTEXT = [ B = 2 ]")) is None
    assert stored_context(Template.parse("CONTEXT = [ A = 1 ]")) == {"A": "1"}


def test_a_value_cannot_inject_keys() -> None:
    """1.4 re-split the expanded string on ' @^_^@ ': a crafted NAME created keys."""
    template = Template()
    template.add("NAME", "x @^_^@ EVIL$(reboot)=1")
    resolved = resolve_context({"HOSTNAME": "$NAME", "Z": "z"}, template)
    assert resolved == {"HOSTNAME": "x @^_^@ EVIL$(reboot)=1", "Z": "z"}


def test_serialize_context_sorts_keys() -> None:
    assert serialize_context({"B": "2", "A": "$NAME"}) == "A=$NAME @^_^@ B=2"


def test_empty_values_resolve_to_empty() -> None:
    assert resolve_context({"E": "", "M": "$MISSING"}, Template()) == {"E": "", "M": ""}
