"""The domain XML of every template attribute, against spec §5.2."""

from __future__ import annotations

import pytest
from lxml import etree
from one_vmm_kvm.domain import render_domain
from one_vmm_kvm.settings import packaged_defaults

from one_core.errors import DriverError
from one_core.records import VMRecord
from one_core.template import Template

RDIR = "/srv/one/var/5/images"

SPEC_EXAMPLE = """<domain type='kvm'>
	<name>one-5</name>
	<memory>524288</memory>
	<os>
		<type>hvm</type>
		<kernel>/vmlinuz</kernel>
		<initrd>/initrd.img</initrd>
		<cmdline>root=/dev/sda1 ro</cmdline>
		<boot dev='hd'/>
	</os>
	<devices>
		<emulator>/usr/bin/kvm</emulator>
		<disk type='file' device='disk'>
			<source file='/srv/one/var/5/images/disk.0'/>
			<target dev='sda'/>
		</disk>
		<disk type='file' device='disk'>
			<source file='/srv/one/var/5/images/disk.1'/>
			<target dev='sdb'/>
		</disk>
		<disk type='file' device='cdrom'>
			<source file='/srv/one/var/5/images/disk.2'/>
			<target dev='hdc'/>
			<readonly/>
		</disk>
		<interface type='bridge'>
			<source bridge='br0'/>
			<mac address='00:03:0a:00:00:01'/>
		</interface>
		<graphics type='vnc' listen='0.0.0.0' port='5905'/>
	</devices>
	<features>
		<acpi/>
	</features>
</domain>
"""


def vm(text: str, vid: int = 5, vm_dir: str = "/srv/one/var") -> VMRecord:
    return VMRecord(
        vid=vid, uid=0, name="web", template=Template.parse(text), host="node1", vm_dir=vm_dir
    )


def render(text: str, defaults=None, warnings: list[str] | None = None, **kwargs) -> str:
    sink = warnings if warnings is not None else []
    return render_domain(
        vm(text),
        packaged_defaults() if defaults is None else defaults,
        warn=sink.append,
        **kwargs,
    )


def tree(text: str, **kwargs) -> etree._Element:
    return etree.fromstring(render(text, **kwargs).encode())


BASE = "MEMORY=128\n"


def test_spec_example_byte_for_byte_but_quotes():
    text = render(
        "MEMORY=512\nOS=[KERNEL=/vmlinuz, INITRD=/initrd.img, ROOT=sda1, KERNEL_CMD=ro]\n"
        "DISK=[SOURCE=/i/a.img, TARGET=sda]\nDISK=[TYPE=swap, SIZE=1024, TARGET=sdb]\n"
        'NIC=[NETWORK="Public", BRIDGE=br0, MAC="00:03:0a:00:00:01", IP=10.0.0.1, VNID=0]\n'
        "GRAPHICS=[TYPE=vnc, LISTEN=0.0.0.0, PORT=5905]\n"
        "CONTEXT=[HOSTNAME=web, TARGET=hdc]\n"
    )
    assert text == SPEC_EXAMPLE.replace("'", '"')


def test_domain_type_and_emulator_are_switchable():
    root = tree(BASE, domain_type="qemu", emulator="/usr/bin/qemu-system-x86_64")
    assert root.get("type") == "qemu"
    assert root.findtext("devices/emulator") == "/usr/bin/qemu-system-x86_64"
    assert tree(BASE, emulator="").find("devices/emulator") is None


def test_name_is_one_vid_not_the_template_name():
    assert tree("NAME=web\n" + BASE).findtext("name") == "one-5"


def test_vcpu_from_template_default_or_omitted():
    assert tree("VCPU=4\n" + BASE).findtext("vcpu") == "4"
    assert tree(BASE, defaults={**packaged_defaults(), "VCPU": "2"}).findtext("vcpu") == "2"
    assert tree(BASE).find("vcpu") is None
    order = [el.tag for el in tree("VCPU=4\n" + BASE)]
    assert order[:4] == ["name", "vcpu", "memory", "os"]


