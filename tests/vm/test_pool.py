"""VM pool: allocation rules (§4.1, §8.1), documents (§9.1-9.2), history rows (§2)."""

from __future__ import annotations

import re

import pytest

from one_core.db.models import UserRow
from one_core.vm.pool import AllocateError


def test_allocate_adds_vmid_and_name(env):
    vid = env.allocate("MEMORY=1\n")
    vm = env.vm(vid)
    assert vm.name == f"one-{vid}"
    assert vm.template.get("NAME") == f"one-{vid}"
    assert vm.template.get("VMID") == str(vid)


def test_user_vmid_and_empty_name_are_kept(env):
    vid = env.allocate("VMID=77\nNAME =\n")
    body = env.pool.info_xml(vid)
    assert f"<VMID>77</VMID><VMID>{vid}</VMID>" in body  # X7
    assert f"<NAME></NAME><NAME>one-{vid}</NAME>" in body
    assert f"<NAME>one-{vid}</NAME><LAST_POLL>" in body


def test_parse_error_and_id_not_consumed(env):
    with pytest.raises(AllocateError) as exc:
        env.allocate("NAME = [")
    assert (exc.value.code, exc.value.message) == (-2, "Error parsing VM template")
    with pytest.raises(AllocateError) as exc:
        env.allocate('NIC=[NETWORK="nope"]\n')
    assert exc.value.code == -1
    assert exc.value.message == "Error inserting VM in the database, check oned.log"
    assert env.allocate() == 0


def test_context_resolution_and_syntax_error(env):
    vid = env.allocate('NAME=web\nCONTEXT=[HOSTNAME="$NAME", ID="$VMID", X="$NAME[A]b"]\n')
    assert env.vm(vid).template.vectors("CONTEXT") == []  # syntax error: the whole CONTEXT goes
    vid = env.allocate('NAME=web\nCONTEXT=[HOSTNAME="$NAME", ID="$VMID"]\nCONTEXT=[B=2]\n')
    assert env.vm(vid).template.vectors("CONTEXT") == [{"HOSTNAME": "web", "ID": str(vid)}]
    other = env.allocate(f'NAME=o\nCONTEXT=[PEER="${vid}.HOSTNAME"]\n')
    assert env.vm(other).template.vectors("CONTEXT") == [{"PEER": "web"}]


def test_documents(env):
    with __import__("one_core").db.writer():
        UserRow.create(oid=0, user_name="oneadmin", password="x")
    a = env.allocate("NAME=a\nCPU=1\n")
    b = env.allocate("NAME=b\n", uid=5)  # owner unknown: empty USERNAME (X3)
    env.running(a)
    info = env.pool.info_xml(a)
    assert re.fullmatch(
        r"<VM><ID>0</ID><UID>0</UID><NAME>a</NAME><LAST_POLL>0</LAST_POLL><STATE>3</STATE>"
        r"<LCM_STATE>3</LCM_STATE><STIME>\d+</STIME><ETIME>0</ETIME><DEPLOY_ID>dummy-0</DEPLOY_ID>"
        r"<MEMORY>0</MEMORY><CPU>0</CPU><NET_TX>0</NET_TX><NET_RX>0</NET_RX>"
        r"<TEMPLATE><CPU>1</CPU><NAME>a</NAME><VMID>0</VMID></TEMPLATE>"
        r"<HISTORY><SEQ>0</SEQ><HOSTNAME>node1</HOSTNAME><HID>0</HID><STIME>\d+</STIME>"
        r"<ETIME>0</ETIME><PSTIME>\d+</PSTIME><PETIME>\d+</PETIME><RSTIME>\d+</RSTIME>"
        r"<RETIME>0</RETIME><ESTIME>0</ESTIME><EETIME>0</EETIME><REASON>0</REASON></HISTORY></VM>",
        info,
    ), info
    pool = env.pool.pool_xml(None)
    assert pool.startswith(
        "<VM_POOL><VM><ID>0</ID><UID>0</UID><USERNAME>oneadmin</USERNAME><NAME>a<"
    )
    assert "<HISTORY><SEQ>0</SEQ>" in pool and "<TEMPLATE>" not in pool
    assert f"<VM><ID>{b}</ID><UID>5</UID><USERNAME></USERNAME><NAME>b</NAME>" in pool
    assert pool.endswith("<NET_RX>0</NET_RX></VM></VM_POOL>")
    assert env.pool.pool_xml(5).count("<VM>") == 1
    # latest history only, after a migration
    env.engine.migrate(a, env.node2, True)
    env.settle()
    assert "<HISTORY><SEQ>1</SEQ><HOSTNAME>node2</HOSTNAME>" in env.pool.info_xml(a)
    assert "<HISTORY><SEQ>1</SEQ><HOSTNAME>node2</HOSTNAME>" in env.pool.pool_xml(None)
    env.engine.action("finalize", b)
    assert env.pool.pool_xml(5) == "<VM_POOL></VM_POOL>"
    assert "<STATE>6</STATE>" in env.pool.info_xml(b)


def test_escaping(env):
    vid = env.allocate('NAME="a<b&c>"\n')
    body = env.pool.info_xml(vid)
    assert "<NAME>a&lt;b&amp;c&gt;</NAME>" in body


def test_pending_for_scheduler(env):
    a = env.allocate('NAME=a\nCPU=0.5\nMEMORY=64\nREQUIREMENTS="CPUSPEED > 1"\nRANK=FREECPU\n')
    b = env.allocate("NAME=b\n")
    env.engine.action("hold", b)
    pending = env.pool.pending()
    assert [p.vid for p in pending] == [a]
    assert (pending[0].cpu, pending[0].memory, pending[0].requirements, pending[0].rank) == (
        "0.5",
        "64",
        "CPUSPEED > 1",
        "FREECPU",
    )


def test_pool_reloads_from_db(env):
    vid = env.allocate("NAME=a\nCPU=1\n")
    env.running(vid)
    env.engine.migrate(vid, env.node2, False)
    env.settle()
    vm = env.pool.load(vid)
    assert (vm.history.seq, vm.history.host_name) == (1, "node2")
    assert (vm.previous.seq, vm.previous.host_name) == (0, "node1")
    assert vm.template.get("NAME") == "a"


def test_cache_keeps_only_recent_vms(env):
    """Issue 19: VMs that are not changing are not kept in memory; an evicted VM is read
    back from the database when an event needs it, and within one event every VM it
    touched stays the same object (its changes in memory are written or rolled back)."""
    env.pool.cache_size = 4
    vids = [env.allocate(f"NAME=v{i}\nCPU=0.1\nMEMORY=8\n") for i in range(12)]
    assert env.pool.cached() <= 4
    env.running(vids[0])  # evicted long ago: loaded again, deployed, written
    env.running(vids[1], env.node2)
    for vid in vids[2:10]:
        env.engine.action("hold", vid)
    env.settle()
    assert env.pool.cached() <= 4
    assert env.states(vids[0]) == ("ACTIVE", "RUNNING")
    assert env.vm(vids[1]).history.host_name == "node2"
    assert env.pool.get(vids[1]).history.host_name == "node2"

    def one_event() -> bool:
        first = [env.pool.get(vid) for vid in vids]
        return all(env.pool.get(vid) is vm for vid, vm in zip(vids, first, strict=True))

    assert env.on_dispatcher(one_event)
    env.act("stop", vids[0])  # the next VM loaded trims the cache again
    assert env.pool.cached() <= 4
    assert env.states(vids[0]) == ("STOPPED", "LCM_INIT")
