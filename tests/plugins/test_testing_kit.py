"""The one_core.testing pytest plugin: registered by one-core, cheap to import, DB options."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from one_core.testing.oned import DRIVER_SECTIONS, db_section, driver_sections, render_conf

HEAVY = ("fabric", "paramiko", "pycdlib", "boto3", "botocore", "lxml", "moto", "psycopg2")


def test_one_core_registers_the_plugin() -> None:
    found = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "one_core"]
    assert [e.value for e in found] == ["one_core.testing.plugin"]


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    """The plugin loads in every pytest run: the heavy libraries wait for their fixtures."""
    code = (
        "import sys, one_core.testing.plugin\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print('one_core.engine' in sys.modules, 'one_core.db' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "False False"]


def test_the_plugin_is_loaded_with_its_fixtures(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("one_core")
    assert plugin is not None and plugin.__name__ == "one_core.testing.plugin"
    assert {
        "oned",
        "oned_factory",
        "client",
        "raw_client",
        "db_backend",
        "db_options",
        "pg_server",
        "sshd",
        "libvirt_guest",
        "moto_url",
        "ec2",
        "throttling_server",
        "recording_driver",
    } <= set(plugin.__all__) & set(dir(plugin))


def test_driver_sections_select_drivers_by_name() -> None:
    assert driver_sections() == DRIVER_SECTIONS.lstrip("\n").split('"""')[0]
    text = driver_sections(vmm="hello")
    assert 'VM_MAD = [ name = "vmm_hello", driver = "hello", type = "xml" ]' in text
    assert 'IM_MAD = [ name = "im_dummy", driver = "dummy" ]' in text


def test_db_section_for_postgresql_and_none_for_sqlite() -> None:
    assert db_section(None) == ""
    assert db_section({"backend": "sqlite", "path": "/x/one.db"}) == ""
    opts = {"backend": "postgresql", "host": "127.0.0.1", "port": 5433, "password": "", "name": "n"}
    assert db_section(opts) == (
        'DB = [ backend = "postgresql", host = "127.0.0.1", port = "5433", name = "n" ]\n'
    )
    assert "DB = [ backend" in render_conf(2633, db=opts)


def test_db_backend_is_sqlite_where_not_parametrized(db_backend: str, db_options: dict) -> None:
    assert db_backend == "sqlite"
    assert db_options["backend"] == "sqlite"
