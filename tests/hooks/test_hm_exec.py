"""The ``exec`` hook driver run for real: local processes and a real sshd on loopback."""

from __future__ import annotations

from concurrent.futures import wait
from pathlib import Path

import pytest

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError
from one_core.logs import VMLogWriter
from one_core.records import VMRecord
from one_core.template import Template
from one_core.vm_hooks import HookManager

NASTY = ["; rm -rf x", "$(touch pwned)", "`touch pwned2`", 'it\'s "quoted" & > out', "a  b"]


def load_exec(tmp_path: Path, **section: str):
    return load_drivers_from_specs(
        [DriverSpec(role="hm", name="exec", driver="exec", section=section)],
        var_dir=str(tmp_path / "var"),
        vm_log_func=VMLogWriter(str(tmp_path / "var")),
    )


def make_vm(name: str, vid: int = 5, host: str = "") -> VMRecord:
    template = Template()
    template.add("NAME", name)
    template.add("VMID", str(vid))
    template.add("NIC", {"NETWORK": "Public", "IP": "10.0.0.1"})
    return VMRecord(vid=vid, uid=0, name=name, template=template, host=host, vm_dir="/vm")


def fire(manager: HookManager, event: str, vm: VMRecord, drivers) -> None:
    futures = manager.fire(event, vm, drivers)
    wait(futures, timeout=60)
    for f in futures:
        f.result()


def test_local_hook_receives_expanded_arguments(tmp_path: Path, recorder) -> None:
    script, read = recorder
    drivers = load_exec(tmp_path, HOOKS_DIR=str(script.parent))
    manager = HookManager.from_entries(
        [
            {
                "NAME": "rec",
                "ON": "CREATE",
                "COMMAND": "record",  # relative: in HOOKS_DIR
                "ARGUMENTS": '$NAME /tmp/test.$VMID $NIC[IP, NETWORK="Public"] $MISSING',
            }
        ]
    )
    fire(manager, "CREATE", make_vm("web"), drivers)
    assert read() == [["web", "/tmp/test.5", "10.0.0.1", ""]]
    log = (tmp_path / "var" / "5" / "vm.log").read_text()
    assert "[HKM][I]: Hook rec successfully executed. recorded 4\n" in log
    manager.shutdown()


@pytest.mark.parametrize("value", NASTY)
def test_shell_metacharacters_reach_the_hook_as_one_literal_argument(
    tmp_path: Path, recorder, cwd_tmp: Path, value: str
) -> None:
    script, read = recorder
    drivers = load_exec(tmp_path)
    manager = HookManager.from_entries(
        [{"ON": "CREATE", "COMMAND": str(script), "ARGUMENTS": "$NAME --id=$VMID"}]
    )
    fire(manager, "CREATE", make_vm(value), drivers)
    assert read() == [[value, "--id=5"]]
    assert not list(cwd_tmp.glob("pwned*")) and not (cwd_tmp / "out").exists()
    manager.shutdown()


def test_failing_hook_is_logged_with_its_output(tmp_path: Path) -> None:
    script = tmp_path / "fails"
    script.write_text("#!/bin/sh\necho 'some output'\necho \"bad thing: $1\" >&2\nexit 3\n")
    script.chmod(0o755)
    drivers = load_exec(tmp_path)
    manager = HookManager.from_entries(
        [{"NAME": "f", "ON": "CREATE", "COMMAND": str(script), "ARGUMENTS": "$NAME"}]
    )
    fire(manager, "CREATE", make_vm("vm1"), drivers)
    log = (tmp_path / "var" / "5" / "vm.log").read_text()
    assert "[HKM][E]: Error executing Hook: f. some output bad thing: vm1\n" in log
    manager.shutdown()


def test_driver_errors_for_missing_command_and_timeout(tmp_path: Path) -> None:
    drivers = load_exec(tmp_path, HOOKS_DIR=str(tmp_path), TIMEOUT="0.5")
    hm = drivers.get("hm", "exec")
    with pytest.raises(DriverError, match="No such file"):
        hm.call("hm_execute", vid=1, hook_name="x", host=None, command="nope", arguments=[])
    with pytest.raises(DriverError, match="timed out") as err:
        hm.call(
            "hm_execute", vid=1, hook_name="x", host=None, command="/bin/sleep", arguments=["30"]
        )
    assert err.value.exit_code is None
    with pytest.raises(DriverError) as err:
        hm.call("hm_execute", vid=1, hook_name="x", host=None, command="/bin/false", arguments=[])
    assert err.value.exit_code == 1
    assert str(err.value) == "exit code 1"


def test_bare_command_falls_back_to_path(tmp_path: Path) -> None:
    drivers = load_exec(tmp_path, HOOKS_DIR=str(tmp_path))
    out = drivers.get("hm", "exec").call(
        "hm_execute", vid=1, hook_name="e", host=None, command="echo", arguments=["a b", "c"]
    )
    assert out == "a b c\n"


# -- remote hooks over a real sshd ---------------------------------------------------


def test_remote_hook_over_ssh_with_own_pool(tmp_path: Path, recorder, sshd) -> None:
    script, read = recorder
    drivers = load_exec(
        tmp_path, SSH_USER=sshd.user, SSH_PORT=str(sshd.port), SSH_KEY=sshd.key_filename
    )
    manager = HookManager.from_entries(
        [
            {
                "NAME": "eb",
                "ON": "RUNNING",
                "COMMAND": str(script),
                "ARGUMENTS": "one-$VMID $NAME",
                "REMOTE": "yes",
            }
        ]
    )
    vm = make_vm('$(touch pwned); it\'s `x` "y"', host="127.0.0.1")
    fire(manager, "RUNNING", vm, drivers)
    assert read() == [["one-5", vm.name]]
    assert not list(Path.home().glob("pwned*"))
    log = (tmp_path / "var" / "5" / "vm.log").read_text()
    assert "[HKM][I]: Hook eb successfully executed. recorded 2\n" in log
    drivers.stop()
    manager.shutdown()


def test_remote_hook_uses_the_core_remote_factory_and_reports_failures(
    tmp_path: Path, sshd
) -> None:
    pool = sshd.remote_pool()
    drivers = load_drivers_from_specs(
        [DriverSpec(role="hm", name="exec", driver="exec")],
        var_dir=str(tmp_path),
        vm_log_func=VMLogWriter(str(tmp_path)),
        remote_factory=pool,
    )
    hm = drivers.get("hm", "exec")
    out = hm.call(
        "hm_execute",
        vid=2,
        hook_name="r",
        host="127.0.0.1",
        command="printf",
        arguments=["%s|", "a b", "$HOME"],
    )
    assert out == "a b|$HOME|"
    with pytest.raises(DriverError) as err:
        hm.call(
            "hm_execute",
            vid=2,
            hook_name="r",
            host="127.0.0.1",
            command="sh",
            arguments=["-c", "echo oops >&2; exit 4"],
        )
    assert err.value.exit_code == 4
    assert err.value.stderr == "oops\n"
    assert str(err.value) == "oops"
    pool.close()
