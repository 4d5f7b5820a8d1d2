"""The ``ec2`` virtualization driver: Amazon EC2 instances through boto3 (spec §5.6).

=========  ==============================================================
deploy     the ``EC2`` section of the VM (see :mod:`one_vmm_ec2.deployment`)
           → RunInstances of its AMI with KeyName (KEYPAIR) and
           InstanceType (INSTANCETYPE), tagged ``Name=one-<vid>``. With
           AUTHORIZEDPORTS, the instance joins a security group opening
           those TCP ports to 0.0.0.0/0 (``one-ports-<ports>``, or the
           configured SECURITY_GROUP), created or completed first. With
           ELASTICIP, the address is associated once the instance runs; a
           failure there is logged in vm.log and the deploy still succeeds
           (1.4 ignored it). The deploy id is the instance id
shutdown   TerminateInstances
cancel     TerminateInstances; an instance EC2 does not know is a success
poll       DescribeInstances → ``USEDMEMORY=0 USEDCPU=0 NETTX=0 NETRX=0``
           (as 1.4) and STATE: pending → ``a``, running → ``a`` plus ``IP``
           (its public address, else its public DNS name) written into the
           VM template, shutting-down/terminated/unknown → ``d``, anything
           else (stopping, stopped) → no STATE
=========  ==============================================================

No save, restore or migrate: the core refuses stop, suspend and migrate
with ``driver ec2 cannot save``. AWS errors (an unknown AMI, throttling
once the retries are spent) become :class:`DriverError` with the AWS code
and message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from one_driverkit.vmm_helpers import deployment_text

from one_core.api import DriverError, hookimpl
from one_vmm_ec2 import api
from one_vmm_ec2.deployment import launch_request
from one_vmm_ec2.settings import client, defaults_of, settings

if TYPE_CHECKING:
    from one_core.api import DriverContext

STATES = {"pending": "a", "running": "a", "shutting-down": "d", "terminated": "d"}
"""EC2 instance states → poll STATE (1.4's ``one_vmm_ec2.rb``)."""


@hookimpl
def vmm_deploy(
    ctx: DriverContext, vid: int, host: str, deployment_file: str, deployment: str
) -> str:
    """Run the VM's instance; return its instance id."""
    text = deployment_text(deployment_file, deployment)
    request = launch_request(text, host, defaults_of(ctx), deployment_file)
    ec2 = client(ctx)
    params: dict[str, Any] = {
        "ImageId": request.ami,
        "TagSpecifications": [
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": f"one-{int(vid)}"},
                    {"Key": "opennebula:vid", "Value": str(int(vid))},
                ],
            }
        ],
    }
    if request.keypair:
        params["KeyName"] = request.keypair
    if request.instance_type:
        params["InstanceType"] = request.instance_type
    if request.ports:
        name = settings(ctx).security_group or api.group_name(request.ports)
        params["SecurityGroupIds"] = [api.ensure_security_group(ec2, name, request.ports)]
    instance_id = api.run_instance(ec2, params)
    ctx.vm_log(vid, f"EC2 instance {instance_id} launched from {request.ami}")
    if request.elastic_ip:
        try:
            api.associate_address(ec2, instance_id, request.elastic_ip, wait=settings(ctx).eip_wait)
        except DriverError as exc:
            ctx.vm_log(
                vid, f"Could not associate elastic IP {request.elastic_ip}: {exc.message}", "W"
            )
    return instance_id


@hookimpl
def vmm_shutdown(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """TerminateInstances."""
    api.terminate(client(ctx), deploy_id, missing_ok=False)


@hookimpl
def vmm_cancel(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    """TerminateInstances; succeeds when EC2 does not know the instance."""
    api.terminate(client(ctx), deploy_id, missing_ok=True)


def poll_info(instance: dict[str, Any] | None) -> dict[str, str]:
    """The poll attributes of a DescribeInstances entry (``None``: unknown instance)."""
    info = {"USEDMEMORY": "0", "USEDCPU": "0", "NETTX": "0", "NETRX": "0"}
    if instance is None:
        info["STATE"] = "d"
        return info
    name = str(instance.get("State", {}).get("Name", ""))
    if name in STATES:
        info["STATE"] = STATES[name]
    if name == "running":
        address = instance.get("PublicIpAddress") or instance.get("PublicDnsName") or ""
        if address and not any(c.isspace() for c in address):
            info["IP"] = address
    return info


@hookimpl
def vmm_poll(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> dict[str, str]:
    """DescribeInstances → STATE and, while running, IP."""
    return poll_info(api.describe_instance(client(ctx), deploy_id))


@hookimpl
def driver_stop(ctx: DriverContext) -> None:
    """Forget the boto3 client (it holds a connection pool)."""
    found = ctx.state.pop("ec2_client", None)
    if found is not None:
        close = getattr(found, "close", None)
        if callable(close):
            close()
