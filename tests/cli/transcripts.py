"""The real 1.4 CLI transcripts (/work/shared/one14/cli-transcripts.raw.txt) and XML documents.

The transcript was captured with ``out=$(cmd 2>&1); echo "$out"``-style capture: trailing
newlines of an output are dropped and an empty output shows as one empty line. ``expected()``
returns the recorded output in that form; compare with :func:`captured` of our bytes.

The documents below are the compact (one-line) forms oned sends, rebuilt from the ``-x``
outputs of the same transcript, so every state shown there can be served again.
"""

from __future__ import annotations

import re
from pathlib import Path

RAW = Path("/work/shared/one14/cli-transcripts.raw.txt")


def _entries() -> list[tuple[str, str, int]]:
    text = RAW.read_text(encoding="utf-8")
    entries = []
    pattern = re.compile(r"^\$ ([^\n]*)\n(.*?)^\[rc=(\d+)\]\n", re.M | re.S)
    for match in pattern.finditer(text):
        output = re.sub(r"^# \(.*\n", "", match.group(2), flags=re.M)
        entries.append((match.group(1), output, int(match.group(3))))
    return entries


ENTRIES = _entries() if RAW.exists() else []


def expected(command: str, occurrence: int = 1) -> tuple[str, int]:
    """Output (as captured) and exit status of the n-th run of ``command`` in the transcript."""
    found = [(out, rc) for cmd, out, rc in ENTRIES if cmd == command]
    out, rc = found[occurrence - 1]
    return out, rc


def captured(stdout: str) -> str:
    """Our output as the transcript capture shows it (trailing newlines folded into one)."""
    return stdout.rstrip("\n") + "\n"


def compact(pretty_xml: str) -> str:
    """The one-line document oned sends, from a pretty-printed ``-x`` output."""
    return re.sub(r">\s+<", "><", pretty_xml.strip())


def xml_output(command: str, occurrence: int = 1) -> str:
    """The compact document printed by a ``-x`` command of the transcript."""
    return compact(expected(command, occurrence)[0])


# -- documents --------------------------------------------------------------------------------

PASSWORDS = {
    "oneadmin": "34c629abfcb47856b3d1c0a30798221aefb61605",
    "user1": "f0578f1e7174b1a41c4ea8c6e17f7a8a3b88c92a",
    "user2": "8be52126a6fde450a7162a3651d589bb51e9579d",
}


def user_pool(*names: str) -> str:
    users = "".join(
        f"<USER><ID>{uid}</ID><NAME>{name}</NAME><PASSWORD>{PASSWORDS[name]}</PASSWORD>"
        "<ENABLED>True</ENABLED></USER>"
        for uid, name in enumerate(names)
    )
    return f"<USER_POOL>{users}</USER_POOL>"


def host(
    hid: int,
    name: str,
    state: int = 2,
    monitored: bool = True,
    running_vms: int = 0,
    template: bool = True,
    im: str = "im_dummy",
) -> str:
    mem, cpu = (16777216, 800) if monitored else (0, 0)
    share = (
        f"<HOST_SHARE><HID>{hid}</HID><DISK_USAGE>0</DISK_USAGE><MEM_USAGE>0</MEM_USAGE>"
        f"<CPU_USAGE>0</CPU_USAGE><MAX_DISK>0</MAX_DISK><MAX_MEM>{mem}</MAX_MEM>"
        f"<MAX_CPU>{cpu}</MAX_CPU><FREE_DISK>0</FREE_DISK><FREE_MEM>{mem}</FREE_MEM>"
        f"<FREE_CPU>{cpu}</FREE_CPU><USED_DISK>0</USED_DISK><USED_MEM>0</USED_MEM>"
        f"<USED_CPU>0</USED_CPU><RUNNING_VMS>{running_vms}</RUNNING_VMS></HOST_SHARE>"
    )
    tmpl = ""
    if template:
        inner = ""
        if monitored:
            inner = (
                "<CPUSPEED>2000</CPUSPEED><FREECPU>800</FREECPU><FREEMEMORY>16777216</FREEMEMORY>"
                f"<HOSTNAME>{name}</HOSTNAME><HYPERVISOR>dummy</HYPERVISOR><NETRX>0</NETRX>"
                "<NETTX>0</NETTX><TOTALCPU>800</TOTALCPU><TOTALMEMORY>16777216</TOTALMEMORY>"
                "<USEDCPU>0</USEDCPU><USEDMEMORY>0</USEDMEMORY>"
            )
        tmpl = f"<TEMPLATE>{inner}</TEMPLATE>"
    return (
        f"<HOST><ID>{hid}</ID><NAME>{name}</NAME><STATE>{state}</STATE><IM_MAD>{im}</IM_MAD>"
        f"<VM_MAD>vmm_dummy</VM_MAD><TM_MAD>tm_dummy</TM_MAD>"
        f"<LAST_MON_TIME>{1795595881 if monitored else 0}</LAST_MON_TIME>{share}{tmpl}</HOST>"
    )


def host_pool(*hosts: str) -> str:
    return "<HOST_POOL>" + "".join(hosts) + "</HOST_POOL>"


