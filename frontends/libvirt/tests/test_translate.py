"""Domain XML ⇄ VM template, both ways, and the errors for everything outside the subset."""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
from one_libvirt import translate
from one_libvirt.errors import BadXML, UnsupportedXML
from one_libvirt.protocol import ErrCode

from one_core.template import Template

DATA = Path(__file__).parent / "data"

SEED_XML = (DATA / "seed-domain.xml").read_text()
"""The seed example: a Xen-style domain with two disks and a bridged NIC."""


def test_seed_example_becomes_the_template() -> None:
    t = translate.domain_to_template(SEED_XML)
    assert t.attributes == [
        ("NAME", "vm01"),
        ("MEMORY", "32"),
        ("CPU", "1"),
        ("VCPU", "1"),
        (
            "OS",
            {
                "KERNEL": "/boot/vmlinuz-2.6.24-17-xen",
                "INITRD": "/boot/initrd.img-2.6.24-17-xen",
                "ROOT": "sda1",
            },
        ),
        ("DISK", {"SOURCE": "/images/sgehosts/01/disk.img", "TARGET": "sda1"}),
        ("DISK", {"SOURCE": "/images/sgehosts/01/swap.img", "TARGET": "sda2"}),
        ("NIC", {"BRIDGE": "eth0", "TARGET": "tap0", "MAC": "00:16:3e:01:01:01"}),
    ]
    # the text oned receives parses back to the same template
    assert Template.parse(t.to_text()) == t


def test_network_interface_and_cmdline() -> None:
    xml = """<domain><name>n</name><os><type>linux</type><cmdline>ro quiet</cmdline></os>
      <devices><interface type='network'><source network='Private LAN'/></interface></devices>
    </domain>"""
    t = translate.domain_to_template(xml)
    assert t.vector("OS") == {"KERNEL_CMD": "ro quiet"}
    assert t.vectors("NIC") == [{"NETWORK": "Private LAN"}]
    assert "MEMORY" not in t and "CPU" not in t


@pytest.mark.parametrize(
    ("memory", "mib"),
    [
        ("<memory>32768</memory>", 32),
        ("<memory unit='KiB'>1</memory>", 1),
        ("<memory unit='MiB'>512</memory>", 512),
        ("<memory unit='GiB'>2</memory>", 2048),
        ("<memory unit='b'>1048577</memory>", 2),
    ],
)
def test_memory_units_round_up_to_mib(memory: str, mib: int) -> None:
    t = translate.domain_to_template(f"<domain><name>m</name>{memory}</domain>")
    assert t.get("MEMORY") == str(mib)


@pytest.mark.parametrize(
    ("fragment", "named"),
    [
        ("<os><type>exe</type></os>", "os type 'exe'"),
        ("<os><type bits='64'>hvm</type></os>", "'bits'"),
        ("<os><type>hvm</type><boot dev='usb'/></os>", "boot device 'usb'"),
        ("<os><type>hvm</type><firmware/></os>", "<firmware>"),
        ("<devices><graphics type='rdp'/></devices>", "graphics type 'rdp'"),
        ("<devices><hostdev mode='subsystem'/></devices>", "<hostdev>"),
        ("<devices><disk type='network'><source name='x'/></disk></devices>", "disk type"),
        (
            "<devices><disk type='file' device='lun'><source file='/a'/></disk></devices>",
            "disk device 'lun'",
        ),
        ("<devices><disk><source file='/a'/><iotune/></disk></devices>", "<iotune>"),
        (
            "<devices><interface type='user'><source bridge='b'/></interface></devices>",
            "interface type 'user'",
        ),
        (
            "<devices><interface type='network'><source network='n'/><filterref/>"
            "</interface></devices>",
            "<filterref>",
        ),
        ("<devices><input type='joystick'/></devices>", "input type 'joystick'"),
        ("<vcpu cpuset='0' foo='1'>2</vcpu>", "'foo'"),
        ("<memory unit='pages'>2</memory>", "memory unit 'pages'"),
        ("<memoryBacking/>", "<memoryBacking>"),
    ],
)
def test_unsupported_parts_are_named(fragment: str, named: str) -> None:
    with pytest.raises(UnsupportedXML) as err:
        translate.domain_to_template(f"<domain type='kvm'><name>x</name>{fragment}</domain>")
    assert named in str(err.value)
    assert str(err.value).startswith("unsupported configuration: ")
    assert err.value.code == ErrCode.CONFIG_UNSUPPORTED


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        ("<domain><memory>1</memory></domain>", "missing <name>"),
        ("<domain><name>x</name><memory>lots</memory></domain>", "invalid memory"),
        ("<domain><name>x</name><vcpu>0</vcpu></domain>", "invalid vcpu"),
        (
            "<domain><name>x</name><devices><disk><target dev='a'/></disk></devices></domain>",
            "missing <source",
        ),
        ("<domain><name>x</name>", "malformed"),
        ("<network><name>x</name></network>", "expected a <domain>"),
        ("<domain><name>a</name><name>b</name></domain>", "more than one <name>"),
        (
            '<!DOCTYPE d [<!ENTITY e "boom">]><domain><name>&e;</name></domain>',
            "forbidden XML construct",
        ),
    ],
)
def test_bad_documents(xml: str, says: str) -> None:
    with pytest.raises(BadXML) as err:
        translate.domain_to_template(xml)
    assert says in str(err.value)
    assert err.value.code == ErrCode.XML_ERROR


