"""Units without a server: instance-type rendering (§5.7), configuration (§1.2-1.3), routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_occi.app import route
from one_occi.config import OcciConfig
from one_occi.errors import OcciError
from one_occi.vmtemplate import ComputeRequest, Disk, Nic, UnsafeValue, render, value

from one_core.template import Template

TEMPLATES = Path(__file__).resolve().parents[1] / "one_occi" / "etc" / "occi_templates"

SPEC_REQUEST = ComputeRequest(
    name="WebServer",
    instance_type="small",
    disks=[
        Disk("disk", dev="sda1", image_id=5, source="/srv/one/images/5"),
        Disk("swap", dev="sda2", size="1024"),
        Disk("fs", dev="sda3", size="1024", format="ext3"),
    ],
    nics=[Nic(1, "Blue", "192.168.0.20"), Nic(2, "Red")],
)


def test_small_renders_the_spec_text():
    """Spec §5.7's small.erb output, with NAME quoted (§7 #33)."""
    text = render(TEMPLATES / "small.erb", SPEC_REQUEST, "ext3", {})
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines == [
        'NAME   = "WebServer"',
        "CPU    = 1",
        "MEMORY = 1024",
        "OS = [ kernel     = /vmlinuz,",
        "       initrd     = /initrd.img,",
        "       root       = sda1,",
        '       kernel_cmd = "ro xencons=tty console=tty1"]',
        'DISK = [ type = "disk", target=sda1, source=/srv/one/images/5, image_id=5 ]',
        'DISK = [ type = "swap", size=1024, target=sda2 ]',
        'DISK = [ type = "fs", target=sda3, size=1024, format=ext3 ]',
        'NIC = [ IP=192.168.0.20, NETWORK="Blue", NETWORK_ID=1 ]',
        'NIC = [ NETWORK="Red", NETWORK_ID=2 ]',
        "INSTANCE_TYPE = small",
    ]


@pytest.mark.parametrize(
    ("name", "cpu", "memory"), [("medium", "4", "4096"), ("large", "8", "8192")]
)
def test_types_differ_in_cpu_and_memory(name, cpu, memory):
    tpl = Template.parse(render(TEMPLATES / f"{name}.erb", SPEC_REQUEST, "ext3", {}))
    assert (tpl.get("CPU"), tpl.get("MEMORY")) == (cpu, memory)
    assert len(tpl.vectors("DISK")) == 3


def test_fs_format_falls_back_and_name_is_omitted():
    request = ComputeRequest(name=None, instance_type="small", disks=[Disk("fs", dev="sdb")])
    tpl = Template.parse(render(TEMPLATES / "small.erb", request, "ext2", {}))
    assert "NAME" not in tpl
    assert tpl.vector("DISK") == {"TYPE": "fs", "TARGET": "sdb", "FORMAT": "ext2"}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1))
def test_client_values_stay_one_value(text):
    """No request value can add attributes to the template (§7 #33)."""
    request = ComputeRequest(
        name=text, instance_type="small", disks=[Disk("swap", dev=text, size="1")]
    )
    try:
        rendered = render(TEMPLATES / "small.erb", request, "ext3", {})
    except UnsafeValue:
        assert text.endswith("\\") or any(ord(c) < 32 or ord(c) == 127 for c in text)
        return
    tpl = Template.parse(rendered)
    assert tpl.get("NAME") == text
    assert tpl.vector("DISK")["TARGET"] == text
    assert tpl.get("MEMORY") == "1024"


def test_value_is_bare_for_tokens():
    assert value("sda1") == "sda1"
    assert value("/srv/one/images/5") == "/srv/one/images/5"
    assert value('a "b"') == '"a \\"b\\""'
    with pytest.raises(UnsafeValue):
        value("ends with \\")


def test_config(tmp_path):
    cfg = OcciConfig.from_text(
        "USER=oneadmin\nPASSWORD=pw#comment\nSERVER=cloud\nPORT=4568\n"
        "DATABASE=/x/occi.db\nIMAGE_DIR=/x/images\nBRIDGE=\nFS_FORMAT=ext2\n"
        "VM_TYPE=[NAME=small, TEMPLATE=small.erb]\nVM_TYPE=[\n NAME=large,\n TEMPLATE=large.erb\n]\n",
        tmp_path,
        env={},
    )
    assert cfg.password == "pw"
    assert cfg.bridge == ""  # §7 #2: an empty value does not swallow the next line
    assert cfg.fs_format == "ext2"
    assert sorted(cfg.vm_types) == ["large", "small"]
    assert cfg.base_url == "http://cloud:4568"
    assert cfg.image_ownership is True
    # what both servers share (ONE_XMLRPC, IMAGE_OWNERSHIP, ...): tests/cloudkit
    ssl = OcciConfig.from_text(
        "SSL_SERVER=https://localhost:443/\nDATABASE=d\nIMAGE_DIR=i\n", tmp_path, env={}
    )
    assert ssl.base_url == "https://localhost:443"


def test_shipped_config_loads():
    etc = TEMPLATES.parent
    cfg = OcciConfig.load(etc / "occi-server.conf", env={})
    assert sorted(cfg.vm_types) == ["large", "medium", "small"]
    assert all((cfg.template_dir / t["TEMPLATE"]).is_file() for t in cfg.vm_types.values())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/compute", ("compute", None)),
        ("/storage/12", ("storage", 12)),
        ("/network/0", ("network", 0)),
    ],
)
def test_routes(path, expected):
    assert route(path) == expected


@pytest.mark.parametrize(
    "path", ["/compute/", "/compute/x", "/compute/-1", "/hosts", "//compute", ""]
)
def test_unknown_routes_are_404(path):
    with pytest.raises(OcciError) as info:
        route(path)
    assert info.value.status == 404