@pytest.mark.parametrize(
    ("memory", "kb"),
    [
        ("512", "524288"),
        ("1", "1024"),
        ("256MB", "262144"),
        ("x", "0"),
        ("\u0663", "0"),  # a non-ASCII digit is no digit for C's atoi
        ("2097152", "-2147483648"),  # int arithmetic of 1.4: 2**31 wraps
    ],
)
def test_memory_is_atoi_times_1024(memory, kb):
    assert tree(f'MEMORY="{memory}"\n').findtext("memory") == kb


def test_memory_default_and_missing():
    assert (
        tree("CPU=1", defaults={**packaged_defaults(), "MEMORY": "64"}).findtext("memory")
        == "65536"
    )
    with pytest.raises(DriverError, match=r"^No MEMORY defined and no default provided\.$"):
        render("CPU=1\n")


def test_os_kernel_initrd_root_cmdline():
    os_el = tree(BASE + 'OS=[KERNEL=/k, INITRD=/i, ROOT=vda, KERNEL_CMD="ro quiet"]').find("os")
    assert [(e.tag, e.text, dict(e.attrib)) for e in os_el] == [
        ("type", "hvm", {}),
        ("kernel", "/k", {}),
        ("initrd", "/i", {}),
        ("cmdline", "root=/dev/vda ro quiet", {}),
        ("boot", None, {"dev": "hd"}),
    ]


def test_cmdline_root_only_keeps_trailing_space():
    assert tree(BASE + "OS=[KERNEL=/k, ROOT=sda1]").findtext("os/cmdline") == "root=/dev/sda1 "


def test_cmdline_without_root_and_empty_cmdline_omitted():
    assert tree(BASE + "OS=[KERNEL=/k, KERNEL_CMD=ro]").findtext("os/cmdline") == "ro"
    assert tree(BASE + "OS=[KERNEL=/k]").find("os/cmdline") is None


def test_initrd_root_cmd_only_with_a_kernel():
    os_el = tree(BASE + "OS=[INITRD=/i, ROOT=sda, KERNEL_CMD=ro, BOOTLOADER=/usr/bin/pygrub]")
    assert [e.tag for e in os_el.find("os")] == ["type", "bootloader", "boot"]
    assert os_el.findtext("os/bootloader") == "/usr/bin/pygrub"


def test_bootloader_ignored_with_a_kernel():
    assert tree(BASE + "OS=[KERNEL=/k, BOOTLOADER=/b]").find("os/bootloader") is None


def test_os_values_fall_back_to_defaults_one_by_one():
    defaults = {"OS": {"KERNEL": "/dk", "INITRD": "/di", "BOOT": "cdrom"}}
    os_el = tree(BASE + "OS=[INITRD=/ti]", defaults=defaults).find("os")
    assert os_el.findtext("kernel") == "/dk"
    assert os_el.findtext("initrd") == "/ti"
    assert os_el.find("boot").get("dev") == "cdrom"


@pytest.mark.parametrize("boot", ["hd", "cdrom", "network", "fd", "weird"])
def test_boot_written_verbatim(boot):
    assert tree(BASE + f"OS=[BOOT={boot}]").find("os/boot").get("dev") == boot


def test_boot_is_mandatory():
    with pytest.raises(DriverError, match=r"^No BOOT device defined and no default provided\.$"):
        render(BASE, defaults={})


def disks(text: str) -> list[etree._Element]:
    return tree(BASE + text).findall("devices/disk")


@pytest.mark.parametrize("kind", ["file", "swap", "fs", "cdrom", "", "FS"])
def test_non_block_disks_are_file_disks(kind):
    (disk,) = disks(f'DISK=[TYPE="{kind}", SOURCE=/a, TARGET=hda]')
    assert dict(disk.attrib) == {"type": "file", "device": "disk"}
    assert dict(disk.find("source").attrib) == {"file": f"{RDIR}/disk.0"}


@pytest.mark.parametrize("kind", ["block", "BLOCK", "Block"])
def test_block_disks(kind):
    (disk,) = disks(f"DISK=[TYPE={kind}, SOURCE=/dev/sdz, TARGET=hda]")
    assert dict(disk.attrib) == {"type": "block", "device": "disk"}
    assert dict(disk.find("source").attrib) == {"dev": f"{RDIR}/disk.0"}


