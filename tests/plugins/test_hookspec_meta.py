"""Meta-tests that keep the hook specifications honest (datasette's habit).

* every hook of every role reaches a driver with exactly the arguments it was
  called with, through the same PluginManager wiring oned uses;
* every hook is documented in docs/writing-a-driver.md with its exact signature;
* every hook has a docstring.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from one_core.context import DriverContext
from one_core.drivers import SPEC_MODULES, DriverSpec, LoadedDriver, make_plugin_manager
from one_core.hookspecs import common
from one_core.testing.recording import Recorder

ROOT = Path(__file__).resolve().parents[2]

ALL_HOOKS = {
    name: module
    for module in [*SPEC_MODULES.values(), common]
    for name, obj in vars(module).items()
    if callable(obj) and hasattr(obj, "one_spec")
}

SAMPLE_ARGS = {
    "hid": 3,
    "host": "node1",
    "vid": 7,
    "deployment_file": "/var/7/deployment.0",
    "deployment": "<domain/>",
    "deploy_id": "one-7",
    "checkpoint": "/v/7/images/checkpoint",
    "dest_host": "node2",
    "src": "front:/img",
    "dst": "node1:/v/7/images/disk.0",
    "size": "512",
    "fstype": "ext3",
    "path": "node1:/v/7/images",
    "sources": ["/c.sh"],
    "iso": "/var/7/context.iso",
    "hook_name": "log",
    "command": "/bin/true",
    "arguments": ["a b", "$(x)"],
    "pending": [],
    "hosts": [],
    "vm": object(),
}


def test_every_role_lists_its_hooks_exactly():
    for role, module in SPEC_MODULES.items():
        declared = set(module.REQUIRED) | set(module.OPTIONAL)
        specs = {n for n, m in ALL_HOOKS.items() if m is module}
        assert declared == specs, role


def test_recorder_covers_every_hook():
    implemented = {n for n in dir(Recorder) if hasattr(getattr(Recorder, n), "one_impl")}
    assert implemented == set(ALL_HOOKS)


@pytest.mark.parametrize("hook", sorted(ALL_HOOKS))
def test_every_hook_reaches_the_driver_with_its_arguments(hook):
    role = next((r for r, m in SPEC_MODULES.items() if m is ALL_HOOKS[hook]), "vmm")
    recorder = Recorder()
    pm = make_plugin_manager(role, recorder, "recorder")
    driver = LoadedDriver(
        spec=DriverSpec(role, "rec", "rec"), pm=pm, ctx=DriverContext(role=role, name="rec")
    )
    params = [p for p in inspect.signature(getattr(ALL_HOOKS[hook], hook)).parameters if p != "ctx"]
    kwargs = {p: SAMPLE_ARGS[p] for p in params}
    driver.call(hook, **kwargs)
    assert recorder.calls == [(hook, kwargs)]


@pytest.mark.parametrize("hook", sorted(ALL_HOOKS))
def test_every_hook_is_documented_with_its_signature(hook):
    doc = (ROOT / "docs" / "writing-a-driver.md").read_text()
    params = ", ".join(inspect.signature(getattr(ALL_HOOKS[hook], hook)).parameters)
    assert f"`{hook}({params})" in doc


@pytest.mark.parametrize("hook", sorted(ALL_HOOKS))
def test_every_hook_has_a_docstring(hook):
    doc = inspect.getdoc(getattr(ALL_HOOKS[hook], hook)) or ""
    assert len(doc) > 80, hook
