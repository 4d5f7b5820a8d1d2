"""HTTP Basic against oned users (spec §5.2) and the guide's four authorization rules."""

from __future__ import annotations

import base64

import defusedxml.ElementTree as DET
import pytest


@pytest.fixture(scope="module")
def owned(stack, tmp_path_factory):
    """User A with an image, a network and a running compute; user B with nothing."""
    a_user, a_pass = stack.new_user()
    b_user, b_pass = stack.new_user()
    a = stack.api(a_user, a_pass)
    image = tmp_path_factory.mktemp("img") / "a.img"
    image.write_bytes(b"a" * 4096)
    iid = int(stack.xml(stack.upload(a, image)).findtext("ID"))
    resp = a.post("/network", data="<NIC><NAME>a-net</NAME><ADDRESS>10.9.0.0</ADDRESS></NIC>")
    assert resp.status_code == 201, resp.text
    nid = int(stack.xml(resp).findtext("ID"))
    resp = a.post("/compute", data=stack.compute_body(iid, [nid], name="a-vm"))
    assert resp.status_code == 201, resp.text
    vid = int(stack.xml(resp).findtext("ID"))
    stack.wait_running(vid)
    return {
        "a": a,
        "b": stack.api(b_user, b_pass),
        "iid": iid,
        "nid": nid,
        "vid": vid,
        "a_user": a_user,
        "a_pass": a_pass,
    }


def _basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def test_401_bad_credentials(stack, owned):
    api = stack.api()
    cases = [
        {},
        _basic(f"{owned['a_user']}:wrong"),
        _basic(f"{owned['a_user']}:{owned['a_pass']}"),  # the plaintext: 1.4 wants sha1hex
        _basic("nobody:x"),
        _basic("no-colon"),
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Bearer abc"},
    ]
    for headers in cases:
        for path in ("/compute", "/nowhere", f"/compute/{owned['vid']}"):
            resp = api.get(path, headers=headers)
            assert resp.status_code == 401, (headers, path)
            assert resp.text == "Invalid credentials"
            assert resp.headers["WWW-Authenticate"] == 'Basic realm="OpenNebula"'
    # A 401 never reads or stores an upload
    resp = api.post("/storage", files={"occixml": (None, "<DISK/>"), "file": ("f", b"x" * 10)})
    assert resp.status_code == 401


def test_other_user_gets_403_on_entries(stack, owned):
    b = owned["b"]
    vid, nid, iid = owned["vid"], owned["nid"], owned["iid"]
    for resp in (
        b.get(f"/compute/{vid}"),
        stack.put_state(b, vid, "stopped"),
        b.delete(f"/compute/{vid}"),
        b.get(f"/storage/{iid}"),
        b.delete(f"/storage/{iid}"),
        b.get(f"/network/{nid}"),
        b.delete(f"/network/{nid}"),
        b.post("/compute", data=stack.compute_body(iid, [])),  # someone else's image
        b.post(
            "/compute",
            data="<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE>"
            f'<NETWORK><NIC network="{nid}"/></NETWORK></COMPUTE>',
        ),
    ):
        assert resp.status_code == 403, (resp.request.method, resp.request.url, resp.text)
        assert "not authorized" in resp.text
    # Nothing changed
    assert stack.vm_state(vid) == (3, 3)
    assert owned["a"].get(f"/storage/{iid}").status_code == 200
    assert owned["a"].get(f"/network/{nid}").status_code == 200
    # Pools list only one's own entries (plus oneadmin's networks)
    assert stack.xml(b.get("/compute")).findall("COMPUTE") == []
    assert stack.xml(b.get("/storage")).findall("DISK") == []
    hrefs = {n.get("href") for n in stack.xml(b.get("/network")).findall("NIC")}
    assert f"{stack.base}/network/0" in hrefs
    assert f"{stack.base}/network/{nid}" not in hrefs
    # oneadmin's network: readable by all, deletable by oneadmin only
    assert stack.xml(b.get("/network/0")).findtext("NAME") == "Public"
    assert b.delete("/network/0").status_code == 403


def test_oneadmin_acts_on_every_entry(stack, owned, tmp_path):
    admin = stack.admin_api()
    vid, nid, iid = owned["vid"], owned["nid"], owned["iid"]
    assert stack.xml(admin.get(f"/compute/{vid}")).findtext("NAME") == "a-vm"
    assert stack.xml(admin.get(f"/storage/{iid}")).findtext("ID") == str(iid)
    assert stack.xml(admin.get(f"/network/{nid}")).findtext("NAME") == "a-net"
    hrefs = {n.get("href") for n in stack.xml(admin.get("/network")).findall("NIC")}
    assert f"{stack.base}/network/{nid}" in hrefs
    resp = stack.put_state(admin, vid, "stopped")
    assert resp.status_code == 202, resp.text
    stack.wait_until(lambda: stack.vm_state(vid)[0] == 4, what="STOPPED")
    assert admin.delete(f"/compute/{vid}").status_code == 204
    assert stack.vm_state(vid)[0] == 6
    assert admin.delete(f"/network/{nid}").status_code == 204
    assert admin.delete(f"/storage/{iid}").status_code == 204
    # oneadmin may compute with any user's image
    image = tmp_path / "b.img"
    image.write_bytes(b"b" * 10)
    a_iid = int(stack.xml(stack.upload(owned["a"], image)).findtext("ID"))
    resp = admin.post("/compute", data=stack.compute_body(a_iid, [0]))
    assert resp.status_code == 201, resp.text
    assert admin.delete(f"/compute/{stack.xml(resp).findtext('ID')}").status_code == 204