def test_disk_target_bus_readonly():
    a, b, c = disks(
        "DISK=[SOURCE=/a, TARGET=vda, BUS=virtio]\n"
        "DISK=[SOURCE=/b, TARGET=hdb, READONLY=yes]\n"
        "DISK=[SOURCE=/c, TARGET=hdd, READONLY=no]\n"
    )
    assert dict(a.find("target").attrib) == {"dev": "vda", "bus": "virtio"}
    assert a.find("readonly") is None
    assert dict(b.find("target").attrib) == {"dev": "hdb"}
    assert [e.tag for e in b] == ["source", "target", "readonly"]
    assert c.find("readonly") is None
    assert [d.find("source").get("file") for d in (a, b, c)] == [
        f"{RDIR}/disk.{i}" for i in range(3)
    ]


def test_readonly_is_case_insensitive():
    (disk,) = disks("DISK=[SOURCE=/a, TARGET=hda, READONLY=YES]")
    assert disk.find("readonly") is not None


def test_disk_without_target_fails():
    with pytest.raises(DriverError, match=r"^Wrong target value in DISK\.$"):
        render(BASE + "DISK=[SOURCE=/a]")


def test_context_cdrom_after_the_disks():
    *_, ctx = disks(
        "DISK=[SOURCE=/a, TARGET=hda]\nDISK=[SOURCE=/b, TARGET=hdb]\nCONTEXT=[A=1, TARGET=hdc]"
    )
    assert dict(ctx.attrib) == {"type": "file", "device": "cdrom"}
    assert ctx.find("source").get("file") == f"{RDIR}/disk.2"
    assert [(e.tag, dict(e.attrib)) for e in ctx] == [
        ("source", {"file": f"{RDIR}/disk.2"}),
        ("target", {"dev": "hdc"}),
        ("readonly", {}),
    ]


def test_context_without_disks_is_disk_0():
    (ctx,) = disks("CONTEXT=[TARGET=hdc]")
    assert ctx.find("source").get("file") == f"{RDIR}/disk.0"


def test_context_without_target_warns():
    warnings: list[str] = []
    assert tree(BASE + "CONTEXT=[A=1]", warnings=warnings).find("devices/disk") is None
    assert warnings == ["Could not find target device to attach context, will continue without it."]


def test_two_contexts_attach_nothing():
    assert disks("CONTEXT=[TARGET=hdc]\nCONTEXT=[TARGET=hdd]") == []


def test_nic_bridge_with_everything():
    (nic,) = tree(
        BASE + "NIC=[BRIDGE=br0, MAC=02:00:0a:00:00:01, TARGET=vnet7, SCRIPT=/etc/qemu-ifup,"
        " MODEL=virtio]"
    ).findall("devices/interface")
    assert nic.get("type") == "bridge"
    assert [(e.tag, dict(e.attrib)) for e in nic] == [
        ("source", {"bridge": "br0"}),
        ("mac", {"address": "02:00:0a:00:00:01"}),
        ("target", {"dev": "vnet7"}),
        ("script", {"path": "/etc/qemu-ifup"}),
        ("model", {"type": "virtio"}),
    ]


def test_nic_without_bridge_is_ethernet():
    a, b = tree(BASE + "NIC=[MAC=02:00:00:00:00:01]\nNIC=[SCRIPT=/s]").findall("devices/interface")
    assert a.get("type") == "ethernet"
    assert [(e.tag, dict(e.attrib)) for e in a] == [("mac", {"address": "02:00:00:00:00:01"})]
    assert [e.tag for e in b] == ["script"]


def test_devices_order():
    root = tree(
        BASE + "NIC=[BRIDGE=b]\nDISK=[SOURCE=/a, TARGET=hda]\nCONTEXT=[TARGET=hdc]\n"
        "INPUT=[TYPE=tablet]\nGRAPHICS=[TYPE=vnc]"
    )
    assert [e.tag for e in root.find("devices")] == [
        "emulator",
        "disk",
        "disk",
        "interface",
        "graphics",
        "input",
    ]
    assert [e.tag for e in root] == ["name", "memory", "os", "devices", "features"]


