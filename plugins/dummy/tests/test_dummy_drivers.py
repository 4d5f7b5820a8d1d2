"""The dummy drivers, called through the same loader oned uses."""

from __future__ import annotations

import os

import pytest

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError


def load(tmp_path, role, **section):
    spec = DriverSpec(role, f"{role}_dummy", "dummy", {"NAME": f"{role}_dummy", **section})
    return load_drivers_from_specs([spec], var_dir=str(tmp_path)).get(role, f"{role}_dummy")


def write(tmp_path, relative, text):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- im ---------------------------------------------------------------------


def test_im_reports_a_fake_host(tmp_path):
    info = load(tmp_path, "im").call("im_monitor", hid=0, host="node1")
    assert info["HYPERVISOR"] == "dummy"
    assert info["HOSTNAME"] == "node1"
    assert int(info["TOTALCPU"]) == int(info["FREECPU"]) == 800
    assert int(info["TOTALMEMORY"]) == int(info["FREEMEMORY"]) > 0


def test_im_section_and_host_file_override(tmp_path):
    write(tmp_path, "dummy_hosts/big", 'TOTALCPU = 1600\nARCH = "ppc64"\nRACK = 7\n')
    im = load(tmp_path, "im", TOTALMEMORY="1024")
    big = im.call("im_monitor", hid=1, host="big")
    small = im.call("im_monitor", hid=2, host="small")
    assert (big["TOTALCPU"], big["ARCH"], big["RACK"], big["TOTALMEMORY"]) == (
        "1600",
        "ppc64",
        "7",
        "1024",
    )
    assert (small["TOTALCPU"], small["CPUSPEED"], "ARCH" in small) == ("800", "2000", False)


def test_im_failure_injected_per_host(tmp_path):
    write(tmp_path, "dummy_hosts/sick", "FAIL = yes\n")
    with pytest.raises(DriverError, match="cannot monitor sick"):
        load(tmp_path, "im").call("im_monitor", hid=3, host="sick")


# --- vmm --------------------------------------------------------------------


def test_vmm_life_of_a_domain(tmp_path):
    vmm = load(tmp_path, "vmm")
    deploy_id = vmm.call("vmm_deploy", vid=4, host="a", deployment_file="f", deployment="<VM/>")
    assert deploy_id == "dummy-4"
    assert vmm.call("vmm_poll", vid=4, host="a", deploy_id=deploy_id)["STATE"] == "a"
    vmm.call("vmm_save", vid=4, host="a", deploy_id=deploy_id, checkpoint="c")
    assert vmm.call("vmm_poll", vid=4, host="a", deploy_id=deploy_id)["STATE"] == "p"
    with pytest.raises(DriverError, match="not running"):
        vmm.call("vmm_shutdown", vid=4, host="a", deploy_id=deploy_id)
    vmm.call("vmm_restore", vid=4, host="b", deploy_id=deploy_id, checkpoint="c")
    vmm.call("vmm_migrate", vid=4, host="b", deploy_id=deploy_id, dest_host="c")
    vmm.call("vmm_shutdown", vid=4, host="c", deploy_id=deploy_id)
    assert vmm.call("vmm_poll", vid=4, host="c", deploy_id=deploy_id) == {"STATE": "d"}
    # cancel is idempotent
    vmm.call("vmm_cancel", vid=4, host="c", deploy_id=deploy_id)


def test_vmm_domains_survive_a_new_driver_instance(tmp_path):
    load(tmp_path, "vmm").call("vmm_deploy", vid=1, host="a", deployment_file="f", deployment="")
    again = load(tmp_path, "vmm")  # as after an oned restart
    assert again.call("vmm_poll", vid=1, host="a", deploy_id="dummy-1")["STATE"] == "a"


def test_vmm_failures_from_section_file_and_template(tmp_path):
    with pytest.raises(DriverError, match="dummy deploy failure injected"):
        load(tmp_path, "vmm", FAIL="deploy").call(
            "vmm_deploy", vid=1, host="a", deployment_file="f", deployment=""
        )
    vmm = load(tmp_path, "vmm")
    write(tmp_path, "2/dummy_fail", "save\n")
    vmm.call("vmm_deploy", vid=2, host="a", deployment_file="f", deployment="")
    with pytest.raises(DriverError, match="save"):
        vmm.call("vmm_save", vid=2, host="a", deploy_id="dummy-2", checkpoint="c")
    xml = "<TEMPLATE><DUMMY_FAIL><![CDATA[shutdown]]></DUMMY_FAIL></TEMPLATE>"
    vmm.call("vmm_deploy", vid=3, host="a", deployment_file="f", deployment=xml)
    with pytest.raises(DriverError, match="shutdown"):
        vmm.call("vmm_shutdown", vid=3, host="a", deploy_id="dummy-3")
    vmm.call("vmm_shutdown", vid=2, host="a", deploy_id="dummy-2")


