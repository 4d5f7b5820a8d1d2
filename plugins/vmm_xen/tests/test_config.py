"""The Xen deployment file against spec §5.3, attribute by attribute."""

from __future__ import annotations

import ast

import pytest
from one_vmm_xen.config import cpu_credits, quote, render_config, vnc_display
from one_vmm_xen.settings import packaged_defaults

from one_core.errors import DriverError
from one_core.records import VMRecord
from one_core.template import Template

RDIR = "/srv/one/var/5/images"


def vm(text: str, vid: int = 5) -> VMRecord:
    return VMRecord(
        vid=vid, uid=0, name="vm", template=Template.parse(text), host="h", vm_dir="/srv/one/var"
    )


def render(text: str, defaults: dict | None = None, warnings: list[str] | None = None) -> str:
    sink = warnings if warnings is not None else []
    return render_config(vm(text), defaults or {}, warn=sink.append)


def lines(text: str, defaults: dict | None = None) -> list[str]:
    return render(text, defaults).splitlines()


BASE = 'MEMORY = 512\nOS = [ KERNEL = "/vmlinuz" ]\n'


def test_spec_example() -> None:
    """The worked example of §5.3 (PORT 5905 is written as display 5: see docs/decisions)."""
    template = """
        CPU = 1
        MEMORY = 512
        OS = [ KERNEL = /vmlinuz, INITRD = /initrd.img, ROOT = sda1, KERNEL_CMD = ro ]
        DISK = [ SOURCE = /i/a.img, TARGET = sda ]
        DISK = [ TYPE = swap, SIZE = 1024, TARGET = sdb ]
        NIC = [ BRIDGE = br0, MAC = "00:03:0a:00:00:01" ]
        GRAPHICS = [ TYPE = vnc, LISTEN = "0.0.0.0", PORT = 5905 ]
        CONTEXT = [ HOSTNAME = vm, TARGET = hdc ]
    """
    assert render(template, {"CREDIT": "256"}) == (
        "name = 'one-5'\n"
        "#O CPU_CREDITS = 256\n"
        "memory  = '512'\n"
        "kernel = '/vmlinuz'\n"
        "ramdisk = '/initrd.img'\n"
        "root = '/dev/sda1'\n"
        "extra = 'ro'\n"
        "disk = [\n"
        "    'tap:aio:/srv/one/var/5/images/disk.0,sda,w',\n"
        "    'tap:aio:/srv/one/var/5/images/disk.1,sdb,w',\n"
        "    'tap:aio:/srv/one/var/5/images/disk.2,hdc,r',\n"
        "]\n"
        "vif = [\n"
        "    'mac=00:03:0a:00:00:01,bridge=br0',\n"
        "]\n"
        "vfb = ['type=vnc,vnclisten=0.0.0.0,vncunused=0,vncdisplay=5']\n"
    )


# -- name, credits, memory, vcpu ------------------------------------------------------


def test_name_is_one_vid_not_the_template_name() -> None:
    assert lines("NAME = web\n" + BASE)[0] == "name = 'one-5'"


@pytest.mark.parametrize(
    ("cpu", "credit", "expected"),
    [
        (None, None, 1),  # both default to 1.0
        ("1", "256", 256),
        ("0.5", "256", 128),
        ("0.3", "256", 77),  # ceil(76.8)
        ("2", None, 2),
        (None, "256", 256),
        ("1.5abc", "100", 150),  # stream extraction
    ],
)
def test_cpu_credits(cpu: str | None, credit: str | None, expected: int) -> None:
    text = BASE + (f"CPU = {cpu}\n" if cpu else "")
    defaults = {"CREDIT": credit} if credit else {}
    assert cpu_credits(vm(text), defaults) == expected
    assert f"#O CPU_CREDITS = {expected}" in lines(text, defaults)


def test_packaged_defaults_give_credit_256() -> None:
    assert packaged_defaults()["CREDIT"] == "256"
    assert "#O CPU_CREDITS = 128" in lines(BASE + "CPU = 0.5\n", packaged_defaults())


def test_memory_two_spaces_verbatim_and_default() -> None:
    assert "memory  = '512'" in lines(BASE)
    assert "memory  = '1024'" in lines('OS = [ KERNEL = "/k" ]\n', {"MEMORY": "1024"})
    assert "memory  = '512'" in lines(BASE, {"MEMORY": "1024"})  # the template wins


def test_missing_memory_is_1_4s_error() -> None:
    with pytest.raises(DriverError, match=r"^No memory defined and no default provided\.$"):
        render('OS = [ KERNEL = "/k" ]\n')


def test_vcpu_template_then_default_else_omitted() -> None:
    assert "vcpus  = '2'" in lines(BASE + "VCPU = 2\n")
    assert "vcpus  = '4'" in lines(BASE, {"VCPU": "4"})
    assert not [line for line in lines(BASE) if line.startswith("vcpu")]


# -- OS ---------------------------------------------------------------------------------


