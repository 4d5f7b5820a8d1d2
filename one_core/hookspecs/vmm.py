"""Virtualization drivers: entry-point group ``one.vmm``.

1.4 equivalent: ``VM_MAD`` (``one_vmm_kvm``, ``one_vmm_xen``,
``one_vmm_ec2``). Protocol reference: ``spec/lifecycle-and-drivers.md``
§3.3-3.4 and §5.

What the core guarantees for every call:

* the VM's state change that asked for the action is already committed to
  the database (so oned can recover if it dies during the call);
* the call runs on the driver thread pool, never on the dispatcher, and at
  most one action per VM is in flight;
* ``host`` is the name of the host the action is for (the *previous* host for
  the save of a migration, as 1.4 did), and ``deploy_id`` is what
  :func:`vmm_deploy` returned for this VM.

Which optional actions a driver supports is read from the hooks it
implements: a driver without :func:`vmm_save` cannot stop, suspend or
cold-migrate a VM, and the core refuses those actions with
``driver <name> cannot save`` before changing any state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext
    from one_core.records import VMRecord

REQUIRED: tuple[str, ...] = ("vmm_deploy", "vmm_shutdown", "vmm_cancel", "vmm_poll")
OPTIONAL: tuple[str, ...] = (
    "vmm_deployment_file",
    "vmm_save",
    "vmm_restore",
    "vmm_migrate",
)

# ---------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def vmm_deployment_file(ctx: DriverContext, vm: VMRecord) -> str:
    """Render the hypervisor's deployment file for a VM.

    Called right before :func:`vmm_deploy`. The core writes the returned
    text to ``$VM_DIR/<vid>/deployment.<seq>`` on the front-end (``seq`` is
    the history sequence number) and passes that path and text to
    :func:`vmm_deploy`.

    :param ctx: the driver's context; ``ctx.defaults`` holds the driver's
        defaults file (1.4's ``vmm_kvm/vmm_kvm.conf``), whose attributes
        apply when the VM template does not set them.
    :param vm: the VM, with its template and the paths of its images
        (``vm.images_dir``; disk ``i`` is ``<images_dir>/disk.<i>``).
    :return: the file's text: a libvirt domain XML for KVM, an ``xm``
        configuration for Xen. A driver that does not implement this hook gets
        the VM template rendered as XML (1.4's ``xml`` driver type, used by
        EC2).

    Raise :class:`~one_core.errors.DriverError` when the template cannot be
    rendered (a missing ``OS/KERNEL``, say); the VM goes to FAILED as with
    a failed deployment.
    """


@hookspec(firstresult=True)
def vmm_deploy(
    ctx: DriverContext,
    vid: int,
    host: str,
    deployment_file: str,
    deployment: str,
) -> str:
    """Create and boot the VM on ``host``.

    Called after the prolog transferred the images (LCM BOOT), and to boot
    again after a restart.

    :param vid: the VM id.
    :param host: the host to boot on.
    :param deployment_file: the path of the deployment file, as written by
        the core under ``VM_DIR`` (the driver copies it to the host if the
        hypervisor needs it there).
    :param deployment: the same file's text.
    :return: the *deploy id*: the hypervisor's name for the VM (the libvirt
        domain name ``one-<vid>``, an EC2 instance id). It is stored and
        passed to every later action.

    Raise :class:`~one_core.errors.DriverError` on failure: the VM goes to
    FAILED (``Error deploying virtual machine: <msg>`` in its log).
    """


# ---------------------------------------------------------------------------
# state changes
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def vmm_shutdown(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """Shut the VM down gracefully and return once it is gone.

    Drivers wait for the guest to power off (1.4's KVM driver polled
    ``virsh dominfo`` up to a timeout). On failure the VM goes back to
    RUNNING and the log says ``Error shuting down VM, <msg>``.
    """


@hookspec(firstresult=True)
def vmm_cancel(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """Destroy the VM at once (power off, no guest shutdown).

    Idempotent: cancelling a VM that is already gone from the host succeeds.
    Used by ``onevm cancel``, by delete, and to clean the previous host of a
    failed migration.
    """


@hookspec(firstresult=True)
def vmm_save(ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str) -> None:
    """Save the VM's memory to ``checkpoint`` on ``host`` and stop it.

    Used by stop, suspend and cold migration. ``checkpoint`` is
    ``<VM_DIR>/<vid>/images/checkpoint`` as seen from the host. After
    success the VM no longer runs on the host.
    """


@hookspec(firstresult=True)
def vmm_restore(
    ctx: DriverContext, vid: int, host: str, deploy_id: str, checkpoint: str
) -> str | None:
    """Restore a VM saved by :func:`vmm_save` from ``checkpoint`` on ``host``.

    :return: a new deploy id if the hypervisor gave the VM a new name, or
        ``None`` to keep the old one.

    On failure the VM goes to FAILED (``Error restoring VM, <msg>``).
    """


@hookspec(firstresult=True)
def vmm_migrate(ctx: DriverContext, vid: int, host: str, deploy_id: str, dest_host: str) -> None:
    """Live-migrate the running VM from ``host`` to ``dest_host``.

    The images are already reachable from ``dest_host`` (live migration
    needs shared storage, as in 1.4). On failure the VM is FAILED
    (``Error live-migrating VM, <msg>``).
    """


# ---------------------------------------------------------------------------
# monitoring
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def vmm_poll(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> dict[str, str]:
    """Report the VM's state and usage.

    Called every ``VM_POLLING_INTERVAL`` for each running VM, and during
    recovery.

    :return: the poll attributes of ``spec/lifecycle-and-drivers.md`` §3.4:
        ``STATE`` (``a`` active, ``p`` paused, ``e`` error, ``d`` gone from the
        host, ``-`` unknown), ``USEDMEMORY`` (KB), ``USEDCPU`` (percent),
        ``NETTX``, ``NETRX``. Missing counters keep their old values. Any other
        attribute is written into the VM template (EC2 reports ``IP`` this way).
        A VM reported ``d`` while RUNNING goes to UNKNOWN, ``e`` to FAILED.

    Raise :class:`~one_core.errors.DriverError` if the host cannot be asked;
    the VM log says ``Error monitoring VM, <msg>`` and nothing else changes.
    """