def _template_element(text: str):  # type: ignore[no-untyped-def]
    return DET.fromstring(Template.parse(text).to_xml())


def test_vm_to_domain_xml_round_trips_the_seed_subset() -> None:
    tmpl = translate.domain_to_template(SEED_XML)
    xml = translate.domain_xml(
        "vm01", "4f4e4500-0000-4000-8000-000000000007", 7, _template_element(tmpl.to_text())
    )
    root = DET.fromstring(xml)
    assert root.get("type") == "one" and root.get("id") == "7"
    assert root.findtext("uuid") == "4f4e4500-0000-4000-8000-000000000007"
    assert root.find("memory").get("unit") == "KiB" and root.findtext("memory") == "32768"
    assert root.findtext("os/kernel") == "/boot/vmlinuz-2.6.24-17-xen"
    assert [d.get("file") for d in root.findall("devices/disk/source")] == [
        "/images/sgehosts/01/disk.img",
        "/images/sgehosts/01/swap.img",
    ]
    # what dumpxml shows is accepted again by create/define, giving the same template
    assert translate.domain_to_template(xml) == tmpl


def test_inactive_domain_has_no_id_and_network_nic_shows_lease() -> None:
    el = _template_element(
        'NAME = "n"\nCPU = 0.5\nMEMORY = 64\n'
        'NIC = [ NETWORK = "Private LAN", BRIDGE = "br0", IP = "10.0.0.1", MAC = "00:03:0a:00:00:01" ]\n'
    )
    root = DET.fromstring(translate.domain_xml("n", "u", -1, el))
    assert root.get("id") is None
    assert root.findtext("vcpu") == "1"  # CPU 0.5 rounds up to one vCPU
    iface = root.find("devices/interface")
    assert iface.get("type") == "network"
    assert iface.find("source").get("network") == "Private LAN"
    assert iface.find("mac").get("address") == "00:03:0a:00:00:01"


def test_values_are_escaped_in_both_directions() -> None:
    tmpl = translate.domain_to_template(
        "<domain><name>a&amp;b</name><devices><disk><source file='/x/&lt;y&gt; z.img'/></disk>"
        "</devices></domain>"
    )
    assert tmpl.vectors("DISK") == [{"SOURCE": "/x/<y> z.img"}]
    xml = translate.domain_xml("a&b", "u", 1, _template_element(tmpl.to_text()))
    assert DET.fromstring(xml).find("devices/disk/source").get("file") == "/x/<y> z.img"
    again = translate.domain_to_template(xml)
    assert again.get("NAME") == "a&b"
    assert again.vectors("DISK") == tmpl.vectors("DISK")


@pytest.mark.parametrize("sample", sorted(p.name for p in DATA.glob("virt-install-*.xml")))
def test_virt_install_samples_translate(sample: str, caplog: pytest.LogCaptureFixture) -> None:
    """virt-install's output is accepted; what has no meaning is dropped with a logged note."""
    caplog.set_level("INFO", logger="one_libvirt.translate")
    t = translate.domain_to_template((DATA / sample).read_text())
    assert t.get("NAME").startswith("vi-")
    assert int(t.get("MEMORY")) >= 256
    assert t.vector("OS") == {"BOOT": "hd"}
    assert t.vector("FEATURES") == {"PAE": "yes"}
    assert t.vectors("DISK")[0]["SOURCE"].startswith("/")
    assert "MODEL" in t.vectors("NIC")[0]
    notes = caplog.text
    assert "<domain/currentMemory> ignored" in notes
    assert "<domain/devices/emulator> ignored" in notes
    assert "target bus=" in notes and "<domain/devices/controller> ignored" in notes


def test_virt_install_devices_are_mapped() -> None:
    t = translate.domain_to_template((DATA / "virt-install-debian.xml").read_text())
    assert t.vectors("NIC") == [{"NETWORK": "Private LAN", "MODEL": "virtio"}]  # no MAC
    assert t.vectors("DISK") == [{"SOURCE": "/var/lib/one/images/debian12.qcow2", "TARGET": "vda"}]
    assert t.vectors("GRAPHICS") == [{"TYPE": "vnc", "LISTEN": "127.0.0.1"}]
    assert t.vectors("INPUT") == [{"TYPE": "tablet", "BUS": "usb"}]
    defaults = translate.domain_to_template((DATA / "virt-install-defaults.xml").read_text())
    assert defaults.vectors("GRAPHICS") == []  # SPICE has no 1.4 meaning


def test_mapped_extras_round_trip() -> None:
    """What the translator maps comes back in dumpxml and translates to the same template."""
    xml = """<domain type='kvm'><name>rt</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
      <os><type>hvm</type><boot dev='cdrom'/></os><features><acpi/><pae/></features>
      <devices>
        <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hdc'/>
          <readonly/></disk>
        <disk type='block' device='disk'><source dev='/dev/vg/lv'/><target dev='vda'/></disk>
        <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>
        <graphics type='vnc' port='5901' listen='0.0.0.0' passwd='pw'/>
        <input type='mouse' bus='ps2'/>
      </devices></domain>"""
    t = translate.domain_to_template(xml)
    assert t.vectors("DISK") == [
        {"SOURCE": "/iso/x.iso", "TARGET": "hdc", "TYPE": "cdrom", "READONLY": "yes"},
        {"SOURCE": "/dev/vg/lv", "TARGET": "vda", "TYPE": "block"},
    ]
    back = translate.domain_xml("rt", "u", -1, _template_element(t.to_text()))
    assert translate.same_definition(translate.domain_to_template(back), t)