def test_kernel_with_optional_initrd_root_extra() -> None:
    out = lines('MEMORY = 1\nOS = [ KERNEL = "/k" ]\n')
    assert "kernel = '/k'" in out
    assert not [x for x in out if x.startswith(("ramdisk", "root", "extra", "bootloader"))]


def test_os_values_fall_back_to_defaults() -> None:
    defaults = {"OS": {"KERNEL": "/dk", "INITRD": "/di", "ROOT": "xvda1", "KERNEL_CMD": "quiet"}}
    out = lines("MEMORY = 1\nOS = [ INITRD = /ti ]\n", defaults)
    assert out[3:7] == [
        "kernel = '/dk'",
        "ramdisk = '/ti'",
        "root = '/dev/xvda1'",
        "extra = 'quiet'",
    ]


def test_bootloader_only_without_kernel_in_double_quotes() -> None:
    out = lines('MEMORY = 1\nOS = [ BOOTLOADER = "/usr/bin/pygrub", ROOT = sda1 ]\n')
    assert 'bootloader = "/usr/bin/pygrub"' in out
    assert not [x for x in out if x.startswith(("kernel", "root"))]
    both = lines('MEMORY = 1\nOS = [ KERNEL = /k, BOOTLOADER = "/usr/bin/pygrub" ]\n')
    assert not [x for x in both if x.startswith("bootloader")]


def test_boot_is_ignored_and_no_kernel_nor_bootloader_fails() -> None:
    with pytest.raises(
        DriverError, match=r"^No kernel or bootloader defined and no default provided\.$"
    ):
        render("MEMORY = 1\nOS = [ BOOT = hd ]\n")


# -- disks and context ----------------------------------------------------------------


def disk_lines(text: str, defaults: dict | None = None) -> list[str]:
    out = lines(BASE + text, defaults)
    return out[out.index("disk = [") + 1 : out.index("]")]


def test_disk_prefix_mode_and_index() -> None:
    assert disk_lines(
        "DISK = [ TYPE = block, TARGET = sda ]\n"
        "DISK = [ TYPE = BLOCK, TARGET = sdb, READONLY = yes ]\n"
        "DISK = [ TYPE = fs, TARGET = sdc, READONLY = no ]\n"
        "DISK = [ TARGET = sdd, READONLY = YES ]\n"
    ) == [
        f"    'phy:{RDIR}/disk.0,sda,w',",
        f"    'phy:{RDIR}/disk.1,sdb,r',",
        f"    'tap:aio:{RDIR}/disk.2,sdc,w',",
        f"    'tap:aio:{RDIR}/disk.3,sdd,r',",
    ]


def test_disk_driver_per_disk_and_default() -> None:
    assert disk_lines(
        "DISK = [ TARGET = xvda, DRIVER = file ]\nDISK = [ TARGET = xvdb ]\n",
        {"DISK": {"DRIVER": "qdisk:"}},
    ) == [f"    'file:{RDIR}/disk.0,xvda,w',", f"    'qdisk:{RDIR}/disk.1,xvdb,w',"]


def test_disk_without_target_is_1_4s_error() -> None:
    with pytest.raises(DriverError, match=r"^Wrong target value in DISK\.$"):
        render(BASE + "DISK = [ SOURCE = /a ]\n")


def test_disk_target_with_comma_is_refused() -> None:
    with pytest.raises(DriverError, match="Wrong target value in DISK"):
        render(BASE + 'DISK = [ TARGET = "sda,w,backend=evil" ]\n')


def test_context_disk_after_the_last_disk() -> None:
    assert disk_lines("DISK = [ TARGET = sda ]\nCONTEXT = [ A = b, TARGET = hdc ]\n")[-1] == (
        f"    'tap:aio:{RDIR}/disk.1,hdc,r',"
    )
    assert disk_lines("CONTEXT = [ TARGET = hdb ]\n") == [f"    'tap:aio:{RDIR}/disk.0,hdb,r',"]


def test_context_without_target_warns() -> None:
    warnings: list[str] = []
    out = render(BASE + "CONTEXT = [ A = b ]\n", warnings=warnings).splitlines()
    assert out[out.index("disk = [") + 1] == "]"
    assert warnings == ["Could not find target device to attach context, will continue without it."]


def test_empty_lists_are_still_written() -> None:
    out = lines(BASE)
    assert out[-4:] == ["disk = [", "]", "vif = [", "]"]


# -- NICs -------------------------------------------------------------------------------


def vif_lines(text: str) -> list[str]:
    out = lines(BASE + text)
    start = out.index("vif = [") + 1
    return out[start : out.index("]", start)]


