"""Documents of the modern dialect, rendered from the same objects as the 1.4 ones.

Shapes follow current OpenNebula's XSDs (what pyone's generated bindings
parse): integer ``ENABLED``, ``UNAME``/``GNAME``/``PERMISSIONS`` on VMs and
networks, ``MONITORING``, ``HISTORY_RECORDS``, ``AR_POOL``. What 1.4 did not
have is filled in with the value a fresh modern install would show: users are
in group 0 ``oneadmin`` (uid 0) or 1 ``users``; hosts are in cluster 0
``default``; permissions are ``um- --- ---``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from one_core.leases import FIXED, Lease, ip_str, mac_for_ip, mac_str
from one_core.pools.host import Host
from one_core.pools.user import User
from one_core.pools.vnet import VirtualNetwork
from one_core.rpc.modern.tokens import Token
from one_core.vm.states import LcmState
from one_core.vm.xml import escape

ONEADMIN_GROUP, USERS_GROUP = (0, "oneadmin"), (1, "users")

LCM_14_TO_MODERN = {int(LcmState.DELETE): 23}
"""1.4 LCM states whose number means something else today (DELETE → CLEANUP_DELETE)."""


def group_of(uid: int) -> tuple[int, str]:
    """``(gid, gname)`` of a user: 1.4 had no groups."""
    return ONEADMIN_GROUP if uid == 0 else USERS_GROUP


def _el(tag: str, value: Any) -> str:
    return f"<{tag}>{escape(value)}</{tag}>"


def _els(pairs: Iterable[tuple[str, Any]]) -> str:
    return "".join(_el(tag, value) for tag, value in pairs)


def _block(tag: str, pairs: Iterable[tuple[str, Any]]) -> str:
    """``<tag>`` holding one element per ``(name, value)`` pair."""
    return f"<{tag}>{_els(pairs)}</{tag}>"


def permissions_xml(owner_manage: bool = True) -> str:
    """``um- --- ---`` (modern's default umask 177)."""
    bits = (1, int(owner_manage), 0, 0, 0, 0, 0, 0, 0)
    names = (
        "OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M", "GROUP_A",
        "OTHER_U", "OTHER_M", "OTHER_A",
    )  # fmt: skip
    return _block("PERMISSIONS", zip(names, bits, strict=True))


def _owner(uid: int, uname: str) -> str:
    gid, gname = group_of(uid)
    return _els((("UID", uid), ("GID", gid), ("UNAME", uname), ("GNAME", gname)))


# -- VMs ---------------------------------------------------------------------------------


def history_xml(vid: int, h: Mapping[str, Any]) -> str:
    """One ``HISTORY`` record (``h``: a row of the ``history`` table; one f-string: a
    page of the VM pool renders one per VM)."""
    e = escape
    return (
        f"<HISTORY><OID>{vid}</OID><SEQ>{h['seq']}</SEQ><HOSTNAME>{e(h['host_name'])}</HOSTNAME>"
        f"<HID>{h['hid']}</HID><CID>-1</CID><STIME>{h['stime']}</STIME>"
        f"<ETIME>{h['etime']}</ETIME><VM_MAD>{e(h['vm_mad'])}</VM_MAD>"
        f"<TM_MAD>{e(h['tm_mad'])}</TM_MAD><DS_ID>0</DS_ID><PLAN_ID>-1</PLAN_ID>"
        f"<ACTION_ID>-1</ACTION_ID><PSTIME>{h['pstime']}</PSTIME><PETIME>{h['petime']}</PETIME>"
        f"<RSTIME>{h['rstime']}</RSTIME><RETIME>{h['retime']}</RETIME>"
        f"<ESTIME>{h['estime']}</ESTIME><EETIME>{h['eetime']}</EETIME><ACTION>0</ACTION>"
        "<UID>-1</UID><GID>-1</GID><REQUEST_ID>-1</REQUEST_ID></HISTORY>"
    )


def _monitoring(v: Mapping[str, Any]) -> str:
    if not v["last_poll"]:
        return "<MONITORING/>"
    return (
        f"<MONITORING><CPU>{v['cpu']}</CPU><ID>{v['oid']}</ID><MEMORY>{v['memory']}</MEMORY>"
        f"<NETRX>{v['net_rx']}</NETRX><NETTX>{v['net_tx']}</NETTX>"
        f"<TIMESTAMP>{v['last_poll']}</TIMESTAMP></MONITORING>"
    )


_VM_PERMISSIONS = permissions_xml()


def vm_xml(v: Mapping[str, Any], histories: Iterable[Mapping[str, Any]]) -> str:
    """A ``VM`` (``v``: a ``vm_pool`` row plus ``user_name``; ``histories`` oldest first).

    Integer columns go in as they are (they are never NULL), text ones escaped; one
    f-string, as a page of the VM pool renders one per VM.
    """
    lcm = LCM_14_TO_MODERN.get(v["lcm_state"], v["lcm_state"])
    records = "".join(history_xml(v["oid"], h) for h in histories)
    uid, state = v["uid"], v["state"]
    gid, gname = group_of(uid)
    return (
        f"<VM><ID>{v['oid']}</ID><UID>{uid}</UID><GID>{gid}</GID>"
        f"<UNAME>{escape(v['user_name'] or '')}</UNAME><GNAME>{gname}</GNAME>"
        f"<NAME>{escape(v['name'])}</NAME>{_VM_PERMISSIONS}"
        f"<LAST_POLL>{v['last_poll']}</LAST_POLL><STATE>{state}</STATE>"
        f"<LCM_STATE>{lcm}</LCM_STATE><PREV_STATE>{state}</PREV_STATE>"
        f"<PREV_LCM_STATE>{lcm}</PREV_LCM_STATE><RESCHED>0</RESCHED>"
        f"<STIME>{v['stime']}</STIME><ETIME>{v['etime']}</ETIME>"
        f"<DEPLOY_ID>{escape(v['deploy_id'])}</DEPLOY_ID>{_monitoring(v)}"
        f"{v['template_xml'] or '<TEMPLATE/>'}<USER_TEMPLATE/>"
        + (f"<HISTORY_RECORDS>{records}</HISTORY_RECORDS>" if records else "<HISTORY_RECORDS/>")
        + "</VM>"
    )


# -- hosts -------------------------------------------------------------------------------


def host_xml(h: Host, vms: Iterable[int]) -> str:
    """A ``HOST`` (``vms``: the ids of the VMs placed on it)."""
    s = h.share
    share = _els(
        (
            ("MEM_USAGE", s["mem_usage"]),
            ("CPU_USAGE", s["cpu_usage"]),
            ("TOTAL_MEM", s["max_mem"]),
            ("TOTAL_CPU", s["max_cpu"]),
            ("MAX_MEM", s["max_mem"]),
            ("MAX_CPU", s["max_cpu"]),
            ("RUNNING_VMS", s["running_vms"]),
            ("VMS_THREAD", 1),
        )
    )
    disks = _els(
        (
            ("DISK_USAGE", s["disk_usage"]),
            ("FREE_DISK", s["free_disk"]),
            ("MAX_DISK", s["max_disk"]),
            ("USED_DISK", s["used_disk"]),
        )
    )
    capacity = _els(
        (
            ("FREE_CPU", s["free_cpu"]),
            ("FREE_MEMORY", s["free_mem"]),
            ("USED_CPU", s["used_cpu"]),
            ("USED_MEMORY", s["used_mem"]),
        )
    )
    template = h.info_xml[h.info_xml.index("<TEMPLATE>") : -len("</HOST>")]
    template = template[: -len("</TEMPLATE>")] + _el("TM_MAD", h.tm_mad) + "</TEMPLATE>"
    return (
        f"<HOST><ID>{h.oid}</ID>"
        + _els(
            (
                ("NAME", h.name),
                ("STATE", h.state),
                ("PREV_STATE", h.state),
                ("IM_MAD", h.im_mad),
                ("VM_MAD", h.vm_mad),
                ("CLUSTER_ID", 0),
                ("CLUSTER", "default"),
            )
        )
        + f"<HOST_SHARE>{share}<DATASTORES>{disks}</DATASTORES>"
        + "<PCI_DEVICES/><NUMA_NODES/></HOST_SHARE>"
        + "<VMS>"
        + "".join(f"<ID>{vid}</ID>" for vid in vms)
        + "</VMS>"
        + template
        + f"<MONITORING><TIMESTAMP>{h.last_mon_time}</TIMESTAMP><ID>{h.oid}</ID>"
        + f"<CAPACITY>{capacity}</CAPACITY><SYSTEM/></MONITORING>"
        + "</HOST>"
    )


# -- users -------------------------------------------------------------------------------


def user_xml(u: User, tokens: Iterable[Token] = ()) -> str:
    """A ``USER`` (with its live login tokens)."""
    gid, gname = group_of(u.oid)
    login = "".join(
        _block(
            "LOGIN_TOKEN", (("TOKEN", t.token), ("EXPIRATION_TIME", t.expires), ("EGID", t.egid))
        )
        for t in tokens
    )
    return (
        f"<USER><ID>{u.oid}</ID><GID>{gid}</GID><GROUPS><ID>{gid}</ID></GROUPS>"
        + _els(
            (
                ("GNAME", gname),
                ("NAME", u.name),
                ("PASSWORD", u.password),
                ("AUTH_DRIVER", "core"),
                ("ENABLED", 1 if u.enabled else 0),
            )
        )
        + login
        + "<TEMPLATE/></USER>"
    )


# -- virtual networks --------------------------------------------------------------------


def _lease_xml(lease: Lease) -> str:
    return f"<LEASE><IP>{lease.ip_text}</IP><MAC>{lease.mac_text}</MAC><VM>{lease.vid}</VM></LEASE>"


def _ar_xml(ar_id: int, ip: int, mac: int, size: int, used: list[Lease]) -> str:
    leases = "".join(_lease_xml(x) for x in used)
    return (
        f"<AR><AR_ID>{ar_id}</AR_ID><IP>{ip_str(ip)}</IP><MAC>{mac_str(mac)}</MAC>"
        f"<SIZE>{size}</SIZE><TYPE>IP4</TYPE><USED_LEASES>{len(used)}</USED_LEASES>"
        f"<LEASES>{leases}</LEASES></AR>"
    )


def address_ranges_xml(net: VirtualNetwork) -> str:
    """``AR_POOL``: a RANGED network is one range; each lease of a FIXED one is a range of 1."""
    leases = net.leases
    if net.type == FIXED:
        ars = [_ar_xml(i, x.ip, x.mac, 1, [x] if x.used else []) for i, x in enumerate(leases)]
    else:
        first = leases.network + 1  # type: ignore[union-attr]
        ars = [_ar_xml(0, first, mac_for_ip(leases.mac_prefix, first), net.size, list(leases))]
    return "<AR_POOL>" + "".join(ars) + "</AR_POOL>"


def vnet_xml(net: VirtualNetwork, uname: str) -> str:
    """A ``VNET``."""
    return (
        f"<VNET><ID>{net.oid}</ID>"
        + _owner(net.uid, uname)
        + _el("NAME", net.name)
        + permissions_xml()
        + "<CLUSTERS><ID>0</ID></CLUSTERS>"
        + _els(
            (
                ("BRIDGE", net.bridge),
                ("BRIDGE_TYPE", "linux"),
                ("STATE", 1),
                ("PREV_STATE", 0),
                ("PARENT_NETWORK_ID", ""),
                ("VN_MAD", net.template.get("VN_MAD") or "bridge"),
                ("USED_LEASES", net.leases.used_count()),
            )
        )
        + "<VROUTERS/><UPDATED_VMS/><OUTDATED_VMS/><UPDATING_VMS/><ERROR_VMS/>"
        + net.template.to_xml()
        + address_ranges_xml(net)
        + "</VNET>"
    )
