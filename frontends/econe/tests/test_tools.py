"""The econe-* tools as subprocesses: the guide's "Hello Cloud!" scenario (§3.2.2), options,
credentials, output lines and exit codes (spec cloud-apis §4)."""

from __future__ import annotations

import re


def test_hello_cloud(stack, econe_tool, image_file):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)

    up = econe_tool("econe-upload", str(image_file), env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    m = re.fullmatch(r"Success: ImageId (\d+)\n", up.stdout)
    assert m, up.stdout
    image_id = m.group(1)
    assert (stack.image_dir / image_id).read_bytes() == image_file.read_bytes()

    reg = econe_tool("econe-register", image_id, env=env)
    assert (reg.returncode, reg.stdout) == (0, f"Success: ImageId {image_id}\n")

    desc = econe_tool("econe-describe-images", "-H", env=env)
    assert desc.returncode == 0
    location = str(stack.image_dir / image_id)
    assert desc.stdout.splitlines() == [
        f"{'Owner':<4}  {'ImageId':<36}  Location",
        "-" * 78,
        f"{user:<4}  {image_id:<36}  {location}",
    ]

    run = econe_tool("econe-run-instances", "-H", "-t", "m1.small", image_id, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        f"{'Owner':<10}  {'ImageId':<36}   {'InstanceId':<10} InstanceType",
        "-" * 78,
    ]
    fields = lines[2].split()
    assert fields[0] == user and fields[1] == image_id and fields[3] == "m1.small"
    vid = fields[2]
    assert lines[2] == f"{user:<10}  {image_id:<36}   {vid:<10} m1.small"

    def instance_line() -> list[str]:
        out = econe_tool("econe-describe-instances", env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        return [line for line in out.stdout.splitlines() if line.split()[1] == vid]

    (line,) = instance_line()
    assert line.split()[3] == "pending"
    assert (
        line
        == f"{user:<10}  {vid:<4}  {image_id:<36}  {'pending':<13} {line.split()[4]:<15} {'m1.small':<10}"
    )
    assert line.split()[4].startswith("192.168.0.")

    stack.deploy(int(vid))
    stack.wait_until(lambda: instance_line()[0].split()[3] == "running", 30, "running")

    term = econe_tool("econe-terminate-instances", vid, env=env)
    assert (term.returncode, term.stdout) == (0, f"Success: Terminating {vid} in running state\n")
    stack.wait_until(lambda: not instance_line(), 30, "instance gone")


def test_describe_instances_headers(stack, econe_tool):
    user, password = stack.new_user()
    out = econe_tool("econe-describe-instances", "--headers", env=stack.tool_env(user, password))
    assert out.returncode == 0
    assert out.stdout.splitlines() == [
        f"{'Owner':<10}  {'Id':<4}  {'ImageId':<36}  {'State':<13} {'IP':<15} {'Type':<10}",
        "-" * 108,
    ]


def test_terminate_a_pending_instance_finalizes_it(stack, econe_tool, image_file):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)
    image_id = econe_tool("econe-upload", str(image_file), env=env).stdout.split()[-1]
    vid = econe_tool("econe-run-instances", "-t", "small", image_id, env=env).stdout.split()[2]
    term = econe_tool("econe-terminate-instances", vid, env=env)
    assert term.stdout == f"Success: Terminating {vid} in pending state\n"
    assert stack.vm(int(vid)).findtext("STATE") == "6"  # DONE: finalized at once


def test_credentials_order(stack, econe_tool, tmp_path):
    """Flags beat EC2_ACCESS_KEY/EC2_SECRET_KEY, which beat ONE_AUTH."""
    good_user, good_pw = stack.new_user("pw:with:colons")  # split at the first ':' only
    env = stack.tool_env()
    auth = tmp_path / "one_auth"
    auth.write_text(f"{good_user}:{good_pw}\n")
    env["ONE_AUTH"] = str(auth)
    assert econe_tool("econe-describe-images", env=env).returncode == 0

    env_bad = dict(env, EC2_ACCESS_KEY=good_user, EC2_SECRET_KEY="wrong")
    out = econe_tool("econe-describe-images", env=env_bad)
    assert (out.returncode, out.stdout) == (255, "econe-describe-images: Invalid credentials\n")

    out = econe_tool("econe-describe-images", "-K", good_user, "-S", good_pw, env=env_bad)
    assert out.returncode == 0, out.stdout

    # Only one of the pair: ignored, the next source is used.
    out = econe_tool("econe-describe-images", "-K", "nobody", env=env)
    assert out.returncode == 0, out.stdout


def test_missing_and_malformed_auth(stack, econe_tool, tmp_path):
    env = stack.tool_env()
    env["ONE_AUTH"] = str(tmp_path / "absent")
    out = econe_tool("econe-describe-images", env=env)
    assert (out.returncode, out.stdout) == (
        255,
        "econe-describe-images: No authorization data present\n",
    )
    bad = tmp_path / "bad"
    bad.write_text("justaname\n")
    env["ONE_AUTH"] = str(bad)
    out = econe_tool("econe-describe-images", env=env)
    assert (out.returncode, out.stdout) == (
        255,
        "econe-describe-images: Authorization data malformed\n",
    )


def test_missing_arguments(stack, econe_tool, tmp_path):
    env = stack.tool_env("x", "y")
    cases = {
        "econe-upload": "econe-upload: missing IMAGE-PATH parameter or file not found\n",
        "econe-register": "econe-register: missing ImageId parameter\n",
        "econe-run-instances": "econe-run-instances: missing IMAGE-ID parameter\n",
        "econe-terminate-instances": "econe-terminate-instances: missing INSTANCE-ID parameter\n",
    }
    for tool, message in cases.items():
        out = econe_tool(tool, env=env)
        assert (out.returncode, out.stdout) == (255, message), tool
    out = econe_tool("econe-upload", str(tmp_path / "nope.img"), env=env)
    assert out.returncode == 255
    assert "file not found" in out.stdout


def test_help_and_unknown_option_exit_255(stack, econe_tool):
    out = econe_tool("econe-describe-images", "-h", env=stack.tool_env())
    assert out.returncode == 255
    assert "econe-describe-images <OPTIONS>" in out.stdout
    assert "--access-key <id>, -K <id>" in out.stdout
    out = econe_tool("econe-describe-images", "--bogus", env=stack.tool_env())
    assert out.returncode == 255
    assert "econe-describe-images:" in out.stderr


def test_server_errors_are_printed(stack, econe_tool, image_file):
    user, password = stack.new_user()
    env = stack.tool_env(user, password)
    out = econe_tool("econe-run-instances", "-t", "m9.huge", "1", env=env)
    assert (out.returncode, out.stdout) == (255, "econe-run-instances: Bad instance type\n")
    out = econe_tool("econe-register", "999999", env=env)
    assert (out.returncode, out.stdout) == (255, "econe-register: Image not found\n")
    out = econe_tool("econe-terminate-instances", "999999", env=env)
    assert out.returncode == 255
    assert out.stdout == "econe-terminate-instances: Error getting vm with VID = 999999\n"
    out = econe_tool("econe-upload", str(image_file), env=dict(env, EC2_SECRET_KEY="bad"))
    assert (out.returncode, out.stdout) == (255, "econe-upload: Invalid credentials\n")


def test_url_flag_and_connection_refused(stack, econe_tool):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user, password = stack.new_user()
    env = stack.tool_env(user, password)
    env["EC2_URL"] = f"http://127.0.0.1:{port}"
    out = econe_tool("econe-describe-images", env=env)
    assert out.returncode == 255
    assert out.stdout.startswith("econe-describe-images: ")
    out = econe_tool("econe-describe-images", "-U", stack.main.url, env=env)
    assert out.returncode == 0, out.stdout
