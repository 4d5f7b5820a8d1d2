"""The guide's resource model over real HTTP: storage, network, compute and its life-cycle."""

from __future__ import annotations

import hashlib
from pathlib import Path


def test_walk_the_resource_model(stack, image_file: Path):
    user, password = stack.new_user()
    api = stack.api(user, password)

    # Storage: upload, show, list
    resp = stack.upload(api, image_file)
    assert resp.status_code == 201, resp.text
    disk = stack.xml(resp)
    iid = int(disk.findtext("ID"))
    assert disk.findtext("NAME") == "Ubuntu 9.04 LAMP"
    assert disk.findtext("SIZE") == "2"
    assert disk.findtext("URL") == "file:///images/ubuntu/jaunty.img"
    stored = stack.image_dir / str(iid)
    assert (
        hashlib.md5(stored.read_bytes()).digest() == hashlib.md5(image_file.read_bytes()).digest()
    )
    assert stack.xml(api.get(f"/storage/{iid}")).findtext("NAME") == "Ubuntu 9.04 LAMP"
    hrefs = [d.get("href") for d in stack.xml(api.get("/storage")).findall("DISK")]
    assert hrefs == [f"{stack.base}/storage/{iid}"]

    # Network: create (guide's NETWORK root), show, list (own + oneadmin's)
    resp = api.post(
        "/network",
        data="<NETWORK><NAME>Blue Network</NAME><ADDRESS>192.168.7.0</ADDRESS><SIZE>C</SIZE></NETWORK>",
        headers={"Content-Type": "application/xml"},
    )
    assert resp.status_code == 201, resp.text
    net = stack.xml(resp)
    nid = int(net.findtext("ID"))
    assert (net.findtext("NAME"), net.findtext("ADDRESS"), net.findtext("SIZE")) == (
        "Blue Network",
        "192.168.7.0",
        "C",
    )
    assert stack.xml(api.get(f"/network/{nid}")).findtext("NAME") == "Blue Network"
    pool = stack.xml(api.get("/network"))
    assert pool.tag == "NETWORK"
    assert {n.get("href") for n in pool.findall("NIC")} >= {
        f"{stack.base}/network/0",
        f"{stack.base}/network/{nid}",
    }

    # Compute with DISK, SWAP, FS and two NICs (the user's and oneadmin's network)
    resp = api.post(
        "/compute",
        data=stack.compute_body(iid, [nid, 0]),
        headers={"Content-Type": "application/xml"},
    )
    assert resp.status_code == 201, resp.text
    vm = stack.xml(resp)
    vid = int(vm.findtext("ID"))
    assert vm.findtext("NAME") == "Web Server"
    assert vm.findtext("INSTANCE_TYPE") == "small"
    disks = vm.findall("STORAGE/DISK")
    assert [(d.get("type"), d.get("dev")) for d in disks] == [
        ("disk", "sda1"),
        ("swap", "sda2"),
        ("fs", "sda3"),
        ("fs", "sdb"),
    ]
    assert disks[0].get("href") == f"{stack.base}/storage/{iid}"
    assert (disks[1].get("size"), disks[2].get("format"), disks[3].get("format")) == (
        "1024",
        "ext3",
        "ext2",  # FS_FORMAT of the config when the element gives none
    )
    nics = vm.findall("NETWORK/NIC")
    assert [n.get("href") for n in nics] == [
        f"{stack.base}/network/{nid}",
        f"{stack.base}/network/0",
    ]
    assert all(n.get("ip") for n in nics)
    template = stack.admin.vm_info(vid).find("TEMPLATE")
    assert template.findtext("DISK/SOURCE") == str(stored)
    assert template.findtext("MEMORY") == "1024"
    assert [h.get("href") for h in stack.xml(api.get("/compute")).findall("COMPUTE")] == [
        f"{stack.base}/compute/{vid}"
    ]

    # RUNNING, then stopped -> resume -> done
    stack.wait_running(vid)
    assert stack.xml(api.get(f"/compute/{vid}")).findtext("STATE") == "ACTIVE"
    resp = stack.put_state(api, vid, "stopped")
    assert resp.status_code == 202, resp.text
    assert stack.xml(resp).tag == "COMPUTE"
    stack.wait_until(lambda: stack.xml(api.get(f"/compute/{vid}")).findtext("STATE") == "STOPPED")
    resp = stack.put_state(api, vid, "resume")
    assert resp.status_code == 202, resp.text
    stack.wait_running(vid)
    resp = stack.put_state(api, vid, "DONE")
    assert resp.status_code == 202, resp.text
    stack.wait_until(lambda: stack.xml(api.get(f"/compute/{vid}")).findtext("STATE") == "DONE")
    assert stack.xml(api.get("/compute")).findall("COMPUTE") == []

    # A second compute is deleted with DELETE
    resp = api.post(
        "/compute",
        data="<COMPUTE><INSTANCE_TYPE>medium</INSTANCE_TYPE></COMPUTE>",
        headers={"Content-Type": "text/xml"},
    )
    assert resp.status_code == 201, resp.text
    vid2 = int(stack.xml(resp).findtext("ID"))
    stack.wait_running(vid2)
    resp = api.delete(f"/compute/{vid2}")
    assert (resp.status_code, resp.content) == (204, b"")
    assert stack.vm_state(vid2)[0] == 6

    # Clean up the network and the image (DELETE, the guide's semantics)
    assert api.delete(f"/network/{nid}").status_code == 204
    assert api.get(f"/network/{nid}").status_code == 404
    assert api.delete(f"/storage/{iid}").status_code == 204
    assert api.get(f"/storage/{iid}").status_code == 404
    assert not stored.exists()


def test_shutdown_and_suspend_cancel(stack):
    user, password = stack.new_user()
    api = stack.api(user, password)
    vids = []
    for _ in range(2):
        resp = api.post("/compute", data="<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE></COMPUTE>")
        assert resp.status_code == 201, resp.text
        vids.append(int(stack.xml(resp).findtext("ID")))
    for vid in vids:
        stack.wait_running(vid)
    assert stack.put_state(api, vids[0], "suspended").status_code == 202
    stack.wait_until(lambda: stack.vm_state(vids[0])[0] == 5, what="SUSPENDED")
    assert stack.put_state(api, vids[0], "cancel").status_code == 400  # oned: wrong state
    assert stack.put_state(api, vids[0], "resume").status_code == 202
    stack.wait_running(vids[0])
    assert stack.put_state(api, vids[0], "cancel").status_code == 202
    assert stack.put_state(api, vids[1], "shutdown").status_code == 202  # §7 #30
    for vid in vids:
        stack.wait_until(lambda v=vid: stack.vm_state(v)[0] == 6, what="DONE")
