"""to_xml / to_element / to_str (spec §1.5), checked against real 1.4 wire captures."""

from __future__ import annotations

import re
import xmlrpc.client
from pathlib import Path

from lxml import etree

from one_core.template import Template

DATA = Path(__file__).with_name("data")


def _request_template(stem: str) -> str:
    params, _method = xmlrpc.client.loads((DATA / f"{stem}.request.xml").read_text())
    return params[1]


def _response_template(stem: str) -> str:
    params, _method = xmlrpc.client.loads((DATA / f"{stem}.response.xml").read_text())
    body = params[0][1]
    return re.search(r"<TEMPLATE>.*</TEMPLATE>", body).group(0)  # type: ignore[union-attr]


def test_wire_ranged_vnet_template_xml() -> None:
    # one.vn.allocate (capture 30) then one.vn.info (capture 34): oned's TEMPLATE element
    t = Template.parse(_request_template("30_vn_allocate_ranged"))
    assert t.to_xml() == _response_template("34_vn_info_ranged")


def test_wire_fixed_vnet_template_xml() -> None:
    # duplicates (LEASES) keep insertion order; sub-attributes sorted by key
    t = Template.parse(_request_template("31_vn_allocate_fixed"))
    assert t.to_xml() == _response_template("35_vn_info_fixed")


def test_wire_vnet_unterminated_quote_is_not_an_error() -> None:
    # capture 33: 1.4 answered [True, 3] -- the value is the literal '"unterminated'
    t = Template.parse(_request_template("33_vn_allocate_parse_error"))
    assert t.attributes == [("NAME", '"unterminated')]


def test_wire_vm_template_xml() -> None:
    # capture 43 -> 48: allocate adds VMID, resolves CONTEXT and leases the NIC; every
    # other attribute must be rendered exactly as oned did.
    t = Template.parse(_request_template("43_vm_allocate_example_template") + "\n")
    t.remove("CONTEXT")
    t.remove("NIC")
    t.add("VMID", "0")
    expected = _response_template("48_vm_info_pending")
    expected = re.sub(r"<CONTEXT>.*?</CONTEXT>", "", expected)
    expected = re.sub(r"<NIC>.*?</NIC>", "", expected)
    assert t.to_xml() == expected


def test_wire_host_monitoring_xml() -> None:
    t = Template.parse_monitoring(
        "HYPERVISOR=dummy,HOSTNAME=host01,TOTALCPU=800,CPUSPEED=2000,TOTALMEMORY=16777216,"
        "USEDMEMORY=0,FREEMEMORY=16777216,FREECPU=800,USEDCPU=0,NETRX=0,NETTX=0"
    )
    assert t.to_xml() == _response_template("20_host_info_monitored")


def test_to_xml_escapes_values() -> None:
    # [QUIRK] fixed: 1.4 wrote values raw (invalid XML for < and &)
    t = Template.parse('A = "x < y & z > w"\nB = [ k = "<b>" ]\nC =\n')
    xml = t.to_xml()
    assert xml == (
        "<TEMPLATE><A>x &lt; y &amp; z &gt; w</A><B><K>&lt;b&gt;</K></B><C></C></TEMPLATE>"
    )
    root = etree.fromstring(xml)
    assert root.findtext("A") == "x < y & z > w"
    assert root.findtext("B/K") == "<b>"


def test_to_xml_keeps_cr_and_replaces_illegal_characters() -> None:
    t = Template([("A", "1\r"), ("B", "x\x01y")])
    xml = t.to_xml()
    assert "<A>1&#13;</A>" in xml
    root = etree.fromstring(xml)
    assert root.findtext("A") == "1\r"
    assert root.findtext("B") == "x\ufffdy"


def test_to_xml_sorted_by_name_stable_for_duplicates() -> None:
    t = Template.parse("b = 2\nA = [ z = 1, a = 2 ]\nb = 1\n")
    assert t.to_xml(root="T") == "<T><A><A>2</A><Z>1</Z></A><B>2</B><B>1</B></T>"


def test_to_element_matches_to_xml() -> None:
    t = Template.parse('NAME = "a & b"\nDISK = [ source = "/x", target = sda ]\nE =\nR = "1\r"\n')
    element = t.to_element()
    assert etree.tostring(element).decode() == t.to_xml()
    assert t.to_element("VM").tag == "VM"


def test_to_str_is_the_oned_log_dump_form() -> None:
    t = Template.parse("PORT = 2633\nIM_MAD = [ name = im, executable = one_im_ssh ]\nA = 1\n")
    assert t.to_str() == "\n\tA=1\n\tIM_MAD=EXECUTABLE=one_im_ssh,NAME=im\n\tPORT=2633"