def test_vmm_delay_per_vm(tmp_path, monkeypatch):
    import one_drivers_dummy.control as control

    slept = []
    monkeypatch.setattr(control.time, "sleep", slept.append)
    write(tmp_path, "5/dummy_delay", "2.5")
    write(tmp_path, "7/dummy_delay_save", "4")
    vmm = load(tmp_path, "vmm", DELAY_DEPLOY="0.25")
    vmm.call("vmm_deploy", vid=5, host="a", deployment_file="f", deployment="")
    vmm.call("vmm_deploy", vid=6, host="a", deployment_file="f", deployment="")
    vmm.call("vmm_deploy", vid=7, host="a", deployment_file="f", deployment="")
    vmm.call("vmm_save", vid=7, host="a", deploy_id="dummy-7", checkpoint="c")
    assert slept == [2.5, 0.25, 0.25, 4.0]


def test_vmm_random_failures_and_hangs(tmp_path, monkeypatch):
    import one_drivers_dummy.control as control

    slept = []
    monkeypatch.setattr(control.time, "sleep", slept.append)
    record = tmp_path / "actions.log"
    vmm = load(tmp_path, "vmm", FAIL_RATE="1", FAIL_RATE_POLL="0", RECORD=str(record))
    with pytest.raises(DriverError, match="dummy deploy random failure injected"):
        vmm.call("vmm_deploy", vid=1, host="a", deployment_file="f", deployment="")
    assert vmm.call("vmm_poll", vid=1, host="a", deploy_id="dummy-1") == {"STATE": "d"}
    assert [line.split()[2] for line in record.read_text().splitlines()] == [
        "deploy", "fail", "poll",
    ]  # fmt: skip
    vmm = load(tmp_path, "vmm", FAIL_RATE="0", HANG_RATE_DEPLOY="1", HANG="30")
    vmm.call("vmm_deploy", vid=2, host="a", deployment_file="f", deployment="")
    vmm.call("vmm_shutdown", vid=2, host="a", deploy_id="dummy-2")
    assert slept == [30.0]  # the deploy hung, the shutdown did not


# --- tm ---------------------------------------------------------------------


def test_tm_records_every_command(tmp_path):
    tm = load(tmp_path, "tm")
    tm.call("tm_clone", vid=9, src="front:/i.img", dst="n:/v/9/images/disk.0", size=None)
    tm.call("tm_ln", vid=9, src="front:/j.img", dst="n:/v/9/images/disk.1", size="512")
    tm.call("tm_mkswap", vid=9, size="1024", dst="n:/v/9/images/disk.2")
    tm.call("tm_mkimage", vid=9, size="64", fstype="ext3", dst="n:/v/9/images/disk.3")
    tm.call("tm_context", vid=9, sources=["/var/9/context.sh"], dst="n:/d.4", iso="/x.iso")
    tm.call("tm_mv", vid=9, src="n:/v/9/images", dst="front:/var/9")
    tm.call("tm_delete", vid=9, path="n:/v/9/images")
    expected = [
        "CLONE front:/i.img n:/v/9/images/disk.0",
        "LN front:/j.img n:/v/9/images/disk.1 512",
        "MKSWAP 1024 n:/v/9/images/disk.2",
        "MKIMAGE 64 ext3 n:/v/9/images/disk.3",
        "CONTEXT /var/9/context.sh n:/d.4",
        "MV n:/v/9/images front:/var/9",
        "DELETE n:/v/9/images",
    ]
    assert [line for _, line in tm.ctx.state["commands"]] == expected
    assert (tmp_path / "9" / "transfer.log").read_text().splitlines() == expected


def test_tm_failure_injected(tmp_path):
    write(tmp_path, "3/dummy_fail", "mv, delete")
    tm = load(tmp_path, "tm")
    tm.call("tm_clone", vid=3, src="a:/x", dst="b:/y", size=None)
    with pytest.raises(DriverError, match="dummy mv failure injected"):
        tm.call("tm_mv", vid=3, src="a:/x", dst="b:/y")
    assert os.path.exists(tmp_path / "3" / "transfer.log")
