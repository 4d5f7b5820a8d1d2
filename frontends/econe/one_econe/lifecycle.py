"""StopInstances, StartInstances and RebootInstances mapped to OpenNebula 1.4's life cycle.

* StopInstances → ``onevm stop`` (``one.vm.action stop``: save, epilog, STOPPED) of
  RUNNING VMs; a STOPPED or SUSPENDED instance is already ``stopped`` and is
  reported unchanged; any other state → 400 ``IncorrectInstanceState``.
* StartInstances → ``onevm resume`` of STOPPED/SUSPENDED VMs (they go back to
  PENDING and the scheduler deploys them); a running or pending instance is
  reported unchanged; any other state → 400 ``IncorrectInstanceState``.
* RebootInstances → 400 ``UnsupportedOperation``: 1.4 has no reboot action
  and a stop/resume cycle is not a reboot (the VM may change host, it takes a
  save to disk), so econe refuses clearly instead of pretending.

Every listed id is checked (exists, the caller's, a state that allows the
action) before any VM is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from one_core.api import OneClientError
from one_econe import params, views
from one_econe.documents import state_changes
from one_econe.errors import EC2Error, opennebula_error
from one_econe.instances import Instance, InstanceLookup
from one_econe.users import CloudUser

_IDS = params.pattern("InstanceId.N")


def _incorrect(inst: Instance, verb: str) -> EC2Error:
    return EC2Error(
        400,
        "IncorrectInstanceState",
        f"The instance '{inst.vid}' is not in a state from which it can be {verb}.",
    )


class LifecycleActions:
    """The three life-cycle actions, by name in :attr:`handlers`."""

    def __init__(self, lookup: Callable[[CloudUser], InstanceLookup]):
        self.lookup = lookup
        self.handlers = {
            "StopInstances": self.stop_instances,
            "StartInstances": self.start_instances,
            "RebootInstances": self.reboot_instances,
        }

    def _change(
        self,
        user: CloudUser,
        p: Mapping[str, str],
        action: str,
        acts_on: tuple[str, ...],
        unchanged: tuple[str, ...],
        verb: str,
        new_state: views.Ec2State,
    ) -> list[tuple[int, views.Ec2State, views.Ec2State]]:
        lookup = self.lookup(user)
        targets = lookup.get_all(params.indexed(p, "InstanceId"))
        for inst in targets:
            if inst.state.name not in acts_on + unchanged:
                raise _incorrect(inst, verb)
        changes = []
        for inst in targets:
            previous = inst.state
            if previous.name in unchanged:
                changes.append((inst.vid, previous, previous))
                continue
            try:
                lookup.client.vm_action(action, inst.vid)
            except OneClientError as exc:
                raise opennebula_error(exc.message, 400) from None
            changes.append((inst.vid, new_state, previous))
        return changes

    def stop_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """``onevm stop`` of running instances (``Force``/``Hibernate`` are not supported)."""
        params.check_known(p, _IDS)
        changes = self._change(
            user, p, "stop", ("running",), ("stopped", "stopping"), "stopped", views.STOPPING
        )
        return state_changes("StopInstancesResponse", rid, changes)

    def start_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """``onevm resume`` of stopped instances."""
        params.check_known(p, _IDS)
        changes = self._change(
            user, p, "resume", ("stopped",), ("running", "pending"), "started", views.PENDING
        )
        return state_changes("StartInstancesResponse", rid, changes)

    def reboot_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Ids are checked as for the others, then ``UnsupportedOperation``."""
        params.check_known(p, _IDS)
        self.lookup(user).get_all(params.indexed(p, "InstanceId"))
        raise EC2Error(
            400,
            "UnsupportedOperation",
            "RebootInstances is not supported: OpenNebula 1.4 has no reboot action. "
            "Use StopInstances and StartInstances.",
        )
