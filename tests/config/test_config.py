"""oned.conf loading: 1.4's defaults, the reference guide's example, our extensions, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from one_core import config
from one_core.config import DEFAULT_ONED_CONF, OnedConfig, load_config
from one_core.errors import ConfigError

DATA = Path(__file__).with_name("data")
SEED = DATA / "seed_oned.conf"


def test_reference_guide_example_loads_unchanged(tmp_path: Path) -> None:
    # reference guide §1.1.6, copied verbatim from the seed text
    cfg = load_config(SEED, var_dir=str(tmp_path))
    assert cfg.warnings == []
    assert cfg.host_monitoring_interval == 10
    assert cfg.vm_polling_interval == 10
    assert cfg.vm_dir == "/local/one_images"
    assert cfg.port == 2633
    assert cfg.debug_level == 3
    assert cfg.network_size == 254
    assert cfg.mac_prefix == "00:50"
    assert cfg.manager_timer == 30  # not in the file: 1.4's default
    assert cfg.drivers("im") == [
        {"NAME": "im_kvm", "EXECUTABLE": "one_im_ssh", "ARGUMENTS": "im_kvm/im_kvm.conf"}
    ]
    assert cfg.drivers("vmm") == [
        {
            "NAME": "vmm_kvm",
            "EXECUTABLE": "one_vmm_kvm",
            "DEFAULT": "vmm_kvm/vmm_kvm.conf",
            "TYPE": "kvm",
        }
    ]
    assert cfg.drivers("tm") == [
        {"NAME": "tm_nfs", "EXECUTABLE": "one_tm", "ARGUMENTS": "tm_nfs/tm_nfs.conf"}
    ]
    assert cfg.drivers("hm") == [{"EXECUTABLE": "one_hm"}]
    assert cfg.vm_hooks == [
        {
            "NAME": "mail",
            "ON": "running",
            "COMMAND": "/usr/local/one/bin/send_mail",
            "ARGUMENTS": "$VMID $NAME",
            "REMOTE": "no",
        }
    ]
    assert cfg.db == {"backend": "sqlite", "path": str(tmp_path / "one.db")}
    assert cfg.sched == {"NAME": "rank", "MODE": "internal", "INTERVAL": "30"}
    assert cfg.path == str(SEED)
    assert cfg.etc_dir == str(DATA)


def test_defaults_of_1_4(tmp_path: Path) -> None:
    cfg = OnedConfig.from_text("IM_MAD = [ name = im, driver = dummy ]\n", var_dir=str(tmp_path))
    assert cfg.vm_polling_interval == 300
    assert cfg.manager_timer == 30
    assert cfg.host_monitoring_interval == 300
    assert cfg.port == 2633
    assert cfg.vm_dir == str(tmp_path)
    assert cfg.mac_prefix == "00:01"
    assert cfg.network_size == 254
    assert cfg.debug_level == 1  # 1.4's intent (WARNING), not its "\x01" quirk
    assert cfg.rpc_threads == config.DEFAULT_RPC_THREADS
    assert cfg.driver_threads == config.DEFAULT_DRIVER_THREADS
    assert cfg.drivers("vmm") == [] and cfg.vm_hooks == []
    # defaults are added to the template, as NebulaTemplate did (oned.log dump)
    assert cfg.template.get("PORT") == "2633"
    assert cfg.template.get("VM_DIR") == str(tmp_path)


def test_first_occurrence_wins_and_sections_accumulate(tmp_path: Path) -> None:
    cfg = OnedConfig.from_text(
        "PORT=3000\nPORT=4000\n"
        'VM_MAD = [ name = "a", driver = "dummy" ]\nVM_MAD = [ name = "b", driver = "dummy" ]\n'
        'VM_HOOK = [ on = "create", command = "/bin/true" ]\n'
        'VM_HOOK = [ on = "done", command = "/bin/false" ]\n',
        var_dir=str(tmp_path),
    )
    assert cfg.port == 3000
    assert [d["NAME"] for d in cfg.drivers("vmm")] == ["a", "b"]
    assert [h["ON"] for h in cfg.vm_hooks] == ["create", "done"]


def test_drivers_returns_copies() -> None:
    cfg = OnedConfig.from_text('TM_MAD = [ name = "t", driver = "dummy" ]\n', var_dir="/v")
    cfg.drivers("tm")[0]["NAME"] = "changed"
    assert cfg.drivers("tm")[0]["NAME"] == "t"
    with pytest.raises(KeyError):
        cfg.drivers("sched")


def test_extensions(tmp_path: Path) -> None:
    cfg = OnedConfig.from_text(
        'DB = [ backend = "postgresql", host = "db", port = 5433, user = "one", '
        'password = "pw", name = "onedb" ]\n'
        'SCHED = [ name = "rank", mode = "external", interval = 10, max_vm = 5 ]\n'
        "RPC_THREADS = 4\nDRIVER_THREADS = 2\n",
        var_dir=str(tmp_path),
    )
    assert cfg.db == {
        "backend": "postgresql",
        "host": "db",
        "port": 5433,
        "user": "one",
        "password": "pw",
        "name": "onedb",
    }
    assert cfg.sched == {"NAME": "rank", "MODE": "external", "INTERVAL": "10", "MAX_VM": "5"}
    assert (cfg.sched_mode, cfg.sched_interval) == ("external", 10)
    assert (cfg.rpc_threads, cfg.driver_threads) == (4, 2)


def test_sqlite_relative_and_absolute_paths(tmp_path: Path) -> None:
    cfg = OnedConfig.from_text('DB = [ backend = "sqlite", path = "x.db" ]\n', var_dir="/var/one")
    assert cfg.db["path"] == "/var/one/x.db"
    cfg = OnedConfig.from_text(f'DB = [ path = "{tmp_path}/y.db" ]\n', var_dir="/var/one")
    assert cfg.db == {"backend": "sqlite", "path": f"{tmp_path}/y.db"}


def test_unknown_key_is_a_warning_with_its_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="one.ONE"):
        cfg = OnedConfig.from_text("PORT=2633\n\nFOO_BAR = 1\n", var_dir="/v")
    assert cfg.warnings == ["Unknown attribute FOO_BAR in oned.conf (line 3), ignored"]
    assert "Unknown attribute FOO_BAR in oned.conf (line 3), ignored" in caplog.text
    assert cfg.template.get("FOO_BAR") == "1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('PORT="abc"\n', "oned.conf, line 1: PORT: 'abc' is not an integer"),
        ("\n\nPORT=70000\n", "oned.conf, line 3: PORT: 70000 is out of range (1 to 65535)"),
        ("MANAGER_TIMER = 0\n", "oned.conf, line 1: MANAGER_TIMER: 0 is out of range (at least 1)"),
        (
            "A=1\nVM_POLLING_INTERVAL = 1x\n",
            "oned.conf, line 2: VM_POLLING_INTERVAL: '1x' is not an integer",
        ),
        ("NETWORK_SIZE =\n", "oned.conf, line 1: NETWORK_SIZE: '' is not an integer"),
        ("DEBUG_LEVEL = high\n", "oned.conf, line 1: DEBUG_LEVEL: 'high' is not an integer"),
        (
            'MAC_PREFIX = "00:0g"\n',
            "oned.conf, line 1: MAC_PREFIX: '00:0g' is not two hex bytes like 00:03",
        ),
        ("RPC_THREADS = 0\n", "oned.conf, line 1: RPC_THREADS: 0 is out of range (at least 1)"),
        ("PORT = [ a = 1 ]\n", "oned.conf, line 1: PORT: must be a single value, not a vector"),
        (
            'IM_MAD = "im_kvm"\n',
            "oned.conf, line 1: IM_MAD: must be a vector attribute: NAME = [ key = value, ... ]",
        ),
        (
            'IM_MAD = [ name = "a", driver = "dummy" ]\n\nIM_MAD = [ executable = "one_im_ssh" ]\n',
            "oned.conf, line 3: IM_MAD: missing NAME (Wrong attributes for the driver)",
        ),
        (
            'VM_MAD = [ name = "kvm", type = "kvm" ]\n',
            "oned.conf, line 1: VM_MAD: needs EXECUTABLE (1.4) or DRIVER (entry-point name) "
            "(Wrong attributes for the driver)",
        ),
        (
            'HM_MAD = [ arguments = "x" ]\n',
            "oned.conf, line 1: HM_MAD: needs EXECUTABLE (1.4) or DRIVER (entry-point name) "
            "(Wrong attributes for the driver)",
        ),
        (
            'TM_MAD = [ name = "t", driver = "dummy" ]\nTM_MAD = [ name = "t", driver = "x" ]\n',
            "oned.conf, line 2: TM_MAD: driver name 't' is defined twice",
        ),
        (
            'DB = [ backend = "mysql" ]\n',
            "oned.conf, line 1: DB: unknown backend 'mysql' (use sqlite or postgresql)",
        ),
        (
            'DB = [ backend = "postgresql", port = "x" ]\n',
            "oned.conf, line 1: DB: port 'x' is not a TCP port",
        ),
        (
            'SCHED = [ mode = "sometimes" ]\n',
            "oned.conf, line 1: SCHED: mode 'sometimes' is not internal or external",
        ),
        (
            'SCHED = [ interval = "-1" ]\n',
            "oned.conf, line 1: SCHED: interval '-1' is not a number of seconds",
        ),
    ],
)
def test_malformed_settings(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        OnedConfig.from_text(text, var_dir="/v")
    assert str(info.value) == message


def test_malformed_setting_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "oned.conf"
    path.write_text("PORT=2633\nPORT_X=1\nHOST_MONITORING_INTERVAL = soon\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, var_dir=str(tmp_path))
    assert str(info.value) == f"{path}, line 3: HOST_MONITORING_INTERVAL: 'soon' is not an integer"


def test_syntax_error_is_the_parser_message(tmp_path: Path) -> None:
    path = tmp_path / "oned.conf"
    path.write_text('PORT=2633\nIM_MAD = [ name = "im", executable ]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, var_dir=str(tmp_path))
    assert str(info.value) == (
        "syntax error, unexpected CBRACKET, expecting EQUAL at line 3, columns 44:47"
    )
    assert config.startup_error_message(info.value) == (
        "\nError while parsing configuration file:\n"
        "syntax error, unexpected CBRACKET, expecting EQUAL at line 3, columns 44:47\n"
        "Could not load nebula configuration file."
    )


def test_comment_on_last_line_without_newline_is_an_error() -> None:
    # oned.conf is parsed as read: no "\n" is appended (spec §1.2)
    with pytest.raises(ConfigError) as info:
        OnedConfig.from_text("PORT=2633\n# last words", var_dir="/v")
    assert str(info.value) == (
        "syntax error, unexpected VARIABLE, expecting EQUAL or EQUAL_EMPTY at line 2, columns 17:22"
    )


def test_unreadable_file() -> None:
    with pytest.raises(ConfigError, match="^Error opening template file$"):
        load_config("/nonexistent/oned.conf")


def test_locations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ONE_LOCATION", str(tmp_path))
    assert config.config_path() == str(tmp_path / "etc" / "oned.conf")
    assert config.var_location() == str(tmp_path / "var")
    assert config.etc_location() == str(tmp_path / "etc")
    monkeypatch.delenv("ONE_LOCATION")
    assert config.config_path() == "/etc/one/oned.conf"
    assert config.var_location() == "/var/lib/one"
    assert config.etc_location() == "/etc/one"


def test_load_config_none_reads_one_location(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "oned.conf").write_text("PORT=2700\n")
    monkeypatch.setenv("ONE_LOCATION", str(tmp_path))
    cfg = load_config()
    assert cfg.port == 2700
    assert cfg.var_dir == str(tmp_path / "var")
    assert cfg.etc_dir == str(tmp_path / "etc")
    assert cfg.db["path"] == str(tmp_path / "var" / "one.db")


def test_load_config_none_falls_back_to_the_embedded_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ONE_LOCATION", str(tmp_path))  # no etc/oned.conf there
    cfg = load_config()
    assert cfg.path is None
    assert cfg.var_dir == str(tmp_path / "var")
    assert cfg.drivers("im") == [{"NAME": "im_dummy", "DRIVER": "dummy"}]
    assert cfg.drivers("vmm") == [{"NAME": "vmm_dummy", "DRIVER": "dummy", "TYPE": "xml"}]
    assert cfg.drivers("tm") == [{"NAME": "tm_dummy", "DRIVER": "dummy"}]
    assert cfg.drivers("hm") == [{"EXECUTABLE": "one_hm"}]
    assert cfg.sched == {"NAME": "rank", "MODE": "internal", "INTERVAL": "30"}
    assert cfg.db == {"backend": "sqlite", "path": str(tmp_path / "var" / "one.db")}
    assert cfg.warnings == []


def test_default_conf_keeps_the_one_script_forms() -> None:
    # share/scripts/one reads "^PORT=" and tm_common.sh "VM_DIR=" without spaces
    assert "\nPORT=2633\n" in DEFAULT_ONED_CONF
    assert "\n#VM_DIR=" in DEFAULT_ONED_CONF
    assert config.default_config("/v").port == 2633


def test_embedded_default_drivers_load(tmp_path: Path) -> None:
    # the embedded default must start as is: dummy IM/VMM/TM, hm exec, rank scheduler
    from one_core.drivers import load_drivers

    drivers = load_drivers(config.default_config(str(tmp_path)))
    assert sorted(drivers.drivers) == [
        ("hm", "exec"),
        ("im", "im_dummy"),
        ("sched", "rank"),
        ("tm", "tm_dummy"),
        ("vmm", "vmm_dummy"),
    ]
