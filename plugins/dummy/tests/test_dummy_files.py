"""The dummy drivers' files with few system calls (issue 19): the domain file is written
through one ``.tmp`` renamed over it, read only when needed; ``transfer.log`` is appended
with one ``os.open``; the control files keep their documented meaning."""

from __future__ import annotations

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.testing.file_calls import FileCalls


def load(tmp_path, role, **section):
    spec = DriverSpec(role, f"{role}_dummy", "dummy", {"NAME": f"{role}_dummy", **section})
    return load_drivers_from_specs([spec], var_dir=str(tmp_path)).get(role, f"{role}_dummy")


def deploy(vmm, vid, host="a"):
    return vmm.call("vmm_deploy", vid=vid, host=host, deployment_file="f", deployment="<VM/>")


def test_deploy_writes_the_domain_without_reading_it(tmp_path, monkeypatch):
    vmm = load(tmp_path, "vmm")
    domain = tmp_path / "dummy_vmm" / "dummy-4"
    deploy(vmm, 3)  # makes the domains' directory
    calls = FileCalls(monkeypatch)
    assert deploy(vmm, 4) == "dummy-4"
    assert calls.on(domain) == []  # not looked up: nothing records whether it existed
    assert calls.on(f"{domain}.tmp") == ["os.open", "os.replace"]
    assert domain.read_text() == "running a\n"
    assert sorted(p.name for p in domain.parent.iterdir()) == ["dummy-3", "dummy-4"]


def test_deploy_records_new_then_existing(tmp_path):
    actions = tmp_path / "actions.log"
    vmm = load(tmp_path, "vmm", RECORD=str(actions))
    deploy(vmm, 5)
    deploy(vmm, 5)
    deployed = [line.split()[2:] for line in actions.read_text().splitlines()]
    assert [fields for fields in deployed if fields[0] == "deployed"] == [
        ["deployed", "5", "a", "new"],
        ["deployed", "5", "a", "existing"],
    ]


def test_control_file_that_cannot_be_read_is_no_control(tmp_path):
    (tmp_path / "6" / "dummy_fail").mkdir(parents=True)  # a directory: read() fails
    vmm = load(tmp_path, "vmm")
    deploy(vmm, 6)
    vmm.call("vmm_shutdown", vid=6, host="a", deploy_id="dummy-6")


def test_transfer_log_is_appended_with_one_open(tmp_path, monkeypatch):
    tm = load(tmp_path, "tm")
    (tmp_path / "9").mkdir()
    calls = FileCalls(monkeypatch)
    tm.call("tm_mv", vid=9, src="n:/v/9/images", dst="front:/var/9")
    tm.call("tm_delete", vid=9, path="n:/v/9/images")
    log = tmp_path / "9" / "transfer.log"
    assert calls.on(log) == ["os.open", "os.open"]
    assert log.read_text() == "MV n:/v/9/images front:/var/9\nDELETE n:/v/9/images\n"
