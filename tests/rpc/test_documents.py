"""The HOST / HOST_POOL / USER / USER_POOL documents against the examples of spec xmlrpc-api §9."""

from __future__ import annotations

import re

from one_core.pools.host import Host
from one_core.pools.user import User


def one_line(text: str) -> str:
    """The spec's examples are wrapped for reading: drop whitespace between tags."""
    return re.sub(r">\s+<", "><", text.strip())


SPEC_HOST = one_line("""
<HOST><ID>0</ID><NAME>node1</NAME><STATE>2</STATE><IM_MAD>im_kvm</IM_MAD>
  <VM_MAD>vmm_kvm</VM_MAD><TM_MAD>tm_nfs</TM_MAD><LAST_MON_TIME>1262340100</LAST_MON_TIME>
  <HOST_SHARE><HID>0</HID><DISK_USAGE>0</DISK_USAGE><MEM_USAGE>65536</MEM_USAGE>
    <CPU_USAGE>10</CPU_USAGE><MAX_DISK>0</MAX_DISK><MAX_MEM>2052832</MAX_MEM>
    <MAX_CPU>200</MAX_CPU><FREE_DISK>0</FREE_DISK><FREE_MEM>1500000</FREE_MEM>
    <FREE_CPU>187</FREE_CPU><USED_DISK>0</USED_DISK><USED_MEM>1024000</USED_MEM>
    <USED_CPU>12</USED_CPU><RUNNING_VMS>1</RUNNING_VMS></HOST_SHARE>
  <TEMPLATE><ARCH>x86_64</ARCH><CPUSPEED>2000</CPUSPEED><FREECPU>187.5</FREECPU>
    <FREEMEMORY>1500000</FREEMEMORY><HOSTNAME>node1</HOSTNAME><HYPERVISOR>kvm</HYPERVISOR>
    <MODELNAME>Intel(R) Core(TM)2 CPU</MODELNAME><NETRX>123</NETRX><NETTX>456</NETTX>
    <TOTALCPU>200</TOTALCPU><TOTALMEMORY>2052832</TOTALMEMORY><USEDCPU>12.5</USEDCPU>
    <USEDMEMORY>1024000</USEDMEMORY></TEMPLATE></HOST>
""")

SPEC_FRESH_POOL_HOST = one_line("""
  <HOST><ID>1</ID><NAME>node2</NAME><STATE>0</STATE><IM_MAD>im_kvm</IM_MAD>
    <VM_MAD>vmm_kvm</VM_MAD><TM_MAD>tm_nfs</TM_MAD><LAST_MON_TIME>1262340300</LAST_MON_TIME>
    <HOST_SHARE><HID>1</HID><DISK_USAGE>0</DISK_USAGE><MEM_USAGE>0</MEM_USAGE>
      <CPU_USAGE>0</CPU_USAGE><MAX_DISK>0</MAX_DISK><MAX_MEM>0</MAX_MEM><MAX_CPU>0</MAX_CPU>
      <FREE_DISK>0</FREE_DISK><FREE_MEM>0</FREE_MEM><FREE_CPU>0</FREE_CPU>
      <USED_DISK>0</USED_DISK><USED_MEM>0</USED_MEM><USED_CPU>0</USED_CPU>
      <RUNNING_VMS>0</RUNNING_VMS></HOST_SHARE></HOST>
""")


def monitored_node1() -> Host:
    # the KVM probe reply of lifecycle §6.2, applied as the IM does (in report order)
    template = {
        "ARCH": "x86_64",
        "HOSTNAME": "node1",
        "MODELNAME": "Intel(R) Core(TM)2 CPU",
        "HYPERVISOR": "kvm",
        "TOTALCPU": "200",
        "CPUSPEED": "2000",
        "TOTALMEMORY": "2052832",
        "USEDMEMORY": "1024000",
        "FREEMEMORY": "1500000",
        "FREECPU": "187.5",
        "USEDCPU": "12.5",
        "NETRX": "123",
        "NETTX": "456",
    }
    share = {
        "disk_usage": 0,
        "mem_usage": 65536,
        "cpu_usage": 10,
        "max_disk": 0,
        "max_mem": 2052832,
        "max_cpu": 200,
        "free_disk": 0,
        "free_mem": 1500000,
        "free_cpu": 187,
        "used_disk": 0,
        "used_mem": 1024000,
        "used_cpu": 12,
        "running_vms": 1,
    }
    h = Host(0, "node1", "im_kvm", "vmm_kvm", "tm_nfs", 2, 1262340100, share, template)
    h.render()
    return h


