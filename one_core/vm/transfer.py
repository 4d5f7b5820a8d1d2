"""Transfer scripts: the TM commands of each phase (``spec/lifecycle-and-drivers.md`` §4).

Each phase is built as a list of :class:`TransferCommand`; the list is written
to ``VAR<vid>/transfer.<seq>.<suffix>`` in 1.4's script syntax (for operators
and 1.4 tooling), then run by calling the TM driver's hook for each line, in
order, stopping at the first failure (:func:`run_commands`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from one_core.errors import DriverError
from one_core.template import Template
from one_core.vm.paths import VMPaths, write_local


class TransferError(DriverError):
    """A phase's script cannot be built (1.4's internal PROLOG/EPILOG failure)."""


@dataclass(frozen=True, slots=True)
class TransferCommand:
    """One script line: ``op`` (``CLONE``, ``MV``...) and its arguments."""

    op: str
    args: tuple[str, ...]
    iso: str = field(default="", compare=False)
    """CONTEXT only: the ISO image built on the front-end."""

    def line(self) -> str:
        return " ".join((self.op, *self.args))


class _Driver(Protocol):
    def call(self, hook: str, **kwargs: Any) -> Any: ...


def location(host: str, path: str) -> str:
    return f"{host}:{path}"


def _source(front: str, source: str) -> str:
    """``front:SOURCE`` unless SOURCE already names a host or URL."""
    return source if ":" in source else location(front, source)


# ---------------------------------------------------------------------------
# builders, one per phase (§4.2)
# ---------------------------------------------------------------------------


def disk_commands(
    template: Template, host: str, paths: VMPaths, front: str, warn: Callable[[str], None]
) -> list[TransferCommand]:
    """The prolog lines of the DISK attributes (§4.3)."""
    commands: list[TransferCommand] = []
    for index, disk in enumerate(template.vectors("DISK")):
        disk = {k.upper(): v for k, v in disk.items()}
        dtype = disk.get("TYPE", "").lower()
        dst = location(host, paths.disk(index))
        size = disk.get("SIZE", "")
        if dtype == "swap":
            if not size:
                warn("No size in swap image, skipping")
                continue
            commands.append(TransferCommand("MKSWAP", (size, dst)))
        elif dtype == "fs":
            fmt = disk.get("FORMAT", "")
            if not size or not fmt:
                warn("No size or format in plain FS image, skipping")
                continue
            commands.append(TransferCommand("MKIMAGE", (size, fmt, dst)))
        else:
            source = disk.get("SOURCE", "")
            if not source:
                raise TransferError("prolog, undefined source disk image in VM template")
            clone = disk.get("CLONE", "")
            op = "CLONE" if not clone or clone.lower() == "yes" else "LN"
            args = (_source(front, source), dst) + ((size,) if size else ())
            commands.append(TransferCommand(op, args))
    return commands


def context_vector(template: Template) -> dict[str, str] | None:
    """The VM's CONTEXT when it has exactly one CONTEXT vector (§8.2)."""
    vectors = template.vectors("CONTEXT")
    return dict(vectors[0]) if len(vectors) == 1 else None


def context_command(
    template: Template, host: str, paths: VMPaths, iso: str = ""
) -> TransferCommand | None:
    """``CONTEXT VAR<vid>/context.sh <FILES> <host>:<rdir>/disk.<N>``, or None without context."""
    context = context_vector(template)
    if context is None:
        return None
    files = {k.upper(): v for k, v in context.items()}.get("FILES", "").split()
    n_disks = len(template.vectors("DISK"))
    dst = location(host, paths.disk(n_disks))
    return TransferCommand("CONTEXT", (paths.context_file, *files, dst), iso=iso)


def prolog_commands(
    template: Template,
    host: str,
    paths: VMPaths,
    front: str,
    warn: Callable[[str], None],
    iso: str = "",
) -> list[TransferCommand]:
    commands = disk_commands(template, host, paths, front, warn)
    ctx = context_command(template, host, paths, iso)
    if ctx is not None:
        commands.append(ctx)
    return commands


def migrate_commands(prev_host: str, host: str, paths: VMPaths) -> list[TransferCommand]:
    """Cold migration: the cur record's rdir on both hosts (quirk 34)."""
    return [TransferCommand("MV", (location(prev_host, paths.rdir), location(host, paths.rdir)))]


def resume_commands(host: str, paths: VMPaths, front: str) -> list[TransferCommand]:
    return [
        TransferCommand("MV", (location(front, paths.local_images_dir), location(host, paths.rdir)))
    ]


def epilog_commands(
    template: Template, host: str, paths: VMPaths, front: str
) -> list[TransferCommand]:
    commands = []
    for index, disk in enumerate(template.vectors("DISK")):
        save = {k.upper(): v for k, v in disk.items()}.get("SAVE", "")
        if save.lower() == "yes":
            commands.append(
                TransferCommand(
                    "MV",
                    (location(host, paths.disk(index)), location(front, paths.saved_disk(index))),
                )
            )
    commands.append(TransferCommand("DELETE", (location(host, paths.rdir),)))
    return commands


def stop_commands(host: str, paths: VMPaths, front: str) -> list[TransferCommand]:
    """Images to the front-end: destination ``VAR<vid>`` (no ``/images``, as 1.4)."""
    return [TransferCommand("MV", (location(host, paths.rdir), location(front, paths.local_dir)))]


def delete_commands(host: str, paths: VMPaths) -> list[TransferCommand]:
    return [TransferCommand("DELETE", (location(host, paths.rdir),))]


# ---------------------------------------------------------------------------
# writing and running
# ---------------------------------------------------------------------------


def write_script(path: str, commands: Iterable[TransferCommand]) -> None:
    """Write (truncating) the 1.4 transfer script file, its directory if missing."""
    write_local(path, "".join(command.line() + "\n" for command in commands))


def _hook_call(command: TransferCommand) -> tuple[str, Mapping[str, Any]]:
    op, a = command.op, command.args
    if op in ("CLONE", "LN"):
        return f"tm_{op.lower()}", {"src": a[0], "dst": a[1], "size": a[2] if len(a) > 2 else None}
    if op == "MKSWAP":
        return "tm_mkswap", {"size": a[0], "dst": a[1]}
    if op == "MKIMAGE":
        return "tm_mkimage", {"size": a[0], "fstype": a[1], "dst": a[2]}
    if op == "MV":
        return "tm_mv", {"src": a[0], "dst": a[1]}
    if op == "DELETE":
        return "tm_delete", {"path": a[0]}
    if op == "CONTEXT":
        return "tm_context", {"sources": list(a[:-1]), "dst": a[-1], "iso": command.iso}
    raise DriverError(f"{op} not found: {command.line()}.")


def run_commands(driver: _Driver, vid: int, commands: Iterable[TransferCommand]) -> None:
    """Call the TM hook of each command in order; the first failure stops the script.

    Raises :class:`~one_core.errors.DriverError` with the failing command's message.
    """
    for command in commands:
        hook, kwargs = _hook_call(command)
        try:
            driver.call(hook, vid=vid, **kwargs)
        except DriverError:
            raise
        except Exception as exc:  # a driver bug is a failed transfer, not a dead engine
            raise DriverError(f"{command.op} failed: {type(exc).__name__}: {exc}") from exc
