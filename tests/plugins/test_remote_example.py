"""The driver guide's ``ctx.remote(host)`` example, run by a real oned against a real sshd.

The code is taken verbatim from ``docs/writing-a-driver.md`` (section "Running
commands on hosts"): its module and its ``one.hm`` entry point are written as
an installed distribution (a ``.dist-info`` next to the module) on the
``PYTHONPATH`` of an ``oned`` subprocess. A VM deployed with the dummy drivers
becomes RUNNING, the ``RUNNING`` hook fires, and the example driver runs it on
the host through oned's shared SSH pool, with the SSH settings of its
``HM_MAD`` section. The hook's command is a script that records what it was
given and the ``SSH_CONNECTION`` it ran under: the test checks that file.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from one_core.testing.cloud import wait_until
from one_core.testing.oned import DRIVER_SECTIONS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-driver.md"


def guide_example() -> tuple[str, str, dict[str, str]]:
    """``(module name, module source, {entry point: target})`` of the guide's example."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("## Running commands on hosts")
    section = text[start : text.index("\n## ", start + 3)]
    toml_text = re.search(r"```toml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    source = re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    entry_points = tomllib.loads(toml_text)["project"]["entry-points"]["one.hm"]
    assert "ctx.remote(host)" in source
    (module,) = {target.split(":")[0] for target in entry_points.values()}
    return module, source, entry_points


def install_as_distribution(site: Path, module: str, source: str, hm: dict[str, str]) -> None:
    """``site/<module>/__init__.py`` plus a ``.dist-info`` declaring the entry points."""
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(source)
    info = site / f"{module}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0.0\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in hm.items())
    (info / "entry_points.txt").write_text(f"[one.hm]\n{lines}")


def test_the_guides_remote_driver_runs_a_hook_on_a_real_sshd(oned_factory, sshd, tmp_path) -> None:
    module, source, hm = guide_example()
    site = tmp_path / "site"
    install_as_distribution(site, module, source, hm)
    (driver,) = hm
    out = tmp_path / "host"
    out.mkdir()
    script = tmp_path / "mark.sh"
    script.write_text(
        '#!/bin/sh\nprintf "%s\\n" "$SSH_CONNECTION" "$@" > "$(dirname "$0")/host/ran-$1"\n'
    )
    script.chmod(0o755)
    sections = DRIVER_SECTIONS + (
        f'HM_MAD = [ name = "hm_remote", driver = "{driver}", ssh_user = "{sshd.user}",\n'
        f'         ssh_port = "{sshd.port}", ssh_key = "{sshd.key_filename}" ]\n'
        f'VM_HOOK = [ name = "mark", on = "RUNNING", remote = "yes",\n'
        f'          command = "{script}", arguments = "$VMID $NAME" ]\n'
    )
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    oned = oned_factory(sections=sections, env={"PYTHONPATH": path})
    client = oned.client()
    try:
        hid = client.host_allocate("127.0.0.1", "im_dummy", "vmm_dummy", "tm_dummy")
        vid = client.vm_allocate('NAME = "web one"\nCPU = 1\nMEMORY = 64\n')
        client.vm_deploy(vid, hid)
        ran = out / f"ran-{vid}"
        text = wait_until(lambda: ran.exists() and ran.read_text(), 60, f"the hook on VM {vid}")
    finally:
        client.close()
    connection, *args = text.splitlines()
    assert args == [str(vid), "web one"]  # each expanded word stays one argument
    assert connection.split()[2:] == ["127.0.0.1", str(sshd.port)]  # came in through sshd
    vm_log = oned.var / str(vid) / "vm.log"
    assert "[HKM][I]: mark ran on 127.0.0.1: exit code 0" in wait_until(
        lambda: vm_log.exists() and vm_log.read_text(), 60, "vm.log"
    )
    assert f"Loaded hm driver hm_remote ({driver})" in oned.log()