def test_graphics_vnc_attributes():
    (g,) = tree(
        BASE + "GRAPHICS=[TYPE=VNC, LISTEN=127.0.0.1, PORT=5901, PASSWD=s3cret, KEYMAP=es]"
    ).findall("devices/graphics")
    assert dict(g.attrib) == {
        "type": "vnc",
        "listen": "127.0.0.1",
        "port": "5901",
        "password": "s3cret",
        "keymap": "es",
    }
    assert list(g.attrib) == ["type", "listen", "port", "password", "keymap"]


def test_graphics_only_first_vector():
    g = tree(BASE + "GRAPHICS=[TYPE=vnc, PORT=1]\nGRAPHICS=[TYPE=vnc, PORT=2]").findall(
        "devices/graphics"
    )
    assert [e.get("port") for e in g] == ["1"]


@pytest.mark.parametrize("kind", ["sdl", "Vnc", "spice", ""])
def test_other_graphics_types_warn(kind):
    warnings: list[str] = []
    root = tree(BASE + f'GRAPHICS=[TYPE="{kind}", PORT=1]', warnings=warnings)
    assert root.find("devices/graphics") is None
    assert warnings == ["Not supported graphics type, ignored."]


def test_input():
    (i,) = tree(BASE + "INPUT=[TYPE=tablet, BUS=usb]").findall("devices/input")
    assert dict(i.attrib) == {"type": "tablet", "bus": "usb"}
    (j,) = tree(BASE + "INPUT=[TYPE=mouse]").findall("devices/input")
    assert dict(j.attrib) == {"type": "mouse"}
    assert tree(BASE + "INPUT=[BUS=usb]").find("devices/input") is None


@pytest.mark.parametrize(
    ("features", "defaults", "expected"),
    [
        ("", None, ["acpi"]),  # shipped defaults PAE=no, ACPI=yes
        ("FEATURES=[PAE=yes]", None, ["pae", "acpi"]),
        ("FEATURES=[PAE=yes, ACPI=no]", None, ["pae"]),
        ("FEATURES=[ACPI=no]", None, None),
        ("FEATURES=[ACPI=YES]", {"OS": {"BOOT": "hd"}}, None),  # lowercase "yes" only
        ("", {"OS": {"BOOT": "hd"}}, None),
    ],
)
def test_features(features, defaults, expected):
    root = tree(BASE + features, defaults=defaults)
    found = root.find("features")
    assert (None if found is None else [e.tag for e in found]) == expected


def test_raw_kvm_sections_appended_verbatim_as_xml():
    root = tree(
        BASE + 'RAW=[TYPE=kvm, DATA="<clock offset=\\"utc\\"/>"]\n'
        'RAW=[TYPE=xen, DATA="<xen/>"]\n'
        "RAW=[TYPE=KVM, DATA=\"<cpu mode='host-model'/><on_crash>destroy</on_crash>\"]\n"
    )
    assert [e.tag for e in root][-4:] == ["features", "clock", "cpu", "on_crash"]
    assert root.find("clock").get("offset") == "utc"
    assert root.find("xen") is None


def test_raw_that_is_not_xml_fails():
    with pytest.raises(DriverError, match="RAW data is not well-formed XML"):
        render(BASE + 'RAW=[TYPE=kvm, DATA="<clock"]')
    with pytest.raises(DriverError, match="RAW data is not well-formed XML"):
        render(BASE + 'RAW=[TYPE=kvm, DATA="just text"]')


def test_raw_entities_are_not_expanded():
    with pytest.raises(DriverError):
        render(BASE + 'RAW=[TYPE=kvm, DATA="<a>&xxe;</a>"]')


def test_tab_indentation():
    lines = render(BASE).splitlines()
    assert lines[1] == "\t<name>one-5</name>"
    assert lines[4] == "\t\t<type>hvm</type>"
