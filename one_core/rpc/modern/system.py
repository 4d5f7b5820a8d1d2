"""``one.system.version`` and ``one.system.config`` of the modern dialect."""

from __future__ import annotations

from one_core.rpc.modern.api import Call, api

VERSION = "7.4.0"
"""What ``one.system.version`` answers: the OpenNebula line whose method signatures and
response shapes this dialect follows for the methods it has (docs/modern-api.md)."""

HIDDEN = ("DB",)
"""oned.conf sections ``one.system.config`` leaves out (credentials)."""


@api("one.system.version", "A:s", "Returns the OpenNebula core version")
def system_version(call: Call) -> str:
    return VERSION


@api("one.system.config", "A:s", "Returns the OpenNebula configuration")
def system_config(call: Call) -> str:
    call.authorize("ADMIN", "SYSTEM", -1)
    template = call.core.cfg.template.copy()
    for name in HIDDEN:
        template.remove(name)
    return template.to_xml("OPENNEBULA_CONFIGURATION")