VM_TEMPLATE = (
    "<TEMPLATE><CONTEXT><HOSTNAME>vm-example</HOSTNAME><IP_GEN>10.0.0.</IP_GEN>"
    "<IP_PRIVATE>10.0.0.1</IP_PRIVATE></CONTEXT><CPU>0.5</CPU><DISK><READONLY>no</READONLY>"
    "<SOURCE>/local/xen/domains/etch/disk.img</SOURCE><TARGET>sda1</TARGET></DISK><DISK>"
    "<READONLY>no</READONLY><SOURCE>/local/xen/domains/etch/swap.img</SOURCE>"
    "<TARGET>sda2</TARGET></DISK><GRAPHICS><LISTEN>127.0.0.1</LISTEN><PORT>5</PORT>"
    "<TYPE>vnc</TYPE></GRAPHICS><MEMORY>128</MEMORY><NAME>vm-example</NAME><NIC>"
    "<MAC>00:ff:72:17:20:27</MAC></NIC><NIC><BRIDGE>eth0</BRIDGE><IP>10.0.0.1</IP>"
    "<MAC>00:03:0a:00:00:01</MAC><NETWORK>Private LAN</NETWORK><VNID>0</VNID></NIC><OS>"
    "<INITRD>/initrd.img</INITRD><KERNEL>/vmlinuz</KERNEL><ROOT>sda1</ROOT></OS><VMID>0</VMID>"
    "</TEMPLATE>"
)


def history(seq: int, hostname: str, hid: int, stime: int, etime: int = 0, reason: int = 0) -> str:
    return (
        f"<HISTORY><SEQ>{seq}</SEQ><HOSTNAME>{hostname}</HOSTNAME><HID>{hid}</HID>"
        f"<STIME>{stime}</STIME><ETIME>{etime}</ETIME><PSTIME>{stime}</PSTIME>"
        f"<PETIME>{stime}</PETIME><RSTIME>{stime}</RSTIME><RETIME>{etime}</RETIME>"
        f"<ESTIME>0</ESTIME><EETIME>0</EETIME><REASON>{reason}</REASON></HISTORY>"
    )


def vm(
    vid: int,
    name: str,
    state: int,
    lcm: int,
    stime: int,
    etime: int = 0,
    deploy_id: str = "",
    hist: str = "",
    template: str | None = None,
    username: str | None = "oneadmin",
    uid: int = 0,
) -> str:
    """A VM element: pool form when ``template`` is None (with USERNAME), info form otherwise."""
    user = f"<USERNAME>{username}</USERNAME>" if template is None and username else ""
    return (
        f"<VM><ID>{vid}</ID><UID>{uid}</UID>{user}<NAME>{name}</NAME><LAST_POLL>0</LAST_POLL>"
        f"<STATE>{state}</STATE><LCM_STATE>{lcm}</LCM_STATE><STIME>{stime}</STIME>"
        f"<ETIME>{etime}</ETIME><DEPLOY_ID>{deploy_id}</DEPLOY_ID><MEMORY>0</MEMORY><CPU>0</CPU>"
        f"<NET_TX>0</NET_TX><NET_RX>0</NET_RX>{template or ''}{hist}</VM>"
    )


def vm_pool(*vms: str) -> str:
    return "<VM_POOL>" + "".join(vms) + "</VM_POOL>"


VM0_STIME = 1795595886

RANGED_TEMPLATE = (
    "<TEMPLATE><BRIDGE>eth0</BRIDGE><NAME>Private LAN</NAME>"
    "<NETWORK_ADDRESS>10.0.0.0</NETWORK_ADDRESS><NETWORK_SIZE>250</NETWORK_SIZE>"
    "<TYPE>RANGED</TYPE></TEMPLATE>"
)


def fixed_vnet() -> str:
    leases_tmpl = "".join(
        f"<LEASES><IP>130.10.0.{n}</IP>{mac}</LEASES>"
        for n, mac in [
            (1, "<MAC>50:20:20:20:20:20</MAC>"),
            (2, "<MAC>50:20:20:20:20:21</MAC>"),
            (3, "<MAC>50:20:20:20:20:22</MAC>"),
            (4, ""),
            (5, ""),
            (6, ""),
        ]
    )
    macs = ["50:20:20:20:20:20", "50:20:20:20:20:21", "50:20:20:20:20:22",
            "00:03:82:0a:00:04", "00:03:82:0a:00:05", "00:03:82:0a:00:06"]  # fmt: skip
    leases = "".join(
        f"<LEASE><IP>130.10.0.{i + 1}</IP><MAC>{mac}</MAC><USED>0</USED><VID>-1</VID></LEASE>"
        for i, mac in enumerate(macs)
    )
    return (
        "<VNET><ID>1</ID><UID>0</UID><NAME>Public LAN</NAME><TYPE>1</TYPE><BRIDGE>eth1</BRIDGE>"
        f"<TEMPLATE><BRIDGE>eth1</BRIDGE>{leases_tmpl}<NAME>Public LAN</NAME><TYPE>FIXED</TYPE>"
        f"</TEMPLATE><LEASES>{leases}</LEASES></VNET>"
    )


def ranged_vnet(used: bool = False) -> str:
    lease = (
        "<LEASE><IP>10.0.0.1</IP><MAC>00:03:0a:00:00:01</MAC><USED>1</USED><VID>0</VID></LEASE>"
        if used
        else ""
    )
    return (
        "<VNET><ID>0</ID><UID>0</UID><NAME>Private LAN</NAME><TYPE>0</TYPE><BRIDGE>eth0</BRIDGE>"
        f"{RANGED_TEMPLATE}<LEASES>{lease}</LEASES></VNET>"
    )


def vnet_pool(leases0: int = 0) -> str:
    return (
        "<VNET_POOL><VNET><ID>0</ID><UID>0</UID><USERNAME>oneadmin</USERNAME>"
        "<NAME>Private LAN</NAME><TYPE>0</TYPE><BRIDGE>eth0</BRIDGE>"
        f"<TOTAL_LEASES>{leases0}</TOTAL_LEASES></VNET><VNET><ID>1</ID><UID>0</UID>"
        "<USERNAME>oneadmin</USERNAME><NAME>Public LAN</NAME><TYPE>1</TYPE><BRIDGE>eth1</BRIDGE>"
        "<TOTAL_LEASES>0</TOTAL_LEASES></VNET></VNET_POOL>"
    )