def test_host_info_document_matches_spec_example():
    assert monitored_node1().info_xml == SPEC_HOST


def test_host_pool_entry_has_no_template():
    h = monitored_node1()
    assert h.pool_xml == SPEC_HOST.split("<TEMPLATE>")[0] + "</HOST>"
    fresh = Host(1, "node2", "im_kvm", "vmm_kvm", "tm_nfs", 0, 1262340300)
    fresh.render()
    assert fresh.pool_xml == SPEC_FRESH_POOL_HOST
    assert (
        fresh.info_xml == SPEC_FRESH_POOL_HOST[: -len("</HOST>")] + "<TEMPLATE></TEMPLATE></HOST>"
    )


def test_share_from_monitoring_uses_stream_extraction(tmp_path):
    from one_core import db
    from one_core.pools.host import HostPool

    db.connect({}, var_dir=str(tmp_path))
    try:
        pool = HostPool()
        hid = pool.allocate("node1", "im_kvm", "vmm_kvm", "tm_nfs")
        pool.monitor_result(hid, {"TOTALMEMORY": "8912896.0", "FREECPU": "187.5", "USEDCPU": "x"})
        share = pool.get(hid).share
        assert (share["max_mem"], share["free_cpu"], share["used_cpu"]) == (8912896, 187, 0)
        # vector values are rendered with sorted, upper-cased keys
        pool.monitor_result(hid, {"nic": {"b": "2", "a": "1"}})
        assert "<NIC><A>1</A><B>2</B></NIC>" in pool.info_xml(hid)
    finally:
        db.close()


def test_user_documents_match_spec_examples():
    admin = User(0, "oneadmin", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8")
    helen = User(1, "helen", "ba9a32fbd923c7715d96ca12eb7f12c83010a5d6")
    assert admin.to_xml() == (
        "<USER><ID>0</ID><NAME>oneadmin</NAME><PASSWORD>5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"
        "</PASSWORD><ENABLED>1</ENABLED></USER>"
    )
    assert "<USER_POOL>" + admin.to_pool_xml() + helen.to_pool_xml() + "</USER_POOL>" == one_line("""
<USER_POOL>
  <USER><ID>0</ID><NAME>oneadmin</NAME><PASSWORD>5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8</PASSWORD><ENABLED>True</ENABLED></USER>
  <USER><ID>1</ID><NAME>helen</NAME><PASSWORD>ba9a32fbd923c7715d96ca12eb7f12c83010a5d6</PASSWORD><ENABLED>True</ENABLED></USER>
</USER_POOL>""")
    disabled = User(2, "x", "p", enabled=False)
    assert disabled.to_xml().endswith("<ENABLED>0</ENABLED></USER>")
    assert disabled.to_pool_xml().endswith("<ENABLED>Fase</ENABLED></USER>")  # sic (X6)


def test_disabled_user_cannot_authenticate(tmp_path):
    from one_core import db
    from one_core.pools.user import UserPool

    db.connect({}, var_dir=str(tmp_path))
    try:
        pool = UserPool()
        pool.allocate("oneadmin", "a")
        pool.allocate("off", "b", enabled=False)
        assert pool.authenticate("oneadmin:a") == 0
        assert pool.authenticate("off:b") == -1
        assert pool.authenticate("oneadmin") == -1
        assert pool.authenticate("oneadmin:A") == -1
        assert pool.authenticate(":a") == -1
    finally:
        db.close()