def test_404_and_501(stack, owned):
    a = owned["a"]
    for path in (
        "/compute/99999",
        "/network/99999",
        "/storage/99999",
        "/compute/abc",
        "/compute/i-1",
        "/compute/",
        f"/compute/{owned['vid']}/",
        "/computes",
        "/",
        "/compute/1/2",
    ):
        resp = a.get(path)
        assert resp.status_code == 404, path
        assert resp.headers["Content-Type"].startswith("text/plain")
    assert a.get("/storage/99999").text == 'Disk with id = "99999" not found'
    for method, path, allow in (
        ("PUT", "/network/0", "GET, DELETE"),
        ("PUT", "/storage/1", "GET, DELETE"),
        ("POST", "/compute/1", "GET, PUT, DELETE"),
        ("DELETE", "/compute", "GET, POST"),
        ("PUT", "/storage", "GET, POST"),
        ("PATCH", "/network", "GET, POST"),
    ):
        resp = a.request(method, path, data="<COMPUTE/>")
        assert resp.status_code == 501, (method, path)
        assert resp.headers["Allow"] == allow


def test_400_answers(stack, owned):
    a = owned["a"]
    before = len(stack.admin.vmpool_info(-2).findall("VM"))
    cases = [
        ("<COMPUTE><INSTANCE_TYPE>huge</INSTANCE_TYPE></COMPUTE>", "Bad instance type"),
        ("<COMPUTE><NAME>x</NAME></COMPUTE>", "Bad instance type"),
        (stack.compute_body(99999, []), "Invalid image (99999) referred"),
        (
            '<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE><NETWORK><NIC network="4567f"/>'
            "</NETWORK></COMPUTE>",
            "Invalid network referred",
        ),
        (
            '<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE><NETWORK><NIC network="9999"/>'
            "</NETWORK></COMPUTE>",
            "Invalid network referred",
        ),
        (
            '<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE><STORAGE><SWAP size="1G"/>'
            "</STORAGE></COMPUTE>",
            "Invalid size (1G) for SWAP",
        ),
    ]
    for body, message in cases:
        resp = a.post("/compute", data=body)
        assert (resp.status_code, resp.text) == (400, message)
    # oned refuses the template: 400 with oned's message
    resp = a.post(
        "/compute",
        data='<COMPUTE><INSTANCE_TYPE>small</INSTANCE_TYPE><NETWORK><NIC network="0" '
        'ip="172.16.0.1"/></NETWORK></COMPUTE>',
    )
    assert resp.status_code == 400, resp.text
    assert resp.text and "Malformed" not in resp.text
    assert len(stack.admin.vmpool_info(-2).findall("VM")) == before
    vid = owned["vid"]
    assert (stack.put_state(a, vid, "running").status_code, stack.put_state(a, vid, "x").text) == (
        400,
        "Invalid state",
    )
    resp = a.put(f"/compute/{vid}", data="<COMPUTE><NAME>n</NAME></COMPUTE>")
    assert (resp.status_code, resp.text) == (400, "State not defined in the OCCI XML")


def test_names_are_quoted_into_the_template(stack, owned):
    """§7 #33: a NAME with blanks, commas and quotes is one value, not extra attributes."""
    a = owned["a"]
    name = 'evil", MEMORY = 1, x="y'
    body = f"<COMPUTE><NAME>{name}</NAME><INSTANCE_TYPE>small</INSTANCE_TYPE></COMPUTE>"
    resp = a.post("/compute", data=body)
    assert resp.status_code == 201, resp.text
    vm = DET.fromstring(resp.content)
    assert vm.findtext("NAME") == name
    info = stack.admin.vm_info(int(vm.findtext("ID")))
    assert info.findtext("TEMPLATE/MEMORY") == "1024"
    assert a.delete(f"/compute/{vm.findtext('ID')}").status_code == 204


def test_500_when_oned_refuses_a_network(stack, owned):
    resp = owned["a"].post(
        "/network", data="<NIC><NAME>bad</NAME><ADDRESS>not-an-ip</ADDRESS><SIZE>C</SIZE></NIC>"
    )
    assert resp.status_code == 500, resp.text
    assert resp.text.startswith("Error creating the Virtual Network: ")
