"""Driver discovery and selection.

Each driver section of oned.conf (``IM_MAD``, ``VM_MAD``, ``TM_MAD``,
``HM_MAD``, plus our ``SCHED``) names a driver that is looked up by
entry-point name in the role's group (``one.im``, ``one.vmm``, ...) with
stevedore, and gets a pluggy :class:`~pluggy.PluginManager` of its own that
holds the driver plus the observers of group ``one.observers``.

The driver's entry-point name comes from, in order:

1. an explicit ``driver = "kvm"`` attribute;
2. 1.4's executable and arguments: ``one_vmm_kvm`` → ``kvm``;
   ``one_im_ssh`` with ``arguments = "im_kvm/im_kvm.conf"`` → ``kvm``;
   ``one_tm`` with ``arguments = "tm_nfs/tm_nfs.conf"`` → ``nfs``;
   ``one_hm`` → ``exec``.

Everything that can be wrong with a driver is found here, at oned start-up:
an unknown name (the message lists the installed drivers of the group), an
import error (the cause is shown), a hook implementation that matches no
specification, or a required hook that is missing.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy
from stevedore import DriverManager

from one_core.context import DriverContext, VMLogFunc, log_module
from one_core.errors import ConfigError, DriverLoadError
from one_core.hookspecs import ENTRY_POINT_GROUPS, PROJECT, ROLES, common, hm, im, sched, tm, vmm
from one_core.remote_access import SharedRemote

if TYPE_CHECKING:
    from one_core.config import OnedConfig

log = logging.getLogger("one.drivers")

SPEC_MODULES: dict[str, ModuleType] = {"im": im, "vmm": vmm, "tm": tm, "hm": hm, "sched": sched}
"""The hookspec module of each role."""

OBSERVER_GROUP = "one.observers"
"""Entry points of observers: callables ``setup(pm, ctx, settings)`` run for every driver."""

CONFIG_SECTIONS = {
    "im": "IM_MAD",
    "vmm": "VM_MAD",
    "tm": "TM_MAD",
    "hm": "HM_MAD",
    "sched": "SCHED",
}
"""oned.conf section of each role."""


def _spec_hooks(module: ModuleType) -> tuple[str, ...]:
    return tuple(getattr(module, "REQUIRED", ())) + tuple(getattr(module, "OPTIONAL", ()))


ROLE_HOOKS: dict[str, tuple[str, ...]] = {role: _spec_hooks(m) for role, m in SPEC_MODULES.items()}
"""Every hook of each role, required ones first."""


# ---------------------------------------------------------------------------
# oned.conf section -> entry-point name
# ---------------------------------------------------------------------------


def _basename_stem(path: str) -> str:
    """``tm_nfs/tm_nfs.conf`` → ``tm_nfs``; ``bin/one_im_ssh`` → ``one_im_ssh``."""
    return os.path.basename(path.strip()).split(".", 1)[0]


def driver_name_from_section(role: str, section: Mapping[str, str]) -> str:
    """The entry-point name a driver section asks for (see the module docstring)."""
    explicit = (section.get("DRIVER") or "").strip()
    if explicit:
        return explicit
    executable = _basename_stem(section.get("EXECUTABLE") or "")
    if not executable:
        raise ConfigError(
            f"{CONFIG_SECTIONS[role]} {section.get('NAME', '')!r} names no driver: "
            'set driver = "<name>" (or 1.4\'s executable)'
        )
    arguments = (section.get("ARGUMENTS") or "").split()
    if executable in ("one_im_ssh", "one_tm") and arguments:
        # the probe / command table names the driver: im_kvm/im_kvm.conf -> kvm
        stem = _basename_stem(arguments[-1] if arguments[0] == "-r" else arguments[0])
        return stem.removeprefix(f"{role}_")
    if executable == "one_hm":
        return "exec"
    for prefix in (f"one_{role}_", "one_"):
        if executable.startswith(prefix):
            return executable.removeprefix(prefix)
    return executable


@dataclass(frozen=True)
class DriverSpec:
    """One driver to load: its role, oned.conf name, entry-point name and section."""

    role: str
    name: str
    driver: str
    section: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_section(cls, role: str, section: Mapping[str, str]) -> DriverSpec:
        section = {k.upper(): v for k, v in section.items()}
        driver = driver_name_from_section(role, section)
        name = (section.get("NAME") or "").strip() or driver
        return cls(role=role, name=name, driver=driver, section=section)


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def installed(role: str) -> list[importlib.metadata.EntryPoint]:
    """The entry points installed in a role's group, sorted by name."""
    return sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUPS[role]), key=lambda ep: ep.name
    )


