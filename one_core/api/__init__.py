"""The driver-facing API of OpenNebula-py: the one namespace drivers and front-ends import.

As pytest exposes ``pytest`` over ``_pytest``, the core exposes ``one_core.api``
over its modules: a name listed in :data:`__all__` is the contract; every
other ``one_core.*`` module is internal and may change. A test
(``tests/plugins/test_api_boundary.py``) fails when a module under
``plugins/*/one_*/`` or ``frontends/*/one_*/`` imports any other ``one_core``
module. Host work (SSH, hypervisor tools, driver settings, the context ISO)
is in the driver kit ``one_driverkit``; the econe/OCCI pieces in ``one_cloudkit``.

Writing a driver (``docs/writing-a-driver.md``)::

    from one_core.api import DriverContext, DriverError, hookimpl

    @hookimpl
    def hm_execute(ctx: DriverContext, vid, hook_name, host, command, arguments):
        result = ctx.remote(host).run([command, *arguments], check=False)
        if result.exit_code != 0:
            raise DriverError(f"exit code {result.exit_code}")
        return result.stdout

=================  ==============================================================
group              names
=================  ==============================================================
hooks              :data:`hookimpl`, :mod:`hookspecs` (the manual: one module
                   per role, ``hookspecs.vmm``...)
driver context     :class:`DriverContext` (``ctx``)
errors             :class:`DriverError`, :class:`ContextError`
deadlines          :func:`on_expiry` (``on_expiry(proc.kill)``: killed if the call times out)
records            :class:`VMRecord` (what VMM/TM hooks get), :func:`remote_images_dir`
                   (``<VM_DIR>/<vid>/images`` on a host)
local files        :func:`write_local` (a front-end file in one open/write/close,
                   its directory made when missing)
placement          :class:`PendingVM`, :class:`HostSnapshot`, :class:`Placement`
                   (the ``sched`` role)
templates          :class:`Template`, :class:`TemplateSyntaxError`
VM context         :func:`write_context_sh`, :func:`context_files` (the kit's ISO builder)
VM/host states    :class:`VmState`, :class:`LcmState`, :class:`HostState`, :func:`short_status`
C numbers          :mod:`cnum` (1.4's ``atoi``/``atof``/stream conversions)
logs               :data:`LEVEL_LETTERS`, :func:`format_line`
XML-RPC client     :class:`Client`, :func:`read_one_auth`, :class:`OneClientError`,
                   :class:`OneCallError`, :class:`OneTransportError` (front-ends)
XML documents      :func:`safe_fromstring` (oned's answers, refusing DTDs and entities)
=================  ==============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from one_core import cnum, hookspecs
from one_core.context import DriverContext
from one_core.deadlines import on_expiry
from one_core.errors import DriverError
from one_core.hookspecs import hookimpl
from one_core.logs import LEVEL_LETTERS, format_line
from one_core.placement import HostSnapshot, PendingVM, Placement
from one_core.records import VMRecord
from one_core.rpc.codec import safe_fromstring
from one_core.template import Template, TemplateSyntaxError
from one_core.vm.paths import remote_images_dir, write_local
from one_core.vm.states import HostState, LcmState, VmState, short_status
from one_core.vm_context import ContextError, context_files, write_context_sh

if TYPE_CHECKING:
    from one_core.client import (
        Client,
        OneCallError,
        OneClientError,
        OneTransportError,
        read_one_auth,
    )

_CLIENT_NAMES = frozenset(
    ("Client", "OneCallError", "OneClientError", "OneTransportError", "read_one_auth")
)


def __getattr__(name: str) -> Any:
    """The XML-RPC client's names, imported on first use (PEP 562): the client brings
    ``http.client`` and the e-mail parser, which oned itself never uses."""
    if name in _CLIENT_NAMES:
        from one_core import client

        value = getattr(client, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # hooks
    "hookimpl",
    "hookspecs",
    # driver context
    "DriverContext",
    # errors
    "DriverError",
    "ContextError",
    # deadlines: what to kill when the call times out
    "on_expiry",
    # records and placement
    "VMRecord",
    "remote_images_dir",
    "write_local",
    "PendingVM",
    "HostSnapshot",
    "Placement",
    # templates and the VM context
    "Template",
    "TemplateSyntaxError",
    "write_context_sh",
    "context_files",
    # VM states
    "VmState",
    "LcmState",
    "HostState",
    "short_status",
    # C number conversions
    "cnum",
    # logs
    "LEVEL_LETTERS",
    "format_line",
    # XML-RPC client (front-ends)
    "Client",
    "read_one_auth",
    "OneClientError",
    "OneCallError",
    "OneTransportError",
    "safe_fromstring",
]
