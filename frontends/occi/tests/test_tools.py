"""The occi-* tools as subprocesses (spec cloud-apis §6): the guide's scenario, errors, exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import defusedxml.ElementTree as DET

BIN = Path(sys.executable).parent


def tool(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], env=env, capture_output=True, text=True, timeout=60
    )


def ok(out: subprocess.CompletedProcess[str]):
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)
    return DET.fromstring(out.stdout)


def test_tools_scenario(stack, tmp_path, image_file):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)

    disk_xml = tmp_path / "disk.xml"
    disk_xml.write_text(f"<DISK><NAME>Ubuntu</NAME><URL>file://{image_file}</URL></DISK>")
    disk = ok(tool("occi-storage", "create", str(disk_xml), env=env))
    iid = disk.findtext("ID")
    assert (disk.findtext("NAME"), disk.findtext("SIZE")) == ("Ubuntu", "2")
    assert ok(tool("occi-storage", "show", iid, env=env)).findtext("URL") == f"file://{image_file}"
    hrefs = [d.get("href") for d in ok(tool("occi-storage", "LIST", env=env)).findall("DISK")]
    assert hrefs == [f"{stack.base}/storage/{iid}"]

    net_xml = tmp_path / "net.xml"
    net_xml.write_text("<NIC><NAME>Red</NAME><ADDRESS>192.168.50.0</ADDRESS><SIZE>C</SIZE></NIC>")
    nid = ok(tool("occi-network", "create", str(net_xml), env=env)).findtext("ID")
    assert ok(tool("occi-network", "show", nid, env=env)).findtext("ADDRESS") == "192.168.50.0"
    nics = ok(tool("occi-network", "list", env=env)).findall("NIC")
    assert f"{stack.base}/network/{nid}" in {n.get("href") for n in nics}

    vm_xml = tmp_path / "vm.xml"
    vm_xml.write_text(stack.compute_body(int(iid), [int(nid)], name="ToolVM"))
    # options after the arguments, as GetoptLong allowed
    vm = ok(tool("occi-compute", "create", str(vm_xml), "-R", stack.server.url, env=env))
    vid = vm.findtext("ID")
    assert [d.get("type") for d in vm.findall("STORAGE/DISK")] == ["disk", "swap", "fs", "fs"]
    stack.wait_running(int(vid))
    assert ok(tool("occi-compute", "show", vid, env=env)).findtext("STATE") == "ACTIVE"
    computes = ok(tool("occi-compute", "list", env=env)).findall("COMPUTE")
    assert [c.get("href") for c in computes] == [f"{stack.base}/compute/{vid}"]

    update = tmp_path / "update.xml"
    for state, dm in (("stopped", 4), ("resume", 3), ("done", 6)):
        update.write_text(f"<COMPUTE><ID>{vid}</ID><STATE>{state}</STATE></COMPUTE>")
        assert ok(tool("occi-compute", "update", str(update), env=env)).findtext("ID") == vid
        if dm == 3:
            stack.wait_running(int(vid))
        else:
            stack.wait_until(lambda d=dm: stack.vm_state(int(vid))[0] == d, what=state)

    vm2 = ok(tool("occi-compute", "create", str(vm_xml), env=env)).findtext("ID")
    out = tool("occi-compute", "delete", vm2, env=env)
    assert (out.returncode, out.stdout) == (0, "\n")
    assert stack.vm_state(int(vm2))[0] == 6

    # -U/-P instead of ONE_AUTH
    env_no_auth = dict(env, ONE_AUTH=str(tmp_path / "missing"))
    ok(tool("occi-network", "list", "-U", user, "-P", password, env=env_no_auth))

    out = tool("occi-network", "delete", nid, env=env)
    assert (out.returncode, out.stdout) == (0, "\n")
    out = tool("occi-storage", "delete", iid, env=env)
    assert (out.returncode, out.stdout) == (0, "\n")


def test_server_errors_exit_non_zero(stack, tmp_path):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)
    out = tool("occi-compute", "show", "99999", env=env)
    assert out.returncode == 1
    assert "99999" in out.stdout
    # 1.4's always-0 behind a flag or OCCI_EXIT_ZERO
    assert tool("occi-compute", "show", "99999", "--exit-zero", env=env).returncode == 0
    assert (
        tool("occi-compute", "show", "99999", env=dict(env, OCCI_EXIT_ZERO="yes")).returncode == 0
    )
    bad = tmp_path / "bad.xml"
    bad.write_text("<COMPUTE><INSTANCE_TYPE>huge</INSTANCE_TYPE></COMPUTE>")
    out = tool("occi-compute", "create", str(bad), env=env)
    assert (out.returncode, out.stdout) == (1, "Bad instance type\n")
    out = tool("occi-compute", "list", "-P", "wrong", "-U", user, env=env)
    assert (out.returncode, out.stdout) == (1, "Invalid credentials\n")
    out = tool("occi-network", "list", "-R", "http://127.0.0.1:1", env=env)
    assert out.returncode == 1
    assert out.stdout.startswith("Error connecting to server (")
    assert out.stdout.rstrip().endswith(").Server: 127.0.0.1:1")


def test_pre_request_errors_exit_255(stack, tmp_path):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)
    cases = [
        (
            "occi-compute",
            [],
            "occi-compute: [COMMAND] not present\n"
            "occi-compute: Execute occi-compute -h for help.\n",
        ),
        ("occi-compute", ["reboot"], "Command reboot not valid.\n"),
        ("occi-compute", ["show"], "occi-compute show: missing VM-ID parameter\n"),
        ("occi-compute", ["delete"], "occi-compute delete: missing VM-ID parameter\n"),
        (
            "occi-compute",
            ["create", "nofile.xml"],
            "occi-compute create: missing OCCI-XML or file not found\n",
        ),
        ("occi-compute", ["update"], "occi-compute update: missing OCCI-XML or file not found\n"),
        ("occi-network", ["show"], "occi-network show: missing NETWORK-ID or file not found\n"),
        ("occi-network", ["delete"], "occi-network delete: missing NETWORK-ID parameter\n"),
        ("occi-network", ["create"], "occi-network create: missing OCCI-XML or file not found\n"),
        ("occi-storage", ["create"], "occi-storage create: missing occi xml or file not found\n"),
        ("occi-storage", ["show"], "occi-storage show: missing storage id parameter\n"),
    ]
    for name, args, message in cases:
        out = tool(name, *args, env=env)
        assert (out.returncode, out.stdout) == (255, message), (name, args, out.stderr)
    out = tool("occi-compute", "-h", env=env)
    assert out.returncode == 255
    assert out.stdout.startswith("occi-compute <COMMAND> [OPTIONS] [ARGUMENTS]")
    no_auth = dict(env, ONE_AUTH="", HOME=str(tmp_path))
    out = tool("occi-storage", "list", env=no_auth)
    assert (out.returncode, out.stdout) == (255, "occi-storage: No authorization data present\n")
    (tmp_path / ".one").mkdir()
    (tmp_path / ".one" / "one_auth").write_text("justaname\n")
    out = tool("occi-storage", "list", env=no_auth)
    assert (out.returncode, out.stdout) == (255, "occi-storage: Authorization data malformed\n")
    assert tool("occi-network", "list", "-M", env=env).returncode == 255
    assert tool("occi-storage", "list", "-M", env=env).returncode == 0