def list_installed() -> str:
    """A report of every installed driver per role, with its distribution and version."""
    lines = []
    for role in ROLES:
        lines.append(f"{ENTRY_POINT_GROUPS[role]}:")
        eps = installed(role)
        if not eps:
            lines.append("    (none)")
        for ep in eps:
            dist = ep.dist
            origin = f"{dist.name} {dist.version}" if dist else "?"
            lines.append(f"    {ep.name:<12} {ep.value:<40} ({origin})")
    return "\n".join(lines)


def _load_plugin(spec: DriverSpec) -> Any:
    group = ENTRY_POINT_GROUPS[spec.role]

    def _fail(_manager: Any, entrypoint: Any, exc: BaseException) -> None:
        raise DriverLoadError(
            f"driver {spec.driver!r} ({entrypoint.value}) in {group} failed to import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc

    names = [ep.name for ep in installed(spec.role)]
    if spec.driver not in names:
        raise DriverLoadError(
            f"{CONFIG_SECTIONS[spec.role]} {spec.name!r}: unknown driver {spec.driver!r} in "
            f"entry-point group {group}; installed: {', '.join(names) or 'none'}"
        )
    manager = DriverManager(
        namespace=group,
        name=spec.driver,
        invoke_on_load=False,
        on_load_failure_callback=_fail,
    )
    return manager.driver


def _observers() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for ep in sorted(importlib.metadata.entry_points(group=OBSERVER_GROUP), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except Exception as exc:  # an observer never stops oned
            log.warning("observer %s failed to load: %s", ep.name, exc)
    return found


def make_plugin_manager(role: str, plugin: Any, plugin_name: str) -> pluggy.PluginManager:
    """A PluginManager with every hookspec and ``plugin`` registered and validated.

    All roles' specifications are added, so a module that serves several
    roles loads in each; a hook implementation matching no specification at
    all, or with arguments its specification does not have, fails here.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(common)
    for module in SPEC_MODULES.values():
        pm.add_hookspecs(module)
    try:
        pm.register(plugin, name=plugin_name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise DriverLoadError(f"driver {plugin_name!r}: {exc}") from exc
    missing = [h for h in SPEC_MODULES[role].REQUIRED if not getattr(pm.hook, h).get_hookimpls()]
    if missing:
        raise DriverLoadError(
            f"driver {plugin_name!r} does not implement the required {role} hook(s): "
            + ", ".join(missing)
        )
    return pm


@dataclass
class LoadedDriver:
    """A configured driver: its context and the PluginManager to call it through."""

    spec: DriverSpec
    pm: pluggy.PluginManager
    ctx: DriverContext

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def role(self) -> str:
        return self.spec.role

    def implements(self, hook: str) -> bool:
        """Whether the driver has an implementation of ``hook`` (its capabilities)."""
        caller = getattr(self.pm.hook, hook, None)
        return bool(caller and caller.get_hookimpls())

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on the driver with ``ctx`` and ``kwargs``; return its result."""
        return getattr(self.pm.hook, hook)(ctx=self.ctx, **kwargs)


def _read_defaults(path: str, etc_dir: str) -> dict[str, Any]:
    """A driver defaults file (``DEFAULT`` of VM_MAD) as a dict; empty when absent."""
    if not path:
        return {}
    full = path if os.path.isabs(path) else os.path.join(etc_dir, path)
    if not os.path.exists(full):
        log.warning("defaults file %s not found; using the driver's own defaults", full)
        return {}
    from one_core.template import Template

    template = Template.parse_file(full)
    values: dict[str, Any] = {}
    for name, value in template.attributes:
        values.setdefault(name, value)
    return values


@dataclass
class DriverSet:
    """Every configured driver, by role and name."""

    drivers: dict[tuple[str, str], LoadedDriver] = field(default_factory=dict)
    remote: SharedRemote | None = None
    """The SSH pool behind the drivers' ``ctx.remote(host)``; closed by :meth:`stop`."""

    def get(self, role: str, name: str) -> LoadedDriver:
        try:
            return self.drivers[(role, name)]
        except KeyError:
            known = ", ".join(n for r, n in self.drivers if r == role) or "none"
            raise DriverLoadError(
                f"no {CONFIG_SECTIONS[role]} named {name!r} in oned.conf (configured: {known})"
            ) from None

    def by_role(self, role: str) -> list[LoadedDriver]:
        return [d for (r, _), d in self.drivers.items() if r == role]

    def names(self, role: str) -> list[str]:
        return [d.name for d in self.by_role(role)]

    @property
    def scheduler(self) -> LoadedDriver | None:
        found = self.by_role("sched")
        return found[0] if found else None

    def start(self) -> None:
        for driver in self.drivers.values():
            driver.call("driver_start")

    def stop(self) -> None:
        for driver in self.drivers.values():
            try:
                driver.call("driver_stop")
            except Exception:
                log.exception("driver %s failed to stop", driver.name)
        if self.remote is not None:
            self.remote.close()


def load_drivers_from_specs(
    specs: Iterable[DriverSpec],
    *,
    var_dir: str = ".",
    vm_dir: str | None = None,
    etc_dir: str = ".",
    settings: Mapping[str, str] | None = None,
    vm_log_func: VMLogFunc | None = None,
    remote_factory: Callable[[str], Any] | None = None,
) -> DriverSet:
    """Load, validate and wrap each driver; raise :class:`DriverLoadError` on the first problem.

    Every driver's ``ctx.remote(host)`` goes through one shared SSH pool
    (:class:`~one_core.remote_access.SharedRemote`, made on first use) with its
    section's ``SSH_*`` keys, unless ``remote_factory`` is given: then every
    driver gets that callable as is (tests hand in a pool of their own).
    """
    observers = _observers()
    shared = SharedRemote() if remote_factory is None else None
    result = DriverSet(remote=shared)
    for spec in specs:
        if (spec.role, spec.name) in result.drivers:
            raise DriverLoadError(f"{CONFIG_SECTIONS[spec.role]} {spec.name!r} is defined twice")
        plugin = _load_plugin(spec)
        pm = make_plugin_manager(spec.role, plugin, f"{spec.role}:{spec.driver}")
        extra: dict[str, Any] = {}
        if vm_log_func is not None:
            extra["vm_log_func"] = vm_log_func
        ctx = DriverContext(
            role=spec.role,
            name=spec.name,
            driver=spec.driver,
            config=dict(spec.section),
            defaults=_read_defaults(spec.section.get("DEFAULT", ""), etc_dir),
            log=logging.getLogger(f"one.{log_module(spec.role)}"),
            var_dir=var_dir,
            vm_dir=vm_dir or var_dir,
            remote_factory=remote_factory if shared is None else shared.factory(spec.section),
            **extra,
        )
        for obs_name, setup in observers:
            try:
                setup(pm=pm, ctx=ctx, settings=settings or {})
            except Exception as exc:
                log.warning("observer %s failed for driver %s: %s", obs_name, spec.name, exc)
        result.drivers[(spec.role, spec.name)] = LoadedDriver(spec=spec, pm=pm, ctx=ctx)
    return result


def specs_from_config(cfg: OnedConfig) -> list[DriverSpec]:
    """The driver specs of an :class:`~one_core.config.OnedConfig`, in role order."""
    specs = []
    for role in ("im", "vmm", "tm", "hm"):
        for section in cfg.drivers(role):
            specs.append(DriverSpec.from_section(role, section))
    sched_section = {k.upper(): v for k, v in cfg.sched.items()}
    if cfg.sched_mode != "external":
        name = sched_section.get("DRIVER") or sched_section.get("NAME") or "rank"
        specs.append(DriverSpec(role="sched", name=name, driver=name, section=sched_section))
    return specs


def load_drivers(cfg: OnedConfig, **kwargs: Any) -> DriverSet:
    """Load every driver an :class:`~one_core.config.OnedConfig` names."""
    settings = cfg.template.single_values()
    kwargs.setdefault("var_dir", cfg.var_dir)
    kwargs.setdefault("vm_dir", cfg.vm_dir)
    kwargs.setdefault("etc_dir", cfg.etc_dir)
    return load_drivers_from_specs(specs_from_config(cfg), settings=settings, **kwargs)