def test_vif_items() -> None:
    assert vif_lines(
        'NIC = [ MAC = "00:03:0a:00:00:01", BRIDGE = br0, IP = "10.0.0.1", NETWORK = n ]\n'
        'NIC = [ MAC = "00:03:0a:00:00:02" ]\n'
        "NIC = [ BRIDGE = br1 ]\n"
        "NIC = [ TARGET = vif9 ]\n"
        "NIC = [ MODEL = e1000 ]\n"
        'NIC = [ MAC = "00:03:0a:00:00:03", BRIDGE = br0, SCRIPT = "/etc/xen/vif-x", '
        "MODEL = e1000 ]\n"
    ) == [
        "    'mac=00:03:0a:00:00:01,bridge=br0',",
        "    'mac=00:03:0a:00:00:02',",
        "    ' bridge=br1',",  # quirk 24, as 1.4
        "    '',",
        "    'model=e1000',",
        "    'mac=00:03:0a:00:00:03,bridge=br0,script=/etc/xen/vif-x,model=e1000',",
    ]


def test_vif_value_with_comma_is_refused() -> None:
    with pytest.raises(DriverError, match="NIC/BRIDGE"):
        render(BASE + 'NIC = [ BRIDGE = "br0,script=/tmp/evil" ]\n')


# -- graphics ---------------------------------------------------------------------------


def test_vfb_every_item() -> None:
    out = lines(
        BASE + "GRAPHICS = [ TYPE = VNC, LISTEN = 127.0.0.1, PORT = 5901, PASSWD = s3cret, "
        "KEYMAP = es ]\n"
    )
    assert out[-1] == (
        "vfb = ['type=vnc,vnclisten=127.0.0.1,vncunused=0,vncdisplay=1,vncpasswd=s3cret,keymap=es']"
    )
    assert lines(BASE + "GRAPHICS = [ TYPE = vnc ]\n")[-1] == "vfb = ['type=vnc']"


def test_vnc_display_from_port() -> None:
    assert vnc_display("5900") == "0"
    assert vnc_display("5905") == "5"
    assert vnc_display("7") == "7"  # a display number, as 1.4 wrote it
    with pytest.raises(DriverError):
        vnc_display("59x")


def test_other_graphics_types_warn() -> None:
    warnings: list[str] = []
    out = render(BASE + "GRAPHICS = [ TYPE = sdl ]\n", warnings=warnings)
    assert "vfb" not in out
    assert warnings == ["Not supported graphics type, ignored."]
    assert "vfb" not in render(BASE + "GRAPHICS = [ TYPE = Vnc ]\n")  # only vnc / VNC


# -- raw and ignored attributes --------------------------------------------------------------


def test_raw_xen_lines_verbatim_at_the_end() -> None:
    out = lines(
        BASE
        + "RAW = [ TYPE = xen, DATA = \"on_crash = 'restart'\" ]\n"
        + 'RAW = [ TYPE = kvm, DATA = "<x/>" ]\n'
        + "RAW = [ TYPE = XEN, DATA = \"cpus = '0-3'\" ]\n"
    )
    assert out[-2:] == ["on_crash = 'restart'", "cpus = '0-3'"]


def test_ignored_attributes() -> None:
    base = render(BASE)
    assert (
        render(
            BASE
            + "FEATURES = [ PAE = yes, ACPI = yes ]\nINPUT = [ TYPE = tablet, BUS = usb ]\n"
            + "OS = [ BOOT = cdrom ]\n"
        )
        == base
    )


# -- quoting ----------------------------------------------------------------------------------


def test_quote_escapes() -> None:
    assert quote("a'b") == "'a\\'b'"
    assert quote('a"b\\c') == "'a\\\"b\\\\c'"
    assert quote("l1\nl2\tx\r") == "'l1\\nl2\\tx\\r'"
    with pytest.raises(DriverError, match="control character"):
        quote("bell\x07")


HOSTILE = [
    "/k'; import os; os.system('touch /tmp/pwned') #",
    "/k\nbootloader = '/bin/sh'",
    "/k\"\\'",
    "/k\\",
    "$(touch /tmp/pwned) `id` ; | & > <",
    "ünïcödé",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_inside_their_string(value: str) -> None:
    """xm runs the file as Python: each line must be one assignment of the exact value."""
    from one_core.template.serialize import format_value

    text = (
        f"MEMORY = {format_value(value)}\n"
        f"VCPU = {format_value(value)}\n"
        f"OS = [ KERNEL = {format_value(value)}, INITRD = {format_value(value)}, "
        f"ROOT = {format_value(value)}, KERNEL_CMD = {format_value(value)} ]\n"
    )
    config = render(text)
    tree = ast.parse(config)
    assigned = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        assigned[node.targets[0].id] = ast.literal_eval(node.value)
    assert assigned["memory"] == value
    assert assigned["vcpus"] == value
    assert assigned["kernel"] == value
    assert assigned["ramdisk"] == value
    assert assigned["extra"] == value
    assert assigned["root"] == "/dev/" + value
    assert set(assigned) == {"name", "memory", "vcpus", "kernel", "ramdisk", "root", "extra"} | {
        "disk",
        "vif",
    }


def test_hostile_bootloader_in_double_quotes() -> None:
    config = render('MEMORY = 1\nOS = [ BOOTLOADER = "/b\\"; import os #" ]\n')
    tree = ast.parse(config)
    values = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body}
    assert values["bootloader"] == '/b"; import os #'
