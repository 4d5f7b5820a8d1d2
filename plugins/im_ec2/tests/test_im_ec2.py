"""The EC2 IM: capacity from the configured instance limits (spec §6.3)."""

from __future__ import annotations

import pytest

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError
from one_core.template import Template


def monitor(**section: str) -> dict:
    drivers = load_drivers_from_specs(
        [DriverSpec(role="im", name="im_ec2", driver="ec2", section=section)]
    )
    return drivers.get("im", "im_ec2").call("im_monitor", hid=3, host="ec2-eu")


def as_1_4_line(result: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in result.items())


def test_shipped_defaults_give_1_4s_reply() -> None:
    assert as_1_4_line(monitor()) == (
        "HOSTNAME=ec2-eu,HYPERVISOR=ec2,TOTALMEMORY=8912896.0,TOTALCPU=500,CPUSPEED=1000,"
        "FREEMEMORY=8912896.0,FREECPU=500"
    )


def test_every_instance_type() -> None:
    result = monitor(SMALL_INSTANCES="1", LARGE_INSTANCES="2", EXTRALARGE_INSTANCES="3")
    assert result["TOTALCPU"] == result["FREECPU"] == 100 + 800 + 2400
    assert result["TOTALMEMORY"] == result["FREEMEMORY"] == 1048576 * (1.7 + 15.0 + 45.0)
    assert str(monitor(SMALL_INSTANCES="1")["TOTALMEMORY"]) == "1782579.2"


def test_empty_counts_as_zero() -> None:
    result = monitor(SMALL_INSTANCES="", large_instances="1")
    assert (result["TOTALCPU"], result["TOTALMEMORY"]) == (400, 7864320.0)


def test_the_core_reads_the_integer_part() -> None:
    host = Template.parse_monitoring(as_1_4_line(monitor()))
    assert host.get_int("TOTALMEMORY") == 8912896
    assert host.get_int("FREECPU") == 500


@pytest.mark.parametrize("value", ["five", "-1", "2.5"])
def test_bad_limits(value: str) -> None:
    with pytest.raises(DriverError, match="SMALL_INSTANCES"):
        monitor(SMALL_INSTANCES=value)


def test_1_4_im_mad_section_loads_this_driver() -> None:
    section = {"NAME": "im_ec2", "EXECUTABLE": "one_im_ec2", "ARGUMENTS": "im_ec2/im_ec2.conf"}
    drivers = load_drivers_from_specs([DriverSpec.from_section("im", section)])
    assert drivers.get("im", "im_ec2").spec.driver == "ec2"
