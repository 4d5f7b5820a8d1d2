"""1.4's oned.conf sections load these drivers, with their defaults file and settings."""

from __future__ import annotations

import pathlib

import pytest
from one_vmm_xen.settings import XenSettings, settings

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError
from one_core.testing.drivers import driver_from_section


def test_1_4_vm_mad_section_with_its_defaults_file(tmp_path: pathlib.Path) -> None:
    section = {
        "NAME": "vmm_xen",
        "EXECUTABLE": "one_vmm_xen",
        "DEFAULT": "vmm_xen/vmm_xen.conf",
        "TYPE": "xen",
    }
    defaults = {"vmm_xen/vmm_xen.conf": 'CREDIT = 512\nXEN_TOOL = "xl"\n'}
    driver = driver_from_section(tmp_path, "vmm", section, defaults)
    assert driver.spec.driver == "xen"
    assert driver.ctx.defaults["CREDIT"] == "512"
    s = settings(driver.ctx)
    assert (s.tool, s.tool_path, s.sudo) == ("xl", "/usr/sbin/xl", ("sudo",))
    assert s.tool_command("list") == ["sudo", "/usr/sbin/xl", "list"]


def test_1_4_im_mad_section() -> None:
    section = {"NAME": "im_xen", "EXECUTABLE": "one_im_ssh", "ARGUMENTS": "im_xen/im_xen.conf"}
    drivers = load_drivers_from_specs([DriverSpec.from_section("im", section)])
    assert drivers.get("im", "im_xen").spec.driver == "xen"


def test_settings_defaults_aliases_and_errors() -> None:
    from one_core.context import DriverContext

    s = XenSettings.from_context(DriverContext(role="vmm", name="xen"))
    assert (s.tool, s.tool_path, s.xentop_path) == ("xm", "/usr/sbin/xm", "/usr/sbin/xentop")
    assert s.xentop_command() == ["sudo", "/usr/sbin/xentop", "-b", "-i", "2", "-d", "1"]
    assert (s.shutdown_timeout, s.shutdown_poll, s.command_timeout) == (300.0, 1.0, None)
    ctx = DriverContext(role="vmm", name="xen", config={"XM_PATH": "/opt/xen/xm", "SUDO": ""})
    assert XenSettings.from_context(ctx).tool_command("info") == ["/opt/xen/xm", "info"]
    with pytest.raises(DriverError, match="XEN_TOOL must be xm or xl"):
        XenSettings.from_context(DriverContext(role="vmm", name="x", config={"XEN_TOOL": "virsh"}))
    with pytest.raises(DriverError, match="SHUTDOWN_TIMEOUT is not a number"):
        XenSettings.from_context(
            DriverContext(role="vmm", name="x", config={"SHUTDOWN_TIMEOUT": "soon"})
        )
