"""The ``kvm`` virtualization driver: hook implementations (spec §5.2, §5.5).

Every action runs ``virsh -c <LIBVIRT_URI> …`` on the host through the shared
SSH layer (``ctx.remote(host)``), as argument lists:

=========  ==============================================================
deploy     the deployment file written to ``<VM_DIR>/<vid>/images/deployment.<seq>``
           (:func:`one_driverkit.vmm_helpers.upload_deployment`), ``virsh create <file>``;
           the deploy id is the domain name virsh reports (``<DOMAIN_PREFIX><vid>``,
           ``one-<vid>`` by default); every later action uses that deploy id
shutdown   ``virsh shutdown D``, then ``virsh dominfo D`` every
           ``SHUTDOWN_POLL`` s until the domain is gone; after
           ``SHUTDOWN_TIMEOUT`` s a :class:`DriverError` (1.4 waited forever)
cancel     ``virsh destroy D``; a domain already gone is a success
save       ``touch F`` then ``virsh save D F``
restore    ``virsh restore F`` (the domain keeps its name)
migrate    ``virsh migrate --live D qemu+ssh://<dest>/system``
poll       ``virsh dominfo D`` → ``STATE``, ``USEDMEMORY``; ``d`` when the
           domain does not exist
=========  ==============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_driverkit import vmm_helpers
from one_driverkit.settings import cached

from one_core.api import DriverError, hookimpl
from one_vmm_kvm import virsh
from one_vmm_kvm.domain import render_domain
from one_vmm_kvm.settings import KvmSettings, defaults_of

if TYPE_CHECKING:
    from one_driverkit.remote import RemoteHost, RunResult

    from one_core.api import DriverContext, VMRecord


def settings(ctx: DriverContext) -> KvmSettings:
    """The driver's settings, read once per context."""
    return cached(ctx, "kvm_settings", lambda: KvmSettings.from_context(ctx))


def _virsh(
    ctx: DriverContext, host: str, *args: str, check: bool = True
) -> tuple[RemoteHost, RunResult]:
    s = settings(ctx)
    handle = ctx.remote(host)
    return handle, handle.run(virsh.command(s, *args), timeout=s.command_timeout, check=check)


def _failed(action: str, deploy_id: str, result: RunResult) -> DriverError:
    return vmm_helpers.command_failed(f"virsh {action} {deploy_id}", result)


@hookimpl
def vmm_deployment_file(ctx: DriverContext, vm: VMRecord) -> str:
    """The libvirt domain XML of ``vm`` (spec §5.2)."""
    s = settings(ctx)
    return render_domain(
        vm,
        defaults_of(ctx),
        domain_type=s.domain_type,
        emulator=s.emulator,
        domain_prefix=s.domain_prefix,
        warn=lambda message: ctx.vm_log(vm.vid, message, "W"),
    )


@hookimpl
def vmm_deploy(
    ctx: DriverContext, vid: int, host: str, deployment_file: str, deployment: str
) -> str:
    """Copy the domain XML to the host and ``virsh create`` it; return the domain name."""
    _, remote_file = vmm_helpers.upload_deployment(
        ctx, vid, host, deployment_file, deployment, timeout=settings(ctx).command_timeout
    )
    _, result = _virsh(ctx, host, "create", remote_file)
    name = virsh.created_domain(result.stdout)
    if name is None:
        raise DriverError("Domain id not found in virsh create output.")
    return name


@hookimpl
def vmm_shutdown(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """``virsh shutdown``, then wait until the domain is gone (up to ``SHUTDOWN_TIMEOUT``)."""
    s = settings(ctx)
    _virsh(ctx, host, "shutdown", deploy_id)

    def gone() -> bool:
        _, result = _virsh(ctx, host, "dominfo", deploy_id, check=False)
        if result.exit_code != 0:
            if virsh.is_not_found(result.stderr):
                return True
            raise _failed("dominfo", deploy_id, result)
        # a persistent domain stays defined once off
        return (
            virsh.parse_dominfo(result.stdout).get("STATE") == "-" and "shut off" in result.stdout
        )

    vmm_helpers.wait_for_shutdown(
        gone, deploy_id, after="virsh shutdown", timeout=s.shutdown_timeout, poll=s.shutdown_poll
    )


@hookimpl
def vmm_cancel(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """``virsh destroy``; succeeds when the domain is already gone or off."""
    _, result = _virsh(ctx, host, "destroy", deploy_id, check=False)
    if result.exit_code == 0:
        return
    if virsh.is_not_found(result.stderr) or virsh.is_not_running(result.stderr):
        return
    raise _failed("destroy", deploy_id, result)


@hookimpl
def vmm_save(ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str) -> None:
    """``touch <checkpoint>``, then ``virsh save <domain> <checkpoint>``."""
    ctx.remote(host).run(["touch", checkpoint])
    _virsh(ctx, host, "save", deploy_id, checkpoint)


@hookimpl
def vmm_restore(
    ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str
) -> str | None:
    """``virsh restore <checkpoint>``; the domain keeps its name."""
    _virsh(ctx, host, "restore", checkpoint)
    return None


@hookimpl
def vmm_migrate(ctx: DriverContext, vid: int, host: str, deploy_id: str, dest_host: str) -> None:
    """``virsh migrate --live <domain> qemu+ssh://<dest_host>/system``, run on the source host."""
    uri = virsh.migrate_uri(settings(ctx), dest_host)
    _virsh(ctx, host, "migrate", "--live", deploy_id, uri)


@hookimpl
def vmm_poll(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> dict[str, str]:
    """``virsh dominfo`` → ``USEDMEMORY`` and ``STATE``; ``STATE=d`` for an unknown domain."""
    _, result = _virsh(ctx, host, "dominfo", deploy_id, check=False)
    if result.exit_code == 0:
        return virsh.parse_dominfo(result.stdout)
    if virsh.is_not_found(result.stderr):
        return {"STATE": "d"}
    raise _failed("dominfo", deploy_id, result)


@hookimpl
def driver_start(ctx: DriverContext) -> None:
    """Read the settings once, so a malformed one stops oned at start-up."""
    ctx.state.pop("kvm_settings", None)
    settings(ctx)
