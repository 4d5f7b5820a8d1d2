"""Which ``onevm`` actions a VM in a state offers, and how each is asked of oned.

The dashboard speaks the modern dialect, whose ``one.vm.action`` names map onto
1.4's life cycle (docs/modern-api.md): ``shutdown`` is ``terminate`` (RUNNING),
``cancel`` and ``delete`` are ``terminate-hard`` (1.4 ``cancel`` when RUNNING,
``finalize`` in any other state). ``deploy`` and ``migrate``/``livemigrate``
(oneadmin) are ``one.vm.deploy`` / ``one.vm.migrate``. 1.4's ``restart`` has no
modern equivalent and is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from one_core.api import LcmState, VmState


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    destroys: bool = False
    admin: bool = False
    needs_host: bool = False


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("deploy", "Deploy", admin=True, needs_host=True),
        Action("hold", "Hold"),
        Action("release", "Release"),
        Action("stop", "Stop"),
        Action("suspend", "Suspend"),
        Action("resume", "Resume"),
        Action("migrate", "Migrate", admin=True, needs_host=True),
        Action("livemigrate", "Live migrate", admin=True, needs_host=True),
        Action("shutdown", "Shut down", destroys=True),
        Action("cancel", "Cancel", destroys=True),
        Action("delete", "Delete", destroys=True),
    )
}

MODERN_NAME = {
    "hold": "hold",
    "release": "release",
    "stop": "stop",
    "suspend": "suspend",
    "resume": "resume",
    "shutdown": "terminate",
    "cancel": "terminate-hard",
    "delete": "terminate-hard",
}
"""Web action → modern ``one.vm.action`` name (the others are their own methods)."""


def available(state: int, lcm: int, admin: bool) -> list[Action]:
    """The actions that make sense for a VM in ``(state, lcm)``."""
    if state == VmState.PENDING:
        names = ["deploy", "hold", "delete"]
    elif state == VmState.HOLD:
        names = ["release", "delete"]
    elif state == VmState.ACTIVE and lcm == LcmState.RUNNING:
        names = ["stop", "suspend", "migrate", "livemigrate", "shutdown", "cancel"]
    elif state == VmState.ACTIVE:
        names = ["delete"]
    elif state in (VmState.STOPPED, VmState.SUSPENDED):
        names = ["resume", "delete"]
    elif state in (VmState.FAILED, VmState.INIT):
        names = ["delete"]
    else:
        names = []
    return [ACTIONS[n] for n in names if admin or not ACTIONS[n].admin]


PROGRESS: tuple[tuple[str, ...], ...] = (
    ("PENDING", "PROLOG", "BOOT", "RUNNING"),
    ("PENDING", "PROLOG_RESUME", "BOOT", "RUNNING"),
    ("SAVE_STOP", "EPILOG_STOP", "STOPPED"),
    ("SAVE_SUSPEND", "SUSPENDED"),
    ("SAVE_MIGRATE", "PROLOG_MIGRATE", "BOOT", "RUNNING"),
    ("MIGRATE", "RUNNING"),
    ("SHUTDOWN", "EPILOG", "DONE"),
    ("CANCEL", "EPILOG", "DONE"),
)
"""The steps of the long actions (deploy, resume, stop, suspend, migrate, shutdown, cancel)."""


def progress(state_text: str) -> list[tuple[str, str]]:
    """The steps of the long action a VM in ``state_text`` is in (the first sequence
    naming that state), each ``done``, ``current`` or ``todo``."""
    chosen = next((p for p in PROGRESS if state_text in p), None)
    if chosen is None:
        return []
    at = chosen.index(state_text)
    return [
        (step, "done" if i < at else "current" if i == at else "todo")
        for i, step in enumerate(chosen)
    ]
