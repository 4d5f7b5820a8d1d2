"""The ``xen`` virtualization driver: hook implementations (spec §5.3, §5.5).

Every action runs ``[sudo] xm …`` (or ``xl …`` with ``XEN_TOOL = "xl"``) on
the host through the shared SSH layer (``ctx.remote(host)``),
as argument lists, so no value reaches a shell unquoted:

=========  ==============================================================
deploy     the configuration written to ``<VM_DIR>/<vid>/images/deployment.<seq>``
           (:func:`one_driverkit.vmm_helpers.upload_deployment`: ``cat`` reading standard input),
           ``xm create <file>``, then ``xm sched-credit -d <name> -w <credits>``
           from the file's ``#O CPU_CREDITS`` line. The deploy id is the
           ``Started domain X`` of xm; ``xl create`` prints none, so with xl
           it is the file's ``name`` (``one-<vid>``)
shutdown   ``xm shutdown D``, then ``xm list D`` every ``SHUTDOWN_POLL`` s
           until the domain is gone, or shut down (then ``xm destroy D``);
           after ``SHUTDOWN_TIMEOUT`` s a :class:`DriverError` (1.4 waited
           forever)
cancel     ``xm destroy D``; a domain already gone is a success
save       ``xm save D F``
restore    ``xm restore F`` (the domain keeps its name)
migrate    ``xm migrate -l D <dest>``, ``xl migrate D <dest>`` (always live)
poll       ``xentop -b -i 2 -d <POLL_DELAY>``: the domain's last line gives
           USEDMEMORY, USEDCPU, NETTX, NETRX (KB) and STATE; no line → ``d``
=========  ==============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_driverkit import vmm_helpers

from one_core.api import DriverError, hookimpl
from one_vmm_xen import tools, xentop
from one_vmm_xen.config import render_config
from one_vmm_xen.settings import defaults_of, settings

if TYPE_CHECKING:
    from one_driverkit.remote import RunResult

    from one_core.api import DriverContext, VMRecord

MAX_WEIGHT = 65535
"""The largest credit-scheduler weight Xen accepts."""


def _run(ctx: DriverContext, host: str, argv: list[str], *, check: bool = True) -> RunResult:
    return ctx.remote(host).run(argv, timeout=settings(ctx).command_timeout, check=check)


def _tool(ctx: DriverContext, host: str, *args: str, check: bool = True) -> RunResult:
    return _run(ctx, host, settings(ctx).tool_command(*args), check=check)


def _failed(action: str, deploy_id: str, result: RunResult) -> DriverError:
    return vmm_helpers.command_failed(f"{action} {deploy_id}", result)


@hookimpl
def vmm_deployment_file(ctx: DriverContext, vm: VMRecord) -> str:
    """The xm/xl configuration of ``vm`` (spec §5.3)."""
    return render_config(
        vm, defaults_of(ctx), warn=lambda message: ctx.vm_log(vm.vid, message, "W")
    )


def _set_credits(ctx: DriverContext, vid: int, host: str, name: str, config: str) -> None:
    """``xm sched-credit -d <name> -w <credits>``; a failure only warns (the domain runs)."""
    credits = tools.config_credits(config)
    if credits is None:
        return
    weight = min(max(credits, 1), MAX_WEIGHT)
    result = _tool(ctx, host, "sched-credit", "-d", name, "-w", str(weight), check=False)
    if result.exit_code != 0:
        detail = " ".join((result.stderr or result.stdout).split())
        ctx.vm_log(vid, f"Could not set the CPU credits of {name} to {weight}: {detail}", "W")


@hookimpl
def vmm_deploy(
    ctx: DriverContext, vid: int, host: str, deployment_file: str, deployment: str
) -> str:
    """Copy the configuration to the host, create the domain, set its CPU weight."""
    text, remote_file = vmm_helpers.upload_deployment(
        ctx, vid, host, deployment_file, deployment, timeout=settings(ctx).command_timeout
    )
    result = _tool(ctx, host, "create", remote_file)
    name = tools.started_domain(result.stdout)
    if name is None and settings(ctx).tool == "xl":
        name = tools.config_name(text)
    if name is None:
        raise DriverError("Domain id not found in xm create output.")
    _set_credits(ctx, vid, host, name, text)
    return name


@hookimpl
def vmm_shutdown(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """``xm shutdown``, then wait until the domain is gone (up to ``SHUTDOWN_TIMEOUT``)."""
    s = settings(ctx)
    _tool(ctx, host, "shutdown", deploy_id)

    def gone() -> bool:
        result = _tool(ctx, host, "list", deploy_id, check=False)
        if result.exit_code != 0:
            if tools.is_not_found(result.stderr):
                return True
            raise _failed("list", deploy_id, result)
        state = tools.list_state(result.stdout, deploy_id)
        if state is None:
            return True
        if "s" in state:  # shut down but still listed: free it, as 1.4 did
            vmm_cancel(ctx=ctx, vid=vid, host=host, deploy_id=deploy_id)
            return True
        return False

    vmm_helpers.wait_for_shutdown(
        gone,
        deploy_id,
        after=f"{s.tool} shutdown",
        timeout=s.shutdown_timeout,
        poll=s.shutdown_poll,
    )


@hookimpl
def vmm_cancel(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """``xm destroy``; succeeds when the domain is already gone."""
    result = _tool(ctx, host, "destroy", deploy_id, check=False)
    if result.exit_code != 0 and not tools.is_not_found(result.stderr):
        raise _failed("destroy", deploy_id, result)


@hookimpl
def vmm_save(ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str) -> None:
    """``xm save <domain> <checkpoint>``."""
    _tool(ctx, host, "save", deploy_id, checkpoint)


@hookimpl
def vmm_restore(
    ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str
) -> str | None:
    """``xm restore <checkpoint>``; the domain keeps its name."""
    _tool(ctx, host, "restore", checkpoint)
    return None


@hookimpl
def vmm_migrate(ctx: DriverContext, vid: int, host: str, deploy_id: str, dest_host: str) -> None:
    """Live migration run on the source host: ``xm migrate -l D dest`` / ``xl migrate D dest``."""
    live = ["-l"] if settings(ctx).tool == "xm" else []
    _tool(ctx, host, "migrate", *live, deploy_id, dest_host)


@hookimpl
def vmm_poll(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> dict[str, str]:
    """``xentop`` → the domain's counters and STATE; ``STATE=d`` when it is not listed."""
    result = _run(ctx, host, settings(ctx).xentop_command(), check=False)
    if result.exit_code != 0:
        raise _failed("xentop", deploy_id, result)
    domain = xentop.find(result.stdout, deploy_id)
    if domain is None:
        return {"STATE": "d"}
    return xentop.poll_info(domain)
