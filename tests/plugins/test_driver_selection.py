"""oned.conf driver sections → entry-point names, and loading through stevedore + pluggy."""

from __future__ import annotations

import logging

import pytest

from one_core.drivers import (
    DriverSpec,
    driver_name_from_section,
    load_drivers_from_specs,
    make_plugin_manager,
)
from one_core.errors import ConfigError, DriverError, DriverLoadError
from one_core.hookspecs import hookimpl


@pytest.mark.parametrize(
    ("role", "section", "expected"),
    [
        # the seed's oned.conf (reference guide 1.1.6)
        ("im", {"EXECUTABLE": "one_im_ssh", "ARGUMENTS": "im_kvm/im_kvm.conf"}, "kvm"),
        ("im", {"EXECUTABLE": "bin/one_im_ssh", "ARGUMENTS": "im_xen/im_xen.conf"}, "xen"),
        ("im", {"EXECUTABLE": "one_im_ssh", "ARGUMENTS": "-r remotes im_kvm/im_kvm.conf"}, "kvm"),
        ("im", {"EXECUTABLE": "one_im_ec2", "ARGUMENTS": "im_ec2/im_ec2.conf"}, "ec2"),
        ("vmm", {"EXECUTABLE": "one_vmm_kvm", "DEFAULT": "vmm_kvm/vmm_kvm.conf"}, "kvm"),
        ("vmm", {"EXECUTABLE": "one_vmm_xen"}, "xen"),
        ("vmm", {"EXECUTABLE": "one_vmm_ec2", "ARGUMENTS": "vmm_ec2/vmm_ec2.conf"}, "ec2"),
        ("tm", {"EXECUTABLE": "one_tm", "ARGUMENTS": "tm_nfs/tm_nfs.conf"}, "nfs"),
        ("tm", {"EXECUTABLE": "one_tm", "ARGUMENTS": "tm_ssh/tm_ssh.conf"}, "ssh"),
        ("tm", {"EXECUTABLE": "one_tm", "ARGUMENTS": "tm_dummy/tm_dummy.conf"}, "dummy"),
        ("hm", {"EXECUTABLE": "one_hm"}, "exec"),
        # an explicit driver wins
        ("vmm", {"EXECUTABLE": "one_vmm_kvm", "DRIVER": "dummy"}, "dummy"),
        ("tm", {"DRIVER": "ssh"}, "ssh"),
    ],
)
def test_driver_name_from_section(role, section, expected):
    assert driver_name_from_section(role, section) == expected


def test_section_without_driver_is_a_config_error():
    with pytest.raises(ConfigError, match="'vmm_x' names no driver"):
        DriverSpec.from_section("vmm", {"name": "vmm_x"})


def test_name_defaults_to_driver_and_keys_are_upper_cased():
    spec = DriverSpec.from_section("hm", {"executable": "one_hm"})
    assert (spec.name, spec.driver, spec.section["EXECUTABLE"]) == ("exec", "exec", "one_hm")


def _dummy_set(tmp_path, **section):
    specs = [
        DriverSpec("im", "im_dummy", "dummy", {"NAME": "im_dummy", **section}),
        DriverSpec("vmm", "vmm_dummy", "dummy", {"NAME": "vmm_dummy", **section}),
        DriverSpec("tm", "tm_dummy", "dummy", {"NAME": "tm_dummy", **section}),
    ]
    return load_drivers_from_specs(specs, var_dir=str(tmp_path))


def test_dummy_drivers_load_and_report_capabilities(tmp_path):
    drivers = _dummy_set(tmp_path)
    vmm = drivers.get("vmm", "vmm_dummy")
    assert vmm.implements("vmm_save") and vmm.implements("vmm_migrate")
    assert not vmm.implements("vmm_deployment_file")
    assert not vmm.implements("im_monitor")
    assert drivers.names("tm") == ["tm_dummy"]
    with pytest.raises(DriverLoadError, match="no VM_MAD named 'kvm'.*configured: vmm_dummy"):
        drivers.get("vmm", "kvm")


def test_unknown_driver_lists_the_installed_ones(tmp_path):
    with pytest.raises(DriverLoadError) as info:
        load_drivers_from_specs([DriverSpec("vmm", "vmm_k", "nosuch")], var_dir=str(tmp_path))
    message = str(info.value)
    assert "unknown driver 'nosuch' in entry-point group one.vmm" in message
    assert "installed:" in message and "dummy" in message


def test_same_name_twice_is_refused(tmp_path):
    spec = DriverSpec("tm", "tm_dummy", "dummy")
    with pytest.raises(DriverLoadError, match="defined twice"):
        load_drivers_from_specs([spec, spec], var_dir=str(tmp_path))


class _NoSpec:
    @hookimpl
    def vmm_deploy(self, ctx, vid):
        return "x"

    @hookimpl
    def vmm_reboot(self, ctx, vid):
        pass


class _WrongArgument:
    @hookimpl
    def vmm_poll(self, ctx, vid, flavour):
        return {}


class _Incomplete:
    @hookimpl
    def vmm_deploy(self, ctx, vid):
        return "x"


def test_hookimpl_without_spec_is_refused():
    with pytest.raises(DriverLoadError, match="vmm_reboot"):
        make_plugin_manager("vmm", _NoSpec(), "nospec")


def test_hookimpl_with_argument_not_in_spec_is_refused():
    with pytest.raises(DriverLoadError, match="flavour"):
        make_plugin_manager("vmm", _WrongArgument(), "wrongarg")


def test_missing_required_hooks_are_named():
    with pytest.raises(DriverLoadError) as info:
        make_plugin_manager("vmm", _Incomplete(), "incomplete")
    assert "vmm_shutdown, vmm_cancel, vmm_poll" in str(info.value)


def test_trace_observer_logs_each_call(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ONE_TRACE_DRIVERS", "1")
    drivers = _dummy_set(tmp_path)
    with caplog.at_level(logging.INFO, logger="one.trace"):
        deploy_id = drivers.get("vmm", "vmm_dummy").call(
            "vmm_deploy", vid=7, host="node1", deployment_file="/x", deployment=""
        )
        with pytest.raises(DriverError):
            drivers.get("vmm", "vmm_dummy").call(
                "vmm_restore", vid=7, host="node1", deploy_id=deploy_id, checkpoint="/c"
            )
    lines = [r.getMessage() for r in caplog.records if r.name == "one.trace"]
    assert any(
        line.startswith("vmm:vmm_dummy vmm_deploy(vid=7, host='node1'") and "-> 'dummy-7'" in line
        for line in lines
    ), lines
    assert any("vmm_restore(" in line and "raised DriverError" in line for line in lines), lines


def test_trace_is_off_by_default(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("ONE_TRACE_DRIVERS", raising=False)
    drivers = _dummy_set(tmp_path)
    with caplog.at_level(logging.INFO, logger="one.trace"):
        drivers.get("im", "im_dummy").call("im_monitor", hid=0, host="h")
    assert not [r for r in caplog.records if r.name == "one.trace"]
