"""Every template that appears in the specs and the reference guide parses as expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from one_core.template import Template

VM_TEMPLATE = (Path(__file__).parent / "data" / "vm-example.template").read_text()
"""The VM template example of spec §1.8 (``share/examples/vm.template``), also benchmarked."""


def test_vm_template_example() -> None:
    # spec §1.8 (share/examples/vm.template)
    t = Template.parse(VM_TEMPLATE + "\n")
    assert t.attributes == [
        ("NAME", "vm-example"),
        ("CPU", "0.5"),
        ("MEMORY", "128"),
        (
            "DISK",
            {"SOURCE": "/local/xen/domains/etch/disk.img", "TARGET": "sda1", "READONLY": "no"},
        ),
        ("NIC", {"NETWORK": "Private LAN"}),
        ("CONTEXT", {"IP_PRIVATE": '$NIC[IP, NETWORK="Private LAN"]'}),
    ]
    assert t.to_str() == (
        '\n\tCONTEXT=IP_PRIVATE=$NIC[IP, NETWORK="Private LAN"]'
        "\n\tCPU=0.5"
        "\n\tDISK=READONLY=no,SOURCE=/local/xen/domains/etch/disk.img,TARGET=sda1"
        "\n\tMEMORY=128\n\tNAME=vm-example\n\tNIC=NETWORK=Private LAN"
    )


def test_ttylinux_template() -> None:
    # spec xmlrpc-api.md, one.vm.allocate example
    t = Template.parse(
        "NAME   = ttylinux\nCPU    = 0.1\nMEMORY = 64\n"
        'DISK   = [ source = "/srv/cloud/images/ttylinux.img", target = "hda", readonly = "no" ]\n'
        'NIC    = [ NETWORK = "Small network" ]\n'
        'FEATURES = [ acpi = "no" ]\n'
        'CONTEXT  = [ hostname = "ttylinux", target = "hdc" ]\n' + "\n"
    )
    assert t.get("NAME") == "ttylinux"
    assert t.get_float("CPU") == pytest.approx(0.1)
    assert t.vector("DISK") == {
        "SOURCE": "/srv/cloud/images/ttylinux.img",
        "TARGET": "hda",
        "READONLY": "no",
    }
    assert t.vector("FEATURES") == {"ACPI": "no"}
    assert t.vector("CONTEXT") == {"HOSTNAME": "ttylinux", "TARGET": "hdc"}


def test_occi_generated_template() -> None:
    # spec cloud-apis.md: the template the OCCI server builds
    t = Template.parse(
        "NAME   = WebServer\nCPU    = 1\nMEMORY = 1024\n"
        "OS = [ kernel     = /vmlinuz,\n       initrd     = /initrd.img,\n"
        '       root       = sda1,\n       kernel_cmd = "ro xencons=tty console=tty1"]\n'
        'DISK = [ type = "disk", target=sda1, source=/srv/one/images/5, image_id=5 ]\n'
        'DISK = [ type = "swap", size=1024, target=sda2 ]\n'
        'DISK = [ type = "fs", target=sda3, size=1024, format=ext3 ]\n'
        'NIC = [ IP=192.168.0.20, NETWORK="Blue", NETWORK_ID=1 ]\n'
        'NIC = [ NETWORK="Red", NETWORK_ID=2 ]\n'
        "INSTANCE_TYPE = small\n"
    )
    assert t.vector("OS") == {
        "KERNEL": "/vmlinuz",
        "INITRD": "/initrd.img",
        "ROOT": "sda1",
        "KERNEL_CMD": "ro xencons=tty console=tty1",
    }
    assert [d["TYPE"] for d in t.vectors("DISK")] == ["disk", "swap", "fs"]
    assert t.vectors("NIC")[1] == {"NETWORK": "Red", "NETWORK_ID": "2"}
    assert t.get("INSTANCE_TYPE") == "small"


def test_ranged_network_example() -> None:
    # spec §4.1 (share/examples/private.net), attributes on one line
    t = Template.parse(
        'NAME = "Private LAN"    TYPE = "RANGED"  BRIDGE = "eth0"  NETWORK_SIZE = 250  '
        'NETWORK_ADDRESS = "10.0.0.0"\n'
    )
    assert t.single_values() == {
        "NAME": "Private LAN",
        "TYPE": "RANGED",
        "BRIDGE": "eth0",
        "NETWORK_SIZE": "250",
        "NETWORK_ADDRESS": "10.0.0.0",
    }


def test_fixed_network_example() -> None:
    # spec §4.1 (share/examples/public.net); even the '...' of the spec is valid 1.4
    # syntax: in INITIAL each '.' falls to rule 11 and is skipped.
    t = Template.parse(
        'NAME = "Public LAN"     TYPE = "FIXED"   BRIDGE = "eth1"\n'
        'LEASES= [IP="130.10.0.1",MAC="50:20:20:20:20:20"]   ...   LEASES= [IP="130.10.0.4"]'
    )
    assert t.get("TYPE") == "FIXED"
    assert t.vectors("LEASES") == [
        {"IP": "130.10.0.1", "MAC": "50:20:20:20:20:20"},
        {"IP": "130.10.0.4"},
    ]


# The oned.conf fragments of the reference guide §1.1 (markdown line breaks included).
SEED_FRAGMENTS = [
    "#-----  \n# Daemon configuration attributes  \n#-----  \nHOST_MONITORING_INTERVAL = 10  \n"
    "VM_POLLING_INTERVAL      = 10  \n  \nVM_DIR                    = /local/images",
    'MAC_PREFIX = "00:01"  \nNETWORK_SIZE = 254',
    "PORT = 2633  \nDEBUG_LEVEL = 3",
    "#-----  \n# Information Driver Configuration  \n#-----  \n  \nIM_MAD = [  \n"
    '    name = "im_kvm",  \n    executable = "bin/one_im_ssh",  \n'
    '    arguments = "im_kvm/im_kvm.conf",  \n    default = "im_kvm/im_kvm.conf" ]',
    "#-----  \n# Transfer Driver Configuration  \n#-----  \n  \nTM_MAD = [  \n"
    '    name      = "tm_ssh",  \n    executable = "one_tm",  \n'
    '    arguments  = "tm_ssh/tm_ssh.conf",  \n    default    = "tm_ssh/tm_ssh.conf" ]',
    "#-----  \n# Virtualization Driver Configuration  \n#-----  \n  \nVM_MAD = [  \n"
    '    name      = "vmm_kvm",  \n    executable = "one_vmm_kvm",  \n'
    '    default    = "vmm_kvm/vmm_kvm.conf",  \n    type       = "kvm" ]',
    'HM_MAD = [  \n    executable = "one_hm" ]',
    'VM_HOOK = [  \n    name      = "dhcp",  \n    on        = "create",  \n'
    '    command   = "/bin/echo",  \n    arguments = "$NAME > /tmp/test.$VMID" ]',
]


@pytest.mark.parametrize("text", SEED_FRAGMENTS)
def test_reference_guide_fragments(text: str) -> None:
    t = Template.parse(text)
    assert len(t) >= 1
    assert Template.parse(t.to_text()) == t


def test_reference_guide_hook() -> None:
    t = Template.parse(SEED_FRAGMENTS[-1])
    assert t.vector("VM_HOOK") == {
        "NAME": "dhcp",
        "ON": "create",
        "COMMAND": "/bin/echo",
        "ARGUMENTS": "$NAME > /tmp/test.$VMID",
    }
