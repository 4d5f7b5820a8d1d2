"""Hook drivers: entry-point group ``one.hm``.

1.4 equivalent: ``HM_MAD`` (``one_hm``). The core decides *when* a VM hook
fires and expands its arguments (``spec/lifecycle-and-drivers.md`` §7); the
hook driver only runs the command, on the front-end or on the VM's host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext

REQUIRED: tuple[str, ...] = ("hm_execute",)
OPTIONAL: tuple[str, ...] = ()

# ---------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def hm_execute(
    ctx: DriverContext,
    vid: int,
    hook_name: str,
    host: str | None,
    command: str,
    arguments: list[str],
) -> str:
    """Run one VM hook command.

    :param ctx: the driver's context.
    :param vid: the VM the hook fired for.
    :param hook_name: the ``NAME`` of the ``VM_HOOK`` in oned.conf.
    :param host: ``None`` for a local hook (run on the front-end); the VM's
        host name for a remote hook (``remote = "yes"``).
    :param command: the ``COMMAND`` of the hook, a path or program name. A
        relative command of a local hook is resolved by the driver (1.4 ran
        it from the hooks directory ``$ONE_LOCATION/share/hooks``).
    :param arguments: the expanded ``ARGUMENTS``, already split into
        separate arguments. Each element must reach the program as exactly
        one argument: never join them into a shell string without quoting.
    :return: the command's standard output (logged in the VM log).

    Raise :class:`~one_core.errors.DriverError` when the command cannot run
    or exits non-zero; the core logs ``Error executing Hook: <name>. <msg>``.
    Hooks never change the state of the VM.
    """
