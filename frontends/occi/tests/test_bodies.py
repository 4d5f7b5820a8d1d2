"""Bad request bodies get 400/413/415 answers and leave nothing behind (spec §7 #44)."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<COMPUTE><NAME>&lol9;</NAME><INSTANCE_TYPE>small</INSTANCE_TYPE></COMPUTE>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<NIC><NAME>&x;</NAME><ADDRESS>10.1.0.0</ADDRESS></NIC>"""

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def user_api(stack):
    return stack.api(*stack.new_user())


def _counts(stack):
    with contextlib.closing(sqlite3.connect(stack.database)) as db:
        rows = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    return (
        rows,
        len(stack.admin.vmpool_info(-2).findall("VM")),
        len(stack.admin.vnpool_info(-2).findall("VNET")),
        sorted(p.name for p in stack.image_dir.iterdir()),
        sorted(p.name for p in (stack.image_dir / "tmp").iterdir()),
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "message"),
    [
        ("POST", "/compute", "<COMPUTE><NAME>x</COMPUTE>", XML, 400, "Malformed OCCI XML: "),
        ("POST", "/compute", "not xml at all", XML, 400, "Malformed OCCI XML: "),
        ("POST", "/compute", BOMB, XML, 400, "Malformed OCCI XML: DTDs"),
        ("POST", "/network", XXE, XML, 400, "Malformed OCCI XML: DTDs"),
        ("POST", "/compute", "", XML, 400, "Malformed OCCI XML: the request body is empty"),
        ("POST", "/network", None, {}, 400, "Malformed OCCI XML: the request body is empty"),
        ("PUT", "/compute/0", "  ", XML, 400, "Malformed OCCI XML: the request body is empty"),
        ("POST", "/compute", "<NIC><NAME>x</NAME></NIC>", XML, 400, "Malformed OCCI XML: expected"),
        ("POST", "/network", "<DISK/>", XML, 400, "Malformed OCCI XML: expected root"),
        (
            "POST",
            "/compute",
            '{"INSTANCE_TYPE": "small"}',
            {"Content-Type": "application/json"},
            415,
            "Unsupported content type",
        ),
        (
            "POST",
            "/network",
            "<NIC><NAME>n</NAME></NIC>",
            {"Content-Type": "text/plain"},
            415,
            "Unsupported content type",
        ),
        (
            "POST",
            "/storage",
            "<DISK/>",
            XML,
            415,
            "Image uploads must be multipart/form-data",
        ),
        (
            "POST",
            "/compute",
            "<COMPUTE>" + "<X/>" * 300000 + "</COMPUTE>",
            XML,
            413,
            "OCCI XML larger than",
        ),
    ],
)
def test_bad_xml_bodies(stack, user_api, method, path, body, headers, status, message):
    before = _counts(stack)
    resp = user_api.request(method, path, data=body, headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.text.startswith(message), resp.text
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert _counts(stack) == before


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ({"file": ("f", b"x" * 100)}, 400, "OCCI XML representation of Image not present"),
        ({"occixml": (None, "<DISK><NAME>n</NAME></DISK>")}, 400, "File not present"),
        ({"occixml": (None, "<DISK><NAME>n</DISK>"), "file": ("f", b"x")}, 400, "Malformed"),
        ({"occixml": (None, "<NIC/>"), "file": ("f", b"x")}, 400, "Malformed OCCI XML: expected"),
        ({"occixml": (None, "<DISK/>"), "file": ("f", b"x" * (4 * 2**20 + 1))}, 413, "Image"),
    ],
)
def test_bad_uploads_store_nothing(stack, user_api, files, status, message):
    before = _counts(stack)
    resp = user_api.post("/storage", files=files)
    assert resp.status_code == status, resp.text
    assert resp.text.startswith(message) or message in resp.text
    assert _counts(stack) == before


def test_broken_multipart_stores_nothing(stack, user_api):
    before = _counts(stack)
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'
    resp = user_api.post(
        "/storage", data=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert resp.status_code == 400, resp.text
    resp = user_api.post("/storage", data=b"x", headers={"Content-Type": "multipart/form-data"})
    assert resp.status_code == 400
    assert _counts(stack) == before


def test_1_4_tools_content_type_is_accepted(stack, user_api):
    """1.4's Net::HTTP sent application/x-www-form-urlencoded; the server ignored it."""
    resp = user_api.post(
        "/network",
        data="<NIC><NAME>legacy</NAME><ADDRESS>10.7.0.0</ADDRESS><SIZE>C</SIZE></NIC>",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 201, resp.text
    nid = stack.xml(resp).findtext("ID")
    assert user_api.delete(f"/network/{nid}").status_code == 204
