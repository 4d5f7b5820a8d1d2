"""The virsh command lines of each action and how their results map (spec §5.5).

A recording stand-in for :class:`one_driverkit.remote.RemoteHost` answers like
virsh would; the real thing runs in ``test_real_guest.py``.
"""

from __future__ import annotations

import pytest
from one_driverkit.remote import WRITE_STDIN, RunResult
from one_vmm_kvm import plugin, virsh
from one_vmm_kvm.settings import KvmSettings

from one_core.context import DriverContext
from one_core.errors import DriverError

DOMINFO_RUNNING = """Id:             3
Name:           one-5
UUID:           2ab16d19-1cf2-4761-af5e-2454b77738b8
OS Type:        hvm
State:          running
CPU(s):         1
CPU time:       11.2s
Max memory:     262144 KiB
Used memory:    262144 KiB
Persistent:     no
"""

NOT_FOUND = RunResult("", "error: failed to get domain 'one-5'\n", 1)


class FakeHost:
    """Records argument lists and file writes; answers from a queue of results (default: success)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.answers: list[RunResult] = []

    def run(self, argv, *, timeout=None, check=True):
        self.calls.append(("run", list(argv)))
        result = self.answers.pop(0) if self.answers else RunResult("", "", 0)
        if check and result.exit_code != 0:
            raise DriverError(
                f"exit {result.exit_code}: {result.stderr.strip()}",
                stderr=result.stderr,
                exit_code=result.exit_code,
            )
        return result

    def pipe(self, argv, *, stdin=None, stdout=None, timeout=None, check=True):
        assert argv[:2] == ["sh", "-c"] and argv[2] == WRITE_STDIN
        self.calls.append(("write", argv[4], stdin.read().decode("utf-8")))
        return RunResult("", "", 0)


@pytest.fixture
def host():
    return FakeHost()


def make_ctx(host: FakeHost, **config) -> DriverContext:
    logged: list[tuple] = []
    ctx = DriverContext(
        role="vmm",
        name="kvm",
        driver="kvm",
        config=config,
        vm_dir="/srv/one/var/",
        remote_factory=lambda name: host,
        vm_log_func=lambda vid, module, level, message: logged.append((vid, level, message)),
    )
    ctx.state["logged"] = logged
    return ctx


V = ["virsh", "-c", "qemu:///system"]


def test_deploy_copies_the_file_and_creates_the_domain(host, tmp_path):
    local = tmp_path / "5" / "deployment.2"
    host.answers = [RunResult("Domain 'one-5' created from x\n", "", 0)]
    deploy_id = plugin.vmm_deploy(make_ctx(host), 5, "node1", str(local), "<domain/>\n")
    assert deploy_id == "one-5"
    assert host.calls == [
        ("write", "/srv/one/var/5/images/deployment.2", "<domain/>\n"),
        ("run", [*V, "create", "/srv/one/var/5/images/deployment.2"]),
    ]


@pytest.mark.parametrize(
    "stdout", ["Domain one-7 created from /f\n", "Domain 'one-7' created from '/f'\n"]
)
def test_deploy_reads_old_and_new_virsh_output(host, stdout):
    host.answers = [RunResult(stdout, "", 0)]
    assert plugin.vmm_deploy(make_ctx(host), 7, "h", "/v/7/deployment.0", "<d/>") == "one-7"


def test_deploy_without_domain_name_fails(host):
    host.answers = [RunResult("something else\n", "", 0)]
    with pytest.raises(DriverError, match=r"^Domain id not found in virsh create output\.$"):
        plugin.vmm_deploy(make_ctx(host), 7, "h", "/v/7/deployment.0", "<d/>")


def test_deploy_failure_carries_virsh_error(host):
    host.answers = [RunResult("", "error: bad XML\n", 1)]
    with pytest.raises(DriverError, match="bad XML"):
        plugin.vmm_deploy(make_ctx(host), 7, "h", "/v/7/deployment.0", "<d/>")


def test_deploy_reads_the_local_file_when_no_text(host, tmp_path):
    local = tmp_path / "deployment.3"
    local.write_text("<domain type='kvm'/>\n")
    host.answers = [RunResult("Domain one-9 created from x", "", 0)]
    plugin.vmm_deploy(make_ctx(host), 9, "h", str(local), "")
    assert host.calls[0] == (
        "write",
        "/srv/one/var/9/images/deployment.3",
        "<domain type='kvm'/>\n",
    )


def test_deploy_with_no_file_at_all(host, tmp_path):
    missing = str(tmp_path / "deployment.0")
    with pytest.raises(DriverError, match=f"^Can not open deployment file {missing}$"):
        plugin.vmm_deploy(make_ctx(host), 9, "h", missing, "")
    assert host.calls == []


def test_uri_from_section_and_1_4_name(host):
    ctx = make_ctx(host, LIBVIRT_DEFAULT_URI="qemu+tcp://x/system")
    plugin.vmm_cancel(ctx, 1, "h", "one-1")
    ctx = make_ctx(host, LIBVIRT_URI="qemu:///session", VIRSH="/opt/virsh")
    plugin.vmm_cancel(ctx, 1, "h", "one-1")
    assert [c[1][:3] for c in host.calls] == [
        ["virsh", "-c", "qemu+tcp://x/system"],
        ["/opt/virsh", "-c", "qemu:///session"],
    ]


def test_cancel(host):
    plugin.vmm_cancel(make_ctx(host), 5, "h", "one-5")
    assert host.calls == [("run", [*V, "destroy", "one-5"])]


@pytest.mark.parametrize(
    "stderr",
    [
        "error: failed to get domain 'one-5'",
        "error: Requested operation is not valid: domain is not running",
    ],
)
def test_cancel_is_idempotent(host, stderr):
    host.answers = [RunResult("", stderr, 1)]
    plugin.vmm_cancel(make_ctx(host), 5, "h", "one-5")


def test_cancel_other_failures_raise(host):
    host.answers = [RunResult("", "error: failed to connect to the hypervisor", 1)]
    with pytest.raises(DriverError, match="virsh destroy one-5 failed: error: failed to connect"):
        plugin.vmm_cancel(make_ctx(host), 5, "h", "one-5")


def test_save_and_restore(host):
    ctx = make_ctx(host)
    plugin.vmm_save(ctx, 5, "h", "one-5", "/srv/one/var/5/images/checkpoint")
    assert plugin.vmm_restore(ctx, 5, "h", "one-5", "/srv/one/var/5/images/checkpoint") is None
    assert host.calls == [
        ("run", ["touch", "/srv/one/var/5/images/checkpoint"]),
        ("run", [*V, "save", "one-5", "/srv/one/var/5/images/checkpoint"]),
        ("run", [*V, "restore", "/srv/one/var/5/images/checkpoint"]),
    ]


def test_save_failure(host):
    host.answers = [RunResult("", "", 0), RunResult("", "error: no space", 1)]
    with pytest.raises(DriverError, match="no space"):
        plugin.vmm_save(make_ctx(host), 5, "h", "one-5", "/c")


def test_migrate_command_line(host):
    plugin.vmm_migrate(make_ctx(host), 5, "node1", "one-5", "node2")
    assert host.calls == [("run", [*V, "migrate", "--live", "one-5", "qemu+ssh://node2/system"])]


def test_migrate_uri_is_configurable(host):
    ctx = make_ctx(host, MIGRATE_URI="qemu+ssh://oneadmin@{host}:2222/system?no_verify=1")
    plugin.vmm_migrate(ctx, 5, "node1", "one-5", "node2")
    assert host.calls[0][1][-1] == "qemu+ssh://oneadmin@node2:2222/system?no_verify=1"


def test_poll_running(host):
    host.answers = [RunResult(DOMINFO_RUNNING, "", 0)]
    assert plugin.vmm_poll(make_ctx(host), 5, "h", "one-5") == {
        "STATE": "a",
        "USEDMEMORY": "262144",
    }
    assert host.calls == [("run", [*V, "dominfo", "one-5"])]


def test_poll_gone_is_d(host):
    host.answers = [NOT_FOUND]
    assert plugin.vmm_poll(make_ctx(host), 5, "h", "one-5") == {"STATE": "d"}


def test_poll_other_failure_raises(host):
    host.answers = [RunResult("", "error: failed to connect to the hypervisor", 1)]
    with pytest.raises(DriverError, match="failed to connect"):
        plugin.vmm_poll(make_ctx(host), 5, "h", "one-5")


@pytest.mark.parametrize(
    ("state", "letter"),
    [
        ("running", "a"),
        ("idle", "a"),
        ("blocked", "a"),
        ("in shutdown", "a"),
        ("shutdown", "a"),
        ("dying", "a"),
        ("paused", "p"),
        ("crashed", "e"),
        ("shut off", "-"),
        ("pmsuspended", "-"),
        ("no state", "-"),
    ],
)
def test_dominfo_states(state, letter):
    assert virsh.parse_dominfo(f"State:          {state}\n")["STATE"] == letter


def test_dominfo_memory_integer_part_and_no_cpu():
    info = virsh.parse_dominfo("Used memory:    1048576 KiB\nCPU time: 3.2s\n")
    assert info == {"USEDMEMORY": "1048576"}


def test_shutdown_waits_until_gone(host):
    running = RunResult(DOMINFO_RUNNING, "", 0)
    host.answers = [
        RunResult("Domain 'one-5' is being shutdown", "", 0),
        running,
        running,
        NOT_FOUND,
    ]
    plugin.vmm_shutdown(make_ctx(host, SHUTDOWN_POLL="0.1"), 5, "h", "one-5")
    assert host.calls == [
        ("run", [*V, "shutdown", "one-5"]),
        *[("run", [*V, "dominfo", "one-5"])] * 3,
    ]


def test_shutdown_of_a_persistent_domain_ends_at_shut_off(host):
    host.answers = [RunResult("", "", 0), RunResult("State:          shut off\n", "", 0)]
    plugin.vmm_shutdown(make_ctx(host), 5, "h", "one-5")


def test_shutdown_times_out(host):
    host.answers = [RunResult("", "", 0)] + [RunResult(DOMINFO_RUNNING, "", 0)] * 100
    ctx = make_ctx(host, SHUTDOWN_TIMEOUT="0.3", SHUTDOWN_POLL="0.1")
    with pytest.raises(DriverError, match=r"Timeout reached: domain one-5 still running 0.3 s"):
        plugin.vmm_shutdown(ctx, 5, "h", "one-5")


def test_shutdown_refused(host):
    host.answers = [RunResult("", "error: failed to get domain 'one-5'", 1)]
    with pytest.raises(DriverError, match="failed to get domain"):
        plugin.vmm_shutdown(make_ctx(host), 5, "h", "one-5")


def test_settings_defaults_and_overrides():
    ctx = DriverContext(role="vmm", name="kvm")
    assert KvmSettings.from_context(ctx) == KvmSettings(
        libvirt_uri="qemu:///system",
        domain_type="kvm",
        emulator="/usr/bin/kvm",
        shutdown_timeout=300.0,
        shutdown_poll=2.0,
        migrate_uri="qemu+ssh://{host}/system",
        virsh="virsh",
        command_timeout=None,
        domain_prefix="one-",
    )
    ctx = DriverContext(
        role="vmm",
        name="kvm",
        config={"domain_type": "qemu", "EMULATOR": "", "COMMAND_TIMEOUT": "30"},
        defaults={"OS": {"BOOT": "hd"}, "EMULATOR": "/x", "SHUTDOWN_TIMEOUT": "9"},
    )
    s = KvmSettings.from_context(ctx)
    assert (s.domain_type, s.emulator, s.shutdown_timeout, s.command_timeout) == (
        "qemu",
        "",
        9.0,
        30.0,
    )


@pytest.mark.parametrize("value", ["none", "NONE", '""', ""])
def test_emulator_none_omits_the_element(value):
    ctx = DriverContext(role="vmm", name="kvm", config={"EMULATOR": value})
    assert KvmSettings.from_context(ctx).emulator == ""


def test_settings_from_an_oned_conf_section(tmp_path):
    from one_core.config import OnedConfig
    from one_core.drivers import load_drivers

    cfg = OnedConfig.from_text(
        'VM_MAD = [ name = "vmm_kvm", executable = "one_vmm_kvm", type = "kvm",\n'
        '  domain_type = "qemu", emulator = "none", shutdown_timeout = "60",\n'
        '  libvirt_uri = "qemu+tcp://h/system" ]\n',
        var_dir=str(tmp_path),
    )
    d = load_drivers(cfg).get("vmm", "vmm_kvm")
    s = KvmSettings.from_context(d.ctx)
    assert (d.ctx.driver, s.domain_type, s.emulator, s.shutdown_timeout, s.libvirt_uri) == (
        "kvm",
        "qemu",
        "",
        60.0,
        "qemu+tcp://h/system",
    )


def test_bad_setting_stops_the_start_up():
    ctx = DriverContext(role="vmm", name="kvm", config={"SHUTDOWN_POLL": "often"})
    with pytest.raises(DriverError, match="SHUTDOWN_POLL is not a number: 'often'"):
        plugin.driver_start(ctx)
    plugin.driver_start(DriverContext(role="vmm", name="kvm"))


def test_bad_number_setting():
    with pytest.raises(DriverError, match="SHUTDOWN_TIMEOUT"):
        KvmSettings.from_context(
            DriverContext(role="vmm", name="kvm", config={"SHUTDOWN_TIMEOUT": "soon"})
        )


def test_deployment_file_hook_uses_settings_and_logs_warnings(host):
    from one_core.records import VMRecord
    from one_core.template import Template

    ctx = make_ctx(host, DOMAIN_TYPE="qemu", EMULATOR="/usr/bin/qemu-system-x86_64")
    vm = VMRecord(
        vid=3,
        uid=0,
        name="x",
        host="h",
        vm_dir="/srv/one/var/",
        template=Template.parse("MEMORY=64\nGRAPHICS=[TYPE=sdl]"),
    )
    text = plugin.vmm_deployment_file(ctx, vm)
    assert text.startswith('<domain type="qemu">\n\t<name>one-3</name>')
    assert "<emulator>/usr/bin/qemu-system-x86_64</emulator>" in text
    assert '<boot dev="hd"/>' in text  # the packaged defaults (no DEFAULT file)
    assert ctx.state["logged"] == [(3, "W", "Not supported graphics type, ignored.")]


def test_domain_prefix_names_the_domain_and_every_later_action_uses_it(host):
    """DOMAIN_PREFIX (default 1.4's ``one-``): deploy names the domain; poll/cancel use it."""
    from one_core.records import VMRecord
    from one_core.template import Template

    ctx = make_ctx(host, DOMAIN_PREFIX="run7-one-")
    vm = VMRecord(
        vid=3, uid=0, name="x", host="h", vm_dir="/v/", template=Template.parse("MEMORY=64")
    )
    assert "\t<name>run7-one-3</name>\n" in plugin.vmm_deployment_file(ctx, vm)
    host.answers = [RunResult("Domain 'run7-one-3' created from x\n", "", 0)]
    deploy_id = plugin.vmm_deploy(ctx, 3, "h", "/v/3/deployment.0", "<d/>")
    assert deploy_id == "run7-one-3"
    host.answers = [RunResult(DOMINFO_RUNNING, "", 0)]
    plugin.vmm_poll(ctx, 3, "h", deploy_id)
    plugin.vmm_cancel(ctx, 3, "h", deploy_id)
    runs = [call[1] for call in host.calls if call[0] == "run"]
    assert runs[-2:] == [[*V, "dominfo", "run7-one-3"], [*V, "destroy", "run7-one-3"]]


def test_domain_prefix_from_an_oned_conf_section(tmp_path):
    from one_core.config import OnedConfig
    from one_core.drivers import load_drivers

    cfg = OnedConfig.from_text(
        'VM_MAD = [ name = "vmm_kvm", executable = "one_vmm_kvm", type = "kvm",\n'
        '  domain_prefix = "t1a2b3-one-" ]\n',
        var_dir=str(tmp_path),
    )
    d = load_drivers(cfg).get("vmm", "vmm_kvm")
    assert KvmSettings.from_context(d.ctx).domain_prefix == "t1a2b3-one-"


@pytest.mark.parametrize("value", ["", "7-", "one/", "one -", "a;rm -rf x", "x" * 65, "é-"])
def test_bad_domain_prefix_stops_the_start_up(value):
    ctx = DriverContext(role="vmm", name="kvm", config={"DOMAIN_PREFIX": value})
    with pytest.raises(DriverError, match="DOMAIN_PREFIX is not a valid domain name prefix"):
        plugin.driver_start(ctx)


def test_entry_point_loads_through_the_driver_api():
    from one_core.drivers import DriverSpec, load_drivers_from_specs

    drivers = load_drivers_from_specs(
        [DriverSpec(role="vmm", name="kvm", driver="kvm", section={"TYPE": "kvm"})]
    )
    d = drivers.get("vmm", "kvm")
    for hook in (
        "vmm_deployment_file",
        "vmm_deploy",
        "vmm_shutdown",
        "vmm_cancel",
        "vmm_save",
        "vmm_restore",
        "vmm_migrate",
        "vmm_poll",
    ):
        assert d.implements(hook), hook
